/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of user/migration share: the migration object (session,
 * agreed parameters, statistics) and the functions each file offers the
 * others.  Not for users outside user/migration (they have migration.h).
 */
#ifndef TERN_MIGRATION_INTERNAL_H
#define TERN_MIGRATION_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "migration/migration.h"
#include "migration/wire.h"

enum mig_rx_expect { RX_IDLE, RX_HDR, RX_REC, RX_DATA, RX_DONE };

#define MIG_BITS_PER_LONG	(8 * sizeof(unsigned long))
/* A deferring round hands the vCPUs' dirty log to tern.ko this often. */
#define MIG_REPORT_MS		100

/* Words of a one-bit-per-page bitmap for a block of @size bytes. */
static inline size_t mig_bitmap_words(uint64_t size)
{
	return (size / MIG_PAGE_SIZE + MIG_BITS_PER_LONG - 1) / MIG_BITS_PER_LONG;
}

static inline bool mig_test_bit(const unsigned long *map, uint64_t bit)
{
	return map[bit / MIG_BITS_PER_LONG] & (1ul << (bit % MIG_BITS_PER_LONG));
}

static inline void mig_set_bit(unsigned long *map, uint64_t bit)
{
	map[bit / MIG_BITS_PER_LONG] |= 1ul << (bit % MIG_BITS_PER_LONG);
}

/* For bitmaps that several channel threads write at once. */
static inline void mig_set_bit_atomic(unsigned long *map, uint64_t bit)
{
	__atomic_fetch_or(&map[bit / MIG_BITS_PER_LONG],
			  1ul << (bit % MIG_BITS_PER_LONG), __ATOMIC_RELAXED);
}

static inline bool mig_test_bit_atomic(const unsigned long *map, uint64_t bit)
{
	return __atomic_load_n(&map[bit / MIG_BITS_PER_LONG], __ATOMIC_RELAXED) &
		(1ul << (bit % MIG_BITS_PER_LONG));
}

/* The destination's view of one source block. */
struct mig_rx_block {
	int local;		/* index in our own list */
	uint64_t size;
	bool migratable;
	/*
	 * Pages written so far, if the block began zeroed; every channel's
	 * thread sets bits in it, so only atomically (mig_set_bit_atomic).
	 */
	unsigned long *written;
};

/* One channel's parser of one block's stream this round. */
struct mig_rx_stream {
	uint64_t next_off;	/* records come in increasing offsets */
	enum mig_rx_expect expect;
	uint8_t part[32];	/* a header or record split across chunks */
	uint32_t part_len;
	uint8_t *dst;		/* where the current page's data goes */
	uint32_t data_left;
	uint64_t recs;		/* page records this round */
};

/*
 * A page-stream channel: channel 0 is the main connection (the main
 * thread sends or receives its share between round-begin and
 * round-end), channels 1.. are connections of their own, each served
 * by a thread of its own for the length of a round.
 */
struct mig_chan {
	struct mig *mig;
	unsigned int idx;
	struct mig_conn *c;		/* &mig->conn, or &own */
	struct mig_conn own;
	bool own_conn;			/* own and chunk are this channel's */
	int fd;				/* own connection, or -1 */
	uint8_t *chunk;			/* one chunk's payload (channel 0: mig's) */
	uint64_t round_pages, round_zero, round_bytes;	/* this channel's */
	uint64_t round_deferred;	/* left for the next round by tern.ko */
	bool round_uncounted;		/* a block's records went uncounted */
	bool all;			/* source: this round sends every page */
	int sfd[MIG_MAX_BLOCKS];	/* source, tern path: stream fds, or -1 */
	struct mig_rx_stream rx[MIG_MAX_BLOCKS];
	int (*fn)(struct mig_chan *ch);	/* what its thread runs */
	pthread_t thread;
	bool running;			/* thread to join */
	int ret;
};

struct mig {
	const struct mig_vm_ops *ops;
	void *vm;
	struct mig_params p;
	struct mig_tls *tls;		/* NULL: plaintext */
	int cancel_fd;			/* eventfd, written by mig__cancel */
	atomic_bool cancelled;
	atomic_bool aborted;		/* mig__abort: fails, not cancelled */
	atomic_bool busy;		/* one migration at a time */
	bool is_source;			/* error positions: sent vs received */

	pthread_mutex_t lock;		/* guards st and dropped */
	struct mig_stats st;
	uint64_t dropped;		/* this wait's connections without a hello */
	char dropped_why[256];		/* the last one's */
	uint64_t start_ns, pause_ns;

	struct mig_conn conn;
	const char *phase;		/* for error messages */
	const struct mig_ram_block *blocks;
	unsigned int nr_blocks;
	uint32_t version;		/* agreed */
	uint32_t caps;			/* agreed */
	uint32_t caps_req;		/* source: required, as sent */
	enum mig_tracker tracker;
	char releases[128];		/* both sides' releases while the handshake checks */
	/*
	 * The source's subsections the destination does not load: sent in
	 * the welcome, and the source migrates only while none is needed.
	 */
	struct mig_unloadable {
		char path[MIG_STR_MAX];
		char name[MIG_STR_MAX];
		uint32_t version;
	} unloadable[MIG_UNLOADABLE_MAX];
	unsigned int nr_unloadable;

	uint8_t *chunk;			/* one chunk's payload (channel 0's) */
	uint64_t round_pages, round_zero, round_bytes;	/* all channels' */
	uint64_t round_deferred;	/* all channels' */
	bool round_uncounted;		/* a block's records went uncounted */

