// SPDX-License-Identifier: GPL-2.0
/*
 * Stream sets (TERN_STREAM_OPEN_SET): the members of a set share one
 * harvest per round and split it.  Their pages are exactly the round's
 * dirty pages, each in one member's share, each share framed as a round of
 * its own (1, 2, 4 and 16 members); a member that ended the round waits
 * for the others (blocking, O_NONBLOCK, poll); a slow member gets fewer
 * pages than a fast one; a member closed mid-round gives back what it
 * claimed and the others get the rest; with writers running, members read
 * or spliced from concurrent threads converge after a last round with the
 * writers stopped, and so they do when the set leaves out of a round what
 * was written again since its harvest (TERN_STREAM_SET_F_DEFER), which
 * the next round carries; a set opened for each round works as one kept open;
 * bad requests install nothing; closing in any order leaks nothing and
 * lets the module unload, as does a process killed while it waits.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "tern_util.h"
#include "test_util.h"

#define HDR	sizeof(struct tern_stream_hdr)
#define REC	sizeof(struct tern_page_rec)

struct share {
	uint64_t round;
	size_t nrec, data, zero;
};

/*
 * Check one member's share: a stream header of this region, records in
 * increasing offset order, an end record counting them, nothing after.
 * Each page is marked in @seen, where it must not be yet (atomically: the
 * members of a round are checked from several threads); a data page is
 * copied into @dst and a zero page cleared there, when @dst is given.
 */
static struct share check_share(const char *buf, size_t len, size_t npages,
				uint64_t *seen, char *dst)
{
	struct tern_stream_hdr h;
	struct tern_page_rec rec;
	struct share sh = { 0 };
	size_t off = HDR, page;
	long last = -1;
	uint64_t bit;

	TEST_ASSERT(len >= HDR + REC, "share of %zu bytes", len);
	memcpy(&h, buf, HDR);
	TEST_ASSERT(h.magic == TERN_STREAM_MAGIC &&
		    h.version == TERN_STREAM_VERSION && h.hdr_len == HDR &&
		    h.page_size == PAGE && !h.flags &&
		    h.region_size == npages * PAGE && h.round,
		    "share header (round %llu)", (unsigned long long)h.round);
	sh.round = h.round;
	for (;;) {
		TEST_ASSERT(off + REC <= len, "share cut at byte %zu", off);
		memcpy(&rec, buf + off, REC);
		off += REC;
		TEST_ASSERT(!rec.reserved, "record reserved %u", rec.reserved);
		if (rec.flags & TERN_REC_F_END) {
			TEST_ASSERT(rec.flags == TERN_REC_F_END && !rec.length &&
				    rec.offset == sh.nrec,
				    "end record counts %llu, share has %zu",
				    (unsigned long long)rec.offset, sh.nrec);
			TEST_ASSERT(off == len, "%zu bytes after the end record",
				    len - off);
			return sh;
		}
		TEST_ASSERT(rec.offset % PAGE == 0 && rec.offset < npages * PAGE,
			    "record offset %llu",
			    (unsigned long long)rec.offset);
		page = rec.offset / PAGE;
		TEST_ASSERT((long)page > last, "page %zu after page %ld", page,
			    last);
		last = page;
		bit = 1ULL << (page % 64);
		TEST_ASSERT(!(__atomic_fetch_or(&seen[page / 64], bit,
						__ATOMIC_RELAXED) & bit),
			    "page %zu in two shares", page);
		sh.nrec++;
		if (rec.flags == TERN_REC_F_ZERO) {
			TEST_ASSERT(!rec.length, "zero record length %u",
				    rec.length);
			if (dst)
				memset(dst + page * PAGE, 0, PAGE);
			sh.zero++;
			continue;
		}
		TEST_ASSERT(!rec.flags && rec.length == PAGE,
			    "data record flags %#x length %u", rec.flags,
			    rec.length);
		TEST_ASSERT(off + PAGE <= len, "data of page %zu cut", page);
		if (dst)
			memcpy(dst + page * PAGE, buf + off, PAGE);
		off += PAGE;
		sh.data++;
	}
}

/* Read on from @have bytes through the end record; returns the length. */
static size_t read_share_on(int fd, char *buf, size_t have, size_t cap)
{
	size_t n;
	ssize_t r;

	for (;;) {
		n = stream_round_len(buf, have);
		if (n) {
			TEST_ASSERT(n == have, "read crossed a round end");
			return n;
		}
		TEST_ASSERT(have < cap, "share larger than %zu bytes", cap);
		r = read(fd, buf + have, cap - have);
		TEST_ASSERT(r > 0, "read(member) = %zd", r);
		have += r;
	}
}

