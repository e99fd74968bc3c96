// SPDX-License-Identifier: GPL-2.0
/*
 * memcheck: the guest-side oracle of the migration tests (the idea of
 * QEMU's migration-test, written for a Linux guest).  It increments one
 * byte in every page of a large buffer, pass after pass, and before each
 * increment checks that the byte holds the value the previous pass left.
 * A page that migration lost or sent stale fails that check on the very
 * next pass, and the guest says so on its console.  Once a second it
 * prints "memcheck: pass N ok" so a test can see it keep running.
 *
 *   memcheck [MiB]	(default 64)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE	4096

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	size_t pages = mib * 1024 * 1024 / PAGE, i;
	unsigned long pass;
	double last = 0;
	uint8_t *buf;

	if (!pages) {
		fprintf(stderr, "memcheck: bad size\n");
		return 2;
	}
	buf = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED) {
		perror("memcheck: mmap");
		return 2;
	}
	/* Non-zero filler so pages are not zero pages on the wire. */
	for (i = 0; i < pages; i++)
		buf[i * PAGE + 1] = (uint8_t)(i * 7 + 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("memcheck: %zu MiB, %zu pages\n", mib, pages);
	for (pass = 0;; pass++) {
		uint8_t want = (uint8_t)pass;

		for (i = 0; i < pages; i++) {
			uint8_t *p = &buf[i * PAGE];

			if (*p != want || p[1] != (uint8_t)(i * 7 + 1)) {
				printf("memcheck: FAIL pass %lu page %zu: byte %u, want %u\n",
				       pass, i, *p, want);
				return 1;
			}
			*p = want + 1;
		}
		if (now() - last >= 1.0) {
			last = now();
			printf("memcheck: pass %lu ok\n", pass);
		}
	}
}
