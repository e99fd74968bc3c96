// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection on tern.ko's paths (make check-debug only: it needs the
 * debug kernel's failslab and fail_page_alloc).  Each test takes one
 * operation (create a region, map it, start tracking, harvest, open a
 * stream, read a round, write a round, a netlink request) and fails its
 * allocations one at a time, in order: /proc/thread-self/fail-nth = 1, 2,
 * ... until the operation gets through without reaching the Nth point.
 * Every injected failure must end as a clean error to userspace (ENOMEM
 * and kin, never an oops, a WARNING or a lockdep or KASAN report), leave
 * the module's counters at zero once the fds are closed, and lose no
 * dirty page: the next harvest or round is exact.
 *
 * The kernel log is the test's to judge here: an allocation failure
 * prints a stack dump ("page allocation failure", "vmalloc error") that
 * is expected, so the console shows only errors while a test runs, and
 * each step's messages are read, checked for real reports, and cleared.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "tern_util.h"
#include "test_util.h"

#define NPAGES		32
#define SIZE		(NPAGES * PAGE)
/* More allocation points than any one operation here has. */
#define MAX_NTH		400
#define DBGFS		"/sys/kernel/debug"
#define PRINTK_SAVED	"/tmp/failinject-printk"

/* The pages each test dirties, and what it writes there. */
static const unsigned int dirty_set[] = { 1, 5, 6, 17, 30 };
#define NDIRTY	(sizeof(dirty_set) / sizeof(dirty_set[0]))

static int nth_fd = -1;
static char printk_saved[64];

static void put_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	TEST_ASSERT(fd >= 0, "open(%s)", path);
	TEST_ASSERT(write(fd, val, strlen(val)) == (ssize_t)strlen(val),
		    "write(%s, %s)", path, val);
	close(fd);
}

static bool have_fault_injection(void)
{
	return access(DBGFS "/failslab/ignore-gfp-wait", W_OK) == 0 &&
	       access(DBGFS "/fail_page_alloc/min-order", W_OK) == 0 &&
	       access("/proc/thread-self/fail-nth", W_OK) == 0;
}

/*
 * Count every sleeping allocation and every page order, say nothing per
 * failure (the step's log is checked instead); the probability stays 0,
 * so only fail-nth, scoped to this thread, ever fires.
 */
static void fi_setup(void)
{
	int fd;
	ssize_t n;

	put_file(DBGFS "/failslab/ignore-gfp-wait", "N");
	put_file(DBGFS "/failslab/verbose", "0");
	put_file(DBGFS "/failslab/probability", "0");
	put_file(DBGFS "/fail_page_alloc/ignore-gfp-wait", "N");
	put_file(DBGFS "/fail_page_alloc/ignore-gfp-highmem", "N");
	put_file(DBGFS "/fail_page_alloc/min-order", "0");
	put_file(DBGFS "/fail_page_alloc/verbose", "0");
	put_file(DBGFS "/fail_page_alloc/probability", "0");

	/*
	 * Errors (KASAN, oopses) still reach the console; warnings wait.
	 * The level found before the first test is kept in a file, so a
	 * test that stopped early cannot leave "4" as the one to restore.
	 */
	fd = open(PRINTK_SAVED, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open("/proc/sys/kernel/printk", O_RDONLY | O_CLOEXEC);
	TEST_ASSERT(fd >= 0, "open(/proc/sys/kernel/printk)");
	n = read(fd, printk_saved, sizeof(printk_saved) - 1);
	TEST_ASSERT(n > 0, "read(/proc/sys/kernel/printk)");
	printk_saved[n] = 0;
	close(fd);
	fd = open(PRINTK_SAVED, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		TEST_ASSERT(write(fd, printk_saved, n) == n, "write %s", PRINTK_SAVED);
		close(fd);
	}
	put_file("/proc/sys/kernel/printk", "4");
	klogctl(5, NULL, 0);		/* SYSLOG_ACTION_CLEAR */

	/* Opened now: opening it later would be an allocation of its own. */
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	TEST_ASSERT(nth_fd >= 0, "open(/proc/thread-self/fail-nth)");
}

static void fi_teardown(void)
{
	if (nth_fd >= 0)
		close(nth_fd);
	nth_fd = -1;
	if (*printk_saved)
		put_file("/proc/sys/kernel/printk", printk_saved);
}

static void nth_arm(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	TEST_ASSERT(pwrite(nth_fd, buf, len, 0) == len, "arm fail-nth %u", n);
}

/* Disarms; true if the armed failure fired. */
static bool nth_disarm(void)
{
	char buf[16] = "";
	ssize_t n = pread(nth_fd, buf, sizeof(buf) - 1, 0);

	TEST_ASSERT(n > 0, "read fail-nth");
	TEST_ASSERT(pwrite(nth_fd, "0", 1, 0) == 1, "disarm fail-nth");
	return atoi(buf) == 0;
}

/* The kernel's messages since the last call: true if any is a real report. */
static bool kmsg_bad(const char *what, unsigned int n)
{
	static const char *const bad[] = {
		"BUG:", "WARNING:", "Oops", "general protection", "KASAN",
		"UBSAN", "refcount_t:", "corruption", "kernel BUG",
		"circular locking", "lock held", "inconsistent lock",
		"sleeping function", "unreferenced object",
	};
	static char buf[1 << 20];
	int len = klogctl(4, buf, sizeof(buf) - 1); /* READ_CLEAR */
	bool found = false;
	char *line, *save;
	size_t i;

	if (len <= 0)
		return false;
	buf[len] = 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (strstr(line, bad[i])) {
				printf("# kmsg after %s, allocation %u failed: %s\n",
				       what, n, line);
				found = true;
				break;
			}
		}
	}
	return found;
}

