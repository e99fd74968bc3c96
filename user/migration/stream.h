/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page-stream record format of tern.ko (include/uapi/linux/tern.h),
 * which both trackers put on the wire; its sizes pinned here too.
 */
#ifndef TERN_MIGRATION_STREAM_H
#define TERN_MIGRATION_STREAM_H

#include <linux/tern.h>

_Static_assert(sizeof(struct tern_stream_hdr) == 32, "stream header is 32 bytes");
_Static_assert(sizeof(struct tern_page_rec) == 16, "page record is 16 bytes");

#endif /* TERN_MIGRATION_STREAM_H */
