/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A region: one shmem file of fixed size behind a region fd, mapped shared
 * by the VMM, KVM and helpers, with its dirty tracker.
 */
#ifndef _TERN_REGION_H
#define _TERN_REGION_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/uidgid.h>
#include <linux/tern.h>

#include "track.h"
#include "view.h"

struct net;

struct tern_region {
	struct list_head node;		/* tern_regions, under tern_regions_lock */
	u32 id;
	char name[TERN_REGION_NAME_MAX];
	u64 size;
	pgoff_t npages;
	struct file *shmem;		/* the pages; one reference, ours */
	struct file *file;		/* the region fd's file: not a reference */
	struct net *net;		/* creator's netns, for events and dumps */
	kuid_t owner;			/* creator's euid, for dumps */
	atomic_t streams;
	atomic64_t pages_held;		/* by its streams, for GET_STATS */
	struct tern_track track;
	struct tern_views views;	/* tracked vmas, for the re-arm */
};

int tern_region_create(const struct tern_region_create *req);
struct tern_region *tern_region_from_file(struct file *file);
bool tern_region_file_is_map_only(struct file *file);
struct address_space *tern_region_mapping(struct tern_region *r);

/* Walk the regions with id >= *cursor; fn returning non-zero stops. */
int tern_region_for_each(u32 *cursor, u32 *gen,
			 int (*fn)(struct tern_region *r, void *arg), void *arg);
u32 tern_region_count(void);

struct tern_region_totals {
	u32 regions;
	u32 streams;
	u64 pages;
};

void tern_region_totals(const struct net *net, struct tern_region_totals *t);

int tern_region_init(void);
void tern_region_exit(void);

#endif /* _TERN_REGION_H */
