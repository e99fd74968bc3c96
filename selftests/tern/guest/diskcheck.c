// SPDX-License-Identifier: GPL-2.0
/*
 * diskcheck: the guest-side disk oracle of the migration tests, beside
 * memcheck.  It rewrites N blocks of a disk, pass after pass, each block
 * written with O_DIRECT|O_DSYNC (so a write that returned is one the
 * device acknowledged as durable) and holding (generation, index,
 * checksum) and a filler derived from them; after each pass it reads
 * every block back with O_DIRECT and checks it holds this pass's
 * generation and its own index, whole.  A write that migration lost (a
 * request dropped at switchover, an image not synced before the
 * destination read it) or reordered (an older write landing over a newer
 * one) fails that check, and the guest says so on its console.  Once a
 * second it prints "diskcheck: pass N ok".  It rests 10 ms after each
 * write, so it is always between two writes but leaves the guest's one
 * vCPU to memcheck.  Several of them on disjoint ranges, resting 0 ms,
 * keep requests queued on the device all the time (the in-flight case).
 *
 *   diskcheck [DEVICE [BLOCKS [FIRST [REST_MS [DSYNC]]]]]
 *	(default /dev/vda 64 0 10 1: blocks FIRST.. from 1 MiB in)
 *
 * DSYNC 0 opens without O_DSYNC: a write returns once the device did it
 * (no cache flush after it, which the block layer would serialize), so
 * several writers keep several requests on the device at once.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK	4096
#define START	(1024 * 1024)
#define MAGIC	0x4b53494420726574ULL	/* "ter DISK" */
#define WORDS	(BLOCK / 8)

/* Block layout in 64-bit words: magic, generation, index, checksum, filler. */
enum { W_MAGIC, W_GEN, W_INDEX, W_SUM, W_FILL };

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t checksum(const uint64_t *b)
{
	uint64_t s = 0;
	int w;

	for (w = 0; w < WORDS; w++)
		if (w != W_SUM)
			s = mix(s ^ b[w]);
	return s;
}

static void fill(uint64_t *b, uint64_t gen, uint64_t idx)
{
	int w;

	b[W_MAGIC] = MAGIC;
	b[W_GEN] = gen;
	b[W_INDEX] = idx;
	for (w = W_FILL; w < WORDS; w++)
		b[w] = mix(gen << 32 ^ idx << 12 ^ w);
	b[W_SUM] = checksum(b);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct timespec rest = { 0, 10 * 1000000 };
	const char *dev = argc > 1 ? argv[1] : "/dev/vda";
	long n = argc > 2 ? strtol(argv[2], NULL, 0) : 64, i;
	long first = argc > 3 ? strtol(argv[3], NULL, 0) : 0;
	long ms = argc > 4 ? strtol(argv[4], NULL, 0) : 10;
	int dsync = argc > 5 ? atoi(argv[5]) : 1;
	char tag[32] = "diskcheck";
	off_t start;
	uint64_t *b, gen;
	double last = 0;
	ssize_t r;
	int fd;

	if (n <= 0 || first < 0 || ms < 0 || ms > 1000) {
		fprintf(stderr, "diskcheck: bad block count, first block or rest\n");
		return 2;
	}
	rest.tv_nsec = ms * 1000000;
	start = START + (off_t)first * BLOCK;
	/* One writer of several says which: "diskcheck@FIRST: pass N ok". */
	if (first)
		snprintf(tag, sizeof(tag), "diskcheck@%ld", first);
	fd = open(dev, O_RDWR | O_DIRECT | (dsync ? O_DSYNC : 0));
	if (fd < 0 || posix_memalign((void **)&b, BLOCK, BLOCK)) {
		perror("diskcheck: open");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("%s: %s, %ld blocks of %d bytes from block %ld, %ld ms rest\n",
	       tag, dev, n, BLOCK, first, ms);
	for (gen = 1;; gen++) {
		for (i = 0; i < n; i++) {
			fill(b, gen, first + i);
			r = pwrite(fd, b, BLOCK, start + (off_t)i * BLOCK);
			if (r != BLOCK) {
				printf("%s: FAIL pass %llu block %ld: write returned %zd (%m)\n",
				       tag, (unsigned long long)gen, i, r);
				return 1;
			}
			if (ms)
				nanosleep(&rest, NULL);
		}
		for (i = 0; i < n; i++) {
			memset(b, 0, BLOCK);
			r = pread(fd, b, BLOCK, start + (off_t)i * BLOCK);
			if (r != BLOCK || b[W_MAGIC] != MAGIC || b[W_GEN] != gen ||
			    b[W_INDEX] != (uint64_t)(first + i) || b[W_SUM] != checksum(b)) {
				printf("%s: FAIL pass %llu block %ld: read %zd, generation %llu, index %llu, checksum %s\n",
				       tag, (unsigned long long)gen, i, r,
				       (unsigned long long)b[W_GEN], (unsigned long long)b[W_INDEX],
				       b[W_SUM] == checksum(b) ? "ok" : "bad");
				return 1;
			}
		}
		if (now() - last >= 1.0) {
			last = now();
			printf("%s: pass %llu ok\n", tag, (unsigned long long)gen);
		}
	}
}
