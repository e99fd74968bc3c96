// SPDX-License-Identifier: GPL-2.0
/*
 * Page streams: read(2) and splice(2) frame identical rounds; zero pages
 * and holes are header-only; a round spliced through a pipe into loopback
 * TCP and spliced from the socket into a destination's stream fd rebuilds
 * the region byte for byte; a page written while in the pipe is in the
 * next round; and every corrupted or truncated header and record field is
 * refused with the documented errno, at the right byte, leaving earlier
 * pages written and nothing else touched; with writers running during the
 * rounds, a last round after they stop makes the copy exact.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "tern_util.h"
#include "test_util.h"

#define NPAGES	48
#define SIZE	(NPAGES * PAGE)
#define HDR	sizeof(struct tern_stream_hdr)
#define REC	sizeof(struct tern_page_rec)

/* Page i: data when i % 3 == 0, written-then-zeroed when 1, a hole when 2. */
static void fill_pattern(char *mem)
{
	size_t i;

	for (i = 0; i < NPAGES; i++) {
		if (i % 3 == 0)
			memset(mem + i * PAGE, (int)i + 1, PAGE);
		else if (i % 3 == 1)
			memset(mem + i * PAGE, 0, PAGE);
	}
	mem[3 * PAGE + 4095] = 0x7f;
}

struct rec_view {
	struct tern_page_rec rec;
	size_t at;			/* byte offset of the record */
};

/* Splits a round into records; returns how many (end record included). */
static size_t parse_round(const char *buf, size_t len, struct rec_view *out,
			  size_t max)
{
	size_t off = HDR, n = 0;

	while (off + REC <= len && n < max) {
		memcpy(&out[n].rec, buf + off, REC);
		out[n].at = off;
		off += REC + out[n].rec.length;
		if (out[n++].rec.flags & TERN_REC_F_END)
			break;
	}
	return n;
}

TEST(read_and_splice_frame_identical_rounds)
{
	size_t cap = stream_round_max(NPAGES), la, lb, n, i, data = 0;
	char *a = malloc(cap), *b = malloc(cap), *mem;
	struct tern_stream_hdr h;
	struct rec_view recs[NPAGES + 1];
	int fd, s, p[2];

	REQUIRE_TERN();
	ASSERT_TRUE(a && b);
	fd = region_create(SIZE, "frame");
	mem = region_map(fd, SIZE);
	fill_pattern(mem);
	track_start(fd);
	s = stream_open(fd);
	la = stream_read_round(s, a, cap);
	track_stop(fd);
	track_start(fd);
	ASSERT_EQ(0, pipe(p));
	ASSERT_LT(0, fcntl(p[1], F_SETPIPE_SZ, 1 << 20));
	lb = stream_splice_round(s, p[0], p[1], b, cap);
	ASSERT_EQ(la, lb);

	memcpy(&h, a, HDR);
	ASSERT_EQ(TERN_STREAM_MAGIC, h.magic);
	ASSERT_EQ(TERN_STREAM_VERSION, h.version);
	ASSERT_EQ(HDR, h.hdr_len);
	ASSERT_EQ(PAGE, h.page_size);
	ASSERT_EQ(0, h.flags);
	ASSERT_EQ(SIZE, h.region_size);
	ASSERT_EQ(1, h.round);
	memcpy(&h, b, HDR);
	ASSERT_EQ(2, h.round);
	h.round = 1;
	memcpy(b, &h, HDR);
	ASSERT_EQ(0, memcmp(a, b, la));

	n = parse_round(a, la, recs, NPAGES + 1);
	ASSERT_EQ(NPAGES + 1, n);
	for (i = 0; i < NPAGES; i++) {
		ASSERT_EQ(i * PAGE, recs[i].rec.offset);
		ASSERT_EQ(0, recs[i].rec.reserved);
		if (i % 3 == 0) {
			ASSERT_EQ(0, recs[i].rec.flags);
			ASSERT_EQ(PAGE, recs[i].rec.length);
			ASSERT_EQ(0, memcmp(a + recs[i].at + REC,
					    mem + i * PAGE, PAGE));
			data++;
		} else {
			/* zero pages and holes: header only */
			ASSERT_EQ(TERN_REC_F_ZERO, recs[i].rec.flags);
			ASSERT_EQ(0, recs[i].rec.length);
		}
	}
	ASSERT_EQ(TERN_REC_F_END, recs[NPAGES].rec.flags);
	ASSERT_EQ(NPAGES, recs[NPAGES].rec.offset);
	ASSERT_EQ(HDR + (NPAGES + 1) * REC + data * PAGE, la);
	ASSERT_EQ(2, stream_status(s).read_rounds);
	/* Both rounds, read and spliced, counted by kind. */
	ASSERT_EQ(2 * data, stream_status(s).read_pages);
	ASSERT_EQ(2 * (NPAGES - data), stream_status(s).read_zero);

	/* An empty round: header and end record only. */
	ASSERT_EQ(HDR + REC, stream_read_round(s, a, cap));
	close(p[0]);
	close(p[1]);
	close(s);
	munmap(mem, SIZE);
	close(fd);
	free(a);
	free(b);
}

