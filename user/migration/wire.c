// SPDX-License-Identifier: GPL-2.0
/*
 * The migration connection: reads and writes that give up after the
 * timeout or on cancel, the message header with per-type length limits,
 * and control payloads as netlink attribute sets (libnl nla_*), parsed
 * against one strict policy.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "migration/wire.h"

#define U32(t)	{ .type = NLA_U32, .minlen = 4, .maxlen = 4 }
#define U64(t)	{ .type = NLA_U64, .minlen = 8, .maxlen = 8 }
#define STR	{ .type = NLA_STRING, .minlen = 1, .maxlen = MIG_STR_MAX }
#define NEST	{ .type = NLA_NESTED }

struct nla_policy mig_policy[MIG_A_MAX + 1] = {
	[MIG_A_MAGIC]		= U32(),
	[MIG_A_VERSION_MIN]	= U32(),
	[MIG_A_VERSION_MAX]	= U32(),
	[MIG_A_VERSION]		= U32(),
	[MIG_A_CAPS]		= U32(),
	[MIG_A_CAPS_REQUIRED]	= U32(),
	[MIG_A_TRACKER]		= U32(),
	[MIG_A_CPU_MODEL]	= STR,
	[MIG_A_CPUID]		= { .type = NLA_UNSPEC, .maxlen = MIG_CPUID_MAX },
	[MIG_A_DEVICES]		= NEST,
	[MIG_A_DEVICE]		= NEST,
	[MIG_A_DEV_PATH]	= STR,
	[MIG_A_DEV_VERSION]	= U32(),
	[MIG_A_DEV_MIN_VERSION]	= U32(),
	[MIG_A_BLOCKS]		= NEST,
	[MIG_A_BLOCK]		= NEST,
	[MIG_A_BLK_PATH]	= STR,
	[MIG_A_BLK_NAME]	= STR,
	[MIG_A_BLK_SIZE]	= U64(),
	[MIG_A_BLK_FLAGS]	= U32(),
	[MIG_A_ROUND]		= U64(),
	[MIG_A_PAGES]		= U64(),
	[MIG_A_ZERO_PAGES]	= U64(),
	[MIG_A_BYTES]		= U64(),
	[MIG_A_STATE_LEN]	= U64(),
	[MIG_A_ERR_PHASE]	= STR,
	[MIG_A_ERR_ERRNO]	= U32(),
	[MIG_A_ERR_MSG]		= STR,
	[MIG_A_RELEASE]		= STR,
	[MIG_A_DEV_TYPE]	= STR,
	[MIG_A_CHANNELS]	= U32(),
	[MIG_A_CHAN_TOKEN]	= { .type = NLA_UNSPEC, .minlen = MIG_CHAN_TOKEN_LEN,
				    .maxlen = MIG_CHAN_TOKEN_LEN },
	[MIG_A_CHAN_INDEX]	= U32(),
	[MIG_A_DEV_SUBS]	= NEST,
	[MIG_A_SUB]		= NEST,
	[MIG_A_SUB_NAME]	= STR,
	[MIG_A_SUB_VERSION]	= U32(),
	[MIG_A_SUB_MIN_VERSION]	= U32(),
	[MIG_A_SUBS_UNLOADABLE]	= NEST,
};

static const char *const msg_names[__MIG_MSG_NR] = {
	[MIG_MSG_HELLO]		= "hello",
	[MIG_MSG_WELCOME]	= "welcome",
	[MIG_MSG_RAMBLOCKS]	= "ramblocks",
	[MIG_MSG_RAMBLOCKS_OK]	= "ramblocks-ok",
	[MIG_MSG_ROUND_BEGIN]	= "round-begin",
	[MIG_MSG_CHUNK]		= "chunk",
	[MIG_MSG_ROUND_END]	= "round-end",
	[MIG_MSG_SWITCHOVER]	= "switchover",
	[MIG_MSG_STATE]		= "state",
	[MIG_MSG_STATE_END]	= "state-end",
	[MIG_MSG_READY]		= "ready",
	[MIG_MSG_COMMIT]	= "commit",
	[MIG_MSG_RUNNING]	= "running",
	[MIG_MSG_ERROR]		= "error",
	[MIG_MSG_CHANNEL]	= "channel",
	[MIG_MSG_DRAIN]		= "drain",
	[MIG_MSG_DRAINED]	= "drained",
};

const char *mig_msg_name(uint32_t type)
{
	if (type == 0 || type >= __MIG_MSG_NR)
		return "unknown";
	return msg_names[type];
}

uint64_t mig_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int conn_err(struct mig_conn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int conn_err(struct mig_conn *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return err;
}

int mig_conn_init(struct mig_conn *c, int rfd, int wfd, int cancel_fd,
		  unsigned int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->rfd = rfd;
	c->wfd = wfd;
	c->cancel_fd = cancel_fd;
	c->timeout_ms = timeout_ms;
	c->epfd = -1;
	c->buf = malloc(MIG_CTRL_MAX);
	if (!c->buf)
		return -ENOMEM;
	/* Every wait is a poll() with the timeout; the fds never block. */
	fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
	fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
	return 0;
}

