// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl structs are size-versioned (uapi tern.h, kmod/ioctl.h): a
 * caller built against a later header, whose struct grew at its end, gets
 * what the module knows and zeros past it, and may pass a longer input
 * struct as long as the part the module does not know is zero (-E2BIG
 * otherwise); a struct shorter than its first release's is -ENOTTY.
 * Before, any size but the module's own was -ENOTTY: a newer ternvm
 * could not run on an older module at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/tern.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "test_util.h"

#define GROW	16	/* bytes a later release might add */

/* The same command with another struct size. */
#define RESIZE(cmd, size) \
	_IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), (size))

_Static_assert(sizeof(struct tern_region_create) == TERN_REGION_CREATE_SIZE_VER0, "create");
_Static_assert(sizeof(struct tern_region_info) == TERN_REGION_INFO_SIZE_VER0, "info");
_Static_assert(sizeof(struct tern_harvest) == TERN_HARVEST_SIZE_VER0, "harvest");
_Static_assert(sizeof(struct tern_track_stats) == TERN_TRACK_STATS_SIZE_VER1, "stats");
_Static_assert(sizeof(struct tern_track_mark) == TERN_TRACK_MARK_SIZE_VER0, "mark");
_Static_assert(sizeof(struct tern_stream_set) == TERN_STREAM_SET_SIZE_VER0, "stream set");

static int make_region(int dev, size_t size, size_t usize, uint8_t tail)
{
	struct {
		struct tern_region_create rc;
		uint8_t more[GROW];
	} req;

	memset(&req, 0, sizeof(req));
	memset(req.more, tail, sizeof(req.more));
	req.rc.size = size;
	strcpy(req.rc.name, "uapi-size");
	return ioctl(dev, RESIZE(TERN_CREATE_REGION, usize), &req);
}

FIXTURE(sized) {
	int dev, fd;
};

FIXTURE_SETUP(sized)
{
	REQUIRE_TERN();
	self->dev = open(TERN_DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->fd = make_region(self->dev, 64 * 4096, sizeof(struct tern_region_create), 0);
	ASSERT_LE(0, self->fd) TH_LOG("create: %s", strerror(errno));
}

FIXTURE_TEARDOWN(sized)
{
	close(self->fd);
	close(self->dev);
}

TEST_F(sized, a_longer_create_with_a_zero_tail_is_taken)
{
	int fd = make_region(self->dev, 4096, TERN_REGION_CREATE_SIZE_VER0 + GROW, 0);

	ASSERT_LE(0, fd) TH_LOG("%s", strerror(errno));
	close(fd);
	ASSERT_EQ(-1, make_region(self->dev, 4096, TERN_REGION_CREATE_SIZE_VER0 + GROW, 0xff));
	ASSERT_EQ(E2BIG, errno);
	ASSERT_EQ(-1, make_region(self->dev, 4096, TERN_REGION_CREATE_SIZE_VER0 - 8, 0));
	ASSERT_EQ(ENOTTY, errno);
}

TEST_F(sized, a_longer_output_gets_zeros_past_what_the_module_knows)
{
	uint8_t buf[TERN_REGION_INFO_SIZE_VER0 + GROW];
	struct tern_region_info *info = (void *)buf;
	uint8_t sbuf[TERN_TRACK_STATS_SIZE_VER1 + GROW];
	unsigned int i;

	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, ioctl(self->fd, RESIZE(TERN_REGION_INFO, sizeof(buf)), buf));
	ASSERT_EQ(64 * 4096, info->size);
	ASSERT_STREQ("uapi-size", info->name);
	for (i = TERN_REGION_INFO_SIZE_VER0; i < sizeof(buf); i++)
		ASSERT_EQ(0, buf[i]) TH_LOG("info byte %u", i);
	memset(sbuf, 0xa5, sizeof(sbuf));
	ASSERT_EQ(0, ioctl(self->fd, RESIZE(TERN_TRACK_STATS, sizeof(sbuf)), sbuf));
	for (i = TERN_TRACK_STATS_SIZE_VER1; i < sizeof(sbuf); i++)
		ASSERT_EQ(0, sbuf[i]) TH_LOG("stats byte %u", i);
	/* A release-0.1.0 caller's struct, without `held`, still works. */
	memset(sbuf, 0xa5, sizeof(sbuf));
	ASSERT_EQ(0, ioctl(self->fd, RESIZE(TERN_TRACK_STATS, TERN_TRACK_STATS_SIZE_VER0), sbuf));
	for (i = TERN_TRACK_STATS_SIZE_VER0; i < sizeof(sbuf); i++)
		ASSERT_EQ(0xa5, sbuf[i]) TH_LOG("stats byte %u written past VER0", i);
	ASSERT_EQ(-1, ioctl(self->fd, RESIZE(TERN_REGION_INFO, TERN_REGION_INFO_SIZE_VER0 - 8), buf));
	ASSERT_EQ(ENOTTY, errno);
	/* Another direction with the same number is another command. */
	ASSERT_EQ(-1, ioctl(self->fd, _IOW(TERN_IOCTL_TYPE, _IOC_NR(TERN_REGION_INFO),
					   struct tern_region_info), buf));
	ASSERT_EQ(ENOTTY, errno);
}

TEST_F(sized, a_longer_harvest_and_mark_work_and_refuse_a_dirty_tail)
{
	struct {
		struct tern_harvest h;
		uint8_t more[GROW];
	} hv;
	struct {
		struct tern_track_mark m;
		uint8_t more[GROW];
	} mk;
	uint64_t map[1] = { 0 }, one = 1ull << 5;

	ASSERT_EQ(0, ioctl(self->fd, TERN_TRACK_START, 0));
	memset(&hv, 0, sizeof(hv));
	hv.h.bitmap = (uintptr_t)map;
	hv.h.bitmap_size = sizeof(map);
	ASSERT_EQ(0, ioctl(self->fd, RESIZE(TERN_TRACK_HARVEST, sizeof(hv)), &hv));
	ASSERT_EQ(1, hv.h.round);
	ASSERT_EQ(64, hv.h.pages);	/* round 1 is every page */
	memset(&mk, 0, sizeof(mk));
	mk.m.bitmap = (uintptr_t)&one;
	mk.m.bitmap_size = sizeof(one);
	ASSERT_EQ(0, ioctl(self->fd, RESIZE(TERN_TRACK_MARK, sizeof(mk)), &mk));
	mk.more[GROW - 1] = 1;
	ASSERT_EQ(-1, ioctl(self->fd, RESIZE(TERN_TRACK_MARK, sizeof(mk)), &mk));
	ASSERT_EQ(E2BIG, errno);
	hv.more[0] = 1;
	ASSERT_EQ(-1, ioctl(self->fd, RESIZE(TERN_TRACK_HARVEST, sizeof(hv)), &hv));
	ASSERT_EQ(E2BIG, errno);
	/* The refused harvest took nothing: the marked page is the round. */
	hv.more[0] = 0;
	ASSERT_EQ(0, ioctl(self->fd, TERN_TRACK_HARVEST, &hv.h));
	ASSERT_EQ(2, hv.h.round);
	ASSERT_EQ(1, hv.h.pages);
	ASSERT_EQ(one, map[0]);
}

TEST_HARNESS_MAIN
