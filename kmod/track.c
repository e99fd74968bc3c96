// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty tracking.  The invariant, kept by tern_track_harvest(): a write to
 * a region through a tracked view is either in the data read for a round
 * or in the next round.  A harvest clears the round's bits, then re-arms
 * each page (waits for any fault in flight on it, then zaps its ptes in
 * every tracked view) before the caller reads a byte of it.  A write that
 * reached the page before the zap is seen by the read after it; a write
 * after it faults, and page_mkwrite sets the bit for the next round.  KVM
 * views are never zapped, so KVM keeps its sptes; its dirty log covers
 * them (the VMM hands it in with TERN_TRACK_MARK).
 *
 * Two bitmaps make the dirty set.  `dirty` holds the pages a write fault
 * (page_mkwrite) marked, the only way a tracked view gets a writable pte,
 * and only those are re-armed.  `marked` holds the pages written with no
 * fault of ours (TERN_TRACK_MARK, KVM's log included; stream writes; a
 * pinned or given-back page): no tracked view maps them writable unless
 * a fault put them in `dirty` too, so re-arming them would only cost.
 *
 * Locking.  A write fault holds its mm's mmap_lock (read) and then waits
 * for the folio lock, which page_mkwrite keeps until the writable pte is
 * in.  So the re-arm never takes an mmap_lock while it holds folio locks:
 * per tracked vma it takes that mm's mmap_read_lock (the vma cannot be
 * split, moved or detached meanwhile; tern_views_for_each finds it again
 * under the lock), then per batch locks the folios (waiting out a fault
 * that set its bit before our xchg but has not installed its pte), zaps
 * the batch in that vma, unlocks the folios; then unlocks the mm.  The
 * views' mutex nests inside mmap_lock, as vm_ops open/close take it.  The
 * fallback (a view that cannot be reached) zaps through the file with
 * unmap_mapping_range under the folio locks and no mmap_lock, as before.
 */
#include <linux/bitmap.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/tern.h>

#include "compat.h"
#include "netlink.h"
#include "region.h"
#include "track.h"
#include "view.h"

/*
 * Pages re-armed per zap: each zap is an MMU-notifier invalidation and a
 * TLB flush (an IPI to every CPU the mm ran on), so the more pages share
 * one the better; 512 is 2 MiB.  Runs of dirty pages at most REARM_GAP
 * clean pages apart share a zap too: a clean page has no writable pte
 * (a write fault would have marked it), so zapping it only costs its
 * next read a minor fault, and a VMM dirtying one page in 64 no longer
 * pays an invalidation and a flush per page.
 */
#define REARM_BATCH	512
#define REARM_GAP	64

int tern_track_alloc(struct tern_track *t, pgoff_t npages)
{
	t->dirty = kvcalloc(BITS_TO_LONGS(npages), sizeof(unsigned long),
			     GFP_KERNEL_ACCOUNT);
	t->marked = kvcalloc(BITS_TO_LONGS(npages), sizeof(unsigned long),
			     GFP_KERNEL_ACCOUNT);
	t->told = kvcalloc(BITS_TO_LONGS(npages), sizeof(unsigned long),
			   GFP_KERNEL_ACCOUNT);
	t->scratch = kvcalloc(BITS_TO_LONGS(npages), sizeof(unsigned long),
			      GFP_KERNEL_ACCOUNT);
	t->held = kvcalloc(BITS_TO_LONGS(npages), sizeof(unsigned long),
			   GFP_KERNEL_ACCOUNT);
	t->rearm = kvmalloc_array(REARM_BATCH, sizeof(*t->rearm),
				  GFP_KERNEL_ACCOUNT);
	if (!t->dirty || !t->marked || !t->told || !t->scratch || !t->held ||
	    !t->rearm) {
		tern_track_free(t);
		return -ENOMEM;
	}
	mutex_init(&t->lock);
	spin_lock_init(&t->stats_lock);
	atomic64_set(&t->write_faults, 0);
	return 0;
}

void tern_track_free(struct tern_track *t)
{
	kvfree(t->dirty);
	kvfree(t->marked);
	kvfree(t->told);
	kvfree(t->scratch);
	kvfree(t->held);
	kvfree(t->rearm);
	t->dirty = NULL;
	t->marked = NULL;
	t->told = NULL;
	t->scratch = NULL;
	t->held = NULL;
	t->rearm = NULL;
}

bool tern_track_is_on(struct tern_region *r)
{
	return READ_ONCE(r->track.on);
}

/*
 * Was page @index written since the last harvest, by a fault through a
 * tracked view or by the VMM's word (TERN_TRACK_MARK)?  Then the next
 * round carries it.  Not the pages kept dirty for a holder (`marked`):
 * those are in the open round and, held, in the next one too.
 */
