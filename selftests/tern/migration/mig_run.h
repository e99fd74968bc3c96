/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One migration between two fake VMs in this process, through a relay
 * thread that records the stream and can cut it, or stall one direction,
 * at a byte offset; and the "no guest lost" check every fault test uses.
 */
#ifndef TERN_SELFTEST_MIG_RUN_H
#define TERN_SELFTEST_MIG_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migration/migration.h"
#include "mig_fakevm.h"

#define MIG_RUN_NONE	UINT64_MAX

struct mig_run {
	/* inputs */
	struct fakevm *src, *dst;
	struct mig *msrc, *mdst;
	uint64_t cut_fwd, cut_back;	/* close both sides after N bytes */
	uint64_t stall_back;		/* stop forwarding back after N bytes */
	/*
	 * A slow link with a deep queue forward (the main connection):
	 * everything the source sends is taken at once and handed on at
	 * this many KiB/s, so much is still on its way when the source's
	 * round ends.  0: as fast as the sockets go.
	 */
	unsigned int fwd_kib_per_s;
	bool no_dest;			/* nobody answers: the source waits */
	bool record;			/* keep the forward stream */
	enum mig_state cancel_src_at;	/* cancel once the source is here */
	enum mig_state cancel_dst_at;
	uint8_t dst_fill;		/* what dst's RAM held before (0xaa) */
	/*
	 * Channel connections beside the main one (mig__*_fds), each
	 * relayed and recorded; the cuts and stalls are the main one's.
	 */
	unsigned int extra_channels;
	/* outputs */
	int src_ret, dst_ret;
	struct mig_stats src_st, dst_st;
	uint64_t fwd_bytes, back_bytes;
	uint8_t *rec;
	size_t rec_len;
	uint64_t ch_fwd_bytes[MIG_CHANNELS_MAX - 1];	/* each channel's */
	uint8_t *ch_rec[MIG_CHANNELS_MAX - 1];	/* each channel's, recorded */
	size_t ch_rec_len[MIG_CHANNELS_MAX - 1];
	size_t rec_cap, ch_rec_cap[MIG_CHANNELS_MAX - 1];
	bool cancelled;			/* the cancel was issued */
};

void mig_run_init(struct mig_run *r, struct fakevm *src, struct fakevm *dst,
		  struct mig *msrc, struct mig *mdst);
int mig_run(struct mig_run *r);
void mig_run_free(struct mig_run *r);

/*
 * Who runs the guest (DESIGN.md rule 7): 0 if the outcome is one of the
 * documented ones, else -1 with the reason in why.
 */
int mig_run_check(struct mig_run *r, char *why, size_t len);

/*
 * Feed a recorded source stream to a destination from memory (the
 * destination's answers go nowhere), as the receive fuzzer does.
 */
int mig_replay(struct mig *mdst, const uint8_t *s, size_t len);

/* Offset of the first message of `type` in a recorded stream, or -1. */
long mig_stream_find(const uint8_t *s, size_t len, uint32_t type);

#endif /* TERN_SELFTEST_MIG_RUN_H */
