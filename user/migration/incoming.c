// SPDX-License-Identifier: GPL-2.0
/*
 * The destination: accept one source, check the handshake and the RAM
 * block list, apply rounds of pages, load the machine state into the
 * staged VM, answer `ready`, and start the guest only on a whole `commit`.
 * Every failure before that discards the staged VM (the caller exits).
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "migration/internal.h"

static int round_begin(struct mig *mig, const struct mig_hdr *h)
{
	struct nlattr *tb[MIG_A_MAX + 1];
	uint64_t round;
	int ret;

	ret = mig_recv_attrs(&mig->conn, h, tb);
	if (ret)
		return mig_fail(mig, ret, "round-begin: %s", mig->conn.err);
	if (mig_attr_u64(tb, MIG_A_ROUND, &round) || round != mig->round + 1)
		return mig_fail(mig, -EBADMSG,
				"round-begin out of sequence after round %" PRIu64,
				mig->round);
	mig->round = round;
	return mig_recv_round(mig);
}

static int finish(struct mig *mig, const struct mig_hdr *first)
{
	char why[200] = "";
	struct mig_hdr h;
	int fd, ret;

	ret = mig_recv_state(mig, first, &fd);
	if (ret)
		return ret;
	/* Everything that can fail happens here, before `ready`. */
	mig->phase = "load";
	ret = mig->ops->load_state(mig->vm, fd, why, sizeof(why));
	close(fd);
	if (ret)
		return mig_fail(mig, ret, "loading the machine state: %s",
				why[0] ? why : strerror(-ret));
	mig->phase = "ready";
	ret = mig_send(&mig->conn, MIG_MSG_READY, NULL, 0);
	if (ret)
		return mig_fail(mig, ret, "sending ready: %s", mig->conn.err);
	mig_set_state(mig, MIG_S_STAGED);

	mig->phase = "commit";
	ret = mig_recv_hdr(&mig->conn, &h);
	if (ret)
		return mig_fail(mig, ret, "waiting for commit: %s",
				mig->conn.err);
	if (h.type != MIG_MSG_COMMIT)
		return mig_fail(mig, -EPROTO, "expected commit, got %s",
				mig_msg_name(h.type));
	/* The guest is ours now: start it even if `running` cannot be sent. */
	mig->committed = true;
	ret = mig->ops->start(mig->vm);
	if (ret)
		return mig_fail(mig, ret, "starting the guest after commit");
	mig->phase = "running";
	if (mig_send(&mig->conn, MIG_MSG_RUNNING, NULL, 0) && !mig->p.quiet)
		pr_warn("migration: guest runs here; `running` not delivered: %s",
			mig->conn.err);
	return 0;
}

static int receive(struct mig *mig)
{
	bool switched = false;
	uint64_t final = 0;
	struct mig_hdr h;
	int ret;

	ret = mig_hello_recv(mig);
	if (!ret)
		ret = mig_chans_accept(mig);
	if (!ret)
		ret = mig_ramblocks_recv(mig);
	if (ret)
		return ret;
	mig_rx_reset(mig);
	mig->phase = "precopy";
	mig_set_state(mig, MIG_S_ACTIVE);
	for (;;) {
		ret = mig_recv_hdr(&mig->conn, &h);
		if (ret)
			return mig_fail(mig, ret, "%s", mig->conn.err);
		switch (h.type) {
		case MIG_MSG_ROUND_BEGIN:
			if (switched && final)
				return mig_fail(mig, -EPROTO,
						"round after the final round");
			ret = round_begin(mig, &h);
			if (ret)
				return ret;
			if (switched)
				final = mig->round;
			break;
		case MIG_MSG_DRAIN:
			/* In order: every round before it is in and checked. */
			if (switched || !(mig->caps & MIG_CAP_DRAIN))
				return mig_fail(mig, -EPROTO, "unexpected drain in %s",
						mig->phase);
			ret = mig_send(&mig->conn, MIG_MSG_DRAINED, NULL, 0);
			if (ret)
				return mig_fail(mig, ret, "sending drained: %s",
						mig->conn.err);
			break;
		case MIG_MSG_SWITCHOVER:
			if (switched)
				return mig_fail(mig, -EPROTO, "second switchover");
			switched = true;
			mig->phase = "switchover";
			mig_set_state(mig, MIG_S_DEVICE);
			break;
		case MIG_MSG_STATE:
		case MIG_MSG_STATE_END:
			if (!final)
				return mig_fail(mig, -EPROTO,
						"%s before the final round",
						mig_msg_name(h.type));
			return finish(mig, &h);
		default:
			return mig_fail(mig, -EPROTO, "unexpected %s in %s",
					mig_msg_name(h.type), mig->phase);
		}
	}
}

/* lfd: the listener extra channels connect to, or -1 (one channel). */
static int incoming(struct mig *mig, int rfd, int wfd, int lfd)
{
	int ret;

	ret = mig_session_begin(mig, rfd, wfd);
	if (ret == -EBUSY)
		return ret;	/* the running one's state stands */
	if (ret)
		return mig_fail_unstarted(mig, ret, "connection: %s", strerror(-ret));
	mig->is_source = false;
	mig->committed = false;
	mig->lfd = lfd;
	mig->chunk = malloc(MIG_CHUNK_DATA_MAX);
	ret = mig->chunk && !mig_chans_init(mig) ? receive(mig) : -ENOMEM;
	if (ret && !mig->conn.peer_error && !mig->committed)
		mig_send_error(&mig->conn, mig->phase, ret, mig->st.error);
	/* Every channel closed before the state says how it ended. */
	mig_chans_free(mig);
	mig->lfd = -1;
	mig_set_state(mig, ret ? MIG_S_FAILED : MIG_S_COMPLETED);
	free(mig->chunk);
	mig->chunk = NULL;
	mig_session_end(mig);
	return ret;
}

int mig__incoming_fd(struct mig *mig, int rfd, int wfd)
{
	if (mig->tls)
		return mig_fail_unstarted(mig, -EPROTONOSUPPORT,
					  "TLS needs a tcp: URI, not a connected fd");
	return incoming(mig, rfd, wfd, -1);
}

int mig__incoming_fds(struct mig *mig, int rfd, int wfd, const int *chan_fds,
		      unsigned int nr)
{
	int ret = mig_chans_given(mig, chan_fds, nr);

	if (ret)
		return ret;
	ret = mig__incoming_fd(mig, rfd, wfd);
	mig_chans_given(mig, NULL, 0);
	return ret;
}

int mig__incoming_listener(struct mig *mig, int lfd)
{
	socklen_t len = sizeof(int);
	int fd, ret, proto = 0;

	if (mig->tls && (getsockopt(lfd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) ||
			 proto != IPPROTO_TCP))
		return mig_fail_unstarted(mig, -EPROTONOSUPPORT,
					  "TLS: kernel TLS runs on TCP only: listen on a tcp: URI");
	ret = mig_accept_source(mig, lfd, &fd);
	if (ret)
		return ret;
	ret = incoming(mig, fd, fd, lfd);
	close(fd);
	return ret;
}

int mig__incoming(struct mig *mig, const char *uri)
{
	int lfd, ret;

	ret = mig__listen(uri, &lfd);
	if (ret)
		return mig_fail_unstarted(mig, ret, "cannot listen on '%s': %s",
					  uri, strerror(-ret));
	ret = mig__incoming_listener(mig, lfd);
	close(lfd);
	return ret;
}
