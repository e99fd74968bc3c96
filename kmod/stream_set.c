// SPDX-License-Identifier: GPL-2.0
/*
 * Stream sets.  A round is harvested once into the set; each member claims
 * the next bitmap word holding dirty pages (up to 64 pages) whenever it has
 * framed its last claim, so members split the round by how fast they are
 * read, each page going to exactly one.  The round ends when every live
 * member has read its end record, or left (closed, failed a read).
 */
#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/tern.h>
#include <linux/wait.h>

#include "region.h"
#include "stream_set.h"

struct tern_set {
	refcount_t ref;			/* the creator's and one per member */
	struct tern_region *region;	/* alive while a member is */
	wait_queue_head_t wq;		/* members that ended the open round */
	struct mutex lock;		/* the fields below */
	unsigned long *round;		/* the open round's unclaimed pages */
	unsigned long cursor;		/* first page no claim has looked at */
	u32 flags;			/* TERN_STREAM_SET_F_*, fixed */
	u64 gen;			/* rounds begun; read unlocked by waiters */
	u64 round_no;			/* the tracker's number of the open round */
	bool open;			/* read unlocked by waiters */
	unsigned int live;		/* members neither closed nor failed */
	unsigned int pending;		/* live members yet to end the round */
};

struct tern_set *tern_set_new(struct tern_region *r, u32 flags)
{
	struct tern_set *set;

	set = kzalloc(sizeof(*set), GFP_KERNEL_ACCOUNT);
	if (!set)
		return NULL;
	set->round = kvcalloc(BITS_TO_LONGS(r->npages), sizeof(unsigned long),
			      GFP_KERNEL_ACCOUNT);
	if (!set->round) {
		kfree(set);
		return NULL;
	}
	refcount_set(&set->ref, 1);
	set->region = r;
	set->flags = flags;
	init_waitqueue_head(&set->wq);
	mutex_init(&set->lock);
	return set;
}

/* A new member, before its fd is installed (so before any read). */
void tern_set_add(struct tern_set *set)
{
	refcount_inc(&set->ref);
	mutex_lock(&set->lock);
	set->live++;
	mutex_unlock(&set->lock);
}

void tern_set_put(struct tern_set *set)
{
	if (!refcount_dec_and_test(&set->ref))
		return;
	kvfree(set->round);
	kfree(set);
}

/*
 * Every live member is done with the round: what nobody claimed (members
 * closed or failed before the cursor got there) is dirty again, and the
 * members waiting for the next round wake.  Under set->lock.
 */
static void round_over(struct tern_set *set)
{
	if (set->cursor < set->region->npages)
		tern_track_unharvest(set->region, set->round);
	WRITE_ONCE(set->open, false);
	wake_up_interruptible_all(&set->wq);
}

/*
 * Join the open round, or harvest one if none is: *@gen becomes its
 * generation and *@round_no its number.  -EAGAIN if the member already
 * ended the open round (*@gen is it): it waits for tern_set_ready().
 */
int tern_set_join(struct tern_set *set, u64 *gen, u64 *round_no)
{
	u64 pages;
	int ret = 0;

	mutex_lock(&set->lock);
	if (set->open) {
		if (*gen == set->gen)
			ret = -EAGAIN;
		goto out;
	}
	ret = tern_track_harvest(set->region, set->round, &set->round_no,
				 &pages);
	if (ret)
		goto out;
	set->cursor = 0;
	set->pending = set->live;
	WRITE_ONCE(set->gen, set->gen + 1);
	WRITE_ONCE(set->open, true);
out:
	if (!ret) {
		*gen = set->gen;
		*round_no = set->round_no;
	}
	mutex_unlock(&set->lock);
	return ret;
}

/*
 * Claim the next run of the round: the next word holding dirty pages moves
 * from the set into @mine (the member's share, a bitmap of the region's
 * size) and [*@first, *@end) covers it, *@first its first page.  False
 * when the round has no page left to claim.  Words are claimed in
 * increasing order, so a member's records stay in offset order.
 */
bool tern_set_claim(struct tern_set *set, unsigned long *mine,
		    unsigned long *first, unsigned long *end)
{
	unsigned long npages = set->region->npages, idx, w;
	bool got = false;

	mutex_lock(&set->lock);
	idx = find_next_bit(set->round, npages, set->cursor);
	if (idx >= npages) {
		set->cursor = npages;
		goto out;
	}
	w = BIT_WORD(idx);
	mine[w] = set->round[w];
	set->round[w] = 0;
	set->cursor = min((w + 1) * BITS_PER_LONG, npages);
	*first = idx;
	*end = set->cursor;
	got = true;
out:
	mutex_unlock(&set->lock);
	return got;
}

/* The member consumed its end record of the open round. */
void tern_set_end(struct tern_set *set)
{
	mutex_lock(&set->lock);
	if (!WARN_ON_ONCE(!set->open || !set->pending) && !--set->pending)
		round_over(set);
	mutex_unlock(&set->lock);
}

/*
 * The member is gone (closed) or can read no more (failed): it no longer
 * counts, and if the open round was waiting for it, no longer waits.  The
 * caller gave back the member's share of a round it was inside
 * (@mid_round); @gen is the last round it joined.
 */
void tern_set_leave(struct tern_set *set, u64 gen, bool mid_round)
{
	mutex_lock(&set->lock);
	set->live--;
	if (set->open && (mid_round || gen != set->gen) &&
	    !WARN_ON_ONCE(!set->pending) && !--set->pending)
		round_over(set);
	mutex_unlock(&set->lock);
}

/* A member that last joined round @gen may join (or begin) one now. */
bool tern_set_ready(struct tern_set *set, u64 gen)
{
	return !READ_ONCE(set->open) || READ_ONCE(set->gen) != gen;
}

wait_queue_head_t *tern_set_wq(struct tern_set *set)
{
	return &set->wq;
}

bool tern_set_defers(const struct tern_set *set)
{
	return set->flags & TERN_STREAM_SET_F_DEFER;
}
