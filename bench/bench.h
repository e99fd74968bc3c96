/* SPDX-License-Identifier: GPL-2.0 */
/* What the benchmarks share: a clock, and sorting runs for min and median. */
#ifndef TERN_BENCH_H
#define TERN_BENCH_H

#include <stdlib.h>
#include <time.h>

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sort @n runs in place: v[0] is the min, v[n / 2] the median. */
static inline void runs_sort(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

#endif