void mig_conn_destroy(struct mig_conn *c)
{
	free(c->buf);
	c->buf = NULL;
	if (c->epfd >= 0)
		close(c->epfd);
	c->epfd = -1;
}

/* Wait until fd is ready for events; -ETIMEDOUT or -ECANCELED otherwise. */
static int conn_wait(struct mig_conn *c, int fd, short events, int timeout)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = events },
		{ .fd = c->cancel_fd, .events = POLLIN },
	};
	int ret;

	do
		ret = poll(pfd, 2, timeout);
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return conn_err(c, -errno, "poll: %s", strerror(errno));
	if (pfd[1].revents)
		return conn_err(c, -ECANCELED, "cancelled");
	if (ret == 0)
		return conn_err(c, -ETIMEDOUT, "no progress for %u ms",
				c->timeout_ms);
	return 0;
}

int mig_conn_sleep(struct mig_conn *c, uint64_t ms)
{
	int ret = conn_wait(c, -1, 0, (int)ms);

	return ret == -ETIMEDOUT ? 0 : ret;
}

/* Hold the writer back to max_bw bytes/s over the whole migration. */
static int conn_throttle(struct mig_conn *c, size_t n)
{
	uint64_t bw = atomic_load(&c->max_bw), due, now;

	if (bw != c->bw_used) {
		/* A new cap counts from now. */
		c->bw_used = bw;
		c->bw_start_ns = 0;
	}
	if (!bw)
		return 0;
	if (!c->bw_start_ns) {
		c->bw_start_ns = mig_now_ns();
		c->bw_bytes = 0;
	}
	c->bw_bytes += n;
	due = c->bw_start_ns + mig_muldiv(c->bw_bytes, 1000000000ull, bw);
	now = mig_now_ns();
	if (due <= now)
		return 0;
	return mig_conn_sleep(c, (due - now + 999999) / 1000000);
}

/*
 * splice() and write() to a pipe have no MSG_NOSIGNAL: around them, hold
 * SIGPIPE off this thread and swallow the one a closed peer raised, so a
 * cut never kills the VMM (the caller sees EPIPE, or a short count first:
 * a splice that moved one pipe buffer before the peer closed returns that
 * count, yet the next buffer's EPIPE already raised the signal).
 */
struct sigpipe_guard {
	sigset_t old;
	bool was_pending;
};

static bool sigpipe_pending(void)
{
	sigset_t pending;

	sigpending(&pending);
	return sigismember(&pending, SIGPIPE);
}

static void sigpipe_hold(struct sigpipe_guard *g)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	g->was_pending = sigpipe_pending();
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void sigpipe_release(struct sigpipe_guard *g)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!g->was_pending && sigpipe_pending())
		sigtimedwait(&set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static ssize_t conn_write_some(struct mig_conn *c, const void *p, size_t len)
{
	ssize_t n = send(c->wfd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	struct sigpipe_guard g;
	int err;

	if (n < 0 && errno == ENOTSOCK) {
		sigpipe_hold(&g);
		n = write(c->wfd, p, len);
		err = errno;
		sigpipe_release(&g);
		errno = err;
	}
	return n;
}

int mig_conn_write(struct mig_conn *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t total = len;
	ssize_t n;
	int ret;

	while (len) {
		ret = conn_wait(c, c->wfd, POLLOUT, c->timeout_ms);
		if (ret)
			return ret;
		n = conn_write_some(c, p, len);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return conn_err(c, -errno, "write at byte %llu: %s",
					(unsigned long long)c->tx_off,
					strerror(errno));
		}
		p += n;
		len -= n;
		c->tx_off += n;
	}
	return conn_throttle(c, total);
}

int mig_conn_splice(struct mig_conn *c, int pipe_rd, size_t len)
{
	size_t total = len;
	struct sigpipe_guard g;
	uint8_t tmp[4096];
	bool copy = false;
	ssize_t n;
	int ret, err;

	while (len) {
		if (copy) {
			/* wfd takes no splice (a pipe end, a file): copy. */
			n = read(pipe_rd, tmp, len < sizeof(tmp) ? len : sizeof(tmp));
			if (n <= 0)
				return conn_err(c, n ? -errno : -EIO,
						"page stream pipe read failed");
			ret = mig_conn_write(c, tmp, n);
			if (ret)
				return ret;
			len -= n;
			continue;
		}
		ret = conn_wait(c, c->wfd, POLLOUT, c->timeout_ms);
		if (ret)
			return ret;
		sigpipe_hold(&g);
		n = splice(pipe_rd, NULL, c->wfd, NULL, len,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		err = errno;
		sigpipe_release(&g);
		errno = err;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == EINVAL) {
				copy = true;
				continue;
			}
			return conn_err(c, -errno, "splice at byte %llu: %s",
					(unsigned long long)c->tx_off,
					strerror(errno));
		}
		if (n == 0)
			return conn_err(c, -EIO, "page stream pipe ran dry");
		len -= n;
		c->tx_off += n;
	}
	return copy ? 0 : conn_throttle(c, total);
}

