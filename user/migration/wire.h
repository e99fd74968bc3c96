/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The migration wire format: every magic, message type, attribute and limit
 * of Documentation/migration-protocol.rst in one place, and the connection
 * helpers (bounded, cancellable reads and writes; attribute sets via libnl).
 */
#ifndef TERN_MIGRATION_WIRE_H
#define TERN_MIGRATION_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#define MIG_MAGIC		0x47494d54u	/* "TMIG" in memory order */
#define MIG_VERSION_MIN		1
#define MIG_VERSION_MAX		1

/* Limits (the destination refuses anything larger). */
#define MIG_CTRL_MAX		(64u << 10)
#define MIG_CHUNK_DATA_MAX	((1u << 20) + 64)
#define MIG_STATE_PART_MAX	(1u << 20)
#define MIG_STATE_MAX		(64u << 20)
#define MIG_MAX_BLOCKS		64
#define MIG_MAX_DEVICES		256
#define MIG_STR_MAX		256
#define MIG_CPUID_MAX		1024
#define MIG_CHAN_TOKEN_LEN	16	/* the destination's per-migration secret */
#define MIG_UNLOADABLE_MAX	16	/* subsections a destination may not load */

enum mig_msg_type {
	MIG_MSG_UNSPEC,
	MIG_MSG_HELLO,
	MIG_MSG_WELCOME,
	MIG_MSG_RAMBLOCKS,
	MIG_MSG_RAMBLOCKS_OK,
	MIG_MSG_ROUND_BEGIN,
	MIG_MSG_CHUNK,
	MIG_MSG_ROUND_END,
	MIG_MSG_SWITCHOVER,
	MIG_MSG_STATE,
	MIG_MSG_STATE_END,
	MIG_MSG_READY,
	MIG_MSG_COMMIT,
	MIG_MSG_RUNNING,
	MIG_MSG_ERROR,
	MIG_MSG_CHANNEL,	/* first message of an extra channel */
	MIG_MSG_DRAIN,		/* source: answer once all before is in */
	MIG_MSG_DRAINED,
	__MIG_MSG_NR,
};

struct mig_hdr {
	uint32_t type;		/* MIG_MSG_*, little-endian */
	uint32_t len;		/* payload bytes that follow */
};

struct mig_chunk_hdr {
	uint32_t block;		/* index in the source's RAM block list */
	uint32_t length;	/* page-stream bytes that follow */
};

_Static_assert(sizeof(struct mig_hdr) == 8, "mig_hdr is 8 bytes");
_Static_assert(sizeof(struct mig_chunk_hdr) == 8, "mig_chunk_hdr is 8 bytes");

/* Capabilities (MIG_A_CAPS bits). */
#define MIG_CAP_KSTREAM		(1u << 0)	/* pages from tern.ko's stream */
#define MIG_CAP_ZERO_PAGES	(1u << 1)	/* zero page = header only */
#define MIG_CAP_DRAIN		(1u << 2)	/* drain answered by drained */
#define __MIG_CAP_ALL		(MIG_CAP_KSTREAM | MIG_CAP_ZERO_PAGES | MIG_CAP_DRAIN)

/* Attributes of every control message share one number space. */
enum mig_attr {
	MIG_A_UNSPEC,
	MIG_A_MAGIC,		/* u32 */
	MIG_A_VERSION_MIN,	/* u32 */
	MIG_A_VERSION_MAX,	/* u32 */
	MIG_A_VERSION,		/* u32: chosen */
	MIG_A_CAPS,		/* u32 */
	MIG_A_CAPS_REQUIRED,	/* u32 */
	MIG_A_TRACKER,		/* u32: enum mig_tracker */
	MIG_A_CPU_MODEL,	/* string */
	MIG_A_CPUID,		/* binary */
	MIG_A_DEVICES,		/* nested MIG_A_DEVICE */
	MIG_A_DEVICE,		/* nested MIG_A_DEV_* */
	MIG_A_DEV_PATH,		/* string */
	MIG_A_DEV_VERSION,	/* u32 */
	MIG_A_DEV_MIN_VERSION,	/* u32 */
	MIG_A_BLOCKS,		/* nested MIG_A_BLOCK */
	MIG_A_BLOCK,		/* nested MIG_A_BLK_* */
	MIG_A_BLK_PATH,		/* string */
	MIG_A_BLK_NAME,		/* string */
	MIG_A_BLK_SIZE,		/* u64 */
	MIG_A_BLK_FLAGS,	/* u32: MIG_BLK_F_* */
	MIG_A_ROUND,		/* u64 */
	MIG_A_PAGES,		/* u64 */
	MIG_A_ZERO_PAGES,	/* u64 */
	MIG_A_BYTES,		/* u64 */
	MIG_A_STATE_LEN,	/* u64 */
	MIG_A_ERR_PHASE,	/* string */
	MIG_A_ERR_ERRNO,	/* u32 */
	MIG_A_ERR_MSG,		/* string */
	MIG_A_RELEASE,		/* string: sender's release (optional) */
	MIG_A_DEV_TYPE,		/* string: the device's table (optional) */
	MIG_A_CHANNELS,		/* u32: page-stream channels (absent: 1) */
	MIG_A_CHAN_TOKEN,	/* binary, MIG_CHAN_TOKEN_LEN bytes */
	MIG_A_CHAN_INDEX,	/* u32: 1..channels-1 */
	MIG_A_DEV_SUBS,		/* nested MIG_A_SUB: a device's subsections */
	MIG_A_SUB,		/* nested MIG_A_SUB_*, MIG_A_DEV_PATH */
	MIG_A_SUB_NAME,		/* string */
	MIG_A_SUB_VERSION,	/* u32 */
	MIG_A_SUB_MIN_VERSION,	/* u32 */
	MIG_A_SUBS_UNLOADABLE,	/* nested MIG_A_SUB (welcome) */
	__MIG_A_MAX,
};
#define MIG_A_MAX	(__MIG_A_MAX - 1)

