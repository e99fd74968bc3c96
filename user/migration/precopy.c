// SPDX-License-Identifier: GPL-2.0
/*
 * Pre-copy on the source: a first full pass, then rounds of dirty pages
 * until the pending data fits the downtime limit at the measured
 * bandwidth; auto-converge throttles the vCPUs when rounds stop shrinking,
 * and a round limit ends a migration that cannot converge.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "migration/internal.h"

static bool migratable(struct mig *mig, unsigned int i)
{
	return !(mig->blocks[i].flags & MIG_BLK_F_NOMIGRATE);
}

/* Harvest the dirty log into the pending bitmaps; *pending in pages. */
int mig_sync(struct mig *mig, uint64_t *pending)
{
	uint64_t n = 0;
	unsigned int i;
	size_t w;
	int ret;

	for (i = 0; i < mig->nr_blocks; i++) {
		if (!migratable(mig, i))
			continue;
		ret = mig->ops->dirty_sync(mig->vm, i, mig->dirty[i]);
		if (ret)
			return mig_fail(mig, ret,
					"dirty log of block '%s' '%s'",
					mig->blocks[i].path, mig->blocks[i].name);
		for (w = 0; w < mig_bitmap_words(mig->blocks[i].size); w++)
			n += __builtin_popcountl(mig->dirty[i][w]);
	}
	*pending = n;
	return 0;
}

static int send_round_marker(struct mig *mig, uint32_t type)
{
	struct nl_msg *msg = mig_attrs_new();
	bool end = type == MIG_MSG_ROUND_END;
	bool counted = !mig->round_uncounted;
	int ret;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u64(msg, MIG_A_ROUND, mig->round) ||
	    (end && nla_put_u64(msg, MIG_A_BYTES, mig->round_bytes)) ||
	    (end && counted && nla_put_u64(msg, MIG_A_PAGES, mig->round_pages)) ||
	    (end && counted && nla_put_u64(msg, MIG_A_ZERO_PAGES, mig->round_zero))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = mig_send_attrs(&mig->conn, type, msg);
	if (ret)
		return mig_fail(mig, ret, "sending %s: %s", mig_msg_name(type),
				mig->conn.err);
	return 0;
}

static bool block_dirty(struct mig *mig, unsigned int i)
{
	size_t w;

	for (w = 0; w < mig_bitmap_words(mig->blocks[i].size); w++)
		if (mig->dirty[i][w])
			return true;
	return false;
}

/* Channel ch's share of every migratable block's round. */
static int send_share(struct mig_chan *ch)
{
	struct mig *mig = ch->mig;
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && i < mig->nr_blocks; i++) {
		if (!migratable(mig, i))
			continue;
		if (mig->tracker == MIG_TRACKER_TERN)
			ret = ch->sfd[i] >= 0 ?
				mig_send_kstream(ch, i, mig->round) :
				mig_send_empty(ch, i, mig->round);
		/* One channel skips a clean block; several each frame every one. */
		else if (ch->all || mig->nch > 1 || block_dirty(mig, i))
			ret = mig_send_pages(ch, i, mig->round, mig->dirty[i],
					     ch->all);
	}
	return ret;
}

/* A module whose sets cannot defer: its rounds send rewritten pages twice. */
static int stream_set_open(struct mig *mig, unsigned int i, int *fds)
{
	int ret = mig->ops->stream_set(mig->vm, i, mig->round, mig->nch,
				       mig->defer, fds);

	if (ret != -EOPNOTSUPP || !mig->defer)
		return ret;
	mig->defer_off = true;
	mig->defer = false;
	if (!mig->p.quiet)
		pr_info("migration: tern.ko's stream sets cannot defer (TERN_STREAM_SET_F_DEFER): a page written during its round goes in that round and the next");
	return mig->ops->stream_set(mig->vm, i, mig->round, mig->nch, false,
				    fds);
}

/*
 * The round's stream fds of block i, one per channel: a set sharing one
 * harvest (a set of one for a single channel, so that it defers), or (no
 * sets here) one fd for channel 0 while the others send empty rounds of
 * the block.
 */