	/* channels (channel.c) */
	unsigned int nch;		/* agreed; 1 before the handshake */
	struct mig_chan *ch[MIG_CHANNELS_MAX];
	const char *uri;		/* source: where channels connect */
	int lfd;			/* destination: listener, or -1 */
	/* The channels' connections made beforehand (mig__*_fds); the caller's. */
	const int *chan_fds;
	unsigned int nr_chan_fds;
	uint8_t token[MIG_CHAN_TOKEN_LEN];	/* destination's, in welcome */
	atomic_bool chan_failed;	/* a channel failed: all stop */
	_Atomic uint64_t cursor[MIG_MAX_BLOCKS];	/* dirty-log split */
	bool kset_off;			/* tern.ko has no stream sets */
	bool defer_off;			/* ... or sets that cannot defer */
	bool defer;			/* this round's sets defer (not the last) */
	uint64_t report_ns;		/* last mid-round dirty_report */
	struct mig_hdr end_hdr;		/* destination: this round's round-end */

	/* source */
	unsigned long *dirty[MIG_MAX_BLOCKS];		/* pending bitmap per block */
	bool paused;			/* we hold a pause on the VM */
	bool tracking;			/* dirty tracking started */
	bool committed;			/* a byte of `commit` left */
	uint64_t sent_last;		/* bytes of the last round */
	unsigned int no_shrink;

	/* destination */
	struct mig_rx_block rx[MIG_MAX_BLOCKS];
	unsigned int nr_rx;
	uint64_t round;
};

/* mig.c */
void mig_set_state(struct mig *mig, enum mig_state s);
int mig_fail(struct mig *mig, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * A migration that ended before its session began (no connection): it
 * still ends `failed` (`cancelled` for -ECANCELED), with why, unless
 * another one is running.
 */
int mig_fail_unstarted(struct mig *mig, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The next message must be `type` (with no payload): 0, or failed saying so. */
int mig_expect(struct mig *mig, uint32_t type);
void mig_stat_add(struct mig *mig, uint64_t bytes, uint64_t pages,
		  uint64_t zero);
bool mig_page_is_zero(const void *p);
/* Claim the object (-EBUSY if a migration runs): statistics reset, setup. */
int mig_attempt_begin(struct mig *mig);
/* A claimed attempt that ends before its session: failed or cancelled. */
int mig_attempt_fail(struct mig *mig, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The connection of a claimed attempt. */
int mig_session_attach(struct mig *mig, int rfd, int wfd);
/* Both at once (a caller with connected fds). */
int mig_session_begin(struct mig *mig, int rfd, int wfd);
void mig_session_end(struct mig *mig);

/* query.c */
void mig_params_snapshot(struct mig *mig, struct mig_params *out);

/* transport.c */
/* Connect (and with TLS, shake hands); why says what failed. */
int mig_connect(struct mig *mig, const char *uri, int *fd, char *why,
		size_t len);
int mig_accept(struct mig *mig, int lfd, int timeout_ms, int *fd);

/*
 * tls.c: with mig->tls, the TLS handshake on a connected TCP fd, then its
 * record layer handed to the kernel; 0 at once without.  -errno and why.
 * host: the name the destination's certificate must carry (client side).
 */
int mig_tls_handshake(struct mig *mig, int fd, bool server, const char *host,
		      uint64_t deadline_ns, char *why, size_t len);

/* admission.c: the first connection whose hello is whole, or -errno. */
int mig_accept_source(struct mig *mig, int lfd, int *fd);

/* handshake.c */
int mig_hello_send(struct mig *mig);
int mig_hello_recv(struct mig *mig);
int mig_welcome_recv(struct mig *mig);
/*
 * Source: fail (the guest goes on here) if a subsection the destination
 * does not load is needed now.  After the welcome, and paused before the
 * state is saved.
 */
int mig_subs_check(struct mig *mig);

/* ramblock.c */
int mig_ramblocks_send(struct mig *mig);
int mig_ramblocks_recv(struct mig *mig);

/* channel.c */
/* Channel 0 (the main connection) with its buffers: after session attach. */
int mig_chans_init(struct mig *mig);
/* Source: connect channels 1..nch-1 and say hello on each. */
int mig_chans_open(struct mig *mig);
/* mig__*_fds: the channels' connections given (checked); NULL, 0 clears. */
int mig_chans_given(struct mig *mig, const int *fds, unsigned int nr);
/* Destination: accept channels 1..nch-1, refusing strays, by a deadline. */
int mig_chans_accept(struct mig *mig);
/* Every path: join threads, close the channels' connections, free. */
void mig_chans_free(struct mig *mig);
/* A channel failed: wake every other one (they fail, not cancel). */
void mig_chans_abort(struct mig *mig);
/* Run fn on channels 1.. in threads and on channel 0 here; join all. */
int mig_chans_run(struct mig *mig, int (*fn)(struct mig_chan *ch));
/* Pace each channel at its share of max-bandwidth. */
void mig_chans_set_bw(struct mig *mig, uint64_t bw);

/* pagestream.c */
/* Source: channel ch's share of block `block`'s round. */
int mig_send_pages(struct mig_chan *ch, unsigned int block, uint64_t round,
		   const unsigned long *bitmap, bool all);
int mig_send_kstream(struct mig_chan *ch, unsigned int block, uint64_t round);
/* Source: a round of no pages of a block (a channel with no share). */
int mig_send_empty(struct mig_chan *ch, unsigned int block, uint64_t round);
int mig_recv_round(struct mig *mig);
void mig_rx_reset(struct mig *mig);

/* precopy.c */
int mig_precopy(struct mig *mig);
int mig_sync(struct mig *mig, uint64_t *pending);
int mig_send_round(struct mig *mig, bool all);

/* switchover.c */
int mig_switchover(struct mig *mig);
int mig_recv_state(struct mig *mig, const struct mig_hdr *first, int *fd);

#endif /* TERN_MIGRATION_INTERNAL_H */