TEST(read_without_tracking_is_enodata)
{
	char buf[64];
	int fd, s;

	REQUIRE_TERN();
	fd = region_create(SIZE, "notrack");
	s = stream_open(fd);
	ASSERT_EQ(-1, read(s, buf, sizeof(buf)));
	ASSERT_EQ(ENODATA, errno);
	ASSERT_EQ(-EINVAL, __region_ioctl(fd, TERN_STREAM_OPEN, (void *)1));
	close(s);
	close(fd);
}

/* Small reads split headers and pages anywhere; the bytes are the same. */
TEST(short_reads)
{
	size_t cap = stream_round_max(NPAGES), la, got = 0;
	char *a = malloc(cap), *b = malloc(cap), *mem;
	ssize_t r;
	int fd, s;

	REQUIRE_TERN();
	fd = region_create(SIZE, "short");
	mem = region_map(fd, SIZE);
	fill_pattern(mem);
	track_start(fd);
	s = stream_open(fd);
	la = stream_read_round(s, a, cap);
	track_stop(fd);
	track_start(fd);
	do {
		r = read(s, b + got, 7);
		ASSERT_LT(0, r);
		got += r;
	} while (!stream_round_len(b, got));
	ASSERT_EQ(la, got);
	ASSERT_EQ(0, memcmp(a + HDR, b + HDR, la - HDR));
	close(s);
	munmap(mem, SIZE);
	close(fd);
	free(a);
	free(b);
}

TEST(page_written_in_pipe_is_in_next_round)
{
	uint64_t map[1];
	char buf[64], *mem;
	int fd, s, p[2];
	ssize_t r;

	REQUIRE_TERN();
	fd = region_create(4 * PAGE, "inpipe");
	mem = region_map(fd, 4 * PAGE);
	track_start(fd);
	track_harvest(fd, map, 4, NULL);	/* round 1: everything */
	memset(mem + PAGE, 0x11, PAGE);
	s = stream_open(fd);
	ASSERT_EQ(0, pipe(p));
	ASSERT_LT(0, fcntl(p[1], F_SETPIPE_SZ, 1 << 20));
	r = splice(s, NULL, p[1], NULL, 1 << 20, 0);
	ASSERT_EQ(HDR + REC + PAGE + REC, r);	/* the whole round */
	/* The page now sits in the pipe by reference; write it again. */
	mem[PAGE + 10] = 0x22;
	ASSERT_EQ(1, track_harvest(fd, map, 4, NULL));
	ASSERT_EQ(1ULL << 1, map[0]);
	/* The pipe still delivers a whole, well-framed round. */
	ASSERT_EQ(HDR + REC, read(p[0], buf, HDR + REC));
	close(p[0]);
	close(p[1]);
	close(s);
	munmap(mem, 4 * PAGE);
	close(fd);
}

/* ---- loopback TCP ---- */

static void lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	TEST_ASSERT(s >= 0, "socket");
	TEST_ASSERT(!ioctl(s, SIOCGIFFLAGS, &ifr), "SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	TEST_ASSERT(!ioctl(s, SIOCSIFFLAGS, &ifr), "SIOCSIFFLAGS lo up");
	close(s);
}

static void tcp_pair(int *tx, int *rx)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int l;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	TEST_ASSERT(l >= 0, "socket");
	TEST_ASSERT(!bind(l, (void *)&sa, sizeof(sa)), "bind");
	TEST_ASSERT(!listen(l, 1), "listen");
	TEST_ASSERT(!getsockname(l, (void *)&sa, &len), "getsockname");
	*tx = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	TEST_ASSERT(!connect(*tx, (void *)&sa, sizeof(sa)), "connect");
	*rx = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	TEST_ASSERT(*rx >= 0, "accept");
	close(l);
}

struct sink {
	int sock, stream;
	uint64_t rounds;
};

