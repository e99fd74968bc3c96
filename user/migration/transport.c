// SPDX-License-Identifier: GPL-2.0
/*
 * Migration transports: "tcp:HOST:PORT" and "unix:PATH".  The source
 * connects and the destination listens and accepts one connection; both
 * wait in poll() beside the cancel eventfd, so a cancel (or quit) ends
 * either at once, even a connect to a host that never answers.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "migration/internal.h"

/* A name's addresses tried in turn by a source (a host's v4 and v6, a few more). */
#define MIG_ADDRS_MAX	8

struct mig_addr {
	int family;
	struct sockaddr_storage ss;
	socklen_t len;
};

static int parse_unix(const char *path, struct mig_addr *a)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&a->ss;

	if (!*path || strlen(path) >= sizeof(sun->sun_path))
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	a->family = AF_UNIX;
	a->len = sizeof(*sun);
	return 0;
}

/*
 * HOST's addresses, at most n, in getaddrinfo's order (RFC 6724: "localhost"
 * is often ::1 first, 127.0.0.1 second); the count, or -EINVAL.
 */
static int parse_tcp(const char *hostport, bool passive, struct mig_addr *a,
		     int n)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = passive ? AI_PASSIVE : 0,
	};
	struct addrinfo *res, *ai;
	char host[256];
	const char *colon = strrchr(hostport, ':');
	size_t hlen;
	int ret, i = 0;

	if (!colon || !colon[1])
		return -EINVAL;
	hlen = colon - hostport;
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, hostport, hlen);
	host[hlen] = 0;
	/* "[::1]:4444" */
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = 0;
	}
	ret = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res);
	if (ret) {
		pr_err("migration: cannot resolve '%s': %s", hostport,
		       gai_strerror(ret));
		return -EINVAL;
	}
	for (ai = res; ai && i < n; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(a[i].ss))
			continue;
		memset(&a[i], 0, sizeof(a[i]));
		a[i].family = ai->ai_family;
		memcpy(&a[i].ss, ai->ai_addr, ai->ai_addrlen);
		a[i].len = ai->ai_addrlen;
		i++;
	}
	freeaddrinfo(res);
	return i ? i : -EINVAL;
}

/* The URI's addresses, at most n; the count, or -EINVAL. */
static int parse_uri(const char *uri, bool passive, struct mig_addr *a, int n)
{
	if (!strncmp(uri, "tcp:", 4))
		return parse_tcp(uri + 4, passive, a, n);
	if (!strncmp(uri, "unix:", 5))
		return parse_unix(uri + 5, a) ? -EINVAL : 1;
	pr_err("migration: '%s': expected tcp:HOST:PORT or unix:PATH", uri);
	return -EINVAL;
}

/*
 * A connect that a cancel ends: the socket is non-blocking and the wait
 * for the handshake is a poll() on it and the cancel eventfd, bounded by
 * the migration timeout (the kernel's own SYN retries take minutes).
 */
static int connect_wait(struct mig *mig, int s)
{
	struct pollfd pfd[2] = {
		{ .fd = s, .events = POLLOUT },
		{ .fd = mig->cancel_fd, .events = POLLIN },
	};
	socklen_t len = sizeof(int);
	int ret, err = 0;

	do
		ret = poll(pfd, 2, mig->p.timeout_ms);
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (pfd[1].revents)
		return -ECANCELED;
	if (ret == 0)
		return -ETIMEDOUT;
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

/* The host of "tcp:HOST:PORT" (brackets of an IPv6 address dropped). */
static void uri_host(const char *uri, char *host, size_t len)
{
	const char *h = uri + 4, *colon = strrchr(h, ':');
	size_t n = colon ? (size_t)(colon - h) : 0;

	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h++;
		n -= 2;
	}
	snprintf(host, len, "%.*s", (int)n, h);
}

