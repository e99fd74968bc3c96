/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Live migration, public API: a source (mig__migrate) and a destination
 * (mig__incoming) that reach the VM only through struct mig_vm_ops, a
 * state machine with statistics for query-migrate, and a cancel that any
 * thread may call.  Documentation/migration-protocol.rst is the protocol.
 */
#ifndef TERN_MIGRATION_MIGRATION_H
#define TERN_MIGRATION_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIG_PAGE_SIZE		4096u
#define MIG_CHANNELS_MAX	8	/* page-stream connections of a migration */

#define MIG_BLK_F_NOMIGRATE	(1u << 0)	/* never sent; pages refused */
#define __MIG_BLK_F_ALL		(MIG_BLK_F_NOMIGRATE)
/*
 * Local only, never on the wire: this side's block reads as zeros now, so
 * a destination skips a zero page it has not written (writing zeros would
 * allocate and dirty every page of an idle guest's RAM).
 */
#define MIG_BLK_F_ZEROED	(1u << 16)

struct mig_ram_block {
	const char *path;	/* canonical device path: "/machine" */
	const char *name;	/* block name: "ram0" */
	uint64_t size;		/* bytes, multiple of MIG_PAGE_SIZE */
	void *host;		/* mapping the pages are read from/written to */
	int fd;			/* backing fd (memfd, tern region) or -1 */
	uint32_t flags;		/* MIG_BLK_F_* */
};

#define MIG_MAX_SUBS	8	/* subsections described per device */

/* A subsection a device's table has (sent only while it is needed). */
struct mig_sub {
	const char *name;
	uint32_t version;	/* the version it saves */
	uint32_t min_version;	/* the oldest it loads */
};

struct mig_device {
	const char *path;	/* canonical device path */
	uint32_t version;	/* vmstate version it saves */
	uint32_t min_version;	/* oldest version it loads */
	const char *type;	/* its table ("virtio-pci"); NULL: not sent */
	struct mig_sub subs[MIG_MAX_SUBS];
	unsigned int nr_subs;	/* 0: none, or not sent (older builds) */
};

/* What the handshake compares; filled by ops->machine. */
struct mig_machine {
	const char *cpu_model;
	const uint8_t *cpuid;		/* feature bitmap */
	size_t cpuid_len;		/* bytes, <= 1024 */
	const struct mig_device *devices;
	unsigned int nr_devices;
	/*
	 * Optional, used by a destination: can this side load the state of
	 * the source's devices `src` (min_version unused), through its
	 * compatibility filters (a renamed or split device)?  0, or -errno
	 * with `why` naming the device.  NULL: each device of the source
	 * must be one of `devices` (same path, version in its range) and
	 * each of `devices` one of the source's.  On 0, unloadable[i] bit k
	 * is set when src[i].subs[k] does not load here: the source may
	 * migrate only while that subsection is not needed.
	 */
	int (*admit)(void *arg, const struct mig_device *src, unsigned int nr,
		     uint32_t *unloadable, char *why, size_t len);
	void *admit_arg;
};

enum mig_tracker {
	MIG_TRACKER_DIRTY_LOG = 1,	/* bitmap harvest, pages from userspace */
	MIG_TRACKER_TERN = 2,		/* tern.ko page stream */
};

/*
 * The VM as migration sees it.  Every function returns 0 or -errno and
 * never kills the guest.  `vm` is the opaque pointer given to mig__new.
 */
enum mig_state;

struct mig_vm_ops {
	/* Park/unpark the vCPUs; nested: resume undoes one pause. */
	int (*pause)(void *vm);
	void (*resume)(void *vm);
	/* The RAM blocks in a stable order; valid while vm lives. */
	int (*ram_blocks)(void *vm, const struct mig_ram_block **blocks,
			  unsigned int *nr);
	int (*machine)(void *vm, struct mig_machine *m);

	/* Dirty tracking (both trackers): start before round 1. */
	int (*dirty_start)(void *vm);
	int (*dirty_stop)(void *vm);
	/* Dirty-log path: OR the block's dirty pages into bitmap, clear them. */
	int (*dirty_sync)(void *vm, unsigned int block, unsigned long *bitmap);
	/*
	 * tern path (optional): an fd (the caller closes it, so a dup() of a
	 * long-lived one) from which the block's next page-stream round is
	 * read: tern.ko's stream fd (the first round after TERN_TRACK_START
	 * carries every page; the end is seen via TERN_STREAM_STATUS), or
	 * any fd holding exactly one round up to EOF.
	 */
	int (*stream_round)(void *vm, unsigned int block, uint64_t round,
			    int *fd);
	/*
	 * tern path with channels (optional): n fds (the caller closes
	 * them) that share one harvest of the block's next round, each
	 * yielding a disjoint share framed as a whole round, with its own
	 * end record (tern.ko's TERN_STREAM_OPEN_SET).  -ENOTTY: no such
	 * sets here; the pages then go over one channel.  defer: pages
	 * written again since the round's harvest may be left for the next
	 * round (TERN_STREAM_SET_F_DEFER); -EOPNOTSUPP if the sets here
	 * cannot, and the caller asks again without.
	 */
	int (*stream_set)(void *vm, unsigned int block, uint64_t round,
			  unsigned int n, bool defer, int *fds);
	/*
	 * tern path (optional): hand the tracker now, in the middle of a
	 * round, the writes it cannot see itself (the vCPUs' dirty log), so
	 * a deferring set leaves those pages for the next round.
	 */
	int (*dirty_report)(void *vm);

