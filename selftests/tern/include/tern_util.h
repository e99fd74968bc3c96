/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for tern.ko's tests: regions, tracking, streams and the module's
 * counters.  Plain names assert success (TEST_ASSERT names the call and
 * errno); the __raw twins return the result (fd, 0 or -errno) so negative
 * tests can check the exact error.
 */
#ifndef TERN_SELFTEST_TERN_UTIL_H
#define TERN_SELFTEST_TERN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/tern.h>

#include "lib/ternnl.h"

#define PAGE	4096UL

/* /dev/tern and regions */
int tern_dev_open(void);
int __region_create_raw(uint64_t size, uint32_t flags, uint32_t reserved,
			const char *name, size_t name_len);
int __region_create(uint64_t size, const char *name);
int region_create(uint64_t size, const char *name);
void *region_map(int fd, size_t size);
int __region_ioctl(int fd, unsigned long cmd, void *arg);
void region_info(int fd, struct tern_region_info *info);

/* tracking */
void track_start(int fd);
void track_stop(int fd);
int __track_harvest(int fd, uint64_t *bitmap, size_t bytes,
		    struct tern_harvest *h);
uint64_t track_harvest(int fd, uint64_t *bitmap, size_t npages,
		       uint64_t *round);
void track_stats(int fd, struct tern_track_stats *st);
size_t bitmap_bytes(size_t npages);
static inline bool bit_test(const uint64_t *map, size_t i)
{
	return map[i / 64] >> (i % 64) & 1;
}

/* streams */
int stream_open(int region_fd);
struct tern_stream_status stream_status(int stream_fd);
/* TERN_STREAM_OPEN_SET: count member fds into fds; the raw twin: 0/-errno. */
int __stream_set_open(int region_fd, uint32_t count, uint32_t flags,
		      int *fds);
void stream_set_open(int region_fd, uint32_t count, int *fds);
/* Entries in /proc/self/fd: a refused open must leave it as it was. */
int fd_count(void);
/* Read one round (through the end record) into buf; returns its length. */
size_t stream_read_round(int fd, void *buf, size_t cap);
/* Splice one round into pipe_w, read it back from pipe_r into buf. */
size_t stream_splice_round(int fd, int pipe_r, int pipe_w, void *buf,
			   size_t cap);
/* Bytes of the round that starts at buf, or 0 if not complete/valid. */
size_t stream_round_len(const void *buf, size_t len);
/* Worst-case bytes of a round of a region of npages pages. */
size_t stream_round_max(size_t npages);

/* netlink and counters */
struct ternnl *nl_open(void);
void tern_stats(struct ternnl_stats *st);
/* Waits (up to ~5 s) for regions, pages and streams to reach zero. */
bool tern_stats_settle_zero(struct ternnl_stats *st);

/* a cheap PRNG for writers */
static inline uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

bool check_full(void);
bool debug_kernel(void);

struct scribbler {
	char *mem;
	size_t npages;
	volatile bool *stop;
	uint64_t seed;
};
void *scribble(void *arg);	/* a pthread: writes until *stop */

#endif /* TERN_SELFTEST_TERN_UTIL_H */
