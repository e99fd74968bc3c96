// SPDX-License-Identifier: GPL-2.0
/*
 * tern.ko loads and unloads cleanly: /dev/tern comes and goes with the
 * module 50 times over, an open /dev/tern refuses rmmod instead of racing
 * it, and an unknown ioctl is -ENOTTY.  The harness fails the run if the
 * kernel log shows a warning meanwhile.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/tern.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "test_util.h"

static bool dev_exists(void)
{
	struct stat st;

	return stat(TERN_DEV_PATH, &st) == 0 && S_ISCHR(st.st_mode);
}

/* Start each test from "loaded", and leave the module loaded after it. */
static void ensure_loaded(struct __test_metadata *_metadata)
{
	if (!tern_module_loaded())
		ASSERT_EQ(0, __tern_module_load());
}

TEST(load_unload_50_times)
{
	int i, fd;

	TEST_REQUIRE(getuid() == 0);
	ensure_loaded(_metadata);
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, __tern_module_unload()) TH_LOG("round %d", i);
		ASSERT_FALSE(dev_exists()) TH_LOG("round %d", i);
		ASSERT_EQ(0, __tern_module_load()) TH_LOG("round %d", i);
		ASSERT_TRUE(dev_exists()) TH_LOG("round %d", i);
		fd = open(TERN_DEV_PATH, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("round %d: open: %s", i, strerror(errno));
		close(fd);
	}
}

TEST(double_load_is_eexist)
{
	TEST_REQUIRE(getuid() == 0);
	ensure_loaded(_metadata);
	ASSERT_EQ(-EEXIST, __tern_module_load());
}

TEST(rmmod_refused_while_dev_open)
{
	int fd;

	TEST_REQUIRE(getuid() == 0);
	ensure_loaded(_metadata);
	fd = open(TERN_DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EWOULDBLOCK, __tern_module_unload());
	ASSERT_TRUE(dev_exists());
	close(fd);
	ASSERT_EQ(0, __tern_module_unload());
	ASSERT_EQ(0, __tern_module_load());
}

TEST(unknown_ioctl_is_enotty)
{
	int fd;

	TEST_REQUIRE(getuid() == 0);
	ensure_loaded(_metadata);
	fd = open(TERN_DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, ioctl(fd, _IO(TERN_IOCTL_TYPE, 0xff)));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(fd, _IO('k', 1)));
	ASSERT_EQ(ENOTTY, errno);
	close(fd);
}

TEST_HARNESS_MAIN