/*
 * A clean error: what an allocation failure may honestly turn into.  For
 * netlink requests also EIO: ternnl reports a failed send or receive (the
 * kernel's ENOBUFS or ENOMEM on the socket) as EIO.
 */
static bool clean_errno(const char *what, int err)
{
	if (err == EIO && !strncmp(what, "TERN_CMD_", 9))
		return true;
	return err == ENOMEM || err == EFAULT || err == ENOBUFS ||
	       err == EAGAIN || err == EINTR || err == ENOSPC;
}

static void settle_zero(struct __test_metadata *_metadata, const char *what,
			unsigned int n)
{
	struct ternnl_stats st;

	EXPECT_TRUE(tern_stats_settle_zero(&st))
		TH_LOG("%s, allocation %u failed: counters regions %u pages %llu streams %u after close",
		       what, n, st.regions, (unsigned long long)st.pages,
		       st.streams);
}

static void write_dirty_set(char *mem, uint8_t tag)
{
	size_t i;

	for (i = 0; i < NDIRTY; i++)
		memset(mem + dirty_set[i] * PAGE, tag + i + 1, PAGE);
}

/* The bitmap holds exactly dirty_set. */
static bool bitmap_is_dirty_set(const uint64_t *map)
{
	size_t i, j;

	for (i = 0; i < NPAGES; i++) {
		bool want = false;

		for (j = 0; j < NDIRTY; j++)
			want |= dirty_set[j] == i;
		if (bit_test(map, i) != want)
			return false;
	}
	return true;
}

/* A tracked, mapped region with every page written and harvested once. */
struct tracked {
	int fd;
	char *mem;
	uint64_t map[(NPAGES + 63) / 64];
};

static void tracked_setup(struct tracked *t, const char *name)
{
	t->fd = region_create(SIZE, name);
	t->mem = region_map(t->fd, SIZE);
	memset(t->mem, 0x11, SIZE);
	track_start(t->fd);
	track_harvest(t->fd, t->map, NPAGES, NULL);
}

static void tracked_teardown(struct tracked *t)
{
	munmap(t->mem, SIZE);
	close(t->fd);
}

/* Fresh anonymous memory: copying out to it has a page to allocate. */
static void *fresh(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TEST_ASSERT(p != MAP_FAILED, "mmap %zu", bytes);
	return p;
}