static void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	TEST_ASSERT(fl >= 0, "F_GETFL");
	TEST_ASSERT(!fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK :
					     fl & ~O_NONBLOCK), "F_SETFL");
}

static bool readable_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	TEST_ASSERT(poll(&p, 1, 0) >= 0, "poll");
	return p.revents & POLLIN;
}

/*
 * Members read in turn, a few thousand bytes each, so their claims
 * interleave: every dirty page (data, zeroed, written) is in exactly one
 * share, every share is framed whole, counted by its own status, and
 * carries the page's bytes; then an empty round, where a member that
 * ended it waits (O_NONBLOCK: -EAGAIN) until all have.
 */
static void split_covers_the_round(struct __test_metadata *_metadata,
				   unsigned int count)
{
	const size_t npages = 1000, cap = stream_round_max(npages);
	size_t words = (npages + 63) / 64, have[16] = { 0 }, total = 0, nwant = 0;
	size_t i;
	uint64_t *want = calloc(words, 8), *seen = calloc(words, 8);
	uint64_t map[16], seed = 99 + count;
	char *bufs[16], *mem, *dst = calloc(npages, PAGE);
	bool ended[16] = { false };
	unsigned int m, active;
	int fd, fds[16];
	ssize_t r;

	ASSERT_TRUE(want && seen && dst);
	fd = region_create(npages * PAGE, "set-split");
	mem = region_map(fd, npages * PAGE);
	track_start(fd);
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));	/* round 1 */
	for (i = 0; i < npages; i++) {
		uint64_t x = xorshift64(&seed);

		if (x % 3 == 0)
			continue;
		if (x % 4 == 0)
			memset(mem + i * PAGE, 0, PAGE);
		else
			memset(mem + i * PAGE, (int)(x >> 8) | 1, PAGE);
		want[i / 64] |= 1ULL << (i % 64);
		nwant++;
	}
	stream_set_open(fd, count, fds);
	for (m = 0; m < count; m++) {
		bufs[m] = malloc(cap);
		ASSERT_NE(NULL, bufs[m]);
	}
	do {
		active = 0;
		for (m = 0; m < count; m++) {
			if (ended[m])
				continue;
			r = read(fds[m], bufs[m] + have[m], 5000);
			ASSERT_LT(0, r) TH_LOG("member %u: %s", m, strerror(errno));
			have[m] += r;
			ended[m] = stream_round_len(bufs[m], have[m]);
			active += !ended[m];
		}
	} while (active);
	for (m = 0; m < count; m++) {
		struct share sh = check_share(bufs[m], have[m], npages, seen,
					      dst);
		struct tern_stream_status st = stream_status(fds[m]);

		ASSERT_EQ(2, sh.round) TH_LOG("member %u", m);
		ASSERT_LT(0, sh.nrec) TH_LOG("member %u of %u got nothing", m,
					     count);
		ASSERT_EQ(1, st.read_rounds);
		ASSERT_EQ(sh.data, st.read_pages);
		ASSERT_EQ(sh.zero, st.read_zero);
		total += sh.nrec;
	}
	ASSERT_EQ(0, memcmp(want, seen, words * 8));
	for (i = 0; i < npages; i++)
		if (bit_test(want, i))
			ASSERT_EQ(0, memcmp(dst + i * PAGE, mem + i * PAGE, PAGE))
				TH_LOG("page %zu", i);
	ASSERT_EQ(nwant, total);

	/*
	 * Round 3: nothing written, so it holds at most pages a transient
	 * holder kept dirty (track.c keep_held).  A member that ended it waits.
	 */
	memset(seen, 0, words * 8);
	for (m = 0; m < count; m++) {
		have[m] = read_share_on(fds[m], bufs[m], 0, cap);
		ASSERT_EQ(3, check_share(bufs[m], have[m], npages, seen,
					 NULL).round);
		if (m == 0 && count > 1) {
			/* the others have not ended round 3 */
			ASSERT_FALSE(readable_now(fds[0]));
			set_nonblock(fds[0], true);
			ASSERT_EQ(-1, read(fds[0], bufs[0], cap));
			ASSERT_EQ(EAGAIN, errno);
			set_nonblock(fds[0], false);
		}
	}
	/* All ended round 3: the next read begins round 4 at once. */
	ASSERT_TRUE(readable_now(fds[0]));
	set_nonblock(fds[0], true);
	memset(seen, 0, words * 8);
	have[0] = read_share_on(fds[0], bufs[0], 0, cap);
	ASSERT_EQ(4, check_share(bufs[0], have[0], npages, seen, NULL).round);
	for (m = 0; m < count; m++) {
		close(fds[m]);
		free(bufs[m]);
	}
	munmap(mem, npages * PAGE);
	close(fd);
	free(want);
	free(seen);
	free(dst);
}

