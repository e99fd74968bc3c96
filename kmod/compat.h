/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences, in one place.  Built against Debian's 6.1;
 * a newer kernel changes the helpers here, not the logic that calls them.
 */
#ifndef _TERN_COMPAT_H
#define _TERN_COMPAT_H

#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/version.h>
#include <linux/xarray.h>

/*
 * The folio at @index of a shmem mapping without allocating: NULL for a
 * hole, a swap entry (xa_is_value) for a page out on swap.
 */
static inline struct folio *tern_folio_peek(struct address_space *mapping,
					    pgoff_t index)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
	return __filemap_get_folio(mapping, index, FGP_ENTRY, 0);
#else
	return filemap_get_entry(mapping, index);
#endif
}

static inline void tern_vma_set_flags(struct vm_area_struct *vma,
				      unsigned long flags)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
	vma->vm_flags |= flags;
#else
	vm_flags_set(vma, flags);
#endif
}

/*
 * Zap the ptes of [start, start + size) inside one vma, under its mm's
 * mmap_read_lock: the per-mapping re-arm.  6.1 exports zap_page_range();
 * 6.3 replaced it with zap_page_range_single() for a range in one vma.
 */
static inline void tern_zap_vma_range(struct vm_area_struct *vma,
				      unsigned long start, unsigned long size)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
	zap_page_range(vma, start, size);
#else
	zap_page_range_single(vma, start, size, NULL);
#endif
}

/*
 * The number of ptes and pmds mapping a page-cache folio, each holding a
 * reference.  folio_mapcount() is not exported on 6.1.  There a pmd map
 * of a file folio counts once in the entire mapcount and once in every
 * page's _mapcount; a pte map only in its page's.
 */
static inline int tern_folio_mapcount(struct folio *folio)
{
	int i, entire, nr, sum = 0;

	if (!folio_test_large(folio))
		return atomic_read(&folio->_mapcount) + 1;
	entire = folio_entire_mapcount(folio);
	nr = folio_nr_pages(folio);
	for (i = 0; i < nr; i++)
		sum += atomic_read(&folio_page(folio, i)->_mapcount) + 1;
	return sum - entire * (nr - 1);
}

#endif /* _TERN_COMPAT_H */