static int open_streams(struct mig *mig, unsigned int i)
{
	const struct mig_ram_block *b = &mig->blocks[i];
	int fds[MIG_CHANNELS_MAX], ret = -ENOTTY;
	unsigned int c;

	if ((mig->nch > 1 || mig->defer) && !mig->kset_off &&
	    mig->ops->stream_set) {
		ret = stream_set_open(mig, i, fds);
		if (!ret) {
			for (c = 0; c < mig->nch; c++)
				mig->ch[c]->sfd[i] = fds[c];
			return 0;
		}
		if (ret != -ENOTTY)
			return mig_fail(mig, ret, "page stream set of block '%s' '%s'",
					b->path, b->name);
	}
	if ((mig->nch > 1 || mig->defer) && !mig->kset_off) {
		mig->kset_off = true;
		if (mig->nch > 1 && !mig->p.quiet)
			pr_info("migration: tern.ko has no page-stream sets (TERN_STREAM_OPEN_SET): its pages go over 1 of %u channels",
				mig->nch);
	}
	ret = mig->ops->stream_round(mig->vm, i, mig->round, &mig->ch[0]->sfd[i]);
	if (ret)
		return mig_fail(mig, ret, "page stream of block '%s' '%s'",
				b->path, b->name);
	return 0;
}

/* Stream fds a failed round did not read. */
static void close_streams(struct mig *mig)
{
	unsigned int c, i;

	for (c = 0; c < mig->nch; c++)
		for (i = 0; i < MIG_MAX_BLOCKS; i++)
			if (mig->ch[c]->sfd[i] >= 0) {
				close(mig->ch[c]->sfd[i]);
				mig->ch[c]->sfd[i] = -1;
			}
}

/*
 * Wait until the destination has taken in all sent so far (both agreed
 * MIG_CAP_DRAIN).  The sockets' buffers on both ends hold megabytes: a
 * round that ended here may still be a third of a second from done
 * there, and a guest stopped then stays stopped that much longer (the
 * harness under TLS: 300-800 ms of an idle guest's downtime).  With the
 * wait inside the round's time, the bandwidth is what the destination
 * takes in and the expected downtime what the pause will cost; and the
 * vCPUs stop with nothing of an earlier round still on its way.
 */
static int drain(struct mig *mig)
{
	int ret = mig_send(&mig->conn, MIG_MSG_DRAIN, NULL, 0);

	if (ret)
		return mig_fail(mig, ret, "sending drain: %s", mig->conn.err);
	return mig_expect(mig, MIG_MSG_DRAINED);
}

/*
 * A round: round-begin, every channel's share (each in its thread; the
 * round is done when every channel has sent its end record of every
 * block), round-end with the counts of all, before switchover a drain;
 * only then the next harvest.
 */
int mig_send_round(struct mig *mig, bool all)
{
	uint64_t t0 = mig_now_ns(), dt;
	struct mig_params p;
	struct mig_chan *ch;
	unsigned int i, c;
	int ret;

	mig->round++;
	mig->round_pages = mig->round_zero = mig->round_bytes = 0;
	mig->round_deferred = 0;
	mig->round_uncounted = false;
	/* The last round, vCPUs stopped, takes all it harvested. */
	mig_params_snapshot(mig, &p);
	mig->defer = p.defer && !mig->paused && !mig->defer_off;
	mig->report_ns = t0;
	for (c = 0; c < mig->nch; c++) {
		ch = mig->ch[c];
		ch->round_pages = ch->round_zero = ch->round_bytes = 0;
		ch->round_deferred = 0;
		ch->round_uncounted = false;
		ch->all = all;
	}
	for (i = 0; i < MIG_MAX_BLOCKS; i++)
		atomic_store(&mig->cursor[i], 0);
	ret = send_round_marker(mig, MIG_MSG_ROUND_BEGIN);
	for (i = 0; !ret && mig->tracker == MIG_TRACKER_TERN &&
	     i < mig->nr_blocks; i++)
		if (migratable(mig, i))
			ret = open_streams(mig, i);
	if (!ret)
		ret = mig_chans_run(mig, send_share);
	close_streams(mig);
	for (c = 0; c < mig->nch; c++) {
		ch = mig->ch[c];
		mig->round_pages += ch->round_pages;
		mig->round_zero += ch->round_zero;
		mig->round_bytes += ch->round_bytes;
		mig->round_deferred += ch->round_deferred;
		mig->round_uncounted |= ch->round_uncounted;
	}
	for (i = 0; !ret && mig->tracker != MIG_TRACKER_TERN &&
	     i < mig->nr_blocks; i++)
		if (migratable(mig, i))
			memset(mig->dirty[i], 0,
			       mig_bitmap_words(mig->blocks[i].size) * sizeof(unsigned long));
	if (!ret)
		ret = send_round_marker(mig, MIG_MSG_ROUND_END);
	/* The last round, with the vCPUs stopped, ends in ready instead. */
	if (!ret && !mig->paused && (mig->caps & MIG_CAP_DRAIN))
		ret = drain(mig);
	if (ret)
		return ret;

	dt = mig_now_ns() - t0;
	if (!dt)
		dt = 1;
	pthread_mutex_lock(&mig->lock);
	mig->st.rounds = mig->round;
	if (mig->st.nr_round < MIG_ROUND_STATS)
		mig->st.round[mig->st.nr_round++] = (struct mig_round_stat){
			.pages = mig->round_pages, .zero_pages = mig->round_zero,
			.bytes = mig->round_bytes, .ms = dt / 1000000,
			.deferred = mig->round_deferred,
			.throttle_pct = mig->st.throttle_pct,
		};
	/* Tiny rounds say little about the link: keep the last estimate. */
	if (mig->round_bytes >= (256u << 10) || !mig->st.bandwidth)
		mig->st.bandwidth = mig_muldiv(mig->round_bytes, 1000000000ull, dt);
	pthread_mutex_unlock(&mig->lock);
	mig->sent_last = mig->round_bytes;
	return 0;
}