TEST(split_covers_the_round_1)
{
	REQUIRE_TERN();
	split_covers_the_round(_metadata, 1);
}

TEST(split_covers_the_round_2)
{
	REQUIRE_TERN();
	split_covers_the_round(_metadata, 2);
}

TEST(split_covers_the_round_4)
{
	REQUIRE_TERN();
	split_covers_the_round(_metadata, 4);
}

TEST(split_covers_the_round_16)
{
	REQUIRE_TERN();
	split_covers_the_round(_metadata, 16);
}

struct waiter {
	int fd;
	char *buf;
	size_t cap, len;
	volatile bool done;
};

static void *wait_share(void *arg)
{
	struct waiter *w = arg;

	w->len = read_share_on(w->fd, w->buf, 0, w->cap);
	w->done = true;
	return NULL;
}

/* A member that ended the round blocks until the last member ends it. */
TEST(ended_member_waits_for_the_others)
{
	const size_t npages = 256, cap = stream_round_max(npages);
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	uint64_t *seen = calloc(4, 8);
	struct waiter w = { .cap = cap };
	char *buf = malloc(cap), *mem;
	pthread_t th;
	int fd, fds[2];
	size_t len;

	REQUIRE_TERN();
	w.buf = malloc(cap);
	ASSERT_TRUE(seen && buf && w.buf);
	fd = region_create(npages * PAGE, "set-wait");
	mem = region_map(fd, npages * PAGE);
	memset(mem, 0x3c, npages * PAGE);
	track_start(fd);
	stream_set_open(fd, 2, fds);
	len = read_share_on(fds[0], buf, 0, cap);
	ASSERT_EQ(npages, check_share(buf, len, npages, seen, NULL).nrec);
	ASSERT_FALSE(readable_now(fds[0]));
	ASSERT_TRUE(readable_now(fds[1]));
	w.fd = fds[0];
	ASSERT_EQ(0, pthread_create(&th, NULL, wait_share, &w));
	nanosleep(&ts, NULL);
	ASSERT_FALSE(w.done);
	/* fds[1] ends round 1 with nothing left for it; then fds[0] goes on */
	len = read_share_on(fds[1], buf, 0, cap);
	ASSERT_EQ(0, check_share(buf, len, npages, seen, NULL).nrec);
	ASSERT_EQ(0, pthread_join(th, NULL));
	memset(seen, 0, 4 * 8);
	ASSERT_EQ(2, check_share(w.buf, w.len, npages, seen, NULL).round);
	close(fds[0]);
	close(fds[1]);
	munmap(mem, npages * PAGE);
	close(fd);
	free(seen);
	free(buf);
	free(w.buf);
}

/* The faster reader claims more: runs go to whichever member reads next. */
TEST(slow_member_gets_fewer_pages)
{
	const size_t npages = 4096, cap = stream_round_max(npages);
	uint64_t *seen = calloc(npages / 64, 8);
	char *fast = malloc(cap), *slow = malloc(cap), *mem;
	size_t hf = 0, hs = 0;
	struct share a, b;
	int fd, fds[2];
	ssize_t r;

	REQUIRE_TERN();
	ASSERT_TRUE(seen && fast && slow);
	fd = region_create(npages * PAGE, "set-slow");
	mem = region_map(fd, npages * PAGE);
	memset(mem, 0x5a, npages * PAGE);
	track_start(fd);
	stream_set_open(fd, 2, fds);
	while (!stream_round_len(fast, hf)) {
		r = read(fds[0], fast + hf, 1 << 20);
		ASSERT_LT(0, r);
		hf += r;
		if (!stream_round_len(slow, hs)) {
			r = read(fds[1], slow + hs, 4096);
			ASSERT_LT(0, r);
			hs += r;
		}
	}
	hs = read_share_on(fds[1], slow, hs, cap);
	a = check_share(fast, hf, npages, seen, NULL);
	b = check_share(slow, hs, npages, seen, NULL);
	TH_LOG("fast member %zu pages, slow member %zu", a.nrec, b.nrec);
	ASSERT_EQ(npages, a.nrec + b.nrec);
	ASSERT_LT(0, b.nrec);
	ASSERT_LT(8 * b.nrec, a.nrec);
	close(fds[0]);
	close(fds[1]);
	munmap(mem, npages * PAGE);
	close(fd);
	free(seen);
	free(fast);
	free(slow);
}

/*
 * A member closed mid-round gives back every page it claimed: the next
 * harvest holds exactly them; the other member got all the rest and goes
 * on to the next round without waiting for the closed one.  With every
 * member closed mid-round, the whole round comes back.
 */
