// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_stamp: prefixes each line of stdin with the CLOCK_MONOTONIC
 * time it arrived, in ms ("12345.678 line"), for bench/migrate_bench's
 * guest-seen downtime; "migrate_stamp -n" prints the time now, same clock.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	char line[512];
	bool bol = true;

	if (argc > 1 && !strcmp(argv[1], "-n")) {
		printf("%.3f\n", now_ms());
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* fgets hands back a long line in pieces: stamp only line starts. */
	while (fgets(line, sizeof(line), stdin)) {
		if (bol)
			printf("%.3f ", now_ms());
		fputs(line, stdout);
		bol = line[strlen(line) - 1] == '\n';
	}
	return 0;
}
