// SPDX-License-Identifier: GPL-2.0
/*
 * The migration object: parameters, the state machine and its statistics
 * (what query-migrate reports), the first error with its phase and stream
 * offset, and the cancel that any thread may call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/version.h"
#include "migration/internal.h"

static const char *const state_names[__MIG_S_NR] = {
	[MIG_S_NONE]		= "none",
	[MIG_S_SETUP]		= "setup",
	[MIG_S_ACTIVE]		= "active",
	[MIG_S_DEVICE]		= "device",
	[MIG_S_STAGED]		= "staged",
	[MIG_S_COMMITTING]	= "committing",
	[MIG_S_COMPLETED]	= "completed",
	[MIG_S_FAILED]		= "failed",
	[MIG_S_CANCELLED]	= "cancelled",
	[MIG_S_POSTCOMMIT_UNKNOWN] = "postcommit-unknown",
};

const char *mig__state_name(enum mig_state s)
{
	return s < __MIG_S_NR ? state_names[s] : "?";
}

/* One sending thread per CPU at most: more only contend. */
static unsigned int mig_default_channels(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > MIG_CHANNELS_MAX ? MIG_CHANNELS_MAX : (unsigned int)n;
}

void mig__default_params(struct mig_params *p)
{
	memset(p, 0, sizeof(*p));
	p->downtime_limit_ms = 300;
	p->max_rounds = 30;
	p->auto_converge = true;
	p->throttle_initial = 20;
	p->throttle_step = 10;
	p->timeout_ms = 30000;
	p->channels = mig_default_channels();
	p->defer = true;
	p->incoming_timeout_ms = 600000;
	p->caps = __MIG_CAP_ALL;
	p->version_min = MIG_VERSION_MIN;
	p->version_max = MIG_VERSION_MAX;
	p->release = tern_version;
}

struct mig *mig__new(const struct mig_vm_ops *ops, void *vm,
		     const struct mig_params *params)
{
	struct mig *mig = calloc(1, sizeof(*mig));

	if (!mig)
		return NULL;
	mig->ops = ops;
	mig->vm = vm;
	if (params)
		mig->p = *params;
	else
		mig__default_params(&mig->p);
	if (!mig->p.timeout_ms)
		mig->p.timeout_ms = 30000;
	if (!mig->p.max_rounds)
		mig->p.max_rounds = 30;
	if (!mig->p.channels || mig->p.channels > MIG_CHANNELS_MAX)
		mig->p.channels = 1;
	mig->lfd = -1;
	mig->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mig->cancel_fd < 0) {
		free(mig);
		return NULL;
	}
	pthread_mutex_init(&mig->lock, NULL);
	return mig;
}

void mig__free(struct mig *mig)
{
	if (!mig)
		return;
	close(mig->cancel_fd);
	mig__tls_free(mig->tls);
	pthread_mutex_destroy(&mig->lock);
	free(mig);
}

void mig__cancel_reset(struct mig *mig)
{
	uint64_t v;

	atomic_store(&mig->cancelled, false);
	atomic_store(&mig->aborted, false);
	while (read(mig->cancel_fd, &v, sizeof(v)) > 0)
		;
}

void mig__abort(struct mig *mig, const char *why)
{
	/* The first error is the one reported: this one, unless one came. */
	pthread_mutex_lock(&mig->lock);
	if (atomic_load(&mig->busy) && !mig->st.error[0])
		snprintf(mig->st.error, sizeof(mig->st.error), "%s", why);
	pthread_mutex_unlock(&mig->lock);
	atomic_store(&mig->aborted, true);
	mig__cancel(mig);
}

void mig__cancel(struct mig *mig)
{
	uint64_t one = 1;

	atomic_store(&mig->cancelled, true);
	if (write(mig->cancel_fd, &one, sizeof(one)) < 0)
		pr_warn("migration: cancel: %s", strerror(errno));
}

void mig__query(struct mig *mig, struct mig_stats *st)
{
	pthread_mutex_lock(&mig->lock);
	*st = mig->st;
	st->dropped = mig->dropped;
	memcpy(st->dropped_why, mig->dropped_why, sizeof(st->dropped_why));
	if (mig->start_ns && st->state != MIG_S_NONE &&
	    st->state < MIG_S_COMPLETED)
		st->elapsed_ms = (mig_now_ns() - mig->start_ns) / 1000000;
	/* Before the first round ends, the rate so far (setup included). */
	if (!st->bandwidth && st->elapsed_ms && st->state < MIG_S_COMPLETED)
		st->bandwidth = mig_muldiv(st->bytes, 1000, st->elapsed_ms);
	pthread_mutex_unlock(&mig->lock);
}

void mig_set_state(struct mig *mig, enum mig_state s)
{
	pthread_mutex_lock(&mig->lock);
	pr_debug("migration: %s -> %s", mig__state_name(mig->st.state),
		 mig__state_name(s));
	mig->st.state = s;
	if (s >= MIG_S_COMPLETED && mig->start_ns)
		mig->st.elapsed_ms = (mig_now_ns() - mig->start_ns) / 1000000;
	pthread_mutex_unlock(&mig->lock);
	if (mig->ops->state_changed)
		mig->ops->state_changed(mig->vm, s);
}