/* Destination: socket -> pipe -> stream fd, until `rounds` rounds landed. */
static void *sink_thread(void *arg)
{
	struct sink *k = arg;
	int p[2];
	ssize_t n, m;

	TEST_ASSERT(!pipe(p), "pipe");
	while (stream_status(k->stream).rounds < k->rounds) {
		n = splice(k->sock, NULL, p[1], NULL, 1 << 16, 0);
		TEST_ASSERT(n > 0, "splice(socket -> pipe) = %zd", n);
		while (n > 0) {
			m = splice(p[0], NULL, k->stream, NULL, n, 0);
			TEST_ASSERT(m > 0, "splice(pipe -> stream) = %zd", m);
			n -= m;
		}
	}
	close(p[0]);
	close(p[1]);
	return NULL;
}

/* Source: stream fd -> pipe -> socket, one round. */
static void send_round(int stream, int sock, int p[2])
{
	uint64_t before = stream_status(stream).read_rounds;
	ssize_t n, m;

	while (stream_status(stream).read_rounds == before) {
		n = splice(stream, NULL, p[1], NULL, 1 << 20, 0);
		TEST_ASSERT(n > 0, "splice(stream -> pipe) = %zd", n);
		while (n > 0) {
			m = splice(p[0], NULL, sock, NULL, n, 0);
			TEST_ASSERT(m > 0, "splice(pipe -> socket) = %zd", m);
			n -= m;
		}
	}
}

/*
 * TERN_STREAM_STATUS carries its size: a caller built before read_pages
 * (VER0) gets its 40 bytes and nothing past them, a newer, larger struct
 * gets the rest zeroed, a size below VER0 is not this ioctl.
 */
TEST(status_answers_each_struct_size)
{
	unsigned char buf[80];
	size_t i;
	int fd, s;

	REQUIRE_TERN();
	fd = region_create(SIZE, "status-size");
	track_start(fd);
	s = stream_open(fd);

	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, ioctl(s, _IOC(_IOC_READ, TERN_IOCTL_TYPE, 0x20,
				   TERN_STREAM_STATUS_SIZE_VER0), buf));
	ASSERT_EQ(0xa5, buf[TERN_STREAM_STATUS_SIZE_VER0]);
	ASSERT_EQ(0xa5, buf[sizeof(buf) - 1]);
	ASSERT_EQ(0, buf[0]);		/* consumed */
	ASSERT_EQ(0, buf[TERN_STREAM_STATUS_SIZE_VER0 - 1]);	/* read_rounds */

	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, ioctl(s, _IOC(_IOC_READ, TERN_IOCTL_TYPE, 0x20, 72), buf));
	for (i = 0; i < 72; i++)
		ASSERT_EQ(0, buf[i]) TH_LOG("byte %zu", i);
	ASSERT_EQ(0xa5, buf[72]);

	ASSERT_EQ(-1, ioctl(s, _IOC(_IOC_READ, TERN_IOCTL_TYPE, 0x20, 32), buf));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(s, _IOC(_IOC_WRITE, TERN_IOCTL_TYPE, 0x20,
				    TERN_STREAM_STATUS_SIZE_VER1), buf));
	ASSERT_EQ(ENOTTY, errno);
	close(s);
	close(fd);
}

TEST(splice_through_tcp_into_destination)
{
	const size_t npages = 1024;
	char *src, *dst;
	struct sink k;
	pthread_t th;
	int sfd, dfd, s, tx, p[2];
	size_t i;

	REQUIRE_TERN();
	TEST_REQUIRE(getuid() == 0);
	lo_up();
	sfd = region_create(npages * PAGE, "tcp-src");
	dfd = region_create(npages * PAGE, "tcp-dst");
	src = region_map(sfd, npages * PAGE);
	dst = region_map(dfd, npages * PAGE);
	for (i = 0; i < npages; i += 2)
		memset(src + i * PAGE, (int)(i * 7 + 1), PAGE);
	memset(dst + 5 * PAGE, 0xee, PAGE);	/* must become zero */
	tcp_pair(&tx, &k.sock);
	k.stream = stream_open(dfd);
	k.rounds = 3;
	ASSERT_EQ(0, pthread_create(&th, NULL, sink_thread, &k));

	track_start(sfd);
	s = stream_open(sfd);
	ASSERT_EQ(0, pipe(p));
	ASSERT_LT(0, fcntl(p[1], F_SETPIPE_SZ, 1 << 20));
	send_round(s, tx, p);
	for (i = 1; i < npages; i += 5)
		src[i * PAGE + i % PAGE] = (char)i;
	memset(src + 2 * PAGE, 0, PAGE);	/* a page that became zero */
	send_round(s, tx, p);
	src[77 * PAGE] = 1;
	send_round(s, tx, p);
	ASSERT_EQ(0, pthread_join(th, NULL));

	ASSERT_EQ(0, memcmp(src, dst, npages * PAGE));
	ASSERT_EQ(0, stream_status(k.stream).error);
	ASSERT_EQ(3, stream_status(k.stream).rounds);
	close(p[0]);
	close(p[1]);
	close(tx);
	close(k.sock);
	close(s);
	close(k.stream);
	munmap(src, npages * PAGE);
	munmap(dst, npages * PAGE);
	close(sfd);
	close(dfd);
}

