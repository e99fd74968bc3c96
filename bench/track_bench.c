// SPDX-License-Identifier: GPL-2.0
/*
 * track_bench: what tern.ko's dirty tracking costs, per page, measured side
 * by side in one run: a write that takes the write-notify fault vs the same
 * write to an already writable page (the difference is the fault), the
 * harvest's re-arm per page for dense and sparse rounds, and framing a
 * round through read(2) and splice(2).  Prints figures and ratios, min and
 * median of several runs; asserts nothing.
 *
 *   track_bench [MiB] [runs]
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/tern.h>

#include "bench.h"

#define PAGE		4096UL
#define MAX_RUNS	15

struct fig {
	const char *name;
	double v[MAX_RUNS];
};

enum { F_FAULT_WRITE, F_PLAIN_WRITE, F_FAULT, F_HARVEST_DENSE,
       F_HARVEST_KERNEL, F_HARVEST_SPARSE, F_READ, F_SPLICE, NR_FIG };

static struct fig figs[NR_FIG] = {
	[F_FAULT_WRITE]		= { .name = "write, re-armed page (faults)" },
	[F_PLAIN_WRITE]		= { .name = "write, writable page" },
	[F_FAULT]		= { .name = "write-notify fault (difference)" },
	[F_HARVEST_DENSE]	= { .name = "harvest ioctl, every page dirty" },
	[F_HARVEST_KERNEL]	= { .name = "harvest re-arm (module's own clock)" },
	[F_HARVEST_SPARSE]	= { .name = "harvest ioctl, 1 page in 64 dirty" },
	[F_READ]		= { .name = "stream read(2), dirty data pages" },
	[F_SPLICE]		= { .name = "stream splice(2) to a pipe" },
};

static void touch(char *mem, size_t npages, size_t step, char v)
{
	size_t i;

	for (i = 0; i < npages; i += step)
		((volatile char *)mem)[i * PAGE] = v;
}

static double harvest(int fd, uint64_t *map, size_t npages)
{
	struct tern_harvest h = {
		.bitmap = (uintptr_t)map,
		.bitmap_size = (npages + 63) / 64 * 8,
	};
	double t0 = now_ns();

	if (ioctl(fd, TERN_TRACK_HARVEST, &h))
		perror("TERN_TRACK_HARVEST"), exit(1);
	return now_ns() - t0;
}

/* Drain one round from the stream, by read or through a pipe. */
static double drain(int s, int p[2], char *buf, size_t cap, int use_splice)
{
	struct tern_stream_status st;
	uint64_t before;
	double t0 = now_ns();
	ssize_t n;

	ioctl(s, TERN_STREAM_STATUS, &st);
	before = st.read_rounds;
	do {
		if (use_splice) {
			n = splice(s, NULL, p[1], NULL, 1 << 20, 0);
			while (n > 0) {
				ssize_t m = read(p[0], buf, cap);

				if (m <= 0)
					exit(1);
				n -= m;
			}
		} else {
			n = read(s, buf, cap);
		}
		if (n < 0)
			perror("stream"), exit(1);
		ioctl(s, TERN_STREAM_STATUS, &st);
	} while (st.read_rounds == before);
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	size_t npages = (mib << 20) / PAGE, cap = 1 << 20;
	struct tern_region_create req = { .size = mib << 20, .name = "bench" };
	struct tern_track_stats ts;
	char *mem, *buf = malloc(cap);
	uint64_t *map = calloc((npages + 63) / 64, 8);
	int dev, fd, s, p[2], r, f;
	double t;

	if (!mib || runs < 1 || runs > MAX_RUNS || !buf || !map) {
		fprintf(stderr, "usage: track_bench [MiB] [runs <= %d]\n", MAX_RUNS);
		return 2;
	}
	dev = open("/dev/tern", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		printf("track_bench: no /dev/tern here, nothing measured\n");
		return 0;
	}
	fd = ioctl(dev, TERN_CREATE_REGION, &req);
	if (fd < 0)
		return perror("TERN_CREATE_REGION"), 1;
	mem = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED || ioctl(fd, TERN_TRACK_START, 0))
		return perror("mmap/track"), 1;
	s = ioctl(fd, TERN_STREAM_OPEN, 0);
	if (s < 0 || pipe(p) || fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0)
		return perror("stream/pipe"), 1;
	touch(mem, npages, 1, 1);		/* allocate every page */
	harvest(fd, map, npages);

	for (r = 0; r < runs; r++) {
		/* every page dirty, then re-armed by a harvest */
		touch(mem, npages, 1, 2);
		figs[F_HARVEST_DENSE].v[r] = harvest(fd, map, npages) / npages;
		ioctl(fd, TERN_TRACK_STATS, &ts);
		figs[F_HARVEST_KERNEL].v[r] = (double)ts.last_harvest_ns / npages;
		t = now_ns();
		touch(mem, npages, 1, 3);
		figs[F_FAULT_WRITE].v[r] = (now_ns() - t) / npages;
		t = now_ns();
		touch(mem, npages, 1, 4);
		figs[F_PLAIN_WRITE].v[r] = (now_ns() - t) / npages;
		figs[F_FAULT].v[r] = figs[F_FAULT_WRITE].v[r] -
				     figs[F_PLAIN_WRITE].v[r];
		harvest(fd, map, npages);
		touch(mem, npages, 64, 5);
		figs[F_HARVEST_SPARSE].v[r] = harvest(fd, map, npages) /
					      (npages / 64);
		touch(mem, npages, 1, 6);
		figs[F_READ].v[r] = drain(s, p, buf, cap, 0) / npages;
		touch(mem, npages, 1, 7);
		figs[F_SPLICE].v[r] = drain(s, p, buf, cap, 1) / npages;
	}

	printf("track_bench: %zu MiB region (%zu pages), %d runs, ns per page\n",
	       mib, npages, runs);
	printf("%-40s %12s %12s\n", "", "min", "median");
	for (f = 0; f < NR_FIG; f++) {
		runs_sort(figs[f].v, runs);
		printf("%-40s %12.0f %12.0f\n", figs[f].name, figs[f].v[0],
		       figs[f].v[runs / 2]);
	}
	printf("ratio: fault / plain write %.1f, dense harvest / fault %.2f, "
	       "splice / read %.2f\n",
	       figs[F_FAULT_WRITE].v[runs / 2] / figs[F_PLAIN_WRITE].v[runs / 2],
	       figs[F_HARVEST_DENSE].v[runs / 2] / figs[F_FAULT].v[runs / 2],
	       figs[F_SPLICE].v[runs / 2] / figs[F_READ].v[runs / 2]);
	return 0;
}
