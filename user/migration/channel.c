// SPDX-License-Identifier: GPL-2.0
/*
 * Page-stream channels.  A migration with `channels` > 1 opens that many
 * minus one connections beside its main one, to the same URI; each
 * begins with a `channel` message carrying the token the destination
 * chose for this migration in its welcome and the channel's index, so a
 * stray connection to the destination's listener is closed and never
 * joins.  During a round each channel's share is sent (or received) by a
 * thread of its own, all joined before the round ends: a failure of one
 * wakes the others, which fail too, so the migration fails as a whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "migration/internal.h"

/* A silent stray holds the listener up this long at most. */
#define CHAN_HELLO_MS	5000u

static struct mig_chan *chan_alloc(struct mig *mig, unsigned int idx)
{
	struct mig_chan *ch = calloc(1, sizeof(*ch));
	unsigned int i;

	if (!ch)
		return NULL;
	ch->mig = mig;
	ch->idx = idx;
	ch->fd = -1;
	for (i = 0; i < MIG_MAX_BLOCKS; i++)
		ch->sfd[i] = -1;
	return ch;
}

static void chan_free(struct mig_chan *ch)
{
	unsigned int i;

	if (!ch)
		return;
	if (ch->running)
		pthread_join(ch->thread, NULL);
	for (i = 0; i < MIG_MAX_BLOCKS; i++)
		if (ch->sfd[i] >= 0)
			close(ch->sfd[i]);
	/* Channel 0 borrows the main connection and mig->chunk. */
	if (ch->own_conn) {
		mig_conn_destroy(&ch->own);
		free(ch->chunk);
	}
	if (ch->fd >= 0)
		close(ch->fd);
	free(ch);
}

/* A channel of its own over connected fd (taken even on failure). */
static struct mig_chan *chan_new(struct mig *mig, unsigned int idx, int fd)
{
	struct mig_chan *ch = chan_alloc(mig, idx);

	if (!ch) {
		close(fd);
		return NULL;
	}
	ch->fd = fd;
	ch->own_conn = true;
	ch->chunk = malloc(MIG_CHUNK_DATA_MAX);
	if (!ch->chunk || mig_conn_init(&ch->own, fd, fd, mig->cancel_fd,
					mig->conn.timeout_ms)) {
		chan_free(ch);
		return NULL;
	}
	ch->c = &ch->own;
	return ch;
}

int mig_chans_init(struct mig *mig)
{
	struct mig_chan *ch = chan_alloc(mig, 0);

	if (!ch)
		return -ENOMEM;
	ch->c = &mig->conn;
	ch->chunk = mig->chunk;
	atomic_store(&mig->chan_failed, false);
	pthread_mutex_lock(&mig->lock);
	mig->ch[0] = ch;
	mig->nch = 1;
	mig->st.channels = 1;
	pthread_mutex_unlock(&mig->lock);
	return 0;
}

void mig_chans_free(struct mig *mig)
{
	struct mig_chan *ch[MIG_CHANNELS_MAX];
	unsigned int i;

	/* Threads first: none may still use a channel being freed. */
	for (i = 0; i < MIG_CHANNELS_MAX; i++)
		if (mig->ch[i] && mig->ch[i]->running) {
			pthread_join(mig->ch[i]->thread, NULL);
			mig->ch[i]->running = false;
		}
	pthread_mutex_lock(&mig->lock);
	memcpy(ch, mig->ch, sizeof(ch));
	memset(mig->ch, 0, sizeof(mig->ch));
	mig->nch = 0;
	pthread_mutex_unlock(&mig->lock);
	for (i = 0; i < MIG_CHANNELS_MAX; i++)
		chan_free(ch[i]);
}

void mig_chans_abort(struct mig *mig)
{
	uint64_t one = 1;

	atomic_store(&mig->chan_failed, true);
	/* The cancel eventfd wakes every wait; `cancelled` stays false. */
	if (write(mig->cancel_fd, &one, sizeof(one)) < 0)
		pr_warn("migration: stopping channels: %s", strerror(errno));
}

/* Called with mig->lock held. */
void mig_chans_set_bw(struct mig *mig, uint64_t bw)
{
	uint64_t share = bw ? (bw + mig->nch - 1) / mig->nch : 0;
	unsigned int i;

	if (mig->nch <= 1) {
		atomic_store(&mig->conn.max_bw, bw);
		return;
	}
	for (i = 0; i < mig->nch; i++)
		if (mig->ch[i])
			atomic_store(&mig->ch[i]->c->max_bw, share);
}