/* ---- the destination write path ---- */

struct corrupt {
	const char *what;
	int item;		/* -1: stream header, else record index */
	size_t field;		/* byte offset in the item */
	int width;
	uint64_t value;
	int err;
};

#define H(f) offsetof(struct tern_stream_hdr, f)
#define R(f) offsetof(struct tern_page_rec, f)

/* Records of the reference round: data 0, zero 1, hole 2, data 3, end 4. */
static const struct corrupt corruptions[] = {
	{ "magic", -1, H(magic), 4, 0x4d525355, EBADMSG },
	{ "version", -1, H(version), 2, 2, EBADMSG },
	{ "hdr_len", -1, H(hdr_len), 2, 31, EBADMSG },
	{ "page_size", -1, H(page_size), 4, 8192, EBADMSG },
	{ "hdr flags", -1, H(flags), 4, 1, EINVAL },
	{ "region_size", -1, H(region_size), 8, 5 * PAGE, EINVAL },
	{ "round 0", -1, H(round), 8, 0, EINVAL },
	{ "offset unaligned", 3, R(offset), 8, 3 * PAGE + 1, EINVAL },
	{ "offset at end", 3, R(offset), 8, 4 * PAGE, EINVAL },
	{ "offset huge", 3, R(offset), 8, ~0ULL << 12, EINVAL },
	{ "data length 4095", 3, R(length), 4, 4095, EINVAL },
	{ "data length 0", 3, R(length), 4, 0, EINVAL },
	{ "unknown flag", 3, R(flags), 2, 4, EINVAL },
	{ "zero|end", 1, R(flags), 2, 3, EINVAL },
	{ "reserved", 3, R(reserved), 2, 1, EINVAL },
	{ "zero with length", 1, R(length), 4, PAGE, EINVAL },
	{ "zero unaligned", 1, R(offset), 8, PAGE + 8, EINVAL },
	{ "end count", 4, R(offset), 8, 5, EINVAL },
	{ "end length", 4, R(length), 4, 16, EINVAL },
	{ "end with zero flag", 4, R(flags), 2, 3, EINVAL },
};

struct ref_round {
	char src[4 * PAGE];
	char buf[HDR + 5 * REC + 2 * PAGE];
	size_t len;
	struct rec_view recs[5];
};

static void make_reference(struct ref_round *ref)
{
	char *mem;
	int fd, s;

	fd = region_create(4 * PAGE, "ref");
	mem = region_map(fd, 4 * PAGE);
	memset(mem, 0xa1, PAGE);
	memset(mem + PAGE, 0, PAGE);
	memset(mem + 3 * PAGE, 0xa4, PAGE);
	track_start(fd);
	s = stream_open(fd);
	ref->len = stream_read_round(s, ref->buf, sizeof(ref->buf));
	TEST_ASSERT(parse_round(ref->buf, ref->len, ref->recs, 5) == 5,
		    "reference round has 5 records");
	memcpy(ref->src, mem, sizeof(ref->src));
	close(s);
	munmap(mem, 4 * PAGE);
	close(fd);
}

