// SPDX-License-Identifier: GPL-2.0
/*
 * Regions: TERN_CREATE_REGION accepts exactly the documented sizes, flags
 * and names and allocates nothing on -EINVAL; every MAP_SHARED mapping of
 * a region fd, in this or a forked process, sees the same pages; private
 * or out-of-range mappings are refused; the counters return to zero.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "tern_util.h"
#include "test_util.h"


TEST(create_and_info)
{
	struct tern_region_info info;
	int fd;

	REQUIRE_TERN();
	fd = region_create(1 << 20, "ram0");
	region_info(fd, &info);
	ASSERT_EQ(1 << 20, info.size);
	ASSERT_STREQ("ram0", info.name);
	ASSERT_NE(0, info.id);
	ASSERT_EQ(0, info.flags);
	ASSERT_EQ(0, info.round);
	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

struct bad_create {
	const char *what;
	uint64_t size;
	uint32_t flags, reserved;
	const char *name;
	size_t name_len;
};

TEST(bad_create_is_einval_and_allocates_nothing)
{
	static const char long_name[TERN_REGION_NAME_MAX] =
		"0123456789abcdef0123456789abcde!";	/* no NUL */
	const struct bad_create bad[] = {
		{ "size 0", 0, 0, 0, "a", 2 },
		{ "size 4095", 4095, 0, 0, "a", 2 },
		{ "size 4097", 4097, 0, 0, "a", 2 },
		{ "size above max", TERN_REGION_SIZE_MAX + 4096, 0, 0, "a", 2 },
		{ "size ~0", ~0ULL & ~4095ULL, 0, 0, "a", 2 },
		{ "flag bit 0", 4096, 1, 0, "a", 2 },
		{ "flag bit 31", 4096, 1U << 31, 0, "a", 2 },
		{ "reserved", 4096, 0, 1, "a", 2 },
		{ "empty name", 4096, 0, 0, "", 1 },
		{ "unterminated name", 4096, 0, 0, long_name, sizeof(long_name) },
	};
	struct ternnl_stats before, after;
	unsigned int i;

	REQUIRE_TERN();
	tern_stats(&before);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int fd = __region_create_raw(bad[i].size, bad[i].flags,
					     bad[i].reserved, bad[i].name,
					     bad[i].name_len);
		EXPECT_EQ(-EINVAL, fd) TH_LOG("%s", bad[i].what);
		if (fd >= 0)
			close(fd);
	}
	tern_stats(&after);
	ASSERT_EQ(before.regions, after.regions);
	ASSERT_EQ(before.pages, after.pages);
}

TEST(largest_name_and_max_size)
{
	char name[TERN_REGION_NAME_MAX];
	int fd;

	REQUIRE_TERN();
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	/* The maximum size is accepted: shmem pages come only on touch. */
	fd = __region_create_raw(TERN_REGION_SIZE_MAX, 0, 0, name, sizeof(name));
	ASSERT_LE(0, fd) TH_LOG("max size: %s", strerror(-fd));
	close(fd);
}

TEST(mappings_share_pages)
{
	const size_t size = 64 * PAGE;
	char *a, *b, *c;
	int fd, status;
	pid_t pid;

	REQUIRE_TERN();
	fd = region_create(size, "share");
	a = region_map(fd, size);
	b = region_map(fd, size);
	ASSERT_NE(a, b);
	memset(a + 5 * PAGE, 0x5a, PAGE);
	ASSERT_EQ(0x5a, b[5 * PAGE + 17]);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		c = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (c == MAP_FAILED || c[5 * PAGE] != 0x5a)
			_exit(1);
		c[9 * PAGE] = 0x77;
		a[10 * PAGE] = 0x66;	/* through the inherited mapping */
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(0x77, b[9 * PAGE]);
	ASSERT_EQ(0x66, b[10 * PAGE]);
	/* An offset mapping sees the same page. */
	c = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 9 * PAGE);
	ASSERT_NE(MAP_FAILED, c);
	ASSERT_EQ(0x77, c[0]);
	munmap(c, PAGE);
	munmap(a, size);
	munmap(b, size);
	close(fd);
}

TEST(bad_mappings)
{
	const size_t size = 16 * PAGE;
	void *p;
	int fd;

	REQUIRE_TERN();
	fd = region_create(size, "badmap");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, size + PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, size);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	/* Cannot grow past the region with mremap. */
	p = region_map(fd, size);
	ASSERT_EQ(MAP_FAILED, mremap(p, size, size + PAGE, MREMAP_MAYMOVE));
	munmap(p, size);
	close(fd);
}

TEST(region_ioctls)
{
	int fd, dev;

	REQUIRE_TERN();
	fd = region_create(PAGE, "ioctl");
	ASSERT_EQ(-ENOTTY, __region_ioctl(fd, _IO(TERN_IOCTL_TYPE, 0x7f), NULL));
	ASSERT_EQ(-EINVAL, __region_ioctl(fd, TERN_TRACK_STOP, NULL));
	ASSERT_EQ(-EFAULT, __region_ioctl(fd, TERN_REGION_INFO, (void *)8));
	dev = tern_dev_open();
	ASSERT_EQ(-EFAULT, __region_ioctl(dev, TERN_CREATE_REGION, (void *)8));
	close(dev);
	close(fd);
}

TEST(counters_return_to_zero)
{
	struct ternnl_stats st;
	int fds[8], i;

	REQUIRE_TERN();
	ASSERT_TRUE(tern_stats_settle_zero(&st));
	for (i = 0; i < 8; i++)
		fds[i] = region_create(PAGE * (i + 1), "count");
	tern_stats(&st);
	ASSERT_EQ(8, st.regions);
	for (i = 0; i < 8; i++)
		close(fds[i]);
	ASSERT_TRUE(tern_stats_settle_zero(&st))
		TH_LOG("regions %u pages %llu streams %u", st.regions,
		       (unsigned long long)st.pages, st.streams);
}

TEST_HARNESS_MAIN
