// SPDX-License-Identifier: GPL-2.0
/*
 * tern-fault-proxy does exactly the fault it is asked for: bytes pass
 * unchanged without faults, a cut delivers exactly OFF bytes then closes,
 * a flip changes exactly one byte, a stall delays exactly at its offset
 * (its direction only) or before the first message of a type,
 * and a throttle holds the rate.  The fault campaign trusts these.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"

#define LEN	(256 * 1024)

struct sink {
	int lfd;
	unsigned char *got;
	size_t len;
	bool echo;		/* send it all back before closing */
	double t_first, t_last;	/* when byte 0 and the last byte arrived */
	double *t_at;		/* arrival time of each byte */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *sink_run(void *arg)
{
	struct sink *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	ssize_t n;

	TEST_ASSERT(fd >= 0, "accept");
	while ((n = read(fd, s->got + s->len, LEN - s->len)) > 0) {
		double t = now();

		for (ssize_t i = 0; i < n; i++)
			s->t_at[s->len + i] = t;
		s->len += n;
		if (s->len == LEN)
			break;
	}
	if (s->echo)
		TEST_ASSERT(write(fd, s->got, s->len) == (ssize_t)s->len, "echo");
	close(fd);
	return NULL;
}

static int listen_any(unsigned int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	TEST_ASSERT(fd >= 0 && !bind(fd, (void *)&sa, sizeof(sa)) &&
		    !listen(fd, 1) && !getsockname(fd, (void *)&sa, &l), "listen");
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Start the proxy in front of port; returns its pid, sets *pport. */
static pid_t proxy_start(unsigned int port, unsigned int *pport,
			 const char *const *faults)
{
	char exe[PATH_MAX], bin[PATH_MAX + 32], cport[16], line[64];
	const char *argv[16] = { bin, "--listen", "0", "--connect", cport,
				 "--seed", "7" };
	int argc = 7, pfd[2];
	ssize_t n;
	pid_t pid;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	TEST_ASSERT(n > 0, "readlink");
	exe[n] = 0;
	snprintf(bin, sizeof(bin), "%s/tern-fault-proxy", dirname(exe));
	snprintf(cport, sizeof(cport), "%u", port);
	while (*faults)
		argv[argc++] = *faults++;
	TEST_ASSERT(!pipe(pfd), "pipe");
	pid = fork();
	if (!pid) {
		dup2(pfd[1], 1);
		execv(bin, (char **)argv);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], line, sizeof(line) - 1);
	TEST_ASSERT(n > 0, "proxy did not start (%s)", bin);
	line[n] = 0;
	TEST_ASSERT(sscanf(line, "listening %u", pport) == 1, "proxy said %s", line);
	close(pfd[0]);
	return pid;
}

static int connect_to(unsigned int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	TEST_ASSERT(fd >= 0 && !connect(fd, (void *)&sa, sizeof(sa)), "connect");
	return fd;
}

FIXTURE(proxy) {
	unsigned char *data;
	struct sink sink;
	pthread_t thr;
	unsigned int port;
	pid_t pid;
	int fd;
};

FIXTURE_SETUP(proxy)
{
	signal(SIGPIPE, SIG_IGN);
	self->data = malloc(LEN);
	ASSERT_NE(NULL, self->data);
	srandom(7);
	for (int i = 0; i < LEN; i++)
		self->data[i] = random();
	self->sink.got = calloc(1, LEN);
	self->sink.t_at = calloc(LEN, sizeof(double));
	ASSERT_NE(NULL, self->sink.got);
	ASSERT_NE(NULL, self->sink.t_at);
}

FIXTURE_TEARDOWN(proxy)
{
	int status;

	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, &status, 0);
	}
	free(self->data);
	free(self->sink.got);
	free(self->sink.t_at);
}

/* Run one transfer of LEN bytes client->server through a proxy with faults. */
static void transfer(struct __test_metadata *_metadata, FIXTURE_DATA(proxy) *self,
		     const char *const *faults, bool echo, size_t *echoed)
{
	unsigned int sport;
	size_t sent = 0;
	ssize_t n;

	self->sink.lfd = listen_any(&sport);
	self->sink.echo = echo;
	ASSERT_EQ(0, pthread_create(&self->thr, NULL, sink_run, &self->sink));
	self->pid = proxy_start(sport, &self->port, faults);
	self->fd = connect_to(self->port);
	while (sent < LEN) {
		n = write(self->fd, self->data + sent, LEN - sent);
		if (n <= 0)
			break;
		sent += n;
	}
	shutdown(self->fd, SHUT_WR);
	if (echoed) {
		*echoed = 0;
		while ((n = read(self->fd, self->sink.got + *echoed, LEN - *echoed)) > 0)
			*echoed += n;
	}
	pthread_join(self->thr, NULL);
	close(self->fd);
	close(self->sink.lfd);
}