/*
 * The sweep: for n = 1, 2, ...: set up, fail the step's nth allocation,
 * check, tear down, counters to zero; ends when a step no longer reaches
 * its nth allocation.  STEP is an expression giving 0 / fd or -errno.
 */
#define SWEEP(what, SETUP, STEP, CHECK, TEARDOWN)			\
	do {								\
		unsigned int n, points = 0;				\
		bool fired = true;					\
		int ret;						\
									\
		for (n = 1; fired && n < MAX_NTH; n++) {		\
			SETUP;						\
			nth_arm(n);					\
			ret = (STEP);					\
			fired = nth_disarm();				\
			points += fired;				\
			EXPECT_FALSE(kmsg_bad(what, n));		\
			EXPECT_TRUE(ret >= 0 || clean_errno(what, -ret))	\
				TH_LOG("%s, allocation %u failed: %s",	\
				       what, n, strerror(-ret));	\
			CHECK;						\
			TEARDOWN;					\
			settle_zero(_metadata, what, n);		\
			if (_metadata->passed == 0)			\
				break;					\
		}							\
		ASSERT_LT(n, MAX_NTH);					\
		printf("# %s: %u allocation points failed in turn\n",	\
		       what, points);					\
	} while (0)

#define REQUIRE_FI()							\
	do {								\
		TEST_REQUIRE(access(TERN_DEV_PATH, F_OK) == 0);		\
		TEST_REQUIRE(have_fault_injection());			\
		fi_setup();						\
	} while (0)

static int sys_ret(long r)
{
	return r < 0 ? -errno : (int)r;
}

TEST(fail_region_create)
{
	struct tern_region_create req = { .size = SIZE, .name = "fi-create" };
	int dev = -1;

	REQUIRE_FI();
	SWEEP("TERN_CREATE_REGION",
	      dev = tern_dev_open(),
	      sys_ret(ioctl(dev, TERN_CREATE_REGION, &req)),
	      (void)0,
	      ({ if (ret >= 0) close(ret); close(dev); }));
	fi_teardown();
}

TEST(fail_region_map_and_touch)
{
	int fd = -1;
	char *mem = MAP_FAILED;

	REQUIRE_FI();
	SWEEP("mmap(region)",
	      fd = region_create(SIZE, "fi-map"),
	      ({ mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			    fd, 0);
		 mem == MAP_FAILED ? -errno : 0; }),
	      ({ if (mem != MAP_FAILED) {
			/* The mapping works once the failure is past. */
			memset(mem, 0x5a, SIZE);
			EXPECT_EQ(0x5a, mem[SIZE - 1]);
			munmap(mem, SIZE);
		 } }),
	      close(fd));
	fi_teardown();
}

TEST(fail_track_start)
{
	struct tern_region_info info;
	uint64_t map[(NPAGES + 63) / 64];
	int fd = -1;
	char *mem = NULL;

	REQUIRE_FI();
	SWEEP("TERN_TRACK_START",
	      ({ fd = region_create(SIZE, "fi-track");
		 mem = region_map(fd, SIZE);
		 memset(mem, 0x11, SIZE); }),
	      sys_ret(ioctl(fd, TERN_TRACK_START, 0)),
	      ({ region_info(fd, &info);
		 EXPECT_EQ(ret == 0, !!(info.flags & TERN_REGION_F_TRACKING))
			 TH_LOG("TERN_TRACK_START = %d, flags %#x", ret,
				info.flags);
		 if (ret)
			 track_start(fd);
		 track_harvest(fd, map, NPAGES, NULL);
		 write_dirty_set(mem, 0x20);
		 track_harvest(fd, map, NPAGES, NULL);
		 EXPECT_TRUE(bitmap_is_dirty_set(map)); }),
	      ({ munmap(mem, SIZE); close(fd); }));
	fi_teardown();
}

/*
 * The harvest copies its bitmap out to memory never touched, so failing
 * that page is a harvest that fails after taking the round: the round's
 * bits must still be there for the next one.
 */