	/*
	 * Whole machine state as one opaque blob, written to/read from fd.
	 * load_state applies all of it (every KVM SET) before it returns;
	 * on failure `why` names the device and what failed.
	 */
	int (*save_state)(void *vm, int fd);
	int (*load_state)(void *vm, int fd, char *why, size_t len);
	/* Destination: run the staged guest (after commit). */
	int (*start)(void *vm);
	/*
	 * Source, optional: would the device at path send its subsection
	 * `name` now?  1, 0 or -errno.  Asked for the subsections the
	 * destination said it cannot load: after the welcome and again with
	 * the vCPUs stopped, before the state is saved.
	 */
	int (*sub_needed)(void *vm, const char *path, const char *name);
	/* Auto-converge: hold the vCPUs back for pct % of the time (0: off). */
	int (*throttle)(void *vm, unsigned int pct);
	/* Optional: told of each state change (no lock held), for events. */
	void (*state_changed)(void *vm, enum mig_state s);
};

struct mig_params {
	uint64_t downtime_limit_ms;	/* default 300 */
	uint64_t max_bandwidth;		/* bytes/s, 0 = unlimited */
	unsigned int max_rounds;	/* default 30 */
	bool auto_converge;		/* default true */
	unsigned int throttle_initial;	/* %, default 20 */
	unsigned int throttle_step;	/* %, default 10 */
	unsigned int timeout_ms;	/* per read/write progress, default 30000 */
	/*
	 * Page-stream connections (1..8, default: online CPUs, at most 8).
	 * A source asks for this many; a destination takes at most this many.
	 */
	unsigned int channels;
	/* Source, tern path: rounds leave rewritten pages to the next (default true). */
	bool defer;
	/*
	 * Destination: longest wait for a source whose hello arrives whole,
	 * from the start of the wait (0: for ever; default 10 minutes).
	 */
	unsigned int incoming_timeout_ms;
	uint32_t caps;			/* offered MIG_CAP_* (default all usable) */
	uint32_t caps_required;		/* MIG_CAP_* this side needs */
	uint32_t version_min, version_max;	/* protocol range (tests) */
	bool quiet;			/* failures only in mig_stats.error */
	const char *release;		/* in hello/welcome (default tern_version); NULL: none */
};

enum mig_state {
	MIG_S_NONE,
	MIG_S_SETUP,
	MIG_S_ACTIVE,
	MIG_S_DEVICE,
	MIG_S_STAGED,		/* destination: ready sent */
	MIG_S_COMMITTING,	/* source: commit written */
	MIG_S_COMPLETED,
	MIG_S_FAILED,
	MIG_S_CANCELLED,
	MIG_S_POSTCOMMIT_UNKNOWN,
	__MIG_S_NR,
};

#define MIG_ROUND_STATS	64	/* rounds whose figures a source keeps */

/* One round as the source sent it. */
struct mig_round_stat {
	uint64_t pages;			/* data pages */
	uint64_t zero_pages;
	uint64_t bytes;			/* all channels' */
	uint64_t deferred;		/* pages written again mid-round, left for the next */
	uint64_t ms;			/* round-begin to round-end */
	unsigned int throttle_pct;	/* auto-converge during the round */
};