TEST(destination_refuses_every_corruption)
{
	static struct ref_round ref;
	char round[sizeof(ref.buf)], *dst;
	struct tern_stream_status st;
	unsigned int i;
	size_t at, p;
	int fd, s;

	REQUIRE_TERN();
	make_reference(&ref);
	for (i = 0; i < ARRAY_SIZE(corruptions); i++) {
		const struct corrupt *c = &corruptions[i];

		memcpy(round, ref.buf, ref.len);
		at = c->item < 0 ? 0 : ref.recs[c->item].at;
		memcpy(round + at + c->field, &c->value, c->width);
		fd = region_create(4 * PAGE, "corrupt");
		dst = region_map(fd, 4 * PAGE);
		memset(dst + 2 * PAGE, 0x5c, PAGE);	/* a sentinel page */
		s = stream_open(fd);
		ASSERT_EQ(-1, write(s, round, ref.len)) TH_LOG("%s", c->what);
		ASSERT_EQ(c->err, errno) TH_LOG("%s", c->what);
		st = stream_status(s);
		ASSERT_EQ(-c->err, st.error) TH_LOG("%s", c->what);
		ASSERT_EQ(at, st.consumed) TH_LOG("%s", c->what);
		ASSERT_EQ(0, st.rounds);
		/* sticky */
		ASSERT_EQ(-1, write(s, ref.buf, ref.len));
		ASSERT_EQ(c->err, errno);
		/* pages of records before the bad one are written, no other */
		for (p = 0; p < 4; p++) {
			char want[PAGE];

			if (c->item > (int)p)	/* record p came first */
				memcpy(want, ref.src + p * PAGE, PAGE);
			else
				memset(want, p == 2 ? 0x5c : 0, PAGE);
			ASSERT_EQ(0, memcmp(dst + p * PAGE, want, PAGE)) {
				TH_LOG("%s: page %zu", c->what, p);
			}
		}
		close(s);
		munmap(dst, 4 * PAGE);
		close(fd);
	}
}

TEST(destination_valid_and_truncated_rounds)
{
	static struct ref_round ref;
	const size_t cuts[] = { 1, HDR - 1, HDR, HDR + 8, HDR + REC + 100 };
	struct tern_stream_status st;
	char *dst, two[2 * sizeof(ref.buf)];
	unsigned int i;
	int fd, s;

	REQUIRE_TERN();
	make_reference(&ref);
	/* Valid: byte for byte, the hole page zeroed too. */
	fd = region_create(4 * PAGE, "valid");
	dst = region_map(fd, 4 * PAGE);
	memset(dst + PAGE, 0x33, PAGE);
	s = stream_open(fd);
	ASSERT_EQ((ssize_t)ref.len, write(s, ref.buf, ref.len));
	ASSERT_EQ(0, memcmp(dst, ref.src, 4 * PAGE));
	st = stream_status(s);
	ASSERT_EQ(1, st.rounds);
	ASSERT_EQ(4, st.records);
	ASSERT_EQ(ref.len, st.consumed);
	ASSERT_EQ(TERN_STREAM_S_IDLE, st.state);
	/* Two rounds in one write. */
	memcpy(two, ref.buf, ref.len);
	memcpy(two + ref.len, ref.buf, ref.len);
	ASSERT_EQ((ssize_t)(2 * ref.len), write(s, two, 2 * ref.len));
	ASSERT_EQ(3, stream_status(s).rounds);
	close(s);

	/* Truncated: accepted so far, the stream says it is mid-round. */
	for (i = 0; i < ARRAY_SIZE(cuts); i++) {
		s = stream_open(fd);
		ASSERT_EQ((ssize_t)cuts[i], write(s, ref.buf, cuts[i]));
		st = stream_status(s);
		ASSERT_EQ(TERN_STREAM_S_ROUND, st.state) TH_LOG("cut %zu", cuts[i]);
		ASSERT_EQ(0, st.rounds);
		ASSERT_EQ(0, st.error);
		/* the rest completes it */
		ASSERT_EQ((ssize_t)(ref.len - cuts[i]),
			  write(s, ref.buf + cuts[i], ref.len - cuts[i]));
		ASSERT_EQ(1, stream_status(s).rounds);
		close(s);
	}
	ASSERT_EQ(0, memcmp(dst, ref.src, 4 * PAGE));
	munmap(dst, 4 * PAGE);
	close(fd);
}

/*
 * Pages new to the region (a destination's round 1), their data split
 * across writes at any byte, or written a byte at a time: each part lands
 * where it belongs and no part written before is cleared (shmem writes a
 * whole new page without clearing it first, a part of one with the rest
 * cleared).
 */