/* Record the first failure as "<phase>, byte <n>: <why>" and return err. */
int mig_fail(struct mig *mig, int err, const char *fmt, ...)
{
	unsigned long long pos;
	char why[256];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* A refusal in the handshake names both sides' releases. */
	if (mig->releases[0] && len >= 0 && (size_t)len < sizeof(why))
		snprintf(why + len, sizeof(why) - len, " (%s)", mig->releases);
	/* Where in our own direction of the stream: sent or received. */
	pos = mig->is_source ? mig->conn.tx_off : mig->conn.msg_pos;
	pthread_mutex_lock(&mig->lock);
	if (!mig->st.error[0])
		snprintf(mig->st.error, sizeof(mig->st.error),
			 "%s, byte %llu %s: %s", mig->phase ? mig->phase : "setup",
			 pos, mig->is_source ? "sent" : "received", why);
	pthread_mutex_unlock(&mig->lock);
	if (!mig->p.quiet)
		pr_err("migration failed: %s, byte %llu %s: %s",
		       mig->phase ? mig->phase : "setup", pos,
		       mig->is_source ? "sent" : "received", why);
	return err < 0 ? err : -EPROTO;
}

int mig_expect(struct mig *mig, uint32_t type)
{
	struct mig_hdr h;
	int ret;

	ret = mig_recv_hdr(&mig->conn, &h);
	if (ret)
		return mig_fail(mig, ret, "waiting for %s: %s",
				mig_msg_name(type), mig->conn.err);
	if (h.type != type)
		return mig_fail(mig, -EPROTO, "expected %s, got %s",
				mig_msg_name(type), mig_msg_name(h.type));
	return 0;
}

int mig_fail_unstarted(struct mig *mig, int err, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!mig->p.quiet)
		pr_err("migration failed: setup: %s", why);
	if (atomic_exchange(&mig->busy, true))
		return err;
	pthread_mutex_lock(&mig->lock);
	memset(&mig->st, 0, sizeof(mig->st));
	snprintf(mig->st.error, sizeof(mig->st.error), "setup: %s", why);
	mig->start_ns = mig_now_ns();
	pthread_mutex_unlock(&mig->lock);
	mig_set_state(mig, err == -ECANCELED ? MIG_S_CANCELLED : MIG_S_FAILED);
	mig__cancel_reset(mig);
	atomic_store(&mig->busy, false);
	return err;
}

int mig_attempt_fail(struct mig *mig, int err, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!mig->p.quiet)
		pr_err("migration failed: setup: %s", why);
	pthread_mutex_lock(&mig->lock);
	if (!mig->st.error[0])
		snprintf(mig->st.error, sizeof(mig->st.error), "setup: %s", why);
	pthread_mutex_unlock(&mig->lock);
	mig_set_state(mig, err == -ECANCELED && !atomic_load(&mig->aborted) ?
		      MIG_S_CANCELLED : MIG_S_FAILED);
	mig__cancel_reset(mig);
	atomic_store(&mig->busy, false);
	return err;
}

void mig_stat_add(struct mig *mig, uint64_t bytes, uint64_t pages,
		  uint64_t zero)
{
	pthread_mutex_lock(&mig->lock);
	mig->st.bytes += bytes;
	mig->st.pages += pages;
	mig->st.zero_pages += zero;
	pthread_mutex_unlock(&mig->lock);
}

bool mig_page_is_zero(const void *p)
{
	const uint64_t *w = p;
	unsigned int i;

	for (i = 0; i < MIG_PAGE_SIZE / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

/*
 * A cancel is not dropped here: one that came before (a `migrate-cancel`
 * right after `migrate`, before this thread ran) ends this migration.
 */
int mig_attempt_begin(struct mig *mig)
{
	if (atomic_exchange(&mig->busy, true))
		return -EBUSY;
	pthread_mutex_lock(&mig->lock);
	memset(&mig->st, 0, sizeof(mig->st));
	mig->st.state = MIG_S_SETUP;
	mig->start_ns = mig_now_ns();
	pthread_mutex_unlock(&mig->lock);
	return 0;
}

int mig_session_attach(struct mig *mig, int rfd, int wfd)
{
	int ret;

	pthread_mutex_lock(&mig->lock);
	ret = mig_conn_init(&mig->conn, rfd, wfd, mig->cancel_fd,
			    mig->p.timeout_ms);
	if (ret) {
		pthread_mutex_unlock(&mig->lock);
		return ret;
	}
	atomic_store(&mig->conn.max_bw, mig->p.max_bandwidth);
	pthread_mutex_unlock(&mig->lock);
	mig->phase = "handshake";
	mig->round = 0;
	mig->nr_rx = 0;
	mig->paused = false;
	mig->no_shrink = 0;
	mig->sent_last = 0;
	return 0;
}

int mig_session_begin(struct mig *mig, int rfd, int wfd)
{
	int ret = mig_attempt_begin(mig);

	if (ret)
		return ret;
	ret = mig_session_attach(mig, rfd, wfd);
	if (ret)
		atomic_store(&mig->busy, false);
	return ret;
}

void mig_session_end(struct mig *mig)
{
	unsigned int i;

	for (i = 0; i < MIG_MAX_BLOCKS; i++) {
		free(mig->rx[i].written);
		mig->rx[i].written = NULL;
	}
	mig_conn_destroy(&mig->conn);
	/* A cancel that came too late for this migration is not the next one's. */
	mig__cancel_reset(mig);
	atomic_store(&mig->busy, false);
}