TEST(member_closed_mid_round_loses_nothing)
{
	const size_t npages = 512, words = npages / 64;
	size_t cap = stream_round_max(npages), len, i, extra = 0;
	uint64_t *seen = calloc(words, 8), map[8];
	struct tern_track_stats st0, st1;
	char *buf = malloc(cap), *mem;
	struct share b;
	int fd, fds[3];

	REQUIRE_TERN();
	ASSERT_TRUE(seen && buf);
	fd = region_create(npages * PAGE, "set-close");
	mem = region_map(fd, npages * PAGE);
	memset(mem, 0x6b, npages * PAGE);
	track_start(fd);
	track_stats(fd, &st0);
	stream_set_open(fd, 2, fds);
	ASSERT_EQ(3 * PAGE, read(fds[0], buf, 3 * PAGE));	/* claims a run */
	ASSERT_EQ(3 * PAGE, read(fds[1], buf, 3 * PAGE));
	close(fds[0]);
	len = read_share_on(fds[1], buf, 3 * PAGE, cap);
	b = check_share(buf, len, npages, seen, NULL);
	ASSERT_EQ(npages - 64, b.nrec);
	/*
	 * The next round: every page fds[1] did not send, and besides them
	 * only pages a transient holder kept dirty (counted in `held`).
	 */
	track_harvest(fd, map, npages, NULL);
	track_stats(fd, &st1);
	for (i = 0; i < words; i++) {
		ASSERT_EQ(0, ~seen[i] & ~map[i]) TH_LOG("word %zu", i);
		extra += __builtin_popcountll(seen[i] & map[i]);
	}
	ASSERT_LE(extra, st1.held - st0.held);
	/* fds[1] alone now: the next read begins the next round at once */
	set_nonblock(fds[1], true);
	memset(seen, 0, words * 8);
	len = read_share_on(fds[1], buf, 0, cap);
	ASSERT_EQ(3, check_share(buf, len, npages, seen, NULL).round);
	close(fds[1]);

	/* every member closed mid-round (one never read): all comes back */
	memset(mem, 0x7c, npages * PAGE);
	stream_set_open(fd, 3, fds);
	ASSERT_EQ(3 * PAGE, read(fds[0], buf, 3 * PAGE));
	ASSERT_EQ(3 * PAGE, read(fds[1], buf, 3 * PAGE));
	close(fds[1]);
	close(fds[0]);
	close(fds[2]);
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));
	munmap(mem, npages * PAGE);
	close(fd);
	free(seen);
	free(buf);
}

/*
 * A set opened for each round and closed after it: each round's shares
 * carry at least the pages written since the last (besides, only pages
 * a transient holder kept dirty), and the copy they build equals the
 * source.
 */
TEST(a_set_per_round)
{
	const size_t npages = 300, words = (npages + 63) / 64;
	size_t cap = stream_round_max(npages), len, i;
	uint64_t *seen = calloc(words, 8), *want = calloc(words, 8);
	char *buf = malloc(cap), *mem, *dst = calloc(npages, PAGE);
	uint64_t seed = 5;
	unsigned int k, m, count;
	int fd, fds[5];

	REQUIRE_TERN();
	ASSERT_TRUE(seen && want && buf && dst);
	fd = region_create(npages * PAGE, "set-per-round");
	mem = region_map(fd, npages * PAGE);
	memset(mem, 0x21, npages * PAGE);
	memset(want, 0xff, words * 8);
	want[words - 1] = (1ULL << (npages % 64)) - 1;
	track_start(fd);
	for (k = 1; k <= 6; k++) {
		count = 1 + k % 5;
		stream_set_open(fd, count, fds);
		memset(seen, 0, words * 8);
		for (m = 0; m < count; m++) {
			len = read_share_on(fds[m], buf, 0, cap);
			ASSERT_EQ(k, check_share(buf, len, npages, seen,
						 dst).round);
		}
		for (m = 0; m < count; m++)
			close(fds[m]);
		for (i = 0; i < words; i++)
			ASSERT_EQ(want[i], want[i] & seen[i])
				TH_LOG("round %u word %zu", k, i);
		memset(want, 0, words * 8);
		for (i = 0; i < 40; i++) {
			size_t p = xorshift64(&seed) % npages;

			mem[p * PAGE + i] = (char)(k + i);
			want[p / 64] |= 1ULL << (p % 64);
		}
	}
	/* Written after round 6: one more set carries them. */
	stream_set_open(fd, 2, fds);
	memset(seen, 0, words * 8);
	for (m = 0; m < 2; m++) {
		len = read_share_on(fds[m], buf, 0, cap);
		check_share(buf, len, npages, seen, dst);
		close(fds[m]);
	}
	ASSERT_EQ(0, memcmp(mem, dst, npages * PAGE));
	munmap(mem, npages * PAGE);
	close(fd);
	free(seen);
	free(want);
	free(buf);
	free(dst);
}

