// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_guest: the nested guest's side of bench/migrate_bench.  Prints
 * "hb N" on the console every PERIOD ms (the host timestamps these lines
 * from both VMMs: the gap at the switchover is the downtime the guest
 * sees) and, with MIB > 0, a child rewrites every page of a MIB buffer in
 * a loop, at RATE MiB/s or, with RATE 0, as fast as it can.
 *
 *   migrate_guest PERIOD_MS [MIB [RATE_MIBPS]]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE	4096

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { t / 1000000000ull, t % 1000000000ull };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
}

/* Rewrite one word per page, pass after pass; paced in 1 MiB steps. */
static void dirty(size_t mib, unsigned long rate)
{
	size_t pages = mib * 256, i;
	uint64_t t0, step = rate ? 1000000000ull / rate : 0;
	uint64_t *buf, pass = 0;

	buf = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED) {
		perror("migrate_guest: mmap");
		exit(1);
	}
	t0 = now_ns();
	for (;;) {
		pass++;
		for (i = 0; i < pages; i++) {
			buf[i * (PAGE / 8)] = pass ^ i;
			if (step && (i & 255) == 255)
				sleep_until(t0 += step);
		}
		if (pass == 1)
			printf("migrate_guest: dirtier ready, %zu MiB\n", mib);
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	unsigned long period = argc > 1 ? strtoul(argv[1], NULL, 0) : 10;
	size_t mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
	unsigned long rate = argc > 3 ? strtoul(argv[3], NULL, 0) : 0;
	uint64_t t, seq = 0;
	pid_t child = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!period)
		period = 10;
	if (mib) {
		child = fork();
		if (child < 0) {
			perror("migrate_guest: fork");
			return 1;
		}
		if (!child)
			dirty(mib, rate);
	} else {
		printf("migrate_guest: dirtier ready, 0 MiB\n");
	}
	t = now_ns();
	for (;;) {
		printf("hb %llu\n", (unsigned long long)seq++);
		t += period * 1000000ull;
		if (t < now_ns())	/* was paused: no burst of late beats */
			t = now_ns();
		sleep_until(t);
	}
	return 0;
}
