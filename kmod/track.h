/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Dirty tracking of a region: a bit per page set by write faults, and the
 * harvest that clears bits and re-arms their pages before they are read.
 */
#ifndef _TERN_TRACK_H
#define _TERN_TRACK_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct tern_region;
struct tern_track_stats;
struct tern_track_mark;

struct tern_track {
	unsigned long *dirty;		/* a bit per page, set by faults */
	unsigned long *marked;		/* set with no fault: nothing to re-arm */
	unsigned long *told;		/* TERN_TRACK_MARK's, since the harvest */
	unsigned long *scratch;		/* the harvest's faulted pages */
	unsigned long *held;		/* referenced past a harvest: look again */
	struct folio **rearm;		/* the harvest's batch, under lock */
	struct mutex lock;		/* serializes start/stop/harvest */
	bool on;
	atomic64_t write_faults;
	/*
	 * The figures below, under stats_lock, never under lock: a reader
	 * (a netlink dump holding the region list) must not wait for a
	 * harvest.  round is written under both.
	 */
	spinlock_t stats_lock;
	u64 round;
	u64 last_pages, dirtied, last_ns, total_ns, held_pages;
};

int tern_track_alloc(struct tern_track *t, pgoff_t npages);
void tern_track_free(struct tern_track *t);
void tern_track_mark(struct tern_region *r, pgoff_t index);
void tern_track_mark_range(struct tern_region *r, pgoff_t index, pgoff_t n);
int tern_track_start(struct tern_region *r);
int tern_track_stop(struct tern_region *r);
int tern_track_harvest(struct tern_region *r, unsigned long *out,
		       u64 *round, u64 *pages);
void tern_track_unharvest(struct tern_region *r, const unsigned long *map);
int tern_track_mark_user(struct tern_region *r,
			 const struct tern_track_mark *m);
void tern_track_get_stats(struct tern_region *r, struct tern_track_stats *st);
bool tern_track_is_on(struct tern_region *r);
bool tern_track_written_since(struct tern_region *r, pgoff_t index);

/* Pure helper, tested at boot: next run [*start, *end) of set bits. */
bool tern_track_next_run(const unsigned long *map, unsigned long size,
			 unsigned long from, unsigned long *start,
			 unsigned long *end);

#endif /* _TERN_TRACK_H */