bool tern_track_written_since(struct tern_region *r, pgoff_t index)
{
	return test_bit(index, r->track.dirty) ||
	       test_bit(index, r->track.told);
}

/* Stream writes: through the page cache, no pte of ours to re-arm. */
void tern_track_mark(struct tern_region *r, pgoff_t index)
{
	if (READ_ONCE(r->track.on) && index < r->npages)
		set_bit(index, r->track.marked);
}

/*
 * page_mkwrite, with the folio locked.  Atomic bit by bit: faults set bits
 * of the same words concurrently.
 */
void tern_track_mark_range(struct tern_region *r, pgoff_t index, pgoff_t n)
{
	pgoff_t end = min_t(pgoff_t, index + n, r->npages);

	if (!READ_ONCE(r->track.on))
		return;
	for (; index < end; index++)
		set_bit(index, r->track.dirty);
}

bool tern_track_next_run(const unsigned long *map, unsigned long size,
			 unsigned long from, unsigned long *start,
			 unsigned long *end)
{
	*start = find_next_bit(map, size, from);
	if (*start >= size)
		return false;
	*end = find_next_zero_bit(map, size, *start + 1);
	return true;
}

static void keep_dirty(struct tern_region *r, struct folio *folio)
{
	pgoff_t end = min_t(pgoff_t, folio->index + folio_nr_pages(folio),
			    r->npages);

	pgoff_t i;

	/* Atomic: stream writes set bits of the same words meanwhile. */
	for (i = folio->index; i < end; i++)
		set_bit(i, r->track.marked);
}

/*
 * Lock each present folio holding a page of [start, start + n), which
 * waits out a fault that set the bit before our clear but has not yet
 * installed its writable pte (the core holds the folio lock across that).
 * The folios are added to the batch after its first @nr; a large folio
 * that the last run already locked is not locked twice.  Distinct folios,
 * each holding a page of the n: at most n more.
 */
static unsigned int lock_batch(struct tern_region *r, pgoff_t start,
			       pgoff_t n, unsigned int nr)
{
	struct address_space *mapping = tern_region_mapping(r);
	struct folio **folios = r->track.rearm;
	struct folio_batch fbatch;
	struct folio *folio;
	pgoff_t idx = start;
	unsigned int i;

	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &idx, start + n - 1, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			folio = fbatch.folios[i];
			if (nr && folios[nr - 1] == folio) {
				folio_put(folio);
				continue;
			}
			folio_lock(folio);
			folios[nr++] = folio;	/* its reference */
		}
		folio_batch_init(&fbatch);
	}
	return nr;
}

static void unlock_batch(struct tern_region *r, unsigned int nr)
{
	struct folio **folios = r->track.rearm;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		folio_unlock(folios[i]);
		folio_put(folios[i]);
	}
}

/*
 * Walk the runs of @map in [from, last) as spans: the folios of a span's
 * dirty pages locked, then one @zap over the whole span, then unlocked.
 */
static void rearm_spans(struct tern_region *r, const unsigned long *map,
			pgoff_t from, pgoff_t last,
			void (*zap)(void *arg, pgoff_t start, pgoff_t n),
			void *arg)
{
	unsigned long start, end;
	pgoff_t span = 0, span_end = 0, n;
	unsigned int nr = 0;

	while (tern_track_next_run(map, last, from, &start, &end)) {
		for (from = start; from < end; from += n) {
			n = min_t(pgoff_t, end - from, REARM_BATCH);
			if (nr && (from - span_end > REARM_GAP ||
				   nr + n > REARM_BATCH)) {
				zap(arg, span, span_end - span);
				unlock_batch(r, nr);
				nr = 0;
				cond_resched();
			}
			if (!nr)
				span = from;
			nr = lock_batch(r, from, n, nr);
			span_end = from + n;
		}
	}
	if (nr) {
		zap(arg, span, span_end - span);
		unlock_batch(r, nr);
	}
}

/* The fallback: zap through the file, in every mapping, KVM views too. */
static void zap_file(void *arg, pgoff_t start, pgoff_t n)
{
	struct tern_region *r = arg;

	unmap_mapping_range(tern_region_mapping(r), (loff_t)start << PAGE_SHIFT,
			    (loff_t)n << PAGE_SHIFT, 0);
}

static void zap_view(void *arg, pgoff_t start, pgoff_t n)
{
	struct vm_area_struct *vma = arg;

	tern_zap_vma_range(vma, vma->vm_start +
			   ((start - vma->vm_pgoff) << PAGE_SHIFT),
			   n << PAGE_SHIFT);
}

