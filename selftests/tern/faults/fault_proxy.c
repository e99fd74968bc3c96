// SPDX-License-Identifier: GPL-2.0
/*
 * tern-fault-proxy: a TCP proxy for fault tests.  It sits between a
 * migration source and destination on loopback and, at chosen byte offsets
 * of one direction, cuts the connection, stalls it, or flips a byte; it can
 * also throttle.  Every fault it injects is logged with its offset and the
 * seed, so a failing case can be replayed exactly.  With --no-syn it is a
 * destination that never answers a SYN (a listener whose accept queue it
 * keeps full), for the cancel-during-connect tests.  Faults (and
 * --record) hit one connection, the first or the --conn Nth (a
 * migration's page-stream channel N-1); every other is forwarded as it
 * is, each by a child process of its own.  --stall-msg holds a direction
 * of plain migration messages just before the first of a type, wherever
 * it falls (the rounds before it, and so their drained answers, vary).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum dir { FWD, BACK, NR_DIRS };	/* FWD: client to server (source to destination) */

static const char *const dir_name[NR_DIRS] = { "fwd", "back" };

/* Faults of one direction; offsets count bytes of that direction. */
struct dir_faults {
	uint64_t cut;		/* close both sockets once this many bytes passed */
	uint64_t flip;		/* XOR the byte at this offset with flip_mask */
	uint8_t flip_mask;
	uint64_t stall;		/* pause this direction at this offset */
	unsigned int stall_ms;
	uint32_t stall_type;	/* or before the first message of this type (0: none) */
	uint64_t msg_next;	/* with stall_type: where the next header starts */
	uint64_t rate;		/* bytes per second, 0 = unlimited */
};

struct proxy {
	struct dir_faults f[NR_DIRS];
	bool rst;		/* cut with a RST instead of a FIN */
	int rec[NR_DIRS];	/* --record: each direction's bytes as forwarded, or -1 */
	unsigned long seed;
	uint64_t done[NR_DIRS];
	double held_until[NR_DIRS];	/* a stalled direction: run time it goes on */
	struct timespec start;
};

#define NONE	UINT64_MAX

static __attribute__((noreturn)) void usage(void)
{
	fprintf(stderr,
		"usage: tern-fault-proxy --listen PORT --connect PORT [options]\n"
		"  --listen PORT        accept connections on 127.0.0.1:PORT (0: any, printed)\n"
		"  --connect PORT       forward them to 127.0.0.1:PORT\n"
		"  --conn N             faults and --record on the Nth connection (default 1)\n"
		"  --cut DIR:OFF        close both sides when DIR has passed OFF bytes\n"
		"  --rst                cut with a TCP reset instead of a close\n"
		"  --flip DIR:OFF[:X]   XOR byte OFF of DIR with X (default 0xff)\n"
		"  --stall DIR:OFF:MS   hold DIR for MS milliseconds at OFF\n"
		"  --stall-msg DIR:TYPE:MS  hold DIR for MS milliseconds before its first\n"
		"                       migration message of TYPE (a number; plaintext)\n"
		"  --throttle DIR:BPS   limit DIR to BPS bytes per second\n"
		"  --record PREFIX      write the bytes forwarded to PREFIX.fwd and PREFIX.back\n"
		"  --seed N             recorded in every log line (the campaign's seed)\n"
		"  --no-syn             listen on --listen PORT but never answer a SYN\n"
		"                       (accept queue kept full) until killed\n"
		"DIR is fwd (client to server) or back.\n");
	exit(2);
}

static enum dir parse_dir(const char *s, const char **rest)
{
	for (int d = 0; d < NR_DIRS; d++) {
		size_t n = strlen(dir_name[d]);

		if (!strncmp(s, dir_name[d], n) && s[n] == ':') {
			*rest = s + n + 1;
			return d;
		}
	}
	fprintf(stderr, "tern-fault-proxy: bad direction in '%s'\n", s);
	usage();
}

static uint64_t parse_u64(const char *s, const char **end)
{
	char *e;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &e, 0);
	if (errno || e == s || (*e && *e != ':')) {
		fprintf(stderr, "tern-fault-proxy: bad number '%s'\n", s);
		usage();
	}
	if (end)
		*end = *e ? e + 1 : e;
	return v;
}

static double run_time(const struct proxy *p)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - p->start.tv_sec) + (now.tv_nsec - p->start.tv_nsec) / 1e9;
}

