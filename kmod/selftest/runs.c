// SPDX-License-Identifier: GPL-2.0
/*
 * Self-test: tern_track_next_run() finds exactly the runs of set bits that
 * a bit-by-bit scan finds, on edge patterns and pseudo-random bitmaps.
 */
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/prandom.h>

#include "../track.h"
#include "selftest.h"

#define BITS	200

static bool check(const unsigned long *map)
{
	unsigned long start, end, from = 0, i;
	DECLARE_BITMAP(seen, BITS);

	bitmap_zero(seen, BITS);
	while (tern_track_next_run(map, BITS, from, &start, &end)) {
		if (start >= end || end > BITS)
			return false;
		/* maximal: the bits around the run are clear */
		if ((start && test_bit(start - 1, map)) ||
		    (end < BITS && test_bit(end, map)))
			return false;
		for (i = start; i < end; i++) {
			if (!test_bit(i, map))
				return false;
			__set_bit(i, seen);
		}
		from = end;
	}
	return bitmap_equal(seen, map, BITS);
}

bool tern_selftest_runs(void)
{
	struct rnd_state rnd;
	DECLARE_BITMAP(map, BITS);
	unsigned int i, j, bad = 0;

	bitmap_zero(map, BITS);
	bad += !check(map);
	bitmap_fill(map, BITS);
	bad += !check(map);
	bitmap_zero(map, BITS);
	__set_bit(0, map);
	__set_bit(BITS - 1, map);
	bad += !check(map);
	prandom_seed_state(&rnd, 42);
	for (i = 0; i < 1000; i++) {
		for (j = 0; j < BITS; j++)
			__assign_bit(j, map, prandom_u32_state(&rnd) & 1);
		bad += !check(map);
	}
	if (bad)
		pr_err("self-test: bit runs: %u failures\n", bad);
	else
		pr_info("self-test: bit runs: pass\n");
	return !bad;
}