extern struct nla_policy mig_policy[MIG_A_MAX + 1];

struct mig_conn {
	int rfd, wfd;
	int cancel_fd;		/* readable once cancelled */
	unsigned int timeout_ms;
	/*
	 * Reads wait edge-triggered on rfd once poll() has said readable
	 * with nothing to read (kernel TLS and a partial record): -1 until
	 * then; ep_cancel is the cancel_fd it watches.
	 */
	int epfd, ep_cancel;
	uint64_t rx_off;	/* bytes read so far: error positions */
	uint64_t tx_off;
	_Atomic uint64_t max_bw;	/* bytes/s, 0 = unlimited; live */
	uint64_t bw_used;	/* the cap bw_* count against */
	uint64_t bw_bytes;
	uint64_t bw_start_ns;
	uint8_t *buf;		/* payload of the last control message */
	uint32_t buf_len;
	uint32_t msg_off;	/* rx_off of the last message header */
	uint64_t msg_pos;
	bool peer_error;	/* the peer sent MIG_MSG_ERROR */
	char err[MIG_STR_MAX + 96];	/* why the last call failed */
};

uint64_t mig_now_ns(void);

/* a * b / c without overflow for any 64-bit a and b (c > 0). */
static inline uint64_t mig_muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 r = (unsigned __int128)a * b / c;

	return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

int mig_conn_init(struct mig_conn *c, int rfd, int wfd, int cancel_fd,
		  unsigned int timeout_ms);
void mig_conn_destroy(struct mig_conn *c);
int mig_conn_write(struct mig_conn *c, const void *buf, size_t len);
int mig_conn_read(struct mig_conn *c, void *buf, size_t len);
/* Send `len` bytes from a pipe's read end (zero-copy when wfd allows). */
int mig_conn_splice(struct mig_conn *c, int pipe_rd, size_t len);
/* Sleep up to ms, returning -ECANCELED early on cancel. */
int mig_conn_sleep(struct mig_conn *c, uint64_t ms);

/* A message with a raw payload (chunk, state) or none. */
int mig_send(struct mig_conn *c, uint32_t type, const void *payload,
	     uint32_t len);
/* A control message: the attributes put into msg (which is freed). */
int mig_send_attrs(struct mig_conn *c, uint32_t type, struct nl_msg *msg);
struct nl_msg *mig_attrs_new(void);
/* Best-effort error message to the peer before closing. */
void mig_send_error(struct mig_conn *c, const char *phase, int err,
		    const char *msg);

/*
 * Read one message header.  An `error` message from the peer is consumed
 * here and returned as -EPROTO with c->err set.  Every failing call
 * leaves its reason in c->err.  Lengths are checked
 * against the per-type limits before anything else is read.
 */
int mig_recv_hdr(struct mig_conn *c, struct mig_hdr *h);
/* Read the payload of a control message and parse it into tb. */
int mig_recv_attrs(struct mig_conn *c, const struct mig_hdr *h,
		   struct nlattr **tb);
/* Parse a nested attribute against the common policy. */
int mig_parse_nested(struct nlattr *nla, struct nlattr **tb);
/* Strictly typed getters: 0, or -EINVAL if absent or the wrong size. */
int mig_attr_u32(struct nlattr **tb, int type, uint32_t *v);
int mig_attr_u64(struct nlattr **tb, int type, uint64_t *v);
const char *mig_attr_str(struct nlattr **tb, int type);

const char *mig_msg_name(uint32_t type);

#endif /* TERN_MIGRATION_WIRE_H */