/* TERN_TRACK_MARK of one page, as a VMM hands over the vCPUs' dirty log. */
static void mark_page(int fd, size_t page)
{
	uint64_t word = 1ULL << (page % 64);
	struct tern_track_mark m = {
		.bitmap = (uintptr_t)&word, .bitmap_size = 8,
		.first_page = page / 64 * 64,
	};

	TEST_ASSERT(!ioctl(fd, TERN_TRACK_MARK, &m), "TERN_TRACK_MARK");
}

/*
 * Pages of an open round written again before a member frames them, by a
 * fault through the mapping or by TERN_TRACK_MARK, are left out of the
 * round with TERN_STREAM_SET_F_DEFER and counted; the next round carries
 * them with their new bytes.  A page already framed, and a page kept dirty
 * for a holder, are not left out.  Without the flag the same writes leave
 * out nothing.
 */
static void defer_case(struct __test_metadata *_metadata, uint32_t flags)
{
	const size_t npages = 512, words = npages / 64;
	size_t cap = stream_round_max(npages), len[2], i, late[] = { 10, 200 };
	uint64_t *seen = calloc(words, 8);
	char *buf[2] = { malloc(cap), malloc(cap) }, *mem, *dst;
	bool defer = flags & TERN_STREAM_SET_F_DEFER;
	struct tern_stream_status st[2];
	struct tern_track_stats ts[2];
	struct share a, b;
	int fd, fds[2], p[2];
	struct iovec iov;

	dst = calloc(npages, PAGE);
	ASSERT_TRUE(seen && buf[0] && buf[1] && dst);
	fd = region_create(npages * PAGE, "set-defer");
	mem = region_map(fd, npages * PAGE);
	memset(mem, 0x11, npages * PAGE);
	iov = (struct iovec){ mem + 400 * PAGE, PAGE };
	track_start(fd);
	/* page 400 held by a pipe over the harvest: kept dirty, not left out */
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(PAGE, vmsplice(p[1], &iov, 1, 0));
	track_stats(fd, &ts[0]);
	ASSERT_EQ(0, __stream_set_open(fd, 2, flags, fds));
	/* member 0 frames page 0 (and claims 0-63); nothing else is framed */
	len[0] = read(fds[0], buf[0], HDR + REC + PAGE);
	ASSERT_EQ(HDR + REC + PAGE, len[0]);
	track_stats(fd, &ts[1]);
	ASSERT_LE(ts[0].held + 1, ts[1].held);
	mem[0] = 0x22;				/* framed: stays in */
	for (i = 0; i < 2; i++)			/* faulted: 10 claimed, 200 not */
		memset(mem + late[i] * PAGE, 0x33, PAGE);
	mem[300 * PAGE] = 0x44;			/* as a KVM view would: no fault */
	mark_page(fd, 300);
	len[0] = read_share_on(fds[0], buf[0], len[0], cap);
	len[1] = read_share_on(fds[1], buf[1], 0, cap);
	a = check_share(buf[0], len[0], npages, seen, dst);
	b = check_share(buf[1], len[1], npages, seen, dst);
	st[0] = stream_status(fds[0]);
	st[1] = stream_status(fds[1]);
	ASSERT_EQ(npages - (defer ? 3 : 0), a.nrec + b.nrec);
	ASSERT_EQ(defer ? 3 : 0, st[0].read_deferred + st[1].read_deferred);
	ASSERT_EQ(defer, !bit_test(seen, 10));
	ASSERT_EQ(defer, !bit_test(seen, 200));
	ASSERT_EQ(defer, !bit_test(seen, 300));
	ASSERT_TRUE(bit_test(seen, 0));
	ASSERT_TRUE(bit_test(seen, 400));
	close(p[0]);
	close(p[1]);

	/* the next round: the pages left out, the one framed, the new bytes */
	memset(seen, 0, words * 8);
	len[0] = read_share_on(fds[0], buf[0], 0, cap);
	len[1] = read_share_on(fds[1], buf[1], 0, cap);
	a = check_share(buf[0], len[0], npages, seen, dst);
	b = check_share(buf[1], len[1], npages, seen, dst);
	ASSERT_EQ(2, a.round);
	for (i = 0; i < 2; i++)
		ASSERT_TRUE(bit_test(seen, late[i])) TH_LOG("page %zu", late[i]);
	ASSERT_TRUE(bit_test(seen, 300));
	ASSERT_TRUE(bit_test(seen, 0));
	ASSERT_EQ(0, memcmp(mem, dst, npages * PAGE));
	close(fds[0]);
	close(fds[1]);
	munmap(mem, npages * PAGE);
	close(fd);
	free(seen);
	free(buf[0]);
	free(buf[1]);
	free(dst);
}