TEST(fail_track_harvest)
{
	struct tracked t;
	struct tern_harvest h;
	uint64_t *out = NULL;

	REQUIRE_FI();
	SWEEP("TERN_TRACK_HARVEST",
	      ({ tracked_setup(&t, "fi-harvest");
		 write_dirty_set(t.mem, 0x30);
		 out = fresh(PAGE); }),
	      __track_harvest(t.fd, out, bitmap_bytes(NPAGES), &h),
	      ({ uint64_t *got = ret ? t.map : out;

		 if (ret)
			 track_harvest(t.fd, t.map, NPAGES, NULL);
		 EXPECT_TRUE(bitmap_is_dirty_set(got))
			 TH_LOG("harvest after a failed one (%d) is not the written set: %#llx",
				ret, (unsigned long long)got[0]);
		 /* And nothing is left over for the round after. */
		 EXPECT_EQ(0, track_harvest(t.fd, t.map, NPAGES, NULL)); }),
	      ({ munmap(out, PAGE); tracked_teardown(&t); }));
	fi_teardown();
}

TEST(fail_stream_open)
{
	struct tracked t;

	REQUIRE_FI();
	SWEEP("TERN_STREAM_OPEN",
	      tracked_setup(&t, "fi-sopen"),
	      sys_ret(ioctl(t.fd, TERN_STREAM_OPEN, 0)),
	      ({ if (ret >= 0) close(ret); }),
	      tracked_teardown(&t));
	fi_teardown();
}

/*
 * A stream set of 4: a failure at any allocation installs no fd, and the
 * dirty set is untouched (a set harvests only when a member reads).
 */
TEST(fail_stream_open_set)
{
	struct tracked t;
	int fds[4], before = 0, i;

	REQUIRE_FI();
	SWEEP("TERN_STREAM_OPEN_SET",
	      ({ tracked_setup(&t, "fi-sset");
		 write_dirty_set(t.mem, 0x30);
		 before = fd_count(); }),
	      __stream_set_open(t.fd, 4, 0, fds),
	      ({ if (!ret)
			 for (i = 0; i < 4; i++)
				 close(fds[i]);
		 EXPECT_EQ(before, fd_count()) TH_LOG("after %d", ret);
		 EXPECT_EQ(NDIRTY, track_harvest(t.fd, t.map, NPAGES, NULL));
		 EXPECT_TRUE(bitmap_is_dirty_set(t.map)); }),
	      tracked_teardown(&t));
	fi_teardown();
}

/* Pages of dirty_set that the round in buf frames with their data. */
static size_t round_has_dirty_set(const char *buf, size_t len,
				  const char *mem)
{
	size_t off = sizeof(struct tern_stream_hdr), found = 0, j;
	struct tern_page_rec rec;

	while (off + sizeof(rec) <= len) {
		memcpy(&rec, buf + off, sizeof(rec));
		off += sizeof(rec);
		if (rec.flags & TERN_REC_F_END)
			break;
		for (j = 0; j < NDIRTY; j++)
			if (rec.offset == dirty_set[j] * PAGE &&
			    rec.length == PAGE &&
			    !memcmp(buf + off, mem + rec.offset, PAGE))
				found++;
		off += rec.length;
	}
	return found;
}

/*
 * A round read into memory never touched: the read fails at the copy, or
 * at any allocation before it.  Reading on after the error must still
 * give a round with every dirty page's data.
 */
TEST(fail_stream_read)
{
	size_t cap = stream_round_max(NPAGES);
	struct tracked t;
	char *out = NULL, *buf = malloc(cap);
	int s = -1;

	ASSERT_NE(NULL, buf);
	REQUIRE_FI();
	SWEEP("read(stream)",
	      ({ tracked_setup(&t, "fi-sread");
		 s = stream_open(t.fd);
		 write_dirty_set(t.mem, 0x40);
		 out = fresh(cap); }),
	      sys_ret(read(s, out, cap)),
	      ({ size_t have = ret > 0 ? (size_t)ret : 0, len;
		 ssize_t r;

		 memcpy(buf, out, have);
		 /* Read the rest of the round, failures past. */
		 while (!(len = stream_round_len(buf, have))) {
			 r = read(s, buf + have, cap - have);
			 if (r <= 0)
				 break;
			 have += r;
		 }
		 EXPECT_NE(0, len) TH_LOG("no complete round after a failed read (%d), %zu bytes",
					  ret, have);
		 if (len)
			 EXPECT_EQ(NDIRTY, round_has_dirty_set(buf, len, t.mem))
				 TH_LOG("the round after a failed read (%d) lost pages", ret); }),
	      ({ close(s); munmap(out, cap); tracked_teardown(&t); }));
	free(buf);
	fi_teardown();
}