/* One address: the connected non-blocking socket, or -errno. */
static int connect_one(struct mig *mig, const struct mig_addr *a)
{
	unsigned int tries;
	int ret, s;

	s = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	ret = connect(s, (const struct sockaddr *)&a->ss, a->len) ? -errno : 0;
	if (ret == -EINPROGRESS)
		ret = connect_wait(mig, s);
	/* A unix socket's full backlog: try again until the timeout. */
	for (tries = mig->p.timeout_ms / 20; ret == -EAGAIN && tries; tries--) {
		struct pollfd pfd = { .fd = mig->cancel_fd, .events = POLLIN };

		if (poll(&pfd, 1, 20) > 0)
			ret = -ECANCELED;
		else
			ret = connect(s, (const struct sockaddr *)&a->ss, a->len) ?
			      -errno : 0;
	}
	if (ret) {
		close(s);
		return ret;
	}
	return s;
}

/*
 * Each of the host's addresses in turn, as ssh and QEMU do: a destination
 * listens on one of them (its first, which need not be ours), so a
 * refusal on ::1 still leaves 127.0.0.1 to try.
 */
int mig_connect(struct mig *mig, const char *uri, int *fd, char *why,
		size_t len)
{
	char host[256], tls_why[MIG_STR_MAX];
	struct mig_addr a[MIG_ADDRS_MAX];
	int i, n, ret, s = -ENOENT;

	snprintf(why, len, "bad address");
	n = parse_uri(uri, false, a, MIG_ADDRS_MAX);
	if (n < 0)
		return n;
	if (mig->tls && a[0].family == AF_UNIX) {
		snprintf(why, len, "TLS: kernel TLS runs on TCP only (a tcp: URI)");
		return -EPROTONOSUPPORT;
	}
	for (i = 0; i < n && s != -ECANCELED; i++) {
		/* Name resolution cannot be interrupted: look once it is done. */
		s = atomic_load(&mig->cancelled) ? -ECANCELED : connect_one(mig, &a[i]);
		if (s >= 0)
			break;
	}
	if (s < 0) {
		if (n > 1 && s != -ECANCELED)
			snprintf(why, len, "%s (each of its %d addresses)",
				 strerror(-s), n);
		else
			snprintf(why, len, "%s", strerror(-s));
		return s;
	}
	snprintf(why, len, "connected");
	if (mig->tls) {
		uri_host(uri, host, sizeof(host));
		ret = mig_tls_handshake(mig, s, false, host, mig_now_ns() +
					mig->p.timeout_ms * 1000000ull,
					tls_why, sizeof(tls_why));
		if (ret) {
			if (ret == -ECANCELED)
				snprintf(why, len, "%s", strerror(-ret));
			else
				snprintf(why, len, "TLS: %s", tls_why);
			close(s);
			return ret;
		}
	}
	*fd = s;
	return 0;
}

int mig__listen(const char *uri, int *lfd)
{
	struct mig_addr a;
	int ret, s, one = 1;

	ret = parse_uri(uri, true, &a, 1);
	if (ret < 0)
		return ret;
	s = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (a.family != AF_UNIX)
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a.ss, a.len) || listen(s, MIG_CHANNELS_MAX)) {
		ret = -errno;
		pr_err("migration: cannot listen on '%s': %s", uri,
		       strerror(-ret));
		close(s);
		return ret;
	}
	*lfd = s;
	return 0;
}

/* timeout_ms: -1 waits until a source comes or a cancel; else -ETIMEDOUT. */
int mig_accept(struct mig *mig, int lfd, int timeout_ms, int *fd)
{
	struct pollfd pfd[2] = {
		{ .fd = lfd, .events = POLLIN },
		{ .fd = mig->cancel_fd, .events = POLLIN },
	};
	int ret, s;

	do
		ret = poll(pfd, 2, timeout_ms);
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (!ret)
		return -ETIMEDOUT;
	if (pfd[1].revents)
		return -ECANCELED;
	s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		return -errno;
	*fd = s;
	return 0;
}