static void plog(struct proxy *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void plog(struct proxy *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tern-fault-proxy: seed %lu t=%.3fs: ", p->seed, run_time(p));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int tcp_listen(unsigned int port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		close(fd);
		return -errno;
	}
	/* Scripts wait for this line before starting the client. */
	printf("listening %u\n", ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

/*
 * Linux drops a SYN for a listener whose accept queue is full, so a
 * connect() to it hangs in SYN retries: a backlog of 0 holds one
 * connection, made here and never accepted.
 */
static int no_syn(long port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int l, c[2], i;

	if (port < 0 || port > 65535)
		usage();
	sa.sin_port = htons(port);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 0) ||
	    getsockname(l, (struct sockaddr *)&sa, &len)) {
		perror("tern-fault-proxy: --no-syn listener");
		return 1;
	}
	for (i = 0; i < 2; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (c[i] < 0) {
			perror("tern-fault-proxy: socket");
			return 1;
		}
		connect(c[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	printf("listening %u (never answering)\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (;;)
		pause();
}

static int tcp_connect(unsigned int port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

static void cut(struct proxy *p, int fd[NR_DIRS + 1])
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	for (int i = 0; i < 2; i++) {
		if (p->rst)
			setsockopt(fd[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd[i]);
	}
}

/* Bytes that may pass before the next fault of direction d. */
static size_t until_next_fault(struct proxy *p, enum dir d, size_t want)
{
	uint64_t at = p->done[d], next = NONE;
	const struct dir_faults *f = &p->f[d];

	if (f->cut != NONE && f->cut >= at)
		next = f->cut;
	if (f->flip != NONE && f->flip >= at && f->flip < next)
		next = f->flip + 1;	/* the flipped byte goes in this chunk */
	if (f->stall != NONE && f->stall >= at && f->stall < next)
		next = f->stall;
	if (f->stall_type && f->msg_next >= at && f->msg_next < next)
		next = f->msg_next;
	if (next != NONE && next - at < want)
		want = next - at;
	return want;
}

/*
 * At a message header of a direction with stall_type: a stall here if it
 * is that type, else the next header's offset.  0 to go on, 1 to wait
 * for the rest of the header.
 */
static int find_msg(struct proxy *p, int fd, enum dir d)
{
	struct dir_faults *f = &p->f[d];
	uint8_t h[8];
	uint32_t type, len;

	while (f->stall_type && p->done[d] == f->msg_next) {
		if (recv(fd, h, sizeof(h), MSG_PEEK | MSG_DONTWAIT) != sizeof(h))
			return 1;
		type = h[0] | h[1] << 8 | h[2] << 16 | (uint32_t)h[3] << 24;
		len = h[4] | h[5] << 8 | h[6] << 16 | (uint32_t)h[7] << 24;
		if (type == f->stall_type) {
			f->stall = p->done[d];
			f->stall_type = 0;
			return 0;
		}
		f->msg_next += sizeof(h) + len;
	}
	return 0;
}

static void throttle(struct proxy *p, enum dir d)
{
	struct timespec now, ts;
	double elapsed, due;

	if (!p->f[d].rate)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = (now.tv_sec - p->start.tv_sec) +
		  (now.tv_nsec - p->start.tv_nsec) / 1e9;
	due = (double)p->done[d] / p->f[d].rate;
	if (due > elapsed) {
		ts.tv_sec = (time_t)(due - elapsed);
		ts.tv_nsec = (long)((due - elapsed - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/*
 * Move bytes from fd[d] to fd[!d] up to the next fault.  Returns 1 to go
 * on, 0 when that direction ended (EOF: passed on as a shutdown), -1 when
 * the connection is finished (cut or error).
 */
static int pump(struct proxy *p, int fd[2], enum dir d)
{
	struct dir_faults *f = &p->f[d];
	uint8_t buf[65536];
	size_t want;
	ssize_t n;

	if (find_msg(p, fd[d], d))
		return 1;	/* a header in parts */
	/* A stall holds this direction only: the other one flows on. */
	if (f->stall != NONE && p->done[d] == f->stall) {
		plog(p, "stall %s at byte %" PRIu64 " for %u ms", dir_name[d],
		     f->stall, f->stall_ms);
		p->held_until[d] = run_time(p) + f->stall_ms / 1e3;
		f->stall = NONE;
		return 1;
	}
	if (f->cut != NONE && p->done[d] == f->cut) {
		plog(p, "cut %s at byte %" PRIu64 "%s", dir_name[d], f->cut,
		     p->rst ? " (reset)" : "");
		return -1;
	}
	want = until_next_fault(p, d, sizeof(buf));
	if (f->rate && want > f->rate / 10 + 1)
		want = f->rate / 10 + 1;
	n = read(fd[d], buf, want);
	if (n < 0 && errno == EINTR)
		return 1;
	if (n <= 0) {
		plog(p, "%s ended after %" PRIu64 " bytes (%s)", dir_name[d],
		     p->done[d], n ? strerror(errno) : "eof");
		shutdown(fd[!d], SHUT_WR);
		return n ? -1 : 0;
	}
	if (f->flip != NONE && f->flip >= p->done[d] &&
	    f->flip < p->done[d] + n) {
		buf[f->flip - p->done[d]] ^= f->flip_mask;
		plog(p, "flip %s byte %" PRIu64 " ^ 0x%02x", dir_name[d],
		     f->flip, f->flip_mask);
		f->flip = NONE;
	}
	if (write_all(fd[!d], buf, n)) {
		plog(p, "%s: peer gone after %" PRIu64 " bytes", dir_name[d],
		     p->done[d]);
		return -1;
	}
	if (p->rec[d] >= 0 && write_all(p->rec[d], buf, n))
		plog(p, "record %s: %s", dir_name[d], strerror(errno));
	p->done[d] += n;
	throttle(p, d);
	return 1;
}

/*
 * A later connection (a migration channel) in a child: forwarded both
 * ways unchanged until both directions closed.
 */
static __attribute__((noreturn)) void relay_plain(int a, long cport)
{
	bool up[2] = { true, true };
	uint8_t buf[65536];
	int fds[2] = { a, tcp_connect(cport) };
	ssize_t n;
	int d;

	if (fds[1] < 0)
		_exit(1);
	while (up[0] || up[1]) {
		struct pollfd pfd[2] = {
			{ .fd = up[0] ? fds[0] : -1, .events = POLLIN },
			{ .fd = up[1] ? fds[1] : -1, .events = POLLIN },
		};

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		for (d = 0; d < 2; d++) {
			if (!(pfd[d].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[d], buf, sizeof(buf));
			if (n <= 0 || send(fds[!d], buf, n, MSG_NOSIGNAL) != n) {
				/* An error: both gone, as a cut; EOF: half-close. */
				if (n != 0)
					goto out;
				shutdown(fds[!d], SHUT_WR);
				up[d] = false;
			}
		}
	}
out:
	close(fds[0]);
	close(fds[1]);
	_exit(0);
}

/* A connection not faulted, accepted as a: a child forwards it. */
static void relay_child(int lfd, int a, const int *fd, long cport)
{
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		close(lfd);
		if (fd[FWD] >= 0)
			close(fd[FWD]);
		if (fd[BACK] >= 0)
			close(fd[BACK]);
		relay_plain(a, cport);
	}
	if (pid < 0)
		perror("tern-fault-proxy: fork");
	close(a);
}

static void accept_channel(int lfd, const int *fd, long cport)
{
	int a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (a >= 0)
		relay_child(lfd, a, fd, cport);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "connect", required_argument, NULL, 'c' },
		{ "cut", required_argument, NULL, 'x' },
		{ "rst", no_argument, NULL, 'r' },
		{ "flip", required_argument, NULL, 'f' },
		{ "stall", required_argument, NULL, 's' },
		{ "stall-msg", required_argument, NULL, 'm' },
		{ "throttle", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 'S' },
		{ "record", required_argument, NULL, 'R' },
		{ "no-syn", no_argument, NULL, 'N' },
		{ "conn", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct proxy p = { .rec = { -1, -1 } };
	const char *record = NULL;
	long lport = -1, cport = -1, conn = 1, i;
	bool open_[NR_DIRS] = { true, true }, nosyn = false;
	int lfd, fd[2], opt, d;
	const char *rest;

	for (d = 0; d < NR_DIRS; d++)
		p.f[d] = (struct dir_faults){ .cut = NONE, .flip = NONE, .stall = NONE };
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			lport = parse_u64(optarg, NULL);
			break;
		case 'c':
			cport = parse_u64(optarg, NULL);
			break;
		case 'r':
			p.rst = true;
			break;
		case 'R':
			record = optarg;
			break;
		case 'N':
			nosyn = true;
			break;
		case 'n':
			conn = parse_u64(optarg, NULL);
			if (conn < 1 || conn > 64)
				usage();
			break;
		case 'S':
			p.seed = parse_u64(optarg, NULL);
			break;
		case 'x':
			d = parse_dir(optarg, &rest);
			p.f[d].cut = parse_u64(rest, NULL);
			break;
		case 'f':
			d = parse_dir(optarg, &rest);
			p.f[d].flip = parse_u64(rest, &rest);
			p.f[d].flip_mask = *rest ? parse_u64(rest, NULL) : 0xff;
			if (!p.f[d].flip_mask)
				usage();
			break;
		case 's':
			d = parse_dir(optarg, &rest);
			p.f[d].stall = parse_u64(rest, &rest);
			if (!*rest)
				usage();
			p.f[d].stall_ms = parse_u64(rest, NULL);
			break;
		case 'm':
			d = parse_dir(optarg, &rest);
			p.f[d].stall_type = parse_u64(rest, &rest);
			if (!*rest || !p.f[d].stall_type)
				usage();
			p.f[d].stall_ms = parse_u64(rest, NULL);
			break;
		case 't':
			d = parse_dir(optarg, &rest);
			p.f[d].rate = parse_u64(rest, NULL);
			break;
		default:
			usage();
		}
	}
	if (nosyn && optind == argc)
		return no_syn(lport);
	if (lport < 0 || lport > 65535 || cport <= 0 || cport > 65535 ||
	    optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	for (d = 0; record && d < NR_DIRS; d++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s.%s", record, dir_name[d]);
		p.rec[d] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (p.rec[d] < 0) {
			fprintf(stderr, "tern-fault-proxy: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}

	lfd = tcp_listen(lport);
	if (lfd < 0) {
		fprintf(stderr, "tern-fault-proxy: listen on %ld: %s\n", lport,
			strerror(-lfd));
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);	/* the relays' children reap themselves */
	fd[FWD] = fd[BACK] = -1;
	for (i = 1; i <= conn; i++) {
		int a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (a < 0) {
			perror("tern-fault-proxy: accept");
			return 1;
		}
		if (i == conn)
			fd[FWD] = a;
		else
			relay_child(lfd, a, fd, cport);
	}

	fd[BACK] = tcp_connect(cport);
	if (fd[BACK] < 0) {
		fprintf(stderr, "tern-fault-proxy: connect to %ld: %s\n", cport,
			strerror(-fd[BACK]));
		close(fd[FWD]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &p.start);
	if (conn > 1)
		plog(&p, "faults on connection %ld", conn);

	while (open_[FWD] || open_[BACK]) {
		struct pollfd pfd[3] = {
			{ .fd = open_[FWD] ? fd[FWD] : -1, .events = POLLIN },
			{ .fd = open_[BACK] ? fd[BACK] : -1, .events = POLLIN },
			{ .fd = lfd, .events = POLLIN },
		};
		double now = run_time(&p), wait = -1;

		for (d = 0; d < NR_DIRS; d++) {
			if (p.held_until[d] > now) {
				pfd[d].fd = -1;
				if (wait < 0 || p.held_until[d] - now < wait)
					wait = p.held_until[d] - now;
			}
		}
		/* A pending stall or cut fires without waiting for data. */
		for (d = 0; d < NR_DIRS; d++)
			if (pfd[d].fd >= 0 && (p.f[d].cut == p.done[d] ||
					       p.f[d].stall == p.done[d]))
				pfd[d].revents = POLLIN;
		if (!pfd[0].revents && !pfd[1].revents &&
		    poll(pfd, 3, wait < 0 ? -1 : (int)(wait * 1000) + 1) < 0 &&
		    errno != EINTR) {
			perror("tern-fault-proxy: poll");
			break;
		}
		if (pfd[2].revents & POLLIN)
			accept_channel(lfd, fd, cport);
		for (d = 0; d < NR_DIRS; d++) {
			int ret;

			if (!(pfd[d].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ret = pump(&p, fd, d);
			if (ret < 0) {
				cut(&p, fd);
				return 0;
			}
			if (!ret)
				open_[d] = false;
		}
	}
	plog(&p, "done: fwd %" PRIu64 " bytes, back %" PRIu64 " bytes",
	     p.done[FWD], p.done[BACK]);
	close(lfd);
	close(fd[FWD]);
	close(fd[BACK]);
	return 0;
}