/*
 * Kernel TLS (6.1) has poll() report a socket readable as soon as part of
 * a record is queued, yet read() has nothing until the whole record is
 * there: a poll-and-read loop would spin for as long as the rest takes.
 * Its wakeups come only for whole records, so once poll() has said
 * readable in vain, reads wait for the next wakeup with an edge-triggered
 * epoll (on a plain socket that is every arrival: no loss).
 */
static int conn_wait_edge(struct mig_conn *c)
{
	struct epoll_event ev[2];
	int n;

	if (c->epfd >= 0 && c->ep_cancel != c->cancel_fd) {
		close(c->epfd);
		c->epfd = -1;
	}
	if (c->epfd < 0) {
		c->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (c->epfd < 0)
			return conn_err(c, -errno, "epoll: %s", strerror(errno));
		c->ep_cancel = c->cancel_fd;
		ev[0] = (struct epoll_event){ .events = EPOLLIN | EPOLLET,
					      .data.fd = c->rfd };
		ev[1] = (struct epoll_event){ .events = EPOLLIN,
					      .data.fd = c->cancel_fd };
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->rfd, &ev[0]) ||
		    (c->cancel_fd >= 0 &&
		     epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->cancel_fd, &ev[1])))
			return conn_err(c, -errno, "epoll: %s", strerror(errno));
	}
	do
		n = epoll_wait(c->epfd, ev, 2, c->timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return conn_err(c, -errno, "epoll: %s", strerror(errno));
	if (n == 0)
		return conn_err(c, -ETIMEDOUT, "no progress for %u ms",
				c->timeout_ms);
	while (n--)
		if (ev[n].data.fd == c->cancel_fd && c->cancel_fd >= 0)
			return conn_err(c, -ECANCELED, "cancelled");
	return 0;
}

int mig_conn_read(struct mig_conn *c, void *buf, size_t len)
{
	bool polled = false;
	uint8_t *p = buf;
	ssize_t n;
	int ret;

	while (len) {
		n = read(c->rfd, p, len);
		if (n > 0) {
			p += n;
			len -= n;
			c->rx_off += n;
			polled = false;
			continue;
		}
		if (n == 0)
			return conn_err(c, -ECONNRESET,
					"connection closed by peer");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return conn_err(c, -errno, "read: %s", strerror(errno));
		if (c->epfd >= 0 || polled) {
			ret = conn_wait_edge(c);
		} else {
			ret = conn_wait(c, c->rfd, POLLIN, c->timeout_ms);
			polled = true;
		}
		if (ret)
			return ret;
	}
	return 0;
}

int mig_send(struct mig_conn *c, uint32_t type, const void *payload,
	     uint32_t len)
{
	struct mig_hdr h = { .type = htole32(type), .len = htole32(len) };
	int ret;

	ret = mig_conn_write(c, &h, sizeof(h));
	if (!ret && len)
		ret = mig_conn_write(c, payload, len);
	return ret;
}

struct nl_msg *mig_attrs_new(void)
{
	return nlmsg_alloc_size(MIG_CTRL_MAX + 64);
}

int mig_send_attrs(struct mig_conn *c, uint32_t type, struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int ret;

	ret = mig_send(c, type, nlmsg_data(nlh), nlmsg_datalen(nlh));
	nlmsg_free(msg);
	return ret;
}

void mig_send_error(struct mig_conn *c, const char *phase, int err,
		    const char *text)
{
	struct nl_msg *msg = mig_attrs_new();
	char saved[sizeof(c->err)];
	unsigned int timeout = c->timeout_ms;
	int cancel_fd = c->cancel_fd;

	if (!msg)
		return;
	if (nla_put_string(msg, MIG_A_ERR_PHASE, phase) ||
	    nla_put_u32(msg, MIG_A_ERR_ERRNO, (uint32_t)-err) ||
	    nla_put_string(msg, MIG_A_ERR_MSG, text)) {
		nlmsg_free(msg);
		return;
	}
	/*
	 * Best effort, briefly, without losing the reason we fail; a cancel
	 * is a reason to send this, not to stop sending it.
	 */
	memcpy(saved, c->err, sizeof(saved));
	c->timeout_ms = 200;
	c->cancel_fd = -1;
	mig_send_attrs(c, MIG_MSG_ERROR, msg);
	c->cancel_fd = cancel_fd;
	c->timeout_ms = timeout;
	memcpy(c->err, saved, sizeof(saved));
}

