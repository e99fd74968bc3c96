// SPDX-License-Identifier: GPL-2.0
/*
 * A waiting destination's admission: a connection becomes the migration
 * only once a whole hello sits in its receive queue.  A port scan (closed
 * at once), bytes that are not a hello, a stray channel connection, or a
 * peer whose hello is not whole within the `timeout` parameter is dropped
 * with a log line and an event, and the wait goes on: none of them ends a
 * waiting destination or holds its one slot.  The wait itself ends after
 * `incoming-timeout` (0: never), or at a cancel.
 *
 * Nothing is read here: the hello is peeked, so the handshake reads the
 * connection from its first byte as before.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "migration/internal.h"

#define NS_PER_MS	1000000ull
/* A partial hello waits this long between looks (poll sees the bytes). */
#define PARTIAL_WAIT_MS	10

static int ms_until(uint64_t deadline_ns)
{
	uint64_t now = mig_now_ns();

	if (!deadline_ns)
		return -1;
	if (now >= deadline_ns)
		return 0;
	return (int)((deadline_ns - now + NS_PER_MS - 1) / NS_PER_MS);
}

/*
 * Whether fd's next message is a hello, whole; -errno and why if not.
 * What came is peeked, not counted with FIONREAD: under kernel TLS the
 * queue holds records, not the bytes they carry.
 */
static int admit(struct mig *mig, int fd, uint8_t *peek, uint64_t deadline_ns,
		 char *why, size_t whylen)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = POLLIN | POLLRDHUP },
		{ .fd = mig->cancel_fd, .events = POLLIN },
	};
	size_t need = 0;	/* the whole hello's bytes, once its header is in */
	ssize_t avail = 0, n;
	struct mig_hdr h;
	int ret, wait;

	for (;;) {
		wait = ms_until(deadline_ns);
		if (!wait) {
			snprintf(why, whylen, "no whole hello in time (%zd bytes came)",
				 avail);
			return -ETIMEDOUT;
		}
		ret = poll(pfd, 2, wait);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return -errno;
		if (pfd[1].revents)
			return -ECANCELED;
		n = recv(fd, peek, need ? need : sizeof(h), MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(why, whylen, "%s", strerror(errno));
			return -errno;
		}
		if (n > 0)
			avail = n;
		if (!need && avail >= (ssize_t)sizeof(h)) {
			memcpy(&h, peek, sizeof(h));
			h.type = le32toh(h.type);
			h.len = le32toh(h.len);
			if (!mig->tls && peek[0] == 0x16 && peek[1] == 0x03) {
				snprintf(why, whylen, "a TLS ClientHello, but this destination has no --tls-creds or --tls-psk");
				return -EPROTO;
			}
			if (h.type != MIG_MSG_HELLO) {
				snprintf(why, whylen, "its first message is %s (type %u), not hello",
					 mig_msg_name(h.type), h.type);
				return -EPROTO;
			}
			if (h.len > MIG_CTRL_MAX) {
				snprintf(why, whylen, "hello of %u bytes (limit %u)",
					 h.len, MIG_CTRL_MAX);
				return -EMSGSIZE;
			}
			need = sizeof(h) + h.len;
			continue;	/* peek for all of it */
		}
		if (need && (size_t)avail >= need)
			return 0;
		if (!n || pfd[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
			snprintf(why, whylen, "closed after %zd bytes, before a whole hello",
				 avail);
			return -ECONNRESET;
		}
		/* Part of a hello: poll would report it again at once. */
		if (pfd[0].revents & POLLIN) {
			wait = ms_until(deadline_ns);
			if (poll(&pfd[1], 1, wait < 0 || wait > PARTIAL_WAIT_MS ?
					       PARTIAL_WAIT_MS : wait) > 0)
				return -ECANCELED;
		}
	}
}

static void dropped(struct mig *mig, const char *why)
{
	enum mig_state s;
	uint64_t n;

	pthread_mutex_lock(&mig->lock);
	n = ++mig->dropped;
	snprintf(mig->dropped_why, sizeof(mig->dropped_why), "%s", why);
	s = mig->st.state;
	pthread_mutex_unlock(&mig->lock);
	if (!mig->p.quiet)
		pr_warn("migration: dropped incoming connection %" PRIu64 ": %s; waiting on",
			n, why);
	/* An event with the count (query-migrate's `dropped`). */
	if (mig->ops->state_changed)
		mig->ops->state_changed(mig->vm, s);
}

static int wait_for_source(struct mig *mig, int lfd, int *fd, uint8_t *peek)
{
	struct mig_params p;
	uint64_t start = mig_now_ns(), end, conn_end;
	char why[MIG_STR_MAX], tls_why[MIG_STR_MAX];
	int ret;

	pthread_mutex_lock(&mig->lock);
	mig->dropped = 0;
	mig->dropped_why[0] = '\0';
	pthread_mutex_unlock(&mig->lock);
	for (;;) {
		/* Parameters may change while we wait: read them each time. */
		mig_params_snapshot(mig, &p);
		end = p.incoming_timeout_ms ? start + p.incoming_timeout_ms * NS_PER_MS : 0;
		ret = mig_accept(mig, lfd, ms_until(end), fd);
		if (ret == -ETIMEDOUT)
			return mig_fail_unstarted(mig, ret, "no source said hello within %u ms",
						  p.incoming_timeout_ms);
		if (ret)
			return mig_fail_unstarted(mig, ret, "waiting for the source: %s",
						  strerror(-ret));
		conn_end = mig_now_ns() + p.timeout_ms * NS_PER_MS;
		if (end && end < conn_end)
			conn_end = end;
		why[0] = '\0';
		ret = mig_tls_handshake(mig, *fd, true, NULL, conn_end, tls_why,
					sizeof(tls_why));
		if (ret && ret != -ECANCELED)
			snprintf(why, sizeof(why), "TLS: %s", tls_why);
		if (!ret)
			ret = admit(mig, *fd, peek, conn_end, why, sizeof(why));
		if (!ret)
			return 0;
		close(*fd);
		*fd = -1;
		if (ret == -ECANCELED)
			return mig_fail_unstarted(mig, ret, "waiting for the source: %s",
						  strerror(-ret));
		dropped(mig, why[0] ? why : strerror(-ret));
	}
}

int mig_accept_source(struct mig *mig, int lfd, int *fd)
{
	uint8_t *peek = malloc(sizeof(struct mig_hdr) + MIG_CTRL_MAX);
	int ret;

	if (!peek)
		return mig_fail_unstarted(mig, -ENOMEM, "waiting for the source: no memory");
	ret = wait_for_source(mig, lfd, fd, peek);
	free(peek);
	return ret;
}