TEST(destination_new_pages_written_in_parts)
{
	static struct ref_round ref;
	size_t d0, d3, cuts[6], i, k;
	char *dst;
	int fd, s;

	REQUIRE_TERN();
	make_reference(&ref);
	/* Records: page 0 data, pages 1 and 2 zero, page 3 data, end. */
	ASSERT_EQ(PAGE, ref.recs[0].rec.length);
	ASSERT_EQ(PAGE, ref.recs[3].rec.length);
	d0 = ref.recs[0].at + REC;
	d3 = ref.recs[3].at + REC;
	cuts[0] = d0 + 1;
	cuts[1] = d0 + PAGE / 2;
	cuts[2] = d0 + PAGE - 1;
	cuts[3] = d3 + 7;
	cuts[4] = d3 + PAGE - 96;
	cuts[5] = 0;	/* a byte at a time */
	for (i = 0; i < ARRAY_SIZE(cuts); i++) {
		fd = region_create(4 * PAGE, "parts");
		s = stream_open(fd);
		if (cuts[i]) {
			ASSERT_EQ((ssize_t)cuts[i], write(s, ref.buf, cuts[i]));
			ASSERT_EQ(TERN_STREAM_S_ROUND, stream_status(s).state);
			ASSERT_EQ((ssize_t)(ref.len - cuts[i]),
				  write(s, ref.buf + cuts[i], ref.len - cuts[i]));
		} else {
			for (k = 0; k < ref.len; k++)
				ASSERT_EQ(1, write(s, ref.buf + k, 1));
		}
		ASSERT_EQ(1, stream_status(s).rounds) TH_LOG("cut %zu", cuts[i]);
		dst = region_map(fd, 4 * PAGE);
		ASSERT_EQ(0, memcmp(dst, ref.src, 4 * PAGE)) TH_LOG("cut %zu", cuts[i]);
		munmap(dst, 4 * PAGE);
		close(s);
		close(fd);
	}
}

/* ---- a migration in miniature ---- */


/*
 * Two threads scribble over the source while rounds go read -> write and
 * splice -> pipe -> splice into the destination; after the writers stop,
 * one last round makes the destination equal to the source, byte for byte.
 */
TEST(concurrent_writers_converge)
{
	const size_t npages = 1024;
	unsigned int rounds = check_full() ? 100 : 20, r;
	size_t cap = stream_round_max(npages), len, off;
	char *src, *dst, *buf = malloc(cap);
	struct scribbler w[2];
	volatile bool stop = false;
	pthread_t th[2];
	int sfd, dfd, s, d, p[2], i;
	ssize_t n;

	REQUIRE_TERN();
	ASSERT_NE(NULL, buf);
	sfd = region_create(npages * PAGE, "conv-src");
	dfd = region_create(npages * PAGE, "conv-dst");
	src = region_map(sfd, npages * PAGE);
	dst = region_map(dfd, npages * PAGE);
	track_start(sfd);
	s = stream_open(sfd);
	d = stream_open(dfd);
	ASSERT_EQ(0, pipe(p));
	ASSERT_LT(0, fcntl(p[1], F_SETPIPE_SZ, 1 << 20));
	for (i = 0; i < 2; i++) {
		w[i] = (struct scribbler){ src, npages, &stop, 77 + i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, scribble, &w[i]));
	}
	for (r = 0; r <= rounds; r++) {
		if (r == rounds) {	/* the last round: writers stopped */
			stop = true;
			for (i = 0; i < 2; i++)
				pthread_join(th[i], NULL);
		}
		if (r % 2) {
			len = stream_read_round(s, buf, cap);
			for (off = 0; off < len; off += n) {
				n = write(d, buf + off, len - off);
				ASSERT_LT(0, n) TH_LOG("round %u: %s", r,
						       strerror(errno));
			}
		} else {
			uint64_t before = stream_status(s).read_rounds;

			while (stream_status(s).read_rounds == before) {
				n = splice(s, NULL, p[1], NULL, 1 << 20, 0);
				ASSERT_LT(0, n);
				while (n > 0) {
					ssize_t m = splice(p[0], NULL, d, NULL,
							   n, 0);
					ASSERT_LT(0, m) TH_LOG("round %u", r);
					n -= m;
				}
			}
		}
	}
	ASSERT_EQ(rounds + 1, stream_status(d).rounds);
	ASSERT_EQ(0, stream_status(d).error);
	ASSERT_EQ(0, memcmp(src, dst, npages * PAGE));
	close(p[0]);
	close(p[1]);
	close(s);
	close(d);
	munmap(src, npages * PAGE);
	munmap(dst, npages * PAGE);
	close(sfd);
	close(dfd);
	free(buf);
}

TEST(counters_return_to_zero)
{
	struct ternnl_stats st;

	REQUIRE_TERN();
	ASSERT_TRUE(tern_stats_settle_zero(&st))
		TH_LOG("regions %u pages %llu streams %u", st.regions,
		       (unsigned long long)st.pages, st.streams);
}

TEST_HARNESS_MAIN