TEST_F(proxy, passes_bytes_unchanged_both_ways)
{
	static const char *const none[] = { NULL };
	size_t echoed;

	transfer(_metadata, self, none, true, &echoed);
	ASSERT_EQ(LEN, self->sink.len);
	ASSERT_EQ(LEN, echoed);
	ASSERT_EQ(0, memcmp(self->data, self->sink.got, LEN));
}

TEST_F(proxy, cut_delivers_exactly_offset_bytes)
{
	static const char *const f[] = { "--cut", "fwd:100000", NULL };

	transfer(_metadata, self, f, false, NULL);
	ASSERT_EQ(100000, self->sink.len);
	ASSERT_EQ(0, memcmp(self->data, self->sink.got, 100000));
}

TEST_F(proxy, cut_at_zero_delivers_nothing)
{
	static const char *const f[] = { "--cut", "fwd:0", "--rst", NULL };

	transfer(_metadata, self, f, false, NULL);
	ASSERT_EQ(0, self->sink.len);
}

TEST_F(proxy, cut_back_direction)
{
	static const char *const f[] = { "--cut", "back:4096", NULL };
	size_t echoed;

	transfer(_metadata, self, f, true, &echoed);
	ASSERT_EQ(LEN, self->sink.len);
	ASSERT_EQ(4096, echoed);
}

TEST_F(proxy, flip_changes_exactly_one_byte)
{
	static const char *const f[] = { "--flip", "fwd:12345:0x21", NULL };
	int diffs = 0;

	transfer(_metadata, self, f, false, NULL);
	ASSERT_EQ(LEN, self->sink.len);
	for (int i = 0; i < LEN; i++)
		diffs += self->data[i] != self->sink.got[i];
	ASSERT_EQ(1, diffs);
	ASSERT_EQ(self->data[12345] ^ 0x21, self->sink.got[12345]);
}

TEST_F(proxy, stall_holds_at_its_offset)
{
	static const char *const f[] = { "--stall", "fwd:5000:400", NULL };
	double gap;

	transfer(_metadata, self, f, false, NULL);
	ASSERT_EQ(LEN, self->sink.len);
	gap = self->sink.t_at[5000] - self->sink.t_at[4999];
	ASSERT_LE(0.39, gap) TH_LOG("gap at the stall %.3f s", gap);
	ASSERT_EQ(0, memcmp(self->data, self->sink.got, LEN));
}

/* A little-endian migration message header at p. */
static void put_hdr(unsigned char *p, uint32_t type, uint32_t len)
{
	for (int i = 0; i < 4; i++) {
		p[i] = type >> (8 * i);
		p[4 + i] = len >> (8 * i);
	}
}

/*
 * The bytes as migration messages: type 6 with 1000-byte payloads, one
 * of type 11 (no payload) at AT, more of type 6 up to the end.  The
 * stall comes right before the header of 11, wherever it falls; a
 * payload byte equal to 11 does not fool it.
 */
TEST_F(proxy, stall_msg_holds_before_the_first_of_its_type)
{
	static const char *const f[] = { "--stall-msg", "fwd:11:400", NULL };
	size_t off = 0, at = 0;
	double gap;

	while (off + 8 <= LEN) {
		size_t len = LEN - off - 8 < 1000 ? LEN - off - 8 : 1000;

		if (!at && off >= 100000) {
			at = off;
			put_hdr(self->data + off, 11, 0);
			off += 8;
			continue;
		}
		put_hdr(self->data + off, 6, len);
		memset(self->data + off + 8, 11, len);
		off += 8 + len;
	}
	transfer(_metadata, self, f, false, NULL);
	ASSERT_EQ(LEN, self->sink.len);
	gap = self->sink.t_at[at] - self->sink.t_at[at - 1];
	ASSERT_LE(0.39, gap) TH_LOG("gap before the message at %zu: %.3f s", at, gap);
	ASSERT_EQ(0, memcmp(self->data, self->sink.got, LEN));
}

