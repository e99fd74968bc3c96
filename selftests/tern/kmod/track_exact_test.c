// SPDX-License-Identifier: GPL-2.0
/*
 * No write goes unreported when the easy path is left: a harvest whose
 * bitmap cannot be copied out, a stream closed in the middle of a round,
 * and a region backed by large (2 MiB) shmem folios, which one write fault
 * maps writable as a whole, and an O_DIRECT read that writes the pages it
 * holds after the harvest that saw its fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "tern_util.h"
#include "test_util.h"

#define HPAGE		(2UL << 20)
#define SHMEM_ENABLED	"/sys/kernel/mm/transparent_hugepage/shmem_enabled"

TEST(harvest_that_cannot_copy_out_keeps_its_round)
{
	const size_t npages = 64;
	struct tern_harvest h;
	uint64_t map[1];
	void *ro;
	char *mem;
	int fd;

	REQUIRE_TERN();
	fd = region_create(npages * PAGE, "undo-efault");
	mem = region_map(fd, npages * PAGE);
	track_start(fd);
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));
	mem[3 * PAGE] = 1;
	mem[9 * PAGE] = 1;

	ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(-EFAULT, __track_harvest(fd, ro, sizeof(map), &h));
	/* The round that could not be returned is the next one's. */
	ASSERT_EQ(2, track_harvest(fd, map, npages, NULL));
	ASSERT_TRUE(bit_test(map, 3) && bit_test(map, 9));
	munmap(ro, PAGE);
	munmap(mem, npages * PAGE);
	close(fd);
}

TEST(stream_closed_inside_a_round_keeps_its_round)
{
	const size_t npages = 64;
	size_t cap = stream_round_max(npages);
	char *mem, *buf = malloc(cap);
	uint64_t map[1];
	int fd, s;

	REQUIRE_TERN();
	ASSERT_NE(NULL, buf);
	fd = region_create(npages * PAGE, "undo-close");
	mem = region_map(fd, npages * PAGE);
	track_start(fd);
	s = stream_open(fd);
	stream_read_round(s, buf, cap);
	mem[5 * PAGE] = 1;
	mem[6 * PAGE] = 2;
	mem[40 * PAGE] = 3;
	/* The header and the first record, then the reader goes away. */
	ASSERT_EQ(48, read(s, buf, 48));
	close(s);
	ASSERT_EQ(3, track_harvest(fd, map, npages, NULL));
	ASSERT_TRUE(bit_test(map, 5) && bit_test(map, 6) && bit_test(map, 40));

	/* A stream that read its round to the end gives nothing back. */
	s = stream_open(fd);
	mem[7 * PAGE] = 1;
	stream_read_round(s, buf, cap);
	close(s);
	ASSERT_EQ(0, track_harvest(fd, map, npages, NULL));
	free(buf);
	munmap(mem, npages * PAGE);
	close(fd);
}

static int mark(int fd, const uint64_t *map, uint64_t bytes, uint64_t first,
		uint32_t flags)
{
	struct tern_track_mark m = {
		.bitmap = (uintptr_t)map,
		.bitmap_size = bytes,
		.first_page = first,
		.flags = flags,
	};

	return __region_ioctl(fd, TERN_TRACK_MARK, &m);
}

/*
 * A write the tracker cannot see (an O_DIRECT read that completed into a
 * page referenced before the harvest) is marked by the VMM: the next
 * round carries exactly the marked pages; a bad mark marks nothing.
 */