/* Every attribute must be whole and the payload fully consumed. */
static int parse_attrs(struct mig_conn *c, struct nlattr **tb, void *data,
		       int len)
{
	struct nlattr *nla;
	int rem, ret;

	nla_for_each_attr(nla, (struct nlattr *)data, len, rem)
		;
	if (rem != 0)
		return conn_err(c, -EBADMSG, "%d stray bytes after attributes",
				rem);
	ret = nla_parse(tb, MIG_A_MAX, data, len, mig_policy);
	if (ret < 0)
		return conn_err(c, -EBADMSG, "attribute fails policy (%s)",
				nl_geterror(ret));
	return 0;
}

int mig_parse_nested(struct nlattr *nla, struct nlattr **tb)
{
	struct nlattr *pos;
	int rem;

	nla_for_each_nested(pos, nla, rem)
		;
	if (rem != 0)
		return -EBADMSG;
	return nla_parse_nested(tb, MIG_A_MAX, nla, mig_policy) < 0 ?
		-EBADMSG : 0;
}

int mig_attr_u32(struct nlattr **tb, int type, uint32_t *v)
{
	if (!tb[type] || nla_len(tb[type]) != 4)
		return -EINVAL;
	*v = nla_get_u32(tb[type]);
	return 0;
}

int mig_attr_u64(struct nlattr **tb, int type, uint64_t *v)
{
	if (!tb[type] || nla_len(tb[type]) != 8)
		return -EINVAL;
	*v = nla_get_u64(tb[type]);
	return 0;
}

const char *mig_attr_str(struct nlattr **tb, int type)
{
	const char *s;
	int len;

	if (!tb[type])
		return NULL;
	s = nla_data(tb[type]);
	len = nla_len(tb[type]);
	if (len < 1 || len > MIG_STR_MAX || strnlen(s, len) != (size_t)len - 1)
		return NULL;
	return s;
}

static uint32_t max_len(uint32_t type)
{
	switch (type) {
	case MIG_MSG_CHUNK:
		return sizeof(struct mig_chunk_hdr) + MIG_CHUNK_DATA_MAX;
	case MIG_MSG_STATE:
		return MIG_STATE_PART_MAX;
	case MIG_MSG_RAMBLOCKS_OK:
	case MIG_MSG_SWITCHOVER:
	case MIG_MSG_READY:
	case MIG_MSG_COMMIT:
	case MIG_MSG_RUNNING:
	case MIG_MSG_DRAIN:
	case MIG_MSG_DRAINED:
		return 0;
	default:
		return MIG_CTRL_MAX;
	}
}

static int recv_peer_error(struct mig_conn *c, const struct mig_hdr *h)
{
	struct nlattr *tb[MIG_A_MAX + 1];
	const char *phase, *text;
	uint32_t err = EPROTO;
	int ret;

	ret = mig_recv_attrs(c, h, tb);
	if (ret)
		return ret;
	phase = mig_attr_str(tb, MIG_A_ERR_PHASE);
	text = mig_attr_str(tb, MIG_A_ERR_MSG);
	mig_attr_u32(tb, MIG_A_ERR_ERRNO, &err);
	c->peer_error = true;
	return conn_err(c, -EPROTO, "peer failed (%s, errno %u): %s",
			phase ? phase : "?", err, text ? text : "?");
}

int mig_recv_hdr(struct mig_conn *c, struct mig_hdr *h)
{
	int ret;

	c->msg_pos = c->rx_off;
	ret = mig_conn_read(c, h, sizeof(*h));
	if (ret)
		return ret;
	h->type = le32toh(h->type);
	h->len = le32toh(h->len);
	if (h->type == MIG_MSG_UNSPEC || h->type >= __MIG_MSG_NR)
		return conn_err(c, -EBADMSG, "unknown message type %u",
				h->type);
	if (h->len > max_len(h->type))
		return conn_err(c, -EMSGSIZE, "%s message of %u bytes (limit %u)",
				mig_msg_name(h->type), h->len,
				max_len(h->type));
	if (h->type == MIG_MSG_ERROR)
		return recv_peer_error(c, h);
	return 0;
}

int mig_recv_attrs(struct mig_conn *c, const struct mig_hdr *h,
		   struct nlattr **tb)
{
	int ret;

	if (h->len > MIG_CTRL_MAX)
		return conn_err(c, -EMSGSIZE, "control message too long");
	ret = mig_conn_read(c, c->buf, h->len);
	if (ret)
		return ret;
	c->buf_len = h->len;
	return parse_attrs(c, tb, c->buf, h->len);
}
