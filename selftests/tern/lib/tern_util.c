// SPDX-License-Identifier: GPL-2.0
/* Checked helpers and __raw twins for tern.ko's tests (see tern_util.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "kmod_util.h"
#include "tern_util.h"
#include "test_util.h"

bool check_full(void)
{
	const char *v = getenv("TERN_CHECK_FULL");

	return v && *v == '1';
}

/* The debug kernel (scripts/debug-kernel.sh): KASAN and lockdep make it slow. */
bool debug_kernel(void)
{
	struct utsname u;

	return !uname(&u) && strstr(u.release, "-tern-debug");
}

int tern_dev_open(void)
{
	int fd = open(TERN_DEV_PATH, O_RDWR | O_CLOEXEC);

	TEST_ASSERT(fd >= 0, "open(%s)", TERN_DEV_PATH);
	return fd;
}

int __region_create_raw(uint64_t size, uint32_t flags, uint32_t reserved,
			const char *name, size_t name_len)
{
	struct tern_region_create req = {
		.size = size,
		.flags = flags,
		.reserved = reserved,
	};
	int dev, fd;

	memcpy(req.name, name, name_len < sizeof(req.name) ?
	       name_len : sizeof(req.name));
	dev = open(TERN_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	fd = ioctl(dev, TERN_CREATE_REGION, &req);
	if (fd < 0)
		fd = -errno;
	close(dev);
	return fd;
}

int __region_create(uint64_t size, const char *name)
{
	return __region_create_raw(size, 0, 0, name, strlen(name) + 1);
}

int region_create(uint64_t size, const char *name)
{
	int fd = __region_create(size, name);

	errno = fd < 0 ? -fd : 0;
	TEST_ASSERT(fd >= 0, "TERN_CREATE_REGION(%llu, %s)",
		    (unsigned long long)size, name);
	return fd;
}

void *region_map(int fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	TEST_ASSERT(p != MAP_FAILED, "mmap(region fd %d, %zu)", fd, size);
	return p;
}

int __region_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

void region_info(int fd, struct tern_region_info *info)
{
	TEST_ASSERT(!ioctl(fd, TERN_REGION_INFO, info), "TERN_REGION_INFO");
}

void track_start(int fd)
{
	TEST_ASSERT(!ioctl(fd, TERN_TRACK_START, 0), "TERN_TRACK_START");
}

void track_stop(int fd)
{
	TEST_ASSERT(!ioctl(fd, TERN_TRACK_STOP, 0), "TERN_TRACK_STOP");
}

size_t bitmap_bytes(size_t npages)
{
	return (npages + 63) / 64 * 8;
}

int __track_harvest(int fd, uint64_t *bitmap, size_t bytes,
		    struct tern_harvest *h)
{
	memset(h, 0, sizeof(*h));
	h->bitmap = (uintptr_t)bitmap;
	h->bitmap_size = bytes;
	return ioctl(fd, TERN_TRACK_HARVEST, h) < 0 ? -errno : 0;
}

uint64_t track_harvest(int fd, uint64_t *bitmap, size_t npages,
		       uint64_t *round)
{
	struct tern_harvest h;

	TEST_ASSERT(!__track_harvest(fd, bitmap, bitmap_bytes(npages), &h),
		    "TERN_TRACK_HARVEST");
	if (round)
		*round = h.round;
	return h.pages;
}

void track_stats(int fd, struct tern_track_stats *st)
{
	TEST_ASSERT(!ioctl(fd, TERN_TRACK_STATS, st), "TERN_TRACK_STATS");
}

int stream_open(int region_fd)
{
	int fd = ioctl(region_fd, TERN_STREAM_OPEN, 0);

	TEST_ASSERT(fd >= 0, "TERN_STREAM_OPEN");
	return fd;
}

int __stream_set_open(int region_fd, uint32_t count, uint32_t flags,
		      int *fds)
{
	struct tern_stream_set req = {
		.count = count,
		.flags = flags,
		.fds = (uintptr_t)fds,
	};

	return ioctl(region_fd, TERN_STREAM_OPEN_SET, &req) ? -errno : 0;
}

void stream_set_open(int region_fd, uint32_t count, int *fds)
{
	int ret = __stream_set_open(region_fd, count, 0, fds);

	errno = -ret;
	TEST_ASSERT(!ret, "TERN_STREAM_OPEN_SET count %u", count);
}

int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	TEST_ASSERT(d, "opendir /proc/self/fd");
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

struct tern_stream_status stream_status(int stream_fd)
{
	struct tern_stream_status st;

	TEST_ASSERT(!ioctl(stream_fd, TERN_STREAM_STATUS, &st),
		    "TERN_STREAM_STATUS");
	return st;
}

size_t stream_round_max(size_t npages)
{
	return sizeof(struct tern_stream_hdr) +
	       npages * (sizeof(struct tern_page_rec) + PAGE) +
	       sizeof(struct tern_page_rec);
}

size_t stream_round_len(const void *buf, size_t len)
{
	const char *p = buf;
	struct tern_page_rec rec;
	size_t off = sizeof(struct tern_stream_hdr);

	if (len < off)
		return 0;
	while (off + sizeof(rec) <= len) {
		memcpy(&rec, p + off, sizeof(rec));
		off += sizeof(rec);
		if (rec.flags & TERN_REC_F_END)
			return off;
		off += rec.length;
	}
	return 0;
}

size_t stream_read_round(int fd, void *buf, size_t cap)
{
	size_t have = 0, n;
	ssize_t r;

	for (;;) {
		TEST_ASSERT(have < cap, "round larger than %zu bytes", cap);
		r = read(fd, (char *)buf + have, cap - have);
		TEST_ASSERT(r > 0, "read(stream) = %zd", r);
		have += r;
		n = stream_round_len(buf, have);
		if (n) {
			TEST_ASSERT(n == have, "read crossed a round end");
			return n;
		}
	}
}

size_t stream_splice_round(int fd, int pipe_r, int pipe_w, void *buf,
			   size_t cap)
{
	size_t have = 0, n;
	ssize_t r;

	for (;;) {
		r = splice(fd, NULL, pipe_w, NULL, 1 << 20, 0);
		TEST_ASSERT(r > 0, "splice(stream -> pipe) = %zd", r);
		while (r > 0) {
			ssize_t got;

			TEST_ASSERT(have < cap, "round larger than %zu", cap);
			got = read(pipe_r, (char *)buf + have, cap - have);
			TEST_ASSERT(got > 0, "read(pipe)");
			have += got;
			r -= got;
		}
		n = stream_round_len(buf, have);
		if (n) {
			TEST_ASSERT(n == have, "splice crossed a round end");
			return n;
		}
	}
}

struct ternnl *nl_open(void)
{
	struct ternnl *nl = ternnl__open();

	TEST_ASSERT(nl, "ternnl__open (is tern.ko loaded?)");
	return nl;
}

void tern_stats(struct ternnl_stats *st)
{
	struct ternnl *nl = nl_open();
	int ret = ternnl__get_stats(nl, st);

	errno = -ret;
	TEST_ASSERT(!ret, "TERN_CMD_GET_STATS: %s", ternnl__extack(nl));
	ternnl__close(nl);
}

bool tern_stats_settle_zero(struct ternnl_stats *st)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 500; i++) {
		tern_stats(st);
		if (!st->regions && !st->pages && !st->streams)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/*
 * A writer thread for stream tests: stamps of its PRNG into random pages,
 * and now and then a page back to all zero (a ZERO record), until *stop.
 */
void *scribble(void *arg)
{
	struct scribbler *w = arg;

	while (!*w->stop) {
		uint64_t r = xorshift64(&w->seed);
		size_t page = r % w->npages, off = (r >> 32) % (PAGE - 8);

		if ((r >> 20) % 97 == 0)
			memset(w->mem + page * PAGE, 0, PAGE);
		else
			memcpy(w->mem + page * PAGE + off, &r, 8);
	}
	return NULL;
}