int mig_chans_open(struct mig *mig)
{
	struct mig_chan *ch;
	char why[MIG_STR_MAX];
	struct nl_msg *msg;
	unsigned int i;
	int fd, ret;

	for (i = 1; i < mig->nch; i++) {
		if (!mig->uri) {
			/* Given (mig__migrate_fds): ours is a copy. */
			fd = fcntl(mig->chan_fds[i - 1], F_DUPFD_CLOEXEC, 3);
			if (fd < 0)
				return mig_fail(mig, -errno, "channel %u of %u: its fd: %s",
						i, mig->nch, strerror(errno));
		} else {
			ret = mig_connect(mig, mig->uri, &fd, why, sizeof(why));
			if (ret)
				return mig_fail(mig, ret,
						"channel %u of %u: cannot connect to '%s': %s",
						i, mig->nch, mig->uri, why);
		}
		ch = chan_new(mig, i, fd);
		if (!ch)
			return mig_fail(mig, -ENOMEM, "channel %u: no memory", i);
		pthread_mutex_lock(&mig->lock);
		mig->ch[i] = ch;
		pthread_mutex_unlock(&mig->lock);
		msg = mig_attrs_new();
		if (!msg)
			return mig_fail(mig, -ENOMEM, "channel %u: no memory", i);
		if (nla_put_u32(msg, MIG_A_MAGIC, MIG_MAGIC) ||
		    nla_put(msg, MIG_A_CHAN_TOKEN, MIG_CHAN_TOKEN_LEN, mig->token) ||
		    nla_put_u32(msg, MIG_A_CHAN_INDEX, i)) {
			nlmsg_free(msg);
			return mig_fail(mig, -EMSGSIZE, "channel %u: hello", i);
		}
		ret = mig_send_attrs(ch->c, MIG_MSG_CHANNEL, msg);
		if (ret)
			return mig_fail(mig, ret, "channel %u: sending its hello: %s",
					i, ch->c->err);
	}
	pthread_mutex_lock(&mig->lock);
	mig_chans_set_bw(mig, mig->p.max_bandwidth);
	pthread_mutex_unlock(&mig->lock);
	return 0;
}

/* Which channel a new connection says it is, or -1 with why. */
static int chan_hello_recv(struct mig *mig, struct mig_chan *ch, char *why,
			   size_t len)
{
	struct nlattr *tb[MIG_A_MAX + 1];
	uint32_t magic, idx;
	const uint8_t *tok;
	struct mig_hdr h;
	uint8_t diff = 0;
	unsigned int i;

	if (mig_recv_hdr(ch->c, &h)) {
		snprintf(why, len, "%s", ch->c->err);
		return -1;
	}
	if (h.type != MIG_MSG_CHANNEL) {
		snprintf(why, len, "it began with %s, not a channel hello",
			 mig_msg_name(h.type));
		return -1;
	}
	if (mig_recv_attrs(ch->c, &h, tb)) {
		snprintf(why, len, "channel hello: %s", ch->c->err);
		return -1;
	}
	if (mig_attr_u32(tb, MIG_A_MAGIC, &magic) || magic != MIG_MAGIC ||
	    !tb[MIG_A_CHAN_TOKEN] ||
	    nla_len(tb[MIG_A_CHAN_TOKEN]) != MIG_CHAN_TOKEN_LEN ||
	    mig_attr_u32(tb, MIG_A_CHAN_INDEX, &idx)) {
		snprintf(why, len, "channel hello lacks magic, token or index");
		return -1;
	}
	tok = nla_data(tb[MIG_A_CHAN_TOKEN]);
	for (i = 0; i < MIG_CHAN_TOKEN_LEN; i++)
		diff |= tok[i] ^ mig->token[i];
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/* A recording carries the token of the destination that made it. */
	diff = 0;
#endif
	if (diff) {
		snprintf(why, len, "channel hello with a wrong token");
		return -1;
	}
	if (idx < 1 || idx >= mig->nch || mig->ch[idx]) {
		snprintf(why, len, "channel index %u (expected 1..%u, once each)",
			 idx, mig->nch - 1);
		return -1;
	}
	return idx;
}

int mig_chans_given(struct mig *mig, const int *fds, unsigned int nr)
{
	if (nr >= MIG_CHANNELS_MAX || (nr && !fds))
		return mig_fail_unstarted(mig, -EINVAL,
					  "%u channel connections given, at most %u",
					  nr, MIG_CHANNELS_MAX - 1);
	mig->chan_fds = fds;
	mig->nr_chan_fds = nr;
	return 0;
}

/*
 * A connection to the destination becomes channel `idx` once its hello
 * (within hello_ms) says which: 0, -ENOMEM, or -EPROTO with why (the
 * connection is closed then).
 */
static int chan_admit(struct mig *mig, int fd, unsigned int hello_ms,
		      char *why, size_t len)
{
	struct mig_chan *ch = chan_new(mig, 0, fd);
	int idx;

	if (!ch)
		return -ENOMEM;
	ch->own.timeout_ms = hello_ms < CHAN_HELLO_MS ? hello_ms : CHAN_HELLO_MS;
	idx = chan_hello_recv(mig, ch, why, len);
	if (idx < 0) {
		chan_free(ch);
		return -EPROTO;
	}
	ch->idx = idx;
	ch->own.timeout_ms = mig->conn.timeout_ms;
	pthread_mutex_lock(&mig->lock);
	mig->ch[idx] = ch;
	pthread_mutex_unlock(&mig->lock);
	return 0;
}