TEST(mark_adds_pages_written_behind_the_tracker)
{
	const size_t npages = 200;
	uint64_t map[4], bits[4] = {};
	int fd;

	REQUIRE_TERN();
	fd = region_create(npages * PAGE, "mark");
	bits[0] = 1ULL << 3;
	ASSERT_EQ(-ENODATA, mark(fd, bits, 8, 0, 0));
	track_start(fd);
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));

	bits[0] = 1ULL << 3;
	bits[1] = 1ULL << 0;			/* page 64 */
	bits[3] = 1ULL << (199 - 192);		/* the last page */
	ASSERT_EQ(0, mark(fd, bits, 32, 0, 0));
	bits[0] = 1ULL << 5;
	ASSERT_EQ(0, mark(fd, bits, 8, 128, 0));	/* page 133 */
	ASSERT_EQ(4, track_harvest(fd, map, npages, NULL));
	ASSERT_TRUE(bit_test(map, 3) && bit_test(map, 64) &&
		    bit_test(map, 133) && bit_test(map, 199));

	memset(bits, 0, sizeof(bits));
	bits[0] = 1;
	ASSERT_EQ(-EINVAL, mark(fd, bits, 8, 0, 1));	/* flags */
	ASSERT_EQ(-EINVAL, mark(fd, bits, 0, 0, 0));	/* empty */
	ASSERT_EQ(-EINVAL, mark(fd, bits, 4, 0, 0));	/* not words */
	ASSERT_EQ(-EINVAL, mark(fd, bits, 8, 32, 0));	/* unaligned */
	ASSERT_EQ(-EINVAL, mark(fd, bits, 8, 256, 0));	/* past the end */
	ASSERT_EQ(-EINVAL, mark(fd, bits, 40, 0, 0));	/* longer than it */
	bits[3] = 1ULL << 8;				/* page 200 */
	ASSERT_EQ(-EINVAL, mark(fd, bits, 32, 0, 0));
	ASSERT_EQ(-EFAULT, mark(fd, (uint64_t *)8, 8, 0, 0));
	ASSERT_EQ(0, track_harvest(fd, map, npages, NULL));	/* none marked */
	close(fd);
}

/*
 * A writer that holds plain page references (6.1's block O_DIRECT takes
 * them with FOLL_GET, not FOLL_PIN) writes after the harvest that took
 * its fault: the pages it holds stay dirty until it lets go, so the
 * rounds, copied out as a migration would, end equal to the region.
 * /dev/nullb0 is the harness's null_blk, memory-backed and throttled to
 * 8 MiB/s, so the read lands request by request over about a second.
 */
#define NULLB		"/dev/nullb0"

struct dio {
	int fd;
	void *buf;
	size_t len;
	ssize_t ret;
	volatile int done;
};

static void *dio_read(void *arg)
{
	struct dio *d = arg;

	d->ret = pread(d->fd, d->buf, d->len, 0);
	d->done = 1;
	return NULL;
}

static void copy_round(char *dst, const char *src, const uint64_t *map,
		       size_t npages)
{
	size_t i;

	for (i = 0; i < npages; i++)
		if (bit_test(map, i))
			memcpy(dst + i * PAGE, src + i * PAGE, PAGE);
}