TEST(defer_leaves_rewritten_pages_for_the_next_round)
{
	REQUIRE_TERN();
	defer_case(_metadata, TERN_STREAM_SET_F_DEFER);
}

TEST(without_defer_rewritten_pages_go_twice)
{
	REQUIRE_TERN();
	defer_case(_metadata, 0);
}

/* Refused requests leave no fd; members are O_RDONLY | O_CLOEXEC. */
TEST(bad_requests_install_nothing)
{
	struct {
		struct tern_stream_set req;
		uint64_t more;
	} big;
	int fd, mfd, kfd, fds[16], before, i;
	char *page;

	REQUIRE_TERN();
	fd = region_create(64 * PAGE, "set-bad");
	track_start(fd);
	page = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, mprotect(page + PAGE, PAGE, PROT_NONE));
	before = fd_count();
	for (i = 0; i < 16; i++)
		fds[i] = -7;
	ASSERT_EQ(-EINVAL, __stream_set_open(fd, 0, 0, fds));
	ASSERT_EQ(-EINVAL, __stream_set_open(fd, 17, 0, fds));
	ASSERT_EQ(-EINVAL, __stream_set_open(fd, 2, 2, fds));
	ASSERT_EQ(-EINVAL, __stream_set_open(fd, 2, 1U << 31, fds));
	ASSERT_EQ(-EINVAL, __stream_set_open(fd, 2, TERN_STREAM_SET_F_DEFER | 2,
					     fds));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(-7, fds[i]);
	ASSERT_EQ(-EFAULT, __stream_set_open(fd, 2, 0, NULL));
	ASSERT_EQ(-EFAULT, __stream_set_open(fd, 2, 0, (int *)8));
	/* the array's first half writable, the rest not */
	ASSERT_EQ(-EFAULT, __stream_set_open(fd, 4, 0,
					     (int *)(page + PAGE - 8)));
	ASSERT_EQ(-EFAULT, ioctl(fd, TERN_STREAM_OPEN_SET, NULL) ? -errno : 0);
	/* size-versioned: a longer struct's tail must be zero */
	memset(&big, 0, sizeof(big));
	big.req.count = 2;
	big.req.fds = (uintptr_t)fds;
	big.more = 1;
	ASSERT_EQ(-1, ioctl(fd, _IOC(_IOC_WRITE, TERN_IOCTL_TYPE, 0x19,
				     sizeof(big)), &big));
	ASSERT_EQ(E2BIG, errno);
	ASSERT_EQ(-1, ioctl(fd, _IOC(_IOC_WRITE, TERN_IOCTL_TYPE, 0x19, 8),
			    &big));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(before, fd_count());
	/* only the owner fd opens sets */
	mfd = ioctl(fd, TERN_REGION_MAP_FD, 0);
	kfd = ioctl(fd, TERN_REGION_KVM_FD, 0);
	ASSERT_LE(0, mfd);
	ASSERT_LE(0, kfd);
	ASSERT_EQ(-EPERM, __stream_set_open(mfd, 2, 0, fds));
	ASSERT_EQ(-EPERM, __stream_set_open(kfd, 2, 0, fds));
	close(mfd);
	close(kfd);
	ASSERT_EQ(before, fd_count());

	/* a longer struct with a zero tail is taken; 16 members work */
	big.more = 0;
	big.req.count = 16;
	ASSERT_EQ(0, ioctl(fd, _IOC(_IOC_WRITE, TERN_IOCTL_TYPE, 0x19,
				    sizeof(big)), &big));
	ASSERT_EQ(before + 16, fd_count());
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(O_RDONLY, fcntl(fds[i], F_GETFL) & O_ACCMODE);
		ASSERT_EQ(FD_CLOEXEC, fcntl(fds[i], F_GETFD));
		ASSERT_EQ(-1, write(fds[i], page, 16));
		ASSERT_EQ(EBADF, errno);
		close(fds[i]);
	}
	ASSERT_EQ(before, fd_count());
	munmap(page, 2 * PAGE);
	close(fd);
}

/* ---- writers during rounds, members on their own threads ---- */


struct member {
	int fd;
	bool splice;
	size_t npages, cap;
	unsigned int rounds;
	char *dst;
	uint64_t *seen;
	uint64_t *round_no;		/* per round */
	size_t pages;			/* over all rounds */
	pthread_barrier_t *bar;
};