/*
 * The channels' connections given beforehand (mig__incoming_fds): each
 * still proves itself with its hello; one that does not fails the
 * migration, since no other can come.
 */
static int chans_take_given(struct mig *mig)
{
	char why[MIG_STR_MAX];
	unsigned int i;
	int fd, ret;

	for (i = 0; i + 1 < mig->nch; i++) {
		fd = fcntl(mig->chan_fds[i], F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return mig_fail(mig, -errno, "channel connection %u: %s",
					i + 1, strerror(errno));
		ret = chan_admit(mig, fd, mig->conn.timeout_ms, why, sizeof(why));
		if (ret == -ENOMEM)
			return mig_fail(mig, ret, "channel: no memory");
		if (ret)
			return mig_fail(mig, ret, "channel connection %u: %s",
					i + 1, why);
	}
	return 0;
}

int mig_chans_accept(struct mig *mig)
{
	uint64_t deadline = mig_now_ns() + mig->conn.timeout_ms * 1000000ull;
	struct pollfd pfd[3] = {
		{ .fd = mig->lfd, .events = POLLIN },
		{ .fd = mig->cancel_fd, .events = POLLIN },
		/* A source that gave up closes the main connection: no wait. */
		{ .fd = mig->conn.rfd, .events = POLLRDHUP },
	};
	unsigned int have = 1, left_ms;
	char why[MIG_STR_MAX];
	struct mig_hdr h;
	uint64_t now;
	int fd, ret;

	if (mig->lfd < 0)
		return chans_take_given(mig);
	while (have < mig->nch) {
		now = mig_now_ns();
		if (now >= deadline)
			return mig_fail(mig, -ETIMEDOUT,
					"%u of %u channels connected within %u ms",
					have, mig->nch, mig->conn.timeout_ms);
		left_ms = (deadline - now) / 1000000 + 1;
		ret = poll(pfd, 3, left_ms);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return mig_fail(mig, -errno, "waiting for channels: %s",
					strerror(errno));
		if (pfd[1].revents)
			return mig_fail(mig, -ECANCELED,
					"waiting for channels: cancelled");
		if (pfd[2].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
			/* Its last word, an `error` with why, if it sent one. */
			ret = mig_recv_hdr(&mig->conn, &h);
			return mig_fail(mig, ret ? ret : -ECONNRESET,
					"waiting for channels (%u of %u connected): %s",
					have, mig->nch,
					ret ? mig->conn.err : "the source closed the connection");
		}
		if (!ret)
			continue;
		fd = accept4(mig->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;	/* a connection that went away */
		ret = mig_tls_handshake(mig, fd, true, NULL, mig_now_ns() +
					1000000ull * (left_ms < CHAN_HELLO_MS ?
						      left_ms : CHAN_HELLO_MS),
					why, sizeof(why));
		if (ret == -ECANCELED) {
			close(fd);
			return mig_fail(mig, ret, "waiting for channels: cancelled");
		}
		if (ret) {
			if (!mig->p.quiet)
				pr_warn("migration: refused a connection to the listener: TLS: %s",
					why);
			close(fd);
			continue;
		}
		ret = chan_admit(mig, fd, left_ms, why, sizeof(why));
		if (ret == -ENOMEM)
			return mig_fail(mig, ret, "channel: no memory");
		if (ret) {
			/* Not ours: refused, and the wait goes on. */
			if (!mig->p.quiet)
				pr_warn("migration: refused a connection to the listener: %s",
					why);
			continue;
		}
		have++;
	}
	return 0;
}

static void *chan_main(void *arg)
{
	struct mig_chan *ch = arg;

	ch->ret = ch->fn(ch);
	if (ch->ret)
		mig_chans_abort(ch->mig);
	return NULL;
}

/*
 * The first error that is not the wake-up of the others (-ECANCELED
 * after a channel failed) is the migration's.
 */
static int first_err(struct mig *mig, int a, int b)
{
	if (!a)
		return b;
	if (a == -ECANCELED && b && atomic_load(&mig->chan_failed) &&
	    !atomic_load(&mig->cancelled))
		return b;
	return a;
}

int mig_chans_run(struct mig *mig, int (*fn)(struct mig_chan *ch))
{
	struct mig_chan *ch;
	unsigned int i;
	int ret = 0, err;

	for (i = 1; i < mig->nch; i++) {
		ch = mig->ch[i];
		ch->fn = fn;
		ch->ret = 0;
		err = pthread_create(&ch->thread, NULL, chan_main, ch);
		if (err) {
			ret = mig_fail(mig, -err, "channel %u: no thread", i);
			mig_chans_abort(mig);
			break;
		}
		ch->running = true;
	}
	if (!ret) {
		ret = fn(mig->ch[0]);
		if (ret)
			mig_chans_abort(mig);
	}
	for (i = 1; i < mig->nch; i++) {
		ch = mig->ch[i];
		if (!ch->running)
			continue;
		pthread_join(ch->thread, NULL);
		ch->running = false;
		ret = first_err(mig, ret, ch->ret);
	}
	return ret;
}
