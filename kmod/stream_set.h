/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stream set: page-stream fds of one region that share one harvest per
 * round, each claiming runs of its pages from a shared cursor.  A single
 * stream (TERN_STREAM_OPEN) is a set of one.
 */
#ifndef _TERN_STREAM_SET_H
#define _TERN_STREAM_SET_H

#include <linux/types.h>
#include <linux/wait.h>

struct tern_region;
struct tern_set;

struct tern_set *tern_set_new(struct tern_region *r, u32 flags);
void tern_set_add(struct tern_set *set);
void tern_set_put(struct tern_set *set);

int tern_set_join(struct tern_set *set, u64 *gen, u64 *round_no);
bool tern_set_claim(struct tern_set *set, unsigned long *mine,
		    unsigned long *first, unsigned long *end);
void tern_set_end(struct tern_set *set);
void tern_set_leave(struct tern_set *set, u64 gen, bool mid_round);
bool tern_set_ready(struct tern_set *set, u64 gen);
wait_queue_head_t *tern_set_wq(struct tern_set *set);
bool tern_set_defers(const struct tern_set *set);

#endif /* _TERN_STREAM_SET_H */