struct rearm_arg {
	struct tern_region *r;
	const unsigned long *map;
};

/*
 * Re-arm the round's pages that @vma maps, with its mm's mmap_read_lock
 * held (by tern_views_for_each): per span, lock the folios, zap the
 * span's ptes in this vma only, unlock.
 */
static int rearm_view(struct vm_area_struct *vma, void *data)
{
	struct rearm_arg *a = data;
	pgoff_t first = vma->vm_pgoff;
	pgoff_t last = min_t(pgoff_t, first + vma_pages(vma), a->r->npages);

	rearm_spans(a->r, a->map, first, last, zap_view, vma);
	return 0;
}

static void rearm(struct tern_region *r, const unsigned long *map)
{
	struct rearm_arg a = { .r = r, .map = map };

	/* A view being unmapped, or no memory: zap through the file. */
	if (tern_views_for_each(&r->views, rearm_view, &a))
		rearm_spans(r, map, 0, r->npages, zap_file, r);
}

/*
 * Whether someone beyond the page cache, the folio's mappings and our own
 * reference holds @folio: a DMA pin (FOLL_PIN), or a plain reference such
 * as 6.1's block O_DIRECT, AIO or access_remote_vm take (FOLL_GET).  Such
 * a holder may write the page after its re-arm with no fault.  A
 * transient reference (an LRU batch, a page still in a socket after a
 * splice) only costs the page one more round.
 */
static bool folio_held(struct folio *folio, struct address_space *mapping)
{
	if (READ_ONCE(folio->mapping) != mapping)
		return false;
	if (folio_maybe_dma_pinned(folio))
		return true;
	return folio_ref_count(folio) >
	       folio_nr_pages(folio) + tern_folio_mapcount(folio) + 1;
}

/*
 * After the re-arm, keep the held pages of @map dirty, as marked pages of
 * the next round, and in @map again so the next harvest looks at them
 * even if no fault brings them back: a page stays dirty, round after
 * round, until its holder lets go.  @map's runs are cleared as they are
 * walked and set again for each held folio.
 */
static u64 keep_held(struct tern_region *r, unsigned long *map)
{
	struct address_space *mapping = tern_region_mapping(r);
	unsigned long start, end, from = 0;
	struct folio_batch fbatch;
	struct folio *folio;
	unsigned int i;
	pgoff_t idx, n;
	u64 kept = 0;

	folio_batch_init(&fbatch);
	while (tern_track_next_run(map, r->npages, from, &start, &end)) {
		bitmap_clear(map, start, end - start);
		idx = start;
		while (filemap_get_folios(mapping, &idx, end - 1, &fbatch)) {
			for (i = 0; i < folio_batch_count(&fbatch); i++) {
				folio = fbatch.folios[i];
				if (!folio_held(folio, mapping) ||
				    folio->index >= r->npages)
					continue;
				n = min_t(pgoff_t, folio_nr_pages(folio),
					  r->npages - folio->index);
				keep_dirty(r, folio);
				bitmap_set(map, folio->index, n);
				kept += n;
			}
			folio_batch_release(&fbatch);
		}
		from = end;
		cond_resched();
	}
	return kept;
}

int tern_track_start(struct tern_region *r)
{
	struct tern_track *t = &r->track;
	int ret = 0;

	mutex_lock(&t->lock);
	if (t->on) {
		ret = -EBUSY;
		goto out;
	}
	/* Everything is dirty at first: round 1 carries the whole region. */
	bitmap_set(t->dirty, 0, r->npages);
	WRITE_ONCE(t->on, true);
out:
	mutex_unlock(&t->lock);
	if (!ret)
		tern_nl_notify(r, TERN_EVENT_TRACK_START);
	return ret;
}

int tern_track_stop(struct tern_region *r)
{
	struct tern_track *t = &r->track;
	int ret = 0;

	mutex_lock(&t->lock);
	if (!t->on) {
		ret = -EINVAL;
		goto out;
	}
	WRITE_ONCE(t->on, false);
	bitmap_zero(t->dirty, r->npages);
	bitmap_zero(t->marked, r->npages);
	bitmap_zero(t->told, r->npages);
	bitmap_zero(t->held, r->npages);
out:
	mutex_unlock(&t->lock);
	if (!ret)
		tern_nl_notify(r, TERN_EVENT_TRACK_STOP);
	return ret;
}

/*
 * Take one round into @out (npages bits): the bits are moved out word by
 * word with xchg, so a fault racing the harvest lands either in @out or in
 * the tracker, never nowhere; then the round's pages are re-armed.
 */