/* One member: each round, its share read or spliced, checked, applied. */
static void *member_thread(void *arg)
{
	struct member *m = arg;
	char *buf = malloc(m->cap);
	unsigned int k;
	struct share sh;
	int p[2];
	size_t len;

	TEST_ASSERT(buf, "malloc");
	TEST_ASSERT(!pipe(p), "pipe");
	TEST_ASSERT(fcntl(p[1], F_SETPIPE_SZ, 1 << 20) > 0, "F_SETPIPE_SZ");
	for (k = 0; k < m->rounds; k++) {
		pthread_barrier_wait(m->bar);
		if (m->splice)
			len = stream_splice_round(m->fd, p[0], p[1], buf,
						  m->cap);
		else
			len = read_share_on(m->fd, buf, 0, m->cap);
		sh = check_share(buf, len, m->npages, m->seen, m->dst);
		m->round_no[k] = sh.round;
		m->pages += sh.nrec;
		pthread_barrier_wait(m->bar);
	}
	close(p[0]);
	close(p[1]);
	free(buf);
	return NULL;
}

/*
 * Two writers stamp the source while @count members, each on its own
 * thread, take rounds into a copy; the last round, taken after the writers
 * stopped, makes the copy equal to the source byte for byte.
 */
static void members_converge(struct __test_metadata *_metadata,
			     unsigned int count, bool use_splice, uint32_t flags)
{
	const size_t npages = 2048, words = npages / 64;
	unsigned int rounds = (check_full() ? 100 : 10) + 1, k, i;
	char *src, *dst = calloc(npages, PAGE);
	uint64_t *seen = calloc(words, 8), *nos;
	struct member mb[4];
	struct scribbler w[2];
	volatile bool stop = false;
	pthread_barrier_t bar;
	pthread_t wt[2], mt[4];
	int fd, fds[4];

	ASSERT_TRUE(dst && seen);
	nos = calloc(count * rounds, 8);
	ASSERT_NE(NULL, nos);
	fd = region_create(npages * PAGE, "set-conv");
	src = region_map(fd, npages * PAGE);
	track_start(fd);
	ASSERT_EQ(0, __stream_set_open(fd, count, flags, fds));
	ASSERT_EQ(0, pthread_barrier_init(&bar, NULL, count + 1));
	for (i = 0; i < count; i++) {
		mb[i] = (struct member){
			.fd = fds[i], .splice = use_splice, .npages = npages,
			.cap = stream_round_max(npages), .rounds = rounds,
			.dst = dst, .seen = seen, .round_no = nos + i * rounds,
			.bar = &bar,
		};
		ASSERT_EQ(0, pthread_create(&mt[i], NULL, member_thread,
					    &mb[i]));
	}
	for (i = 0; i < 2; i++) {
		w[i] = (struct scribbler){ src, npages, &stop, 1234 + i };
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, scribble, &w[i]));
	}
	for (k = 0; k < rounds; k++) {
		if (k == rounds - 1) {		/* the last: writers stopped */
			stop = true;
			for (i = 0; i < 2; i++)
				pthread_join(wt[i], NULL);
		}
		memset(seen, 0, words * 8);
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
		for (i = 1; i < count; i++)
			ASSERT_EQ(nos[k], nos[i * rounds + k])
				TH_LOG("round %u member %u", k, i);
		ASSERT_EQ(k + 1, nos[k]);
	}
	for (i = 0; i < count; i++) {
		pthread_join(mt[i], NULL);
		TH_LOG("member %u: %zu pages, %llu left for a next round", i,
		       mb[i].pages,
		       (unsigned long long)stream_status(fds[i]).read_deferred);
	}
	ASSERT_EQ(0, memcmp(src, dst, npages * PAGE));
	pthread_barrier_destroy(&bar);
	for (i = 0; i < count; i++)
		close(fds[i]);
	munmap(src, npages * PAGE);
	close(fd);
	free(dst);
	free(seen);
	free(nos);
}

/* Writers and members share two vCPUs: more than the default 30 s. */
FIXTURE(conv) {
};

FIXTURE_SETUP(conv)
{
	REQUIRE_TERN();
}

FIXTURE_TEARDOWN(conv)
{
}

TEST_F_TIMEOUT(conv, four_members_read_with_writers_converge, 300)
{
	members_converge(_metadata, 4, false, 0);
}

/*
 * The same with F_DEFER: pages the writers hit again mid-round wait for a
 * later round, and the last round, with the writers stopped, still makes
 * the copy equal to the source.
 */
TEST_F_TIMEOUT(conv, members_deferring_with_writers_converge, 300)
{
	members_converge(_metadata, 4, false, TERN_STREAM_SET_F_DEFER);
}

