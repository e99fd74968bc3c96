/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page-stream record format that tern.ko emits and accepts, as agreed
 * for include/uapi/linux/tern.h.  Until the module's header carries it,
 * the same layout is declared here so both trackers share one format.
 */
#ifndef TERN_MIGRATION_STREAM_H
#define TERN_MIGRATION_STREAM_H

#include <linux/tern.h>

#ifndef TERN_STREAM_MAGIC
#define TERN_STREAM_MAGIC	0x4d525354	/* "TSRM" in memory order */
#define TERN_STREAM_VERSION	1
struct tern_stream_hdr {
	__u32 magic;
	__u16 version;
	__u16 hdr_len;
	__u32 page_size;
	__u32 flags;
	__u64 region_size;
	__u64 round;
};
enum { TERN_REC_F_ZERO = 1 << 0, TERN_REC_F_END = 1 << 1, __TERN_REC_F_ALL = 3 };
struct tern_page_rec {
	__u64 offset;
	__u32 length;
	__u16 flags;
	__u16 reserved;
};
#endif

_Static_assert(sizeof(struct tern_stream_hdr) == 32, "stream header is 32 bytes");
_Static_assert(sizeof(struct tern_page_rec) == 16, "page record is 16 bytes");

#endif /* TERN_MIGRATION_STREAM_H */