TEST(odirect_read_behind_the_harvest_reaches_a_later_round)
{
	const size_t npages = 2048, len = npages * PAGE;	/* 8 MiB: ~1 s */
	uint64_t map[2048 / 64];
	struct dio d = { .len = len };
	char *mem, *shadow, *pattern;
	size_t i, stale = 0, first = 0;
	struct tern_track_stats st;
	unsigned int rounds = 0;
	pthread_t th;
	int fd;

	REQUIRE_TERN();
	d.fd = open(NULLB, O_RDWR | O_DIRECT);
	ASSERT_LE(0, d.fd) TH_LOG(NULLB ": %s (the harness loads null_blk)",
				  strerror(errno));
	ASSERT_EQ(0, posix_memalign((void **)&pattern, PAGE, len));
	for (i = 0; i < len / sizeof(uint64_t); i++)
		((uint64_t *)pattern)[i] = 0xd15c000000000000ULL | i;
	ASSERT_EQ((ssize_t)len, pwrite(d.fd, pattern, len, 0));

	fd = region_create(len, "odirect");
	mem = region_map(fd, len);
	memset(mem, 0x11, len);
	shadow = malloc(len);
	ASSERT_NE(NULL, shadow);
	track_start(fd);
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));
	memcpy(shadow, mem, len);

	/* The read's faults come before a harvest, its writes after. */
	d.buf = mem;
	ASSERT_EQ(0, pthread_create(&th, NULL, dio_read, &d));
	while (!d.done) {
		track_harvest(fd, map, npages, NULL);
		copy_round(shadow, mem, map, npages);
		rounds++;
		usleep(20000);
	}
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ((ssize_t)len, d.ret) TH_LOG("O_DIRECT read: %s",
					      strerror(errno));
	ASSERT_EQ(0, memcmp(mem, pattern, len));
	/* The last round, taken with the writer gone, as a switchover's. */
	track_harvest(fd, map, npages, NULL);
	copy_round(shadow, mem, map, npages);
	track_stats(fd, &st);
	TH_LOG("%u rounds while the read was in flight, %llu pages kept for it",
	       rounds, (unsigned long long)st.held);
	ASSERT_LE(npages, st.held);
	ASSERT_LT(2, rounds) TH_LOG("the read was too fast to race");
	for (i = 0; i < npages; i++)
		if (memcmp(shadow + i * PAGE, mem + i * PAGE, PAGE) &&
		    !stale++)
			first = i;
	ASSERT_EQ(0, stale)
		TH_LOG("%zu of %zu pages written behind the tracker never reached a round (first: page %zu)",
		       stale, npages, first);
	free(shadow);
	free(pattern);
	close(d.fd);
	munmap(mem, len);
	close(fd);
}

/* Punching a hole would zero a page with no write fault: refused. */
TEST(hole_punch_is_refused)
{
	const size_t npages = 8;
	uint64_t map[1];
	char *mem;
	int fd;

	REQUIRE_TERN();
	fd = region_create(npages * PAGE, "punch");
	mem = region_map(fd, npages * PAGE);
	memset(mem + 2 * PAGE, 0x5a, PAGE);
	track_start(fd);
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));
	ASSERT_EQ(-1, madvise(mem + 2 * PAGE, PAGE, MADV_REMOVE));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(0x5a, mem[2 * PAGE + 100]);
	ASSERT_EQ(0, track_harvest(fd, map, npages, NULL));
	munmap(mem, npages * PAGE);
	close(fd);
}

/* The shmem_enabled value in brackets, e.g. "never". */
static void shmem_enabled_get(char *out, size_t len)
{
	char buf[256], *a, *b;
	FILE *f = fopen(SHMEM_ENABLED, "r");

	TEST_ASSERT(f && fgets(buf, sizeof(buf), f), "read %s", SHMEM_ENABLED);
	fclose(f);
	a = strchr(buf, '[');
	b = a ? strchr(a, ']') : NULL;
	TEST_ASSERT(a && b, "no [value] in %s", buf);
	*b = 0;
	snprintf(out, len, "%s", a + 1);
}

static int shmem_enabled_set(const char *v)
{
	int fd = open(SHMEM_ENABLED, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, v, strlen(v));
	close(fd);
	return n == (ssize_t)strlen(v) ? 0 : -errno;
}

/* The region mapped at a 2 MiB-aligned address, so a PMD can map it. */
static char *map_aligned(int fd, size_t size)
{
	char *res = mmap(NULL, size + HPAGE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *at;

	TEST_ASSERT(res != MAP_FAILED, "mmap reserve");
	at = (char *)(((uintptr_t)res + HPAGE - 1) & ~(HPAGE - 1));
	TEST_ASSERT(mmap(at, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, 0) == at, "mmap fixed");
	return at;
}

/* kB of this mapping mapped by PMDs, from /proc/self/smaps. */
static long pmd_mapped_kb(const char *at)
{
	char line[256], want[32];
	long kb = -1;
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	TEST_ASSERT(f, "open smaps");
	snprintf(want, sizeof(want), "%lx-", (unsigned long)at);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, ' ') &&
		    strchr(line, '-') < strchr(line, ' '))
			in = !strncmp(line, want, strlen(want));
		if (in && (sscanf(line, "ShmemPmdMapped: %ld", &kb) == 1 ||
			   sscanf(line, "FilePmdMapped: %ld", &kb) == 1) && kb)
			break;
	}
	fclose(f);
	return kb;
}