/* The zero-copy path: two members spliced concurrently from two threads. */
TEST_F_TIMEOUT(conv, two_members_spliced_with_writers_converge, 300)
{
	members_converge(_metadata, 2, true, 0);
}

/* ---- lifetime ---- */

/*
 * Three members (one mid-round, one ended with its share in a pipe, one
 * never read) and the region fd, closed in every order: the module stays
 * pinned while any is open, nothing leaks, and it unloads after.
 */
TEST(every_close_order_then_unload)
{
	static const int perms[24][4] = {
		{0,1,2,3},{0,1,3,2},{0,2,1,3},{0,2,3,1},{0,3,1,2},{0,3,2,1},
		{1,0,2,3},{1,0,3,2},{1,2,0,3},{1,2,3,0},{1,3,0,2},{1,3,2,0},
		{2,0,1,3},{2,0,3,1},{2,1,0,3},{2,1,3,0},{2,3,0,1},{2,3,1,0},
		{3,0,1,2},{3,0,2,1},{3,1,0,2},{3,1,2,0},{3,2,0,1},{3,2,1,0},
	};
	const size_t npages = 256, cap = stream_round_max(npages);
	bool root = getuid() == 0;
	struct ternnl_stats st;
	char *buf = malloc(cap), *mem;
	int run, i, obj[4], p[2];

	REQUIRE_TERN();
	ASSERT_NE(NULL, buf);
	for (run = 0; run < 24; run++) {
		obj[3] = region_create(npages * PAGE, "set-life");
		mem = region_map(obj[3], npages * PAGE);
		memset(mem, 0x11, npages * PAGE);
		munmap(mem, npages * PAGE);
		track_start(obj[3]);
		stream_set_open(obj[3], 3, obj);
		ASSERT_EQ(3 * PAGE, read(obj[0], buf, 3 * PAGE));
		ASSERT_EQ(0, pipe(p));
		ASSERT_LT(0, fcntl(p[1], F_SETPIPE_SZ, 1 << 20));
		stream_splice_round(obj[1], p[0], p[1], buf, cap);
		for (i = 0; i < 4; i++) {
			close(obj[perms[run][i]]);
			if (root && i < 3)
				ASSERT_EQ(-EWOULDBLOCK, __tern_module_unload())
					TH_LOG("run %d step %d", run, i);
		}
		close(p[0]);
		close(p[1]);
		ASSERT_TRUE(tern_stats_settle_zero(&st)) {
			TH_LOG("run %d: regions %u pages %llu streams %u", run,
			       st.regions, (unsigned long long)st.pages,
			       st.streams);
		}
	}
	if (root) {
		ASSERT_EQ(0, __tern_module_unload());
		ASSERT_EQ(0, __tern_module_load());
	}
	free(buf);
}

/*
 * A process killed while a member waits for the others (and one killed
 * mid-share) leaves nothing behind: the wait is interruptible and the
 * release path gives everything back.
 */
TEST(killed_while_waiting_leaks_nothing)
{
	const size_t npages = 128, cap = stream_round_max(npages);
	struct ternnl_stats st;
	int run, status, fd, fds[2], ready[2];
	char *buf, *mem, c;
	pid_t pid;

	REQUIRE_TERN();
	for (run = 0; run < 2; run++) {
		ASSERT_EQ(0, pipe(ready));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			buf = malloc(cap);
			fd = region_create(npages * PAGE, "set-kill");
			mem = region_map(fd, npages * PAGE);
			memset(mem, 0x4d, npages * PAGE);
			track_start(fd);
			stream_set_open(fd, 2, fds);
			if (run)	/* mid-share: a claim held */
				TEST_ASSERT(read(fds[0], buf, 2 * PAGE) > 0,
					    "read");
			else		/* its share read: the next read waits */
				read_share_on(fds[0], buf, 0, cap);
			TEST_ASSERT(write(ready[1], "r", 1) == 1, "ready");
			if (!run && read(fds[0], buf, cap) != 0)
				TEST_ASSERT(write(ready[1], "x", 1) == 1,
					    "returned");	/* did not wait */
			pause();
			_exit(1);
		}
		close(ready[1]);
		ASSERT_EQ(1, read(ready[0], &c, 1));
		/* run 0: the read that must wait does not return */
		ASSERT_EQ(0, poll(&(struct pollfd){ .fd = ready[0],
						    .events = POLLIN }, 1, 200));
		close(ready[0]);
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("run %d: %#x", run,
							status);
		ASSERT_TRUE(tern_stats_settle_zero(&st)) {
			TH_LOG("run %d: regions %u pages %llu streams %u", run,
			       st.regions, (unsigned long long)st.pages,
			       st.streams);
		}
	}
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