struct mig_stats {
	enum mig_state state;
	uint64_t bytes;			/* sent (source) or received */
	uint64_t pages;			/* data pages */
	uint64_t zero_pages;
	uint64_t rounds;
	uint64_t dirty_rate;		/* pages/s dirtied in the last round */
	uint64_t bandwidth;		/* bytes/s, last round */
	uint64_t expected_downtime_ms;
	uint64_t downtime_ms;		/* vCPUs stopped until running/resume */
	uint64_t elapsed_ms;
	unsigned int throttle_pct;
	enum mig_tracker tracker;
	unsigned int channels;		/* page-stream connections agreed */
	uint64_t dropped;		/* destination: connections dropped before a hello */
	char dropped_why[256];		/* why the last of them was dropped */
	char error[256];		/* why it failed: phase, offset, object */
	/*
	 * Source: the first MIG_ROUND_STATS rounds, the last one sent with
	 * the vCPUs stopped.  Pages dirtied during round i are what round
	 * i + 1 sends.
	 */
	struct mig_round_stat round[MIG_ROUND_STATS];
	unsigned int nr_round;
	/*
	 * Source, once completed: where the switchover's time went.  stop
	 * is before the downtime's clock starts; the other four add up to
	 * downtime_ms (each rounded down).
	 */
	struct mig_switchover_stat {
		uint64_t stop_ms;	/* the vCPUs stopping */
		uint64_t last_round_ms;	/* the last pages sent */
		uint64_t state_ms;	/* device and vCPU state saved and sent */
		uint64_t load_ms;	/* until the destination said ready */
		uint64_t start_ms;	/* commit until it said running */
	} sw;
};

struct mig;
struct json_object;

/* A migration object for vm; `params` may be NULL for the defaults. */
struct mig *mig__new(const struct mig_vm_ops *ops, void *vm,
		     const struct mig_params *params);
void mig__free(struct mig *mig);
void mig__default_params(struct mig_params *p);

/*
 * Source: migrate to uri ("tcp:HOST:PORT", "unix:PATH").  Returns 0 when
 * the destination confirmed `running` (the guest stays paused here), else
 * -errno with the guest resumed, or -EINPROGRESS for postcommit-unknown
 * (the guest stays paused: an operator decides).
 */
int mig__migrate(struct mig *mig, const char *uri);
/* Destination: listen on uri, accept one source, receive, start the guest. */
int mig__incoming(struct mig *mig, const char *uri);
/* Listening socket for uri (so a caller can learn a port, then accept). */
int mig__listen(const char *uri, int *lfd);
int mig__incoming_listener(struct mig *mig, int lfd);

/*
 * TLS on the migration's connections (tcp: only): x509 credentials in
 * creds_dir (ca-cert.pem, and server-cert.pem/server-key.pem to receive,
 * client-cert.pem/client-key.pem to send, ca-crl.pem if any) or a
 * pre-shared key (a line IDENTITY:HEXKEY in psk_file), exactly one of the
 * two.  NULL with why on a bad or unreadable file.  mig__set_tls gives
 * the credentials to mig (freed with it; NULL: plaintext again).
 */
struct mig_tls;
struct mig_tls *mig__tls_load(const char *creds_dir, const char *psk_file,
			      char *why, size_t len);
void mig__tls_free(struct mig_tls *t);
void mig__set_tls(struct mig *mig, struct mig_tls *t);

/* The same over already-connected fds (rfd may equal wfd); no TLS. */
int mig__migrate_fd(struct mig *mig, int rfd, int wfd);
int mig__incoming_fd(struct mig *mig, int rfd, int wfd);
/*
 * And with the channels' connections made beforehand too (socketpairs of
 * a manager, a fuzzer's streams): nr connected fds, at most
 * MIG_CHANNELS_MAX - 1, that stay the caller's.  The source asks for
 * nr + 1 channels (within its parameter `channels`); at the destination
 * each still proves itself with its hello, in any order.
 */
int mig__migrate_fds(struct mig *mig, int rfd, int wfd, const int *chan_fds,
		     unsigned int nr);
int mig__incoming_fds(struct mig *mig, int rfd, int wfd, const int *chan_fds,
		      unsigned int nr);

/*
 * Any thread, any state, connect() included.  See "Who runs the guest" in
 * the protocol doc.  A cancel while no migration runs applies to the next
 * one to start (so one sent right after starting a migration is never
 * lost); mig__cancel_reset() drops it, as the end of every migration does.
 */
void mig__cancel(struct mig *mig);
void mig__cancel_reset(struct mig *mig);
/*
 * A cancel for a reason of the VM's own (its guest powered off): the
 * migration ends `failed` with `why` as its error, the text the peer gets.
 */
void mig__abort(struct mig *mig, const char *why);
void mig__query(struct mig *mig, struct mig_stats *st);
/* query-migrate as a json-c object (caller puts it), or NULL. */
struct json_object *mig__stats_json(const struct mig_stats *st);
/*
 * Set a parameter by its name in mig_param_table (migration/params.h).
 * -EINVAL for an unknown name or a value out of its range.  A running
 * migration takes the new value at its next round.
 */
int mig__set_param(struct mig *mig, const char *name, uint64_t value);
/* query-migrate-parameters: every table parameter's value (caller puts). */
struct json_object *mig__params_json(struct mig *mig);
const char *mig__state_name(enum mig_state s);

#endif /* TERN_MIGRATION_MIGRATION_H */