FIXTURE(large_folio) {
	char saved[32];
};

FIXTURE_VARIANT(large_folio) {
	const char *shmem_enabled;
	bool madv_hugepage;
};

FIXTURE_VARIANT_ADD(large_folio, advise_madv_hugepage) { "advise", true };
FIXTURE_VARIANT_ADD(large_folio, always) { "always", false };
FIXTURE_VARIANT_ADD(large_folio, always_madv_hugepage) { "always", true };
FIXTURE_VARIANT_ADD(large_folio, within_size_madv_hugepage) { "within_size", true };
FIXTURE_VARIANT_ADD(large_folio, force) { "force", false };
FIXTURE_VARIANT_ADD(large_folio, force_madv_hugepage) { "force", true };

FIXTURE_SETUP(large_folio)
{
	REQUIRE_TERN();
	shmem_enabled_get(self->saved, sizeof(self->saved));
	ASSERT_EQ(0, shmem_enabled_set(variant->shmem_enabled));
}

FIXTURE_TEARDOWN(large_folio)
{
	if (self->saved[0])
		shmem_enabled_set(self->saved);
}

/*
 * The stamp oracle at huge-page scale: each round writes a few pages of
 * each 2 MiB (the first write of a folio faults, the rest may not), and
 * every written page must be in that round.  Extra pages of a written
 * folio may be reported: tracking at folio granularity is allowed.
 */
TEST_F(large_folio, every_written_page_reported)
{
	const size_t size = 8 * HPAGE, npages = size / PAGE;
	const size_t in_folio[] = { 0, 5, 300, 511 };
	uint64_t *map = malloc(bitmap_bytes(npages)), round;
	size_t h, i, r, missed = 0;
	long pmd_kb = 0, kb;
	char *mem;
	int fd;

	ASSERT_NE(NULL, map);
	fd = region_create(size, "large-folio");
	mem = map_aligned(fd, size);
	if (variant->madv_hugepage)
		ASSERT_EQ(0, madvise(mem, size, MADV_HUGEPAGE));
	track_start(fd);
	track_harvest(fd, map, npages, NULL);
	for (r = 1; r <= 6; r++) {
		/* Rotate which page of each folio is written first. */
		for (h = 0; h < size / HPAGE; h++)
			for (i = 0; i < ARRAY_SIZE(in_folio); i++)
				mem[h * HPAGE + in_folio[(i + r) % 4] * PAGE] =
					(char)r;
		kb = pmd_mapped_kb(mem);
		if (kb > pmd_kb)
			pmd_kb = kb;
		track_harvest(fd, map, npages, &round);
		for (h = 0; h < size / HPAGE; h++)
			for (i = 0; i < ARRAY_SIZE(in_folio); i++) {
				size_t pg = h * 512 + in_folio[i];

				if (!bit_test(map, pg)) {
					if (!missed++)
						TH_LOG("round %lu: page %zu written, not reported",
						       (unsigned long)round, pg);
				}
			}
	}
	TH_LOG("shmem_enabled=%s%s: up to %ld kB PMD-mapped, %zu pages missed",
	       variant->shmem_enabled,
	       variant->madv_hugepage ? " +MADV_HUGEPAGE" : "", pmd_kb, missed);
	EXPECT_EQ(0, missed);
	munmap(mem, size);
	close(fd);
	free(map);
}

TEST(counters_return_to_zero)
{
	struct ternnl_stats st;

	REQUIRE_TERN();
	ASSERT_TRUE(tern_stats_settle_zero(&st));
}

TEST_HARNESS_MAIN