int tern_track_harvest(struct tern_region *r, unsigned long *out,
		       u64 *round, u64 *pages)
{
	unsigned long i, nwords = BITS_TO_LONGS(r->npages);
	struct tern_track *t = &r->track;
	u64 t0, ns, nr, held;

	mutex_lock(&t->lock);
	if (!t->on) {
		mutex_unlock(&t->lock);
		return -ENODATA;
	}
	t0 = ktime_get_ns();
	/*
	 * The marked pages first: a pinned page the re-arm finds is marked
	 * for the next round, not this one.  Then the faulted pages, which
	 * alone are re-armed.
	 */
	for (i = 0; i < nwords; i++)
		out[i] = xchg(&t->marked[i], 0) | xchg(&t->told[i], 0);
	for (i = 0; i < nwords; i++)
		t->scratch[i] = xchg(&t->dirty[i], 0);
	rearm(r, t->scratch);
	/* Held pages: this round's faulted ones and the last harvest's. */
	for (i = 0; i < nwords; i++) {
		out[i] |= t->scratch[i];
		t->held[i] |= t->scratch[i];
	}
	held = keep_held(r, t->held);
	ns = ktime_get_ns() - t0;
	nr = bitmap_weight(out, r->npages);

	spin_lock(&t->stats_lock);
	t->round++;
	t->last_pages = nr;
	t->dirtied += nr;
	t->last_ns = ns;
	t->total_ns += ns;
	t->held_pages += held;
	*round = t->round;
	spin_unlock(&t->stats_lock);
	*pages = nr;
	mutex_unlock(&t->lock);
	tern_nl_notify(r, TERN_EVENT_ROUND);
	return 0;
}

/*
 * OR whole words into @set (`marked` or `told`), atomically per word:
 * faults and stream writes set bits of the same words meanwhile.  A bit
 * at a time cost TERN_TRACK_MARK more than KVM's own log harvest.
 */
static void bits_or(unsigned long *set, unsigned long first_word,
		    const unsigned long *map, unsigned long nwords)
{
	unsigned long i;

	for (i = 0; i < nwords; i++)
		if (map[i])
			set_mask_bits(&set[first_word + i], 0, map[i]);
}

/*
 * Give back a round that never reached its reader (the bitmap could not be
 * copied out, a page could not be read, the stream closed mid-round): its
 * pages are dirty again, so the next round carries them.  The round's
 * pages were re-armed, so this only adds pages, never loses one.  After a
 * stop the dirty set is gone, and so is the round.
 */
void tern_track_unharvest(struct tern_region *r, const unsigned long *map)
{
	struct tern_track *t = &r->track;

	mutex_lock(&t->lock);
	if (t->on)
		bits_or(t->marked, 0, map, BITS_TO_LONGS(r->npages));
	mutex_unlock(&t->lock);
}

/*
 * TERN_TRACK_MARK: the VMM's word for writes no fault saw.  The whole
 * bitmap is copied and checked before any bit is set, so a bad one marks
 * nothing.
 */
int tern_track_mark_user(struct tern_region *r,
			 const struct tern_track_mark *m)
{
	struct tern_track *t = &r->track;
	unsigned long *map, nbits;
	int ret = 0;

	if (m->flags || m->reserved || !m->bitmap_size ||
	    m->bitmap_size % sizeof(u64) || m->first_page % 64 ||
	    m->first_page >= r->npages ||
	    m->bitmap_size > DIV_ROUND_UP(r->npages - m->first_page, 64) *
			     sizeof(u64))
		return -EINVAL;
	nbits = m->bitmap_size * BITS_PER_BYTE;
	map = kvmalloc(m->bitmap_size, GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;
	if (copy_from_user(map, u64_to_user_ptr(m->bitmap), m->bitmap_size)) {
		ret = -EFAULT;
		goto out;
	}
	if (find_next_bit(map, nbits, r->npages - m->first_page) < nbits) {
		ret = -EINVAL;
		goto out;
	}
	mutex_lock(&t->lock);
	if (!t->on)
		ret = -ENODATA;
	else
		bits_or(t->told, m->first_page / BITS_PER_LONG, map,
			nbits / BITS_PER_LONG);
	mutex_unlock(&t->lock);
out:
	kvfree(map);
	return ret;
}

void tern_track_get_stats(struct tern_region *r, struct tern_track_stats *st)
{
	struct tern_track *t = &r->track;

	spin_lock(&t->stats_lock);
	st->rounds = t->round;
	st->last_pages = t->last_pages;
	st->dirtied = t->dirtied;
	st->last_harvest_ns = t->last_ns;
	st->harvest_ns = t->total_ns;
	st->held = t->held_pages;
	spin_unlock(&t->stats_lock);
	st->write_faults = atomic64_read(&t->write_faults);
}