static int throttle_up(struct mig *mig, const struct mig_params *p)
{
	unsigned int pct = mig->st.throttle_pct;
	int ret;

	pct = pct ? pct + p->throttle_step : p->throttle_initial;
	if (pct > 99)
		pct = 99;
	if (!mig->ops->throttle || pct == mig->st.throttle_pct)
		return 0;
	ret = mig->ops->throttle(mig->vm, pct);
	if (ret)
		return mig_fail(mig, ret, "throttling vCPUs to %u%%", pct);
	if (!p->quiet)
		pr_info("migration: auto-converge: vCPUs throttled %u%%", pct);
	pthread_mutex_lock(&mig->lock);
	mig->st.throttle_pct = pct;
	pthread_mutex_unlock(&mig->lock);
	return 0;
}

/* Parameters may change under us (mig__set_param): take them per round. */
static void take_params(struct mig *mig, struct mig_params *p)
{
	mig_params_snapshot(mig, p);
	mig->conn.timeout_ms = p->timeout_ms;
}

int mig_precopy(struct mig *mig)
{
	uint64_t pending, bw, expected, t_round;
	struct mig_params p;
	unsigned int i;
	int ret;

	mig->phase = "precopy";
	mig_set_state(mig, MIG_S_ACTIVE);
	for (i = 0; i < mig->nr_blocks; i++) {
		if (!migratable(mig, i))
			continue;
		mig->dirty[i] = calloc(mig_bitmap_words(mig->blocks[i].size),
				       sizeof(unsigned long));
		if (!mig->dirty[i])
			return mig_fail(mig, -ENOMEM, "dirty bitmap");
	}
	ret = mig->ops->dirty_start(mig->vm);
	if (ret)
		return mig_fail(mig, ret, "cannot start dirty tracking");
	mig->tracking = true;

	t_round = mig_now_ns();
	ret = mig_send_round(mig, true);
	for (;;) {
		if (ret)
			return ret;
		take_params(mig, &p);
		if (mig->tracker == MIG_TRACKER_TERN) {
			/* What the round sent, and what it left, is dirty again. */
			pending = mig->sent_last +
				  mig->round_deferred * (MIG_PAGE_SIZE + 16);
		} else {
			ret = mig_sync(mig, &pending);
			if (ret)
				return ret;
			pending *= MIG_PAGE_SIZE + 16;
		}
		bw = mig->st.bandwidth ? mig->st.bandwidth : 1;
		if (p.max_bandwidth && bw > p.max_bandwidth)
			bw = p.max_bandwidth;
		expected = mig_muldiv(pending, 1000, bw);
		pthread_mutex_lock(&mig->lock);
		mig->st.expected_downtime_ms = expected;
		mig->st.dirty_rate = mig_muldiv(pending / (MIG_PAGE_SIZE + 16),
						1000000000ull,
						mig_now_ns() - t_round + 1);
		pthread_mutex_unlock(&mig->lock);
		if (mig->round > 1 || mig->tracker != MIG_TRACKER_TERN)
			if (expected <= p.downtime_limit_ms)
				return 0;
		if (mig->round >= p.max_rounds)
			return mig_fail(mig, -ETIMEDOUT,
					"not converged after %" PRIu64 " rounds: %" PRIu64 " bytes pending, expected downtime %" PRIu64 " ms > limit %" PRIu64 " ms",
					mig->round, pending, expected,
					p.downtime_limit_ms);
		/* Rounds that do not shrink below half the last one. */
		mig->no_shrink = pending * 2 > mig->sent_last ?
			mig->no_shrink + 1 : 0;
		if (p.auto_converge && mig->no_shrink >= 2) {
			mig->no_shrink = 0;
			ret = throttle_up(mig, &p);
			if (ret)
				return ret;
		}
		t_round = mig_now_ns();
		ret = mig_send_round(mig, false);
	}
}
