// SPDX-License-Identifier: GPL-2.0
/*
 * The source's migration from start to end, and the rule that makes it
 * safe: before `commit`, every failure (cut, timeout, error from the
 * destination, cancel) undoes what it did and resumes the guest as it
 * was; after `commit` the guest stays paused and the state says so.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "migration/internal.h"

/*
 * Whatever the end, tracking and throttling stop: a guest resumed later
 * (by us, or by an operator after postcommit-unknown) runs at full speed.
 * Before commit, a failure also resumes the guest and tells the peer.
 */
static void source_end(struct mig *mig, int err)
{
	unsigned int i;

	if (err && !mig->conn.peer_error && !mig->committed)
		mig_send_error(&mig->conn, mig->phase, err, mig->st.error);
	if (mig->tracking)
		mig->ops->dirty_stop(mig->vm);
	mig->tracking = false;
	/* (st.throttle_pct keeps the last level for query-migrate.) */
	if (mig->st.throttle_pct && mig->ops->throttle)
		mig->ops->throttle(mig->vm, 0);
	if (err && mig->paused && !mig->committed) {
		mig->ops->resume(mig->vm);
		mig->paused = false;
		pthread_mutex_lock(&mig->lock);
		mig->st.downtime_ms = (mig_now_ns() - mig->pause_ns) / 1000000;
		pthread_mutex_unlock(&mig->lock);
	}
	for (i = 0; i < MIG_MAX_BLOCKS; i++) {
		free(mig->dirty[i]);
		mig->dirty[i] = NULL;
	}
}

/* The source's session over a connection, from the handshake to the end. */
static int migrate(struct mig *mig)
{
	enum mig_state end;
	int ret;

	mig->is_source = true;
	mig->committed = false;
	mig->tracking = false;
	mig->chunk = malloc(MIG_CHUNK_DATA_MAX);
	if (!mig->chunk || mig_chans_init(mig)) {
		ret = -ENOMEM;
		goto out;
	}
	mig->tracker = (mig->p.caps & MIG_CAP_KSTREAM) && mig->ops->stream_round ?
		MIG_TRACKER_TERN : MIG_TRACKER_DIRTY_LOG;
	/* tern.ko always sends zero pages as bare headers. */
	mig->caps_req = mig->p.caps_required |
		(mig->tracker == MIG_TRACKER_TERN ? MIG_CAP_ZERO_PAGES : 0);
	ret = mig_hello_send(mig);
	if (!ret)
		ret = mig_welcome_recv(mig);
	if (!ret && mig->tracker == MIG_TRACKER_TERN &&
	    !(mig->caps & MIG_CAP_KSTREAM)) {
		/* Refused: fall back to the dirty log if the VM has one. */
		if (!mig->ops->dirty_sync)
			ret = mig_fail(mig, -EPROTONOSUPPORT,
				       "kernel page stream refused and no dirty log here");
		mig->tracker = MIG_TRACKER_DIRTY_LOG;
	}
	pthread_mutex_lock(&mig->lock);
	mig->st.tracker = mig->tracker;
	pthread_mutex_unlock(&mig->lock);
	if (!ret)
		ret = mig_chans_open(mig);
	if (!ret)
		ret = mig_ramblocks_send(mig);
	if (!ret)
		ret = mig_precopy(mig);
	if (!ret)
		ret = mig_switchover(mig);
out:
	if (ret == 0) {
		end = MIG_S_COMPLETED;
	} else if (ret == -EINPROGRESS) {
		end = MIG_S_POSTCOMMIT_UNKNOWN;
		if (!mig->p.quiet)
			pr_err("migration: commit sent but `running` not confirmed: the guest stays paused here; resume it (ternctl cont) or discard it once the destination is known to run");
	} else {
		end = atomic_load(&mig->cancelled) &&
		      !atomic_load(&mig->aborted) ? MIG_S_CANCELLED : MIG_S_FAILED;
	}
	source_end(mig, ret);
	mig_chans_free(mig);
	mig_set_state(mig, end);
	free(mig->chunk);
	mig->chunk = NULL;
	mig_session_end(mig);
	return ret;
}

int mig__migrate_fd(struct mig *mig, int rfd, int wfd)
{
	int ret;

	if (mig->tls)
		return mig_fail_unstarted(mig, -EPROTONOSUPPORT,
					  "TLS needs a tcp: URI, not a connected fd");
	ret = mig_session_begin(mig, rfd, wfd);
	if (ret == -EBUSY)
		return ret;	/* the running one's state stands */
	if (ret)
		return mig_fail_unstarted(mig, ret, "connection: %s", strerror(-ret));
	mig->uri = NULL;	/* no URI: no channels beside this one */
	return migrate(mig);
}

int mig__migrate_fds(struct mig *mig, int rfd, int wfd, const int *chan_fds,
		     unsigned int nr)
{
	int ret = mig_chans_given(mig, chan_fds, nr);

	if (ret)
		return ret;
	ret = mig__migrate_fd(mig, rfd, wfd);
	mig_chans_given(mig, NULL, 0);
	return ret;
}

/*
 * The migration is `setup` from before connect() on, so a cancel (or a
 * quit) during the connect ends it at once as `cancelled`.
 */
int mig__migrate(struct mig *mig, const char *uri)
{
	char why[MIG_STR_MAX];
	int fd, ret;

	ret = mig_attempt_begin(mig);
	if (ret)
		return ret;	/* the running one's state stands */
	ret = mig_connect(mig, uri, &fd, why, sizeof(why));
	if (ret)
		return mig_attempt_fail(mig, ret, "cannot connect to '%s': %s",
					uri, why);
	ret = mig_session_attach(mig, fd, fd);
	if (ret) {
		close(fd);
		return mig_attempt_fail(mig, ret, "connection: %s", strerror(-ret));
	}
	mig->uri = uri;
	ret = migrate(mig);
	mig->uri = NULL;
	close(fd);
	return ret;
}
