/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Tern: the ABI between tern.ko and its users (ternvm, ternctl).
 *
 * Documentation/tern.rst expands every part of this header; this header is
 * the source.
 *
 * /dev/tern
 * ---------
 * A misc device, mode 0660 (module parameter `mode`), group `tern` by the
 * udev rule, as /dev/kvm is group `kvm`.  Opening it pins the module
 * (rmmod is refused while any Tern file is open).  An unknown ioctl gets
 * -ENOTTY.
 *
 *   TERN_CREATE_REGION: struct tern_region_create, in.  Returns a new region
 *     fd (O_RDWR | O_CLOEXEC) backed by shmem, charged to the caller's memory
 *     cgroup as pages are touched.  -EINVAL and nothing allocated if size is
 *     0, not a multiple of 4096 or above TERN_REGION_SIZE_MAX, if flags or
 *     reserved are not 0, or if name is empty or not NUL-terminated.
 *     -EFAULT for a bad pointer, -ENOMEM.
 *
 * Region fd
 * ---------
 * mmap(MAP_SHARED) maps the region's pages (offset + length inside the
 * region, else -EINVAL; MAP_PRIVATE is -EINVAL).  Every mapping of the same
 * fd, in any process, and KVM memslots over them, see the same pages.  The
 * region lives while its fd, a mapping or a stream of it exists.  Ioctls:
 *
 *   TERN_REGION_INFO: struct tern_region_info, out.
 *   TERN_TRACK_START: arg 0 (else -EINVAL).  Tracking on; every page of the
 *     region is dirty for the first round, so round 1 carries the whole
 *     region.  -EBUSY if already on.
 *   TERN_TRACK_STOP: arg 0.  Tracking off, dirty set dropped.  -EINVAL if off.
 *   TERN_TRACK_HARVEST: struct tern_harvest, in/out.  Takes one round: the
 *     dirty set is returned into the caller's bitmap (bit i of little-endian
 *     u64 word i / 64 = page i) and cleared, and those pages are re-armed
 *     before the ioctl returns.  -ENODATA if tracking is off, -EINVAL if
 *     bitmap_size is below (pages + 63) / 64 * 8 bytes; -EFAULT if the
 *     bitmap cannot be written, and then the round stays in the dirty set.
 *   TERN_TRACK_STATS: struct tern_track_stats, out.
 *   TERN_TRACK_MARK: struct tern_track_mark, in.  Adds the pages whose
 *     bits are set to the dirty set (the next round carries them).
 *     -ENODATA if tracking is off; -EINVAL if flags or reserved are not
 *     0, bitmap_size is 0 or not a multiple of 8, first_page is not a
 *     multiple of 64, or a set bit names a page past the region's end
 *     (nothing is marked then); -EFAULT for a bad pointer.
 *   TERN_STREAM_OPEN: arg 0.  Returns a new page-stream fd of the region.
 *   TERN_STREAM_OPEN_SET: struct tern_stream_set, in.  Opens a *stream
 *     set*: count page-stream fds (O_RDONLY | O_CLOEXEC) of the region
 *     that share one harvest per round, each yielding a disjoint share of
 *     it (see "Stream set" below); their numbers are written to the
 *     __s32[count] array at fds.  -EINVAL if count is 0 or above
 *     TERN_STREAM_SET_MAX or flags is not 0; -EFAULT if the array cannot
 *     be written; -EMFILE, -ENOMEM.  On any error no fd is installed.
 *     -EINVAL for an unknown flag.  TERN_STREAM_SET_F_DEFER: see "Stream
 *     set".
 *   TERN_REGION_MAP_FD: arg 0.  Returns a new map-only fd of the region
 *     (O_RDWR | O_CLOEXEC) for a helper: mmap and TERN_REGION_INFO work
 *     and writes through its mappings are tracked; every other region
 *     ioctl is -EPERM, and netlink refuses it (-EPERM), so only the owner
 *     fd (the one TERN_CREATE_REGION returned) tracks, harvests and
 *     streams.  It keeps the region alive as the owner fd does.
 *   TERN_REGION_KVM_FD: arg 0 (else -EINVAL).  Returns a new KVM view fd
 *     of the region (O_RDWR | O_CLOEXEC), owner fd only (a map-only or
 *     KVM view fd gets -EPERM).  Its mmap(MAP_SHARED) is a *KVM view*:
 *     the same pages with no write-notify (ptes writable from the first
 *     write fault), never re-armed by a harvest, and writes through it
 *     are NOT tracked.  It is for a KVM memslot whose writes KVM's dirty
 *     log tracks: the VMM hands that log to TERN_TRACK_MARK each round
 *     and keeps the view's address to itself (device models, vhost and
 *     helpers use tracked mappings).  Otherwise it is a map-only fd:
 *     TERN_REGION_INFO works, other ioctls and netlink are -EPERM.
 *
 * A region's pages cannot be punched out: madvise(MADV_REMOVE) on a
 * mapping (and fallocate(PUNCH_HOLE) on its shmem file) is -EPERM, since
 * it would change contents without a write fault.
 *
 * The tracking invariant: a write to a region is either in the data sent
 * for a round or in the next round.  Harvesting clears a page's bit and
 * re-arms the page (its next write faults and sets the bit again) before
 * anyone reads the page for that round; a write that lands before the
 * re-arm is in the data read after it, a write after it is in the next
 * round.  This holds for the mappings of the owner and map-only fds (the
 * tracked views); KVM views are neither tracked nor re-armed.  Writes through the stream fd (the destination path) set bits too.
 * A page someone holds past a harvest (a DMA pin, or a plain reference
 * such as block O_DIRECT takes on 6.1) may be written with no fault: it
 * stays dirty, round after round, until let go (counted in `held`; a
 * transient reference, e.g. a page still in a socket after a splice, only
 * costs one more round).  A write
 * fault on a large folio (2 MiB, MADV_HUGEPAGE) marks the whole folio.
 *
 * Page-stream fd
 * --------------
 * read(2) and splice(2) to a pipe yield one round per call sequence: the
 * first read after open (or after a round's end record) harvests a round
 * (as TERN_TRACK_HARVEST) and a read never crosses a round's end, so a
 * reader reads until it has seen the end record.  -ENODATA if tracking is
 * off.  splice passes the region's page references to the pipe; a page
 * written after the harvest may change in the pipe, but that write faulted
 * after the re-arm and is in the next round (the invariant above), so the
 * final round, taken with writers stopped, carries each page's last value.
 * A round not read to its end record when the stream is closed, or whose
 * page cannot be read, goes back into the dirty set; after a read error
 * the stream's read side fails with it from then on.
 *
 * write(2) and splice(2) from a pipe or socket take rounds in the same
 * format and write them into the region.  Every header and record is
 * checked before its page is touched: -EBADMSG for a wrong magic, version,
 * hdr_len or page_size; -EINVAL for a region_size other than this region's,
 * flags or reserved not 0, an offset unaligned or outside the region, a
 * length other than 4096 for data or 0 for zero/end records, both ZERO and
 * END, unknown record flags, or an end record whose count differs.  The
 * error is sticky: the fd refuses further writes.  Pages of earlier records
 * stay written.  TERN_STREAM_STATUS says where the stream stopped.
 *
 * Stream set
 * ----------
 * The members of a set read rounds as a single stream does, but a round is
 * harvested once for all of them: the first member to read while the set
 * is between rounds harvests it (as TERN_TRACK_HARVEST, same invariant),
 * and every member then claims runs of the round's pages (up to 64, one
 * bitmap word, per claim) from a shared cursor as it reads, so a faster
 * reader gets more.  Every page of the round goes to exactly one member.
 * Each member's share is framed as a whole round: its own stream header
 * (the same round number on every member), its records in increasing
 * offset order, its own end record counting its own records.  A member
 * that has read its end record and reads again blocks (interruptibly;
 * O_NONBLOCK: -EAGAIN; poll(2) reports EPOLLIN when it would not block)
 * until every member has ended the round; the next read begins the next
 * round.  A member closed or failing a read mid-round gives back the
 * pages it claimed that round (they are dirty again); pages nobody
 * claimed stay for the other members, and go back to the dirty set when
 * every member has closed or failed.  A member's read error fails its own
 * read side only.  TERN_STREAM_STATUS counts per member.  Members are
 * read-only (write(2) is -EBADF).  TERN_STREAM_OPEN is a set of one.
 *
 * A set opened with TERN_STREAM_SET_F_DEFER leaves out of the open round
 * each page that was written again since the round's harvest and is not
 * framed yet: a write fault through a tracked view, or a bit the VMM
 * handed to TERN_TRACK_MARK meanwhile (say, the vCPUs' dirty log taken in
 * the middle of a round).  Such a page is in the dirty set, so the next
 * round carries it, with its newer contents; sending it now too would
 * send it twice.  A page kept dirty for a holder is not left out.  Counted
 * in read_deferred.  The last round, read with the writers stopped, finds
 * nothing to leave out; a VMM that is not sure nothing writes then opens
 * it without the flag.
 *
 *   TERN_STREAM_STATUS: struct tern_stream_status, out (any size from
 *   TERN_STREAM_STATUS_SIZE_VER0; the rest of a larger struct is filled
 *   in as far as the module knows it).
 *
 * Stream format (all fields little-endian)
 * ----------------------------------------
 *   round  = tern_stream_hdr, tern_page_rec [+ 4096 bytes data] ..., end rec
 *   tern_stream_hdr (32 bytes)
 *     0  magic        TERN_STREAM_MAGIC
 *     4  version      TERN_STREAM_VERSION
 *     6  hdr_len      32
 *     8  page_size    4096
 *     12 flags        0
 *     16 region_size  bytes
 *     24 round        harvest round number, from 1
 *   tern_page_rec (16 bytes)
 *     0  offset       page-aligned offset; END: number of page records
 *     8  length       4096 for data (followed by the page); 0 for ZERO, END
 *     12 flags        TERN_REC_F_ZERO (all-zero page, no data), TERN_REC_F_END
 *     14 reserved     0
 *   Records of a round come in increasing offset order.
 *
 * Generic netlink family TERN_GENL_NAME, version TERN_GENL_VERSION
 * -----------------------------------------------------------------
 * Every request attribute is validated strictly (unknown attribute, wrong
 * type or length: -EINVAL, extack names the attribute).  A caller proves it
 * may act on a region by passing the region's fd: -EINVAL if absent,
 * -EBADF if not open, -EINVAL if open but not a region (extack says which).
 *
 *   TERN_CMD_GET_REGION: doit or dump.
 *     request (doit):
 *       TERN_REGION_A_FD: NLA_U32, required
 *     reply (one message per region; a dump lists every region of the
 *     caller's network namespace to CAP_SYS_ADMIN, else those whose creator
 *     had the caller's euid; NLM_F_DUMP_INTR if the list changed meanwhile):
 *       TERN_REGION_A_ID: NLA_U32, module-unique, never 0
 *       TERN_REGION_A_NAME: NLA_NUL_STRING, < TERN_REGION_NAME_MAX
 *       TERN_REGION_A_SIZE: NLA_U64, bytes
 *       TERN_REGION_A_FLAGS: NLA_U32, TERN_REGION_F_TRACKING when on
 *       TERN_REGION_A_RESIDENT: NLA_U64, pages in memory
 *       TERN_REGION_A_ROUNDS: NLA_U64, rounds harvested
 *       TERN_REGION_A_LAST_PAGES: NLA_U64, pages in the last round
 *       TERN_REGION_A_DIRTIED: NLA_U64, pages harvested, all rounds
 *       TERN_REGION_A_WRITE_FAULTS: NLA_U64, write faults taken
 *       TERN_REGION_A_LAST_HARVEST_NS: NLA_U64, re-arm time, last round
 *       TERN_REGION_A_HARVEST_NS: NLA_U64, re-arm time, all rounds
 *       TERN_REGION_A_STREAMS: NLA_U32, open stream fds
 *       TERN_REGION_A_HELD: NLA_U64, pages kept dirty for a holder, all
 *         rounds
 *   TERN_CMD_GET_STATS: doit, no request attribute; CAP_NET_ADMIN in the
 *     caller's network namespace (else -EPERM); counts its regions only.
 *     reply:
 *       TERN_STATS_A_REGIONS: NLA_U32, regions alive
 *       TERN_STATS_A_PAGES: NLA_U64, page references the module holds
 *       TERN_STATS_A_STREAMS: NLA_U32, stream fds open
 *   TERN_CMD_TRACK_START, TERN_CMD_TRACK_STOP: doit, as the ioctls.
 *     request:
 *       TERN_REGION_A_FD: NLA_U32, required
 *       TERN_REGION_A_TRACK_FLAGS: NLA_U32, optional, 0; other bits
 *         -EOPNOTSUPP
 *   TERN_CMD_STREAM_OPEN: doit; a single stream (sets are ioctl only).
 *     request:
 *       TERN_REGION_A_FD: NLA_U32, required
 *     reply:
 *       TERN_REGION_A_STREAM_FD: NLA_U32, a new O_CLOEXEC stream fd in the
 *         caller's fd table
 *   TERN_CMD_EVENT: multicast only, group TERN_GENL_MCGRP_EVENTS (joining
 *     needs CAP_NET_ADMIN in the namespace), sent in the region's
 *     creator's network namespace:
 *       TERN_REGION_A_EVENT: NLA_U32, enum tern_event
 *       TERN_REGION_A_ID, TERN_REGION_A_NAME, TERN_REGION_A_SIZE
 *       TERN_REGION_A_ROUNDS, TERN_REGION_A_LAST_PAGES (TERN_EVENT_ROUND)
 * Reply-only attributes in a request are -EINVAL.
 */
#ifndef _UAPI_LINUX_TERN_H
#define _UAPI_LINUX_TERN_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define TERN_DEV_NAME	"tern"

/*
 * ioctl type byte; shared by every /dev/tern and region ioctl.  0xE7 is
 * free in Documentation/userspace-api/ioctl/ioctl-number.rst (6.1: 0xE5
 * fuse, 0xEC cros_ec); numbers 0x01-0x20 are ours.
 */
#define TERN_IOCTL_TYPE	0xE7

#define TERN_PAGE_SIZE		4096
#define TERN_REGION_NAME_MAX	32
#define TERN_REGION_SIZE_MAX	(64ULL << 30)

struct tern_region_create {
	__u64 size;		/* bytes, multiple of 4096, > 0, <= limit */
	__u32 flags;		/* 0 for now; unknown bits -> -EINVAL */
	__u32 reserved;		/* must be 0 */
	char name[TERN_REGION_NAME_MAX];	/* NUL-terminated, non-empty */
};

enum {
	TERN_REGION_F_TRACKING = 1 << 0,
	__TERN_REGION_F_ALL = 1
};

struct tern_region_info {
	__u64 size;
	__u32 id;
	__u32 flags;		/* TERN_REGION_F_* */
	__u64 round;		/* rounds harvested so far */
	char name[TERN_REGION_NAME_MAX];
};

struct tern_harvest {
	__u64 bitmap;		/* in: user pointer to u64 words */
	__u64 bitmap_size;	/* in: bytes at bitmap */
	__u64 round;		/* out: this round's number, from 1 */
	__u64 pages;		/* out: pages in this round */
};

/*
 * Pages the caller knows were written behind the tracker's back: an
 * O_DIRECT read or AIO into guest memory that completed after a harvest
 * (its pages were referenced, not mapped, so no fault was taken), or
 * KVM's own writes without a running vCPU.  Bit i of the bitmap is page
 * first_page + i.
 */
struct tern_track_mark {
	__u64 bitmap;		/* in: user pointer to u64 words */
	__u64 bitmap_size;	/* in: bytes, a multiple of 8, > 0 */
	__u64 first_page;	/* in: page of bit 0, a multiple of 64 */
	__u32 flags;		/* 0 */
	__u32 reserved;		/* 0 */
};

struct tern_track_stats {
	__u64 rounds;
	__u64 last_pages;	/* pages dirtied in the last round */
	__u64 dirtied;		/* pages harvested, all rounds */
	__u64 write_faults;	/* write-notify faults taken */
	__u64 last_harvest_ns;	/* re-arm time of the last round */
	__u64 harvest_ns;	/* re-arm time, all rounds */
	/* Since TERN_TRACK_STATS_SIZE_VER1: */
	__u64 held;		/* pages kept dirty for a holder, all rounds */
};

enum {
	TERN_STREAM_S_IDLE = 0,	/* between rounds */
	TERN_STREAM_S_ROUND = 1	/* inside a round */
};

struct tern_stream_status {
	__u64 consumed;		/* write side: bytes accepted (before the bad item) */
	__u64 records;		/* write side: page records applied */
	__u64 rounds;		/* write side: complete rounds applied */
	__s32 error;		/* write side: 0 or the sticky -errno */
	__u32 state;		/* write side: TERN_STREAM_S_* */
	__u64 read_rounds;	/* read side: rounds produced */
	/* Since TERN_STREAM_STATUS_SIZE_VER1: */
	__u64 read_pages;	/* read side: data page records framed */
	__u64 read_zero;	/* read side: zero page records framed */
	/* Since TERN_STREAM_STATUS_SIZE_VER2: */
	__u64 read_deferred;	/* read side: pages left for the next round */
};

#define TERN_STREAM_SET_MAX	16

enum {
	TERN_STREAM_SET_F_DEFER = 1 << 0,
	__TERN_STREAM_SET_F_ALL = 1
};

struct tern_stream_set {
	__u32 count;		/* in: members, 1..TERN_STREAM_SET_MAX */
	__u32 flags;		/* in: TERN_STREAM_SET_F_* */
	__u64 fds;		/* in: user pointer to __s32[count]; out there: the fds */
};

/*
 * TERN_STREAM_STATUS's size is in its number: the module answers any
 * size from VER0 up and fills what the caller's struct has room for.
 */
#define TERN_STREAM_STATUS_SIZE_VER0	40
#define TERN_STREAM_STATUS_SIZE_VER1	56
#define TERN_STREAM_STATUS_SIZE_VER2	64

/*
 * Every ioctl struct may grow at its end; the module takes any size from
 * its first release's, given here (release 0.1.0), in the command number.
 * A larger struct's unknown tail must be zero (-E2BIG); output beyond
 * what the module knows is zeroed.  Build with the header you have.
 */
#define TERN_REGION_CREATE_SIZE_VER0	48
#define TERN_REGION_INFO_SIZE_VER0	56
#define TERN_HARVEST_SIZE_VER0		32
#define TERN_TRACK_STATS_SIZE_VER0	48
#define TERN_TRACK_STATS_SIZE_VER1	56
#define TERN_TRACK_MARK_SIZE_VER0	32
#define TERN_STREAM_SET_SIZE_VER0	16

#define TERN_CREATE_REGION	_IOW(TERN_IOCTL_TYPE, 0x01, struct tern_region_create)
#define TERN_REGION_INFO	_IOR(TERN_IOCTL_TYPE, 0x10, struct tern_region_info)
#define TERN_TRACK_START	_IO(TERN_IOCTL_TYPE, 0x11)
#define TERN_TRACK_STOP		_IO(TERN_IOCTL_TYPE, 0x12)
#define TERN_TRACK_HARVEST	_IOWR(TERN_IOCTL_TYPE, 0x13, struct tern_harvest)
#define TERN_TRACK_STATS	_IOR(TERN_IOCTL_TYPE, 0x14, struct tern_track_stats)
#define TERN_STREAM_OPEN	_IO(TERN_IOCTL_TYPE, 0x15)
#define TERN_REGION_MAP_FD	_IO(TERN_IOCTL_TYPE, 0x16)
#define TERN_TRACK_MARK		_IOW(TERN_IOCTL_TYPE, 0x17, struct tern_track_mark)
#define TERN_REGION_KVM_FD	_IO(TERN_IOCTL_TYPE, 0x18)
#define TERN_STREAM_OPEN_SET	_IOW(TERN_IOCTL_TYPE, 0x19, struct tern_stream_set)
#define TERN_STREAM_STATUS	_IOR(TERN_IOCTL_TYPE, 0x20, struct tern_stream_status)

/* Page stream: one round = stream header, records, end record.  Little-endian. */
#define TERN_STREAM_MAGIC	0x4d525354	/* "TSRM" in memory order */
#define TERN_STREAM_VERSION	1

struct tern_stream_hdr {		/* 32 bytes */
	__le32 magic;
	__le16 version;
	__le16 hdr_len;			/* sizeof(struct tern_stream_hdr) */
	__le32 page_size;		/* 4096 */
	__le32 flags;			/* 0 */
	__le64 region_size;
	__le64 round;			/* harvest round number, from 1 */
};

enum {
	TERN_REC_F_ZERO = 1 << 0,
	TERN_REC_F_END = 1 << 1,
	__TERN_REC_F_ALL = 3
};

struct tern_page_rec {			/* 16 bytes, then `length` bytes of data */
	__le64 offset;			/* page-aligned offset; END: number of page records in the round */
	__le32 length;			/* 4096 for a data page; 0 with F_ZERO or F_END */
	__le16 flags;			/* TERN_REC_F_* */
	__le16 reserved;			/* 0 */
};

/* Generic netlink. */
#define TERN_GENL_NAME		"tern"
#define TERN_GENL_VERSION	1
#define TERN_GENL_MCGRP_EVENTS	"events"

enum tern_cmd {
	TERN_CMD_UNSPEC,
	TERN_CMD_GET_REGION,
	TERN_CMD_GET_STATS,
	TERN_CMD_TRACK_START,
	TERN_CMD_TRACK_STOP,
	TERN_CMD_STREAM_OPEN,
	TERN_CMD_EVENT,
	__TERN_CMD_MAX
};
#define TERN_CMD_MAX (__TERN_CMD_MAX - 1)

enum tern_region_attrs {
	TERN_REGION_A_UNSPEC,
	TERN_REGION_A_PAD,
	TERN_REGION_A_FD,
	TERN_REGION_A_ID,
	TERN_REGION_A_NAME,
	TERN_REGION_A_SIZE,
	TERN_REGION_A_FLAGS,
	TERN_REGION_A_RESIDENT,
	TERN_REGION_A_ROUNDS,
	TERN_REGION_A_LAST_PAGES,
	TERN_REGION_A_DIRTIED,
	TERN_REGION_A_WRITE_FAULTS,
	TERN_REGION_A_LAST_HARVEST_NS,
	TERN_REGION_A_HARVEST_NS,
	TERN_REGION_A_STREAMS,
	TERN_REGION_A_HELD,
	TERN_REGION_A_TRACK_FLAGS,
	TERN_REGION_A_STREAM_FD,
	TERN_REGION_A_EVENT,
	__TERN_REGION_A_MAX
};
#define TERN_REGION_A_MAX (__TERN_REGION_A_MAX - 1)

enum {
	__TERN_TRACK_F_ALL = 0
};

enum tern_stats_attrs {
	TERN_STATS_A_UNSPEC,
	TERN_STATS_A_PAD,
	TERN_STATS_A_REGIONS,
	TERN_STATS_A_PAGES,
	TERN_STATS_A_STREAMS,
	__TERN_STATS_A_MAX
};
#define TERN_STATS_A_MAX (__TERN_STATS_A_MAX - 1)

enum tern_event {
	TERN_EVENT_UNSPEC,
	TERN_EVENT_REGION_NEW,
	TERN_EVENT_REGION_DEL,
	TERN_EVENT_TRACK_START,
	TERN_EVENT_TRACK_STOP,
	TERN_EVENT_ROUND,
	__TERN_EVENT_MAX
};

#endif /* _UAPI_LINUX_TERN_H */
