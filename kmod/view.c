// SPDX-License-Identifier: GPL-2.0
/*
 * Tracked views: the list of a region's write-notify vmas, kept by the
 * vm_ops open/close pair, and the walk that visits each of them under its
 * own mm's mmap_read_lock so that the harvest can zap it alone.
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "view.h"

struct tern_view {
	struct list_head node;
	struct vm_area_struct *vma;	/* valid while listed: close unlists */
	struct mm_struct *mm;		/* vma->vm_mm, outlives the vma */
};

void tern_views_init(struct tern_views *v)
{
	mutex_init(&v->lock);
	INIT_LIST_HEAD(&v->list);
	v->lost = 0;
}

/* Every vma is closed before its region goes: the list is empty here. */
void tern_views_destroy(struct tern_views *v)
{
	WARN_ON_ONCE(!list_empty(&v->list) || v->lost);
}

/*
 * From mmap and vm_ops->open (fork, split, mremap), which cannot fail: a
 * vma we have no memory to list is counted instead, and while any such
 * vma lives the harvest zaps the whole mapping, as it did before views.
 */
void tern_view_add(struct tern_views *v, struct vm_area_struct *vma)
{
	struct tern_view *tv = kmalloc(sizeof(*tv), GFP_KERNEL_ACCOUNT);

	mutex_lock(&v->lock);
	if (tv) {
		tv->vma = vma;
		tv->mm = vma->vm_mm;
		list_add_tail(&tv->node, &v->list);
	} else {
		v->lost++;
	}
	mutex_unlock(&v->lock);
}

void tern_view_del(struct tern_views *v, struct vm_area_struct *vma)
{
	struct tern_view *tv, *found = NULL;

	mutex_lock(&v->lock);
	list_for_each_entry(tv, &v->list, node) {
		if (tv->vma == vma) {
			found = tv;
			list_del(&found->node);
			break;
		}
	}
	if (!found && !WARN_ON_ONCE(!v->lost))
		v->lost--;
	mutex_unlock(&v->lock);
	kfree(found);
}

static bool mm_listed(struct mm_struct **mms, unsigned int nr,
		      struct mm_struct *mm)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (mms[i] == mm)
			return true;
	return false;
}

/*
 * The views of one mm, with its mmap_read_lock held by the caller: no vma
 * of it can be created, split, moved or detached meanwhile.  A listed vma
 * that is no longer in the mm's tree is being unmapped (munmap detaches,
 * then zaps under the read lock, then closes): its ptes are not ours to
 * zap, so the caller falls back to zapping through the file.
 */
static int views_of_mm(struct tern_views *v, struct mm_struct *mm,
		       int (*fn)(struct vm_area_struct *vma, void *arg),
		       void *arg)
{
	struct vm_area_struct **vmas = NULL;
	unsigned int nr = 0, cap = 0, i;
	struct tern_view *tv;
	int ret = 0;

	mutex_lock(&v->lock);
	list_for_each_entry(tv, &v->list, node)
		cap += tv->mm == mm;
	if (cap)
		vmas = kmalloc_array(cap, sizeof(*vmas), GFP_KERNEL);
	if (cap && !vmas)
		ret = -ENOMEM;
	list_for_each_entry(tv, &v->list, node) {
		if (ret)
			break;
		if (tv->mm != mm)
			continue;
		if (vma_lookup(mm, tv->vma->vm_start) != tv->vma)
			ret = -EAGAIN;
		else
			vmas[nr++] = tv->vma;
	}
	mutex_unlock(&v->lock);

	for (i = 0; !ret && i < nr; i++)
		ret = fn(vmas[i], arg);
	kfree(vmas);
	return ret;
}

/*
 * Call @fn for every tracked vma, each under its mm's mmap_read_lock (the
 * lock is taken first, the list's after it, as vm_ops->open/close do).
 * An mm is visited once; the list is read again after each, so a view
 * that appears meanwhile in a new mm (a fork) is visited too.  An mm with
 * no users left runs no code and is being torn down: skipped.  Returns 0,
 * or non-zero when a view could not be reached and the caller must zap
 * through the file instead.
 */
int tern_views_for_each(struct tern_views *v,
			int (*fn)(struct vm_area_struct *vma, void *arg),
			void *arg)
{
	struct mm_struct **done = NULL, **grown, *mm;
	unsigned int nr_done = 0, cap = 0, i;
	struct tern_view *tv;
	int ret = 0;

	for (;;) {
		mm = NULL;
		mutex_lock(&v->lock);
		if (v->lost) {
			ret = -EAGAIN;
		} else {
			list_for_each_entry(tv, &v->list, node) {
				if (mm_listed(done, nr_done, tv->mm))
					continue;
				mm = tv->mm;
				mmgrab(mm);	/* not reused while in done */
				break;
			}
		}
		mutex_unlock(&v->lock);
		if (ret || !mm)
			break;
		if (nr_done == cap) {
			cap = cap ? 2 * cap : 4;
			grown = krealloc_array(done, cap, sizeof(*done),
					       GFP_KERNEL);
			if (!grown) {
				mmdrop(mm);
				ret = -ENOMEM;
				break;
			}
			done = grown;
		}
		done[nr_done++] = mm;
		if (!mmget_not_zero(mm))
			continue;
		mmap_read_lock(mm);
		ret = views_of_mm(v, mm, fn, arg);
		mmap_read_unlock(mm);
		mmput(mm);
		if (ret)
			break;
	}
	for (i = 0; i < nr_done; i++)
		mmdrop(done[i]);
	kfree(done);
	return ret;
}