/*
 * A round written into a fresh region: every destination page is a new
 * shmem page, so each record's write can fail.  A failed write is a
 * sticky error on that stream fd; the same round through a new fd makes
 * the copy exact.
 */
TEST(fail_stream_write)
{
	size_t cap = stream_round_max(NPAGES), len, i;
	struct tracked src;
	char *round = malloc(cap), *want = malloc(SIZE), *dmem = NULL;
	int dfd = -1, ds = -1, s;

	ASSERT_NE(NULL, round);
	ASSERT_NE(NULL, want);
	REQUIRE_FI();
	/* The round, and the pages it carries; then the source is gone. */
	tracked_setup(&src, "fi-swsrc");
	write_dirty_set(src.mem, 0x50);
	s = stream_open(src.fd);
	len = stream_read_round(s, round, cap);
	close(s);
	memcpy(want, src.mem, SIZE);
	tracked_teardown(&src);
	SWEEP("write(stream)",
	      ({ dfd = region_create(SIZE, "fi-swdst");
		 ds = stream_open(dfd); }),
	      ({ ssize_t w = write(ds, round, len);

		 w < 0 ? -errno : (w == (ssize_t)len ? 0 : -ENOSPC); }),
	      ({ if (ret) {
			 close(ds);
			 ds = stream_open(dfd);
			 EXPECT_EQ((ssize_t)len, write(ds, round, len));
		 }
		 dmem = region_map(dfd, SIZE);
		 for (i = 0; i < NDIRTY; i++)
			 EXPECT_EQ(0, memcmp(dmem + dirty_set[i] * PAGE,
					     want + dirty_set[i] * PAGE, PAGE))
				 TH_LOG("page %u after a failed write (%d)",
					dirty_set[i], ret);
		 munmap(dmem, SIZE); }),
	      ({ close(ds); close(dfd); }));
	free(want);
	free(round);
	fi_teardown();
}

/* Netlink: the module's replies and its request handling. */
TEST(fail_netlink)
{
	struct ternnl_region info;
	struct ternnl_stats st;
	struct ternnl *nl = NULL;
	struct tracked t;

	REQUIRE_FI();
	SWEEP("TERN_CMD_GET_REGION",
	      ({ tracked_setup(&t, "fi-nl");
		 nl = nl_open();
		 ternnl__get_stats(nl, &st); }),
	      ternnl__get_region(nl, t.fd, &info),
	      ({ if (!ret)
			 EXPECT_EQ((uint64_t)SIZE, info.size); }),
	      ({ ternnl__close(nl); tracked_teardown(&t); }));
	SWEEP("TERN_CMD_TRACK_STOP",
	      ({ tracked_setup(&t, "fi-nlstop");
		 nl = nl_open();
		 ternnl__get_stats(nl, &st); }),
	      ternnl__track_stop(nl, t.fd),
	      ({ struct tern_region_info ri;

		 region_info(t.fd, &ri);
		 /* Either stopped or still tracking, and tracking exactly. */
		 if (ri.flags & TERN_REGION_F_TRACKING) {
			 write_dirty_set(t.mem, 0x60);
			 track_harvest(t.fd, t.map, NPAGES, NULL);
			 EXPECT_TRUE(bitmap_is_dirty_set(t.map));
		 } }),
	      ({ ternnl__close(nl); tracked_teardown(&t); }));
	fi_teardown();
}

TEST_HARNESS_MAIN
