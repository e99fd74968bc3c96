/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page-stream fds: rounds of dirty pages out (read, splice) and in (write,
 * splice from a socket), in the format of include/uapi/linux/tern.h.
 */
#ifndef _TERN_STREAM_H
#define _TERN_STREAM_H

#include <linux/types.h>

struct tern_region;
struct tern_stream_hdr;
struct tern_page_rec;
struct tern_stream_set;

struct file;

struct file *tern_stream_file(struct tern_region *r);
int tern_stream_open(struct tern_region *r);
int tern_stream_open_set(struct tern_region *r,
			 const struct tern_stream_set *req);
u32 tern_stream_count(void);
u64 tern_stream_pages_held(void);

/* Pure validators, also run by the boot-time self-test. */
int tern_stream_check_hdr(const struct tern_stream_hdr *h, u64 region_size);
int tern_stream_check_rec(const struct tern_page_rec *rec, u64 region_size,
			  u64 nrec);

int tern_stream_init(void);
void tern_stream_exit(void);

#endif /* _TERN_STREAM_H */
