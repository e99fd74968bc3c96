/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tracked views of a region: every vma that maps it with write-notify,
 * in any process, so that a harvest re-arms those mappings one by one and
 * leaves the KVM view (and KVM's sptes over it) alone.
 */
#ifndef _TERN_VIEW_H
#define _TERN_VIEW_H

#include <linux/list.h>
#include <linux/mutex.h>

struct vm_area_struct;

struct tern_views {
	struct mutex lock;	/* taken under mmap_lock, never around it */
	struct list_head list;	/* struct tern_view, one per tracked vma */
	unsigned int lost;	/* tracked vmas not listed (no memory) */
};

void tern_views_init(struct tern_views *v);
void tern_views_destroy(struct tern_views *v);
void tern_view_add(struct tern_views *v, struct vm_area_struct *vma);
void tern_view_del(struct tern_views *v, struct vm_area_struct *vma);
int tern_views_for_each(struct tern_views *v,
			int (*fn)(struct vm_area_struct *vma, void *arg),
			void *arg);

#endif /* _TERN_VIEW_H */