/* A stalled direction holds alone: the other one flows meanwhile. */
TEST_F(proxy, stall_holds_one_direction_only)
{
	static const char *const f[] = { "--stall", "back:0:1500", NULL };
	double t0 = now(), fwd, back;
	size_t echoed;

	transfer(_metadata, self, f, true, &echoed);
	back = now() - t0;
	fwd = self->sink.t_at[LEN - 1] - t0;
	ASSERT_EQ(LEN, self->sink.len);
	ASSERT_EQ(LEN, echoed);
	ASSERT_GT(1.0, fwd) TH_LOG("fwd took %.3f s while back was held", fwd);
	ASSERT_LE(1.45, back) TH_LOG("back came after %.3f s", back);
}

TEST_F(proxy, throttle_holds_the_rate)
{
	static const char *const f[] = { "--throttle", "fwd:512000", NULL };
	double secs;

	transfer(_metadata, self, f, false, NULL);
	ASSERT_EQ(LEN, self->sink.len);
	secs = self->sink.t_at[LEN - 1] - self->sink.t_at[0];
	/* 256 KiB at 500 KiB/s: about half a second, never much less. */
	ASSERT_LE(0.4, secs) TH_LOG("%.3f s", secs);
}

/*
 * Two connections: the one the faults hit (the first, or the second with
 * --conn 2) is cut at its offset, the other (a migration's extra channel,
 * or its main connection) passes unchanged and unfaulted.
 */
static void two_connections(struct __test_metadata *_metadata,
			    FIXTURE_DATA(proxy) *self, const char *const *f,
			    int faulted)
{
	struct sink s2 = { 0 };
	unsigned char small[200] = { 0 };
	struct sink *whole, *cut;
	unsigned int sport;
	pthread_t t2;
	size_t sent = 0;
	ssize_t n;
	int fd2, fdw, fdc, i;

	s2.got = calloc(1, LEN);
	s2.t_at = calloc(LEN, sizeof(double));
	ASSERT_NE(NULL, s2.got);
	ASSERT_NE(NULL, s2.t_at);
	self->sink.lfd = s2.lfd = listen_any(&sport);
	ASSERT_EQ(0, listen(s2.lfd, 4));
	ASSERT_EQ(0, pthread_create(&self->thr, NULL, sink_run, &self->sink));
	ASSERT_EQ(0, pthread_create(&t2, NULL, sink_run, &s2));
	self->pid = proxy_start(sport, &self->port, f);
	self->fd = connect_to(self->port);
	fd2 = connect_to(self->port);
	fdc = faulted == 1 ? self->fd : fd2;	/* cut */
	fdw = faulted == 1 ? fd2 : self->fd;	/* whole */
	while (sent < LEN) {
		n = write(fdw, self->data + sent, LEN - sent);
		if (n <= 0)
			break;
		sent += n;
	}
	shutdown(fdw, SHUT_WR);
	/* All of it through before the cut ends the faulted connection. */
	for (i = 0; i < 500 && __atomic_load_n(&self->sink.len, __ATOMIC_RELAXED) < LEN &&
	     __atomic_load_n(&s2.len, __ATOMIC_RELAXED) < LEN; i++)
		usleep(10000);
	ASSERT_EQ(sizeof(small), write(fdc, small, sizeof(small)));
	shutdown(fdc, SHUT_WR);
	pthread_join(self->thr, NULL);
	pthread_join(t2, NULL);
	close(self->fd);
	close(fd2);
	close(s2.lfd);
	whole = self->sink.len == LEN ? &self->sink : &s2;
	cut = whole == &s2 ? &self->sink : &s2;
	ASSERT_EQ(LEN, whole->len);
	ASSERT_EQ(0, memcmp(self->data, whole->got, LEN));
	ASSERT_EQ(100, cut->len);
	free(s2.got);
	free(s2.t_at);
}

TEST_F(proxy, later_connection_passes_unfaulted)
{
	static const char *const f[] = { "--cut", "fwd:100", NULL };

	two_connections(_metadata, self, f, 1);
}

/* --conn 2: the fault campaign on a migration's first channel. */
TEST_F(proxy, conn_2_faults_the_second_connection_only)
{
	static const char *const f[] = { "--cut", "fwd:100", "--conn", "2", NULL };

	two_connections(_metadata, self, f, 2);
}

TEST_HARNESS_MAIN
