// SPDX-License-Identifier: GPL-2.0
/*
 * Pages on the wire: chunks {block, length} of page-stream records.  The
 * source writes rounds from userspace (dirty-log path) or splices the
 * module's stream through a pipe (tern path); the destination parses every
 * header and record, split across chunks anywhere, and checks it before
 * a byte of the page reaches guest memory.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/log.h"
#include "migration/internal.h"
#include "migration/stream.h"

#define CHUNK_FILL	(1u << 20)	/* flush a chunk at 1 MiB */

/* Pages a channel takes from a block's shared cursor at a time. */
#define SHARE_RUN	256u

/* Source side: one channel's share of a block's round, in chunks. */
struct tx {
	struct mig_chan *ch;
	uint32_t block;
	uint32_t len;
};

static int tx_flush(struct tx *t)
{
	struct mig_chan *ch = t->ch;
	struct mig_hdr h = {
		.type = htole32(MIG_MSG_CHUNK),
		.len = htole32(sizeof(struct mig_chunk_hdr) + t->len),
	};
	struct mig_chunk_hdr chh = {
		.block = htole32(t->block),
		.length = htole32(t->len),
	};
	int ret;

	if (!t->len)
		return 0;
	ret = mig_conn_write(ch->c, &h, sizeof(h));
	if (!ret)
		ret = mig_conn_write(ch->c, &chh, sizeof(chh));
	if (!ret)
		ret = mig_conn_write(ch->c, ch->chunk, t->len);
	if (ret)
		return ret;
	ch->round_bytes += t->len;
	mig_stat_add(ch->mig, sizeof(h) + sizeof(chh) + t->len, 0, 0);
	t->len = 0;
	return 0;
}

static int tx_put(struct tx *t, const void *p, uint32_t n)
{
	int ret;

	if (t->len + n > CHUNK_FILL) {
		ret = tx_flush(t);
		if (ret)
			return ret;
	}
	memcpy(t->ch->chunk + t->len, p, n);
	t->len += n;
	return 0;
}

static int tx_page(struct tx *t, const struct mig_ram_block *b, uint64_t pg)
{
	const uint8_t *src = (const uint8_t *)b->host + pg * MIG_PAGE_SIZE;
	struct tern_page_rec rec = { .offset = htole64(pg * MIG_PAGE_SIZE) };
	struct mig_chan *ch = t->ch;
	int ret;

	if ((ch->mig->caps & MIG_CAP_ZERO_PAGES) && mig_page_is_zero(src)) {
		rec.flags = htole16(TERN_REC_F_ZERO);
		ch->round_zero++;
		mig_stat_add(ch->mig, 0, 0, 1);
		return tx_put(t, &rec, sizeof(rec));
	}
	rec.length = htole32(MIG_PAGE_SIZE);
	ret = tx_put(t, &rec, sizeof(rec));
	if (!ret)
		ret = tx_put(t, src, MIG_PAGE_SIZE);
	ch->round_pages++;
	mig_stat_add(ch->mig, 0, 1, 0);
	return ret;
}

static int tx_hdr(struct tx *t, const struct mig_ram_block *b, uint64_t round)
{
	struct tern_stream_hdr sh = {
		.magic = htole32(TERN_STREAM_MAGIC),
		.version = htole16(TERN_STREAM_VERSION),
		.hdr_len = htole16(sizeof(sh)),
		.page_size = htole32(MIG_PAGE_SIZE),
		.region_size = htole64(b->size),
		.round = htole64(round),
	};

	return tx_put(t, &sh, sizeof(sh));
}

static int tx_end(struct tx *t, uint64_t count)
{
	struct tern_page_rec end = {
		.offset = htole64(count),
		.flags = htole16(TERN_REC_F_END),
	};
	int ret = tx_put(t, &end, sizeof(end));

	return ret ? ret : tx_flush(t);
}

static int tx_fail(struct mig_chan *ch, unsigned int block, int ret)
{
	const struct mig_ram_block *b = &ch->mig->blocks[block];

	if (ch->mig->nch > 1)
		return mig_fail(ch->mig, ret, "channel %u: sending block '%s' '%s': %s",
				ch->idx, b->path, b->name, ch->c->err);
	return mig_fail(ch->mig, ret, "sending block '%s' '%s': %s",
			b->path, b->name, ch->c->err);
}

/*
 * Channel ch's share of block `block`'s round from userspace: every page
 * (all) or those set in bitmap, in runs taken from the block's shared
 * cursor (a faster channel takes more), framed as a whole round of its
 * own, byte-identical to what tern.ko would emit for those pages.
 */
int mig_send_pages(struct mig_chan *ch, unsigned int block, uint64_t round,
		   const unsigned long *bitmap, bool all)
{
	struct mig *mig = ch->mig;
	const struct mig_ram_block *b = &mig->blocks[block];
	uint64_t npages = b->size / MIG_PAGE_SIZE, pg, end, count = 0;
	struct tx t = { .ch = ch, .block = block };
	int ret;

	ret = tx_hdr(&t, b, round);
	while (!ret) {
		pg = atomic_fetch_add(&mig->cursor[block], SHARE_RUN);
		if (pg >= npages)
			break;
		end = pg + SHARE_RUN < npages ? pg + SHARE_RUN : npages;
		for (; !ret && pg < end; pg++) {
			if (!all && !mig_test_bit(bitmap, pg))
				continue;
			ret = tx_page(&t, b, pg);
			count++;
		}
	}
	if (!ret)
		ret = tx_end(&t, count);
	return ret ? tx_fail(ch, block, ret) : 0;
}

int mig_send_empty(struct mig_chan *ch, unsigned int block, uint64_t round)
{
	struct tx t = { .ch = ch, .block = block };
	int ret;

	ret = tx_hdr(&t, &ch->mig->blocks[block], round);
	if (!ret)
		ret = tx_end(&t, 0);
	return ret ? tx_fail(ch, block, ret) : 0;
}

/*
 * Where tern.ko's round ends: the stream never returns EOF (the next read
 * harvests the next round) but counts rounds read to their end record, and
 * the records it framed by kind.  Any other fd (a file holding one round)
 * ends at EOF, and its records go uncounted: false.
 */
static bool kstream_status(int fd, struct tern_stream_status *st)
{
	return !ioctl(fd, TERN_STREAM_STATUS, st);
}

/*
 * Channel 0, every MIG_REPORT_MS of a deferring round: the vCPUs' writes
 * since the harvest go to tern.ko now, so the pages they hit wait for
 * the next round instead of going twice.
 */
static int report_dirty(struct mig_chan *ch)
{
	struct mig *mig = ch->mig;
	uint64_t now;
	int ret;

	if (ch->idx || !mig->defer || !mig->ops->dirty_report)
		return 0;
	now = mig_now_ns();
	if (now - mig->report_ns < MIG_REPORT_MS * 1000000ull)
		return 0;
	mig->report_ns = now;
	ret = mig->ops->dirty_report(mig->vm);
	if (ret)
		return mig_fail(mig, ret, "handing the vCPUs' dirty log to tern.ko mid-round");
	return 0;
}

/*
 * Channel ch's share of a round from tern.ko (the whole round with one
 * channel): its stream fd -> pipe -> its socket, in chunks.
 */
int mig_send_kstream(struct mig_chan *ch, unsigned int block, uint64_t round)
{
	struct mig *mig = ch->mig;
	const struct mig_ram_block *b = &mig->blocks[block];
	struct mig_chunk_hdr chh = { .block = htole32(block) };
	struct mig_hdr h = { .type = htole32(MIG_MSG_CHUNK) };
	struct tern_stream_status st0, st, seen;
	int sfd = ch->sfd[block], pfd[2] = { -1, -1 }, ret = 0;
	bool counted;
	ssize_t n;

	(void)round;
	ch->sfd[block] = -1;
	counted = kstream_status(sfd, &st0);
	st = seen = st0;
	if (pipe2(pfd, O_CLOEXEC)) {
		ret = mig_fail(mig, -errno, "pipe for block '%s' '%s'",
			       b->path, b->name);
		goto out;
	}
	fcntl(pfd[1], F_SETPIPE_SZ, CHUNK_FILL);
	for (;;) {
		n = splice(sfd, NULL, pfd[1], NULL, CHUNK_FILL, SPLICE_F_MOVE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = mig_fail(mig, -errno,
				       "page stream of block '%s' '%s' (channel %u): splice: %s",
				       b->path, b->name, ch->idx, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		h.len = htole32(sizeof(chh) + n);
		chh.length = htole32(n);
		ret = mig_conn_write(ch->c, &h, sizeof(h));
		if (!ret)
			ret = mig_conn_write(ch->c, &chh, sizeof(chh));
		if (!ret)
			ret = mig_conn_splice(ch->c, pfd[0], n);
		if (ret) {
			ret = tx_fail(ch, block, ret);
			goto out;
		}
		ch->round_bytes += n;
		mig_stat_add(mig, sizeof(h) + sizeof(chh) + n, 0, 0);
		ret = report_dirty(ch);
		if (ret)
			goto out;
		if (!counted || !kstream_status(sfd, &st))
			continue;
		/* query-migrate counts pages as they go, in round 1 too. */
		mig_stat_add(mig, 0, st.read_pages - seen.read_pages,
			     st.read_zero - seen.read_zero);
		seen = st;
		/* A read never crosses the end record: stop right after it. */
		if (st.read_rounds > st0.read_rounds)
			break;
	}
	if (counted) {
		ch->round_pages += st.read_pages - st0.read_pages;
		ch->round_zero += st.read_zero - st0.read_zero;
		ch->round_deferred += st.read_deferred - st0.read_deferred;
		mig_stat_add(mig, 0, st.read_pages - seen.read_pages,
			     st.read_zero - seen.read_zero);
	} else {
		ch->round_uncounted = true;
	}
out:
	if (pfd[0] >= 0) {
		close(pfd[0]);
		close(pfd[1]);
	}
	close(sfd);
	return ret;
}

/* Destination side. */

static int rx_fail(struct mig_chan *ch, unsigned int idx, uint64_t pos,
		   const char *why)
{
	struct mig *mig = ch->mig;
	const struct mig_ram_block *b = &mig->blocks[mig->rx[idx].local];

	if (mig->nch > 1)
		return mig_fail(mig, -EBADMSG,
				"channel %u, block %u ('%s' '%s'), stream byte %" PRIu64 ": %s",
				ch->idx, idx, b->path, b->name, pos, why);
	return mig_fail(mig, -EBADMSG,
			"block %u ('%s' '%s'), stream byte %" PRIu64 ": %s",
			idx, b->path, b->name, pos, why);
}

static int rx_header(struct mig_chan *ch, unsigned int idx, uint64_t pos)
{
	struct mig_rx_stream *rx = &ch->rx[idx];
	struct tern_stream_hdr sh;

	memcpy(&sh, rx->part, sizeof(sh));
	if (le32toh(sh.magic) != TERN_STREAM_MAGIC)
		return rx_fail(ch, idx, pos, "bad page-stream magic");
	if (le16toh(sh.version) != TERN_STREAM_VERSION ||
	    le16toh(sh.hdr_len) != sizeof(sh) ||
	    le32toh(sh.page_size) != MIG_PAGE_SIZE || sh.flags)
		return rx_fail(ch, idx, pos,
			       "page-stream header: wrong version, size, page size or flags");
	if (le64toh(sh.region_size) != ch->mig->rx[idx].size)
		return rx_fail(ch, idx, pos,
			       "page-stream region size differs from the block's");
	/* The module numbers its own harvests: any round but 0. */
	if (!le64toh(sh.round))
		return rx_fail(ch, idx, pos, "page-stream round 0");
	rx->expect = RX_REC;
	return 0;
}

static int rx_record(struct mig_chan *ch, unsigned int idx, uint64_t pos)
{
	struct mig *mig = ch->mig;
	struct mig_rx_stream *rx = &ch->rx[idx];
	const struct mig_rx_block *blk = &mig->rx[idx];
	const struct mig_ram_block *b = &mig->blocks[blk->local];
	struct tern_page_rec rec;
	uint64_t off;
	uint32_t len;
	uint16_t flags;

	memcpy(&rec, rx->part, sizeof(rec));
	off = le64toh(rec.offset);
	len = le32toh(rec.length);
	flags = le16toh(rec.flags);
	if ((flags & ~__TERN_REC_F_ALL) || rec.reserved ||
	    flags == (TERN_REC_F_ZERO | TERN_REC_F_END))
		return rx_fail(ch, idx, pos, "page record: bad flags");
	if (flags & TERN_REC_F_END) {
		if (len || off != rx->recs)
			return rx_fail(ch, idx, pos,
				       "end record: count differs from the records sent");
		rx->expect = RX_DONE;
		return 0;
	}
	if (off % MIG_PAGE_SIZE || off >= blk->size)
		return rx_fail(ch, idx, pos,
			       "page record: offset unaligned or beyond the block");
	/* In increasing offset order, as tern.ko emits them: no repeats. */
	if (off < rx->next_off)
		return rx_fail(ch, idx, pos,
			       "page record: offset not above the previous one");
	rx->next_off = off + MIG_PAGE_SIZE;
	rx->recs++;
	if (flags & TERN_REC_F_ZERO) {
		if (len || !(mig->caps & MIG_CAP_ZERO_PAGES))
			return rx_fail(ch, idx, pos,
				       "zero page record not agreed or with data");
		if (!blk->written ||
		    mig_test_bit_atomic(blk->written, off / MIG_PAGE_SIZE))
			memset((uint8_t *)b->host + off, 0, MIG_PAGE_SIZE);
		ch->round_zero++;
		return 0;
	}
	if (len != MIG_PAGE_SIZE)
		return rx_fail(ch, idx, pos, "page record: length is not 4096");
	if (blk->written)
		mig_set_bit_atomic(blk->written, off / MIG_PAGE_SIZE);
	rx->dst = (uint8_t *)b->host + off;
	rx->data_left = MIG_PAGE_SIZE;
	rx->expect = RX_DATA;
	ch->round_pages++;
	return 0;
}

/* Feed one chunk's bytes (already in ch->chunk) to the block's parser. */
static int rx_feed(struct mig_chan *ch, unsigned int idx, uint32_t len,
		   uint64_t base)
{
	struct mig_rx_stream *rx = &ch->rx[idx];
	const uint8_t *p = ch->chunk;
	uint32_t off = 0, need, n;
	int ret;

	if (rx->expect == RX_IDLE) {
		rx->expect = RX_HDR;
		rx->part_len = 0;
		rx->recs = 0;
		rx->next_off = 0;
	}
	while (off < len) {
		switch (rx->expect) {
		case RX_HDR:
		case RX_REC:
			need = rx->expect == RX_HDR ?
				sizeof(struct tern_stream_hdr) :
				sizeof(struct tern_page_rec);
			n = need - rx->part_len;
			if (n > len - off)
				n = len - off;
			memcpy(rx->part + rx->part_len, p + off, n);
			rx->part_len += n;
			off += n;
			if (rx->part_len < need)
				break;
			rx->part_len = 0;
			ret = rx->expect == RX_HDR ?
				rx_header(ch, idx, base + off - need) :
				rx_record(ch, idx, base + off - need);
			if (ret)
				return ret;
			break;
		case RX_DATA:
			n = rx->data_left < len - off ? rx->data_left : len - off;
			memcpy(rx->dst, p + off, n);
			rx->dst += n;
			rx->data_left -= n;
			off += n;
			if (!rx->data_left)
				rx->expect = RX_REC;
			break;
		default:
			return rx_fail(ch, idx, base + off,
				       "bytes after the end record");
		}
	}
	return 0;
}

/* mig_fail, naming the channel when there are several. */
#define ch_fail(ch, err, fmt, ...)					\
	((ch)->mig->nch > 1 ?						\
	 mig_fail((ch)->mig, err, "channel %u: " fmt, (ch)->idx, ##__VA_ARGS__) : \
	 mig_fail((ch)->mig, err, fmt, ##__VA_ARGS__))

static int rx_chunk(struct mig_chan *ch, const struct mig_hdr *h)
{
	struct mig *mig = ch->mig;
	struct mig_chunk_hdr chh;
	uint32_t idx, len;
	uint64_t base;
	int ret;

	if (h->len < sizeof(chh))
		return ch_fail(ch, -EBADMSG, "chunk shorter than its header");
	ret = mig_conn_read(ch->c, &chh, sizeof(chh));
	if (ret)
		return ch_fail(ch, ret, "%s", ch->c->err);
	idx = le32toh(chh.block);
	len = le32toh(chh.length);
	if (len != h->len - sizeof(chh))
		return ch_fail(ch, -EBADMSG,
			       "chunk length %u differs from its message (%u)",
			       len, h->len - (uint32_t)sizeof(chh));
	if (idx >= mig->nr_rx)
		return ch_fail(ch, -EBADMSG,
			       "chunk for block %u: not in the block list (%u blocks)",
			       idx, mig->nr_rx);
	if (!mig->rx[idx].migratable)
		return ch_fail(ch, -EBADMSG,
			       "chunk for non-migratable block %u ('%s' '%s')",
			       idx, mig->blocks[mig->rx[idx].local].path,
			       mig->blocks[mig->rx[idx].local].name);
	if (ch->rx[idx].expect == RX_DONE)
		return ch_fail(ch, -EBADMSG,
			       "block %u: second stream in round %" PRIu64,
			       idx, mig->round);
	base = ch->c->rx_off;
	ret = mig_conn_read(ch->c, ch->chunk, len);
	if (ret)
		return ch_fail(ch, ret, "%s", ch->c->err);
	ch->round_bytes += len;
	mig_stat_add(mig, sizeof(*h) + sizeof(chh) + len, 0, 0);
	return rx_feed(ch, idx, len, base);
}

/* Has channel ch delivered the end record of every migratable block? */
static bool rx_share_done(struct mig_chan *ch)
{
	unsigned int i;

	for (i = 0; i < ch->mig->nr_rx; i++)
		if (ch->mig->rx[i].migratable && ch->rx[i].expect != RX_DONE)
			return false;
	return true;
}

static int rx_round_end(struct mig *mig, const struct mig_hdr *h)
{
	struct nlattr *tb[MIG_A_MAX + 1];
	struct mig_chan *ch;
	uint64_t round, v;
	unsigned int i, c;
	int ret;

	ret = mig_recv_attrs(&mig->conn, h, tb);
	if (ret)
		return mig_fail(mig, ret, "round-end: %s", mig->conn.err);
	if (mig_attr_u64(tb, MIG_A_ROUND, &round) || round != mig->round)
		return mig_fail(mig, -EBADMSG, "round-end for another round");
	if (mig_attr_u64(tb, MIG_A_BYTES, &v) || v != mig->round_bytes)
		return mig_fail(mig, -EBADMSG,
				"round %" PRIu64 ": %" PRIu64 " page-stream bytes received, source says otherwise",
				round, mig->round_bytes);
	/* Optional: sources before tern.ko counted its records sent none. */
	if ((tb[MIG_A_PAGES] &&
	     (mig_attr_u64(tb, MIG_A_PAGES, &v) || v != mig->round_pages)) ||
	    (tb[MIG_A_ZERO_PAGES] &&
	     (mig_attr_u64(tb, MIG_A_ZERO_PAGES, &v) || v != mig->round_zero)))
		return mig_fail(mig, -EBADMSG,
				"round %" PRIu64 ": page counts differ from the source's",
				round);
	for (c = 0; c < mig->nch; c++) {
		ch = mig->ch[c];
		for (i = 0; i < mig->nr_rx; i++) {
			/* With channels, each sends every block every round. */
			if (mig->nch > 1 && mig->rx[i].migratable &&
			    ch->rx[i].expect != RX_DONE)
				return rx_fail(ch, i, ch->c->rx_off,
					       "round ended without the block's end record");
			if (ch->rx[i].expect != RX_IDLE &&
			    ch->rx[i].expect != RX_DONE)
				return rx_fail(ch, i, mig->conn.msg_pos,
					       "round ended inside the block's stream");
		}
	}
	mig_rx_reset(mig);
	mig_stat_add(mig, 0, mig->round_pages, mig->round_zero);
	pthread_mutex_lock(&mig->lock);
	mig->st.rounds = round;
	pthread_mutex_unlock(&mig->lock);
	return 0;
}

/*
 * One channel's share of a round: channel 0's chunks come on the main
 * connection until round-end (kept in end_hdr for the main thread);
 * another channel's until it has delivered every block's end record.
 */

static int recv_share(struct mig_chan *ch)
{
	struct mig *mig = ch->mig;
	struct mig_hdr h;
	int ret;

	while (ch->idx == 0 || !rx_share_done(ch)) {
		ret = mig_recv_hdr(ch->c, &h);
		if (ret)
			return ch_fail(ch, ret, "%s", ch->c->err);
		if (ch->idx == 0 && h.type == MIG_MSG_ROUND_END) {
			mig->end_hdr = h;
			return 0;
		}
		if (h.type != MIG_MSG_CHUNK)
			return ch_fail(ch, -EPROTO, "%s inside round %" PRIu64,
				       mig_msg_name(h.type), mig->round);
		ret = rx_chunk(ch, &h);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * After round-begin: every channel's share, each in its thread, until
 * round-end on the main connection and every channel's end records; no
 * channel reads the next round's data before all are done (a page may
 * change channel from one round to the next).
 */
int mig_recv_round(struct mig *mig)
{
	struct mig_chan *ch;
	unsigned int c;
	int ret;

	mig->round_pages = mig->round_zero = mig->round_bytes = 0;
	for (c = 0; c < mig->nch; c++) {
		ch = mig->ch[c];
		ch->round_pages = ch->round_zero = ch->round_bytes = 0;
	}
	ret = mig_chans_run(mig, recv_share);
	if (ret)
		return ret;
	for (c = 0; c < mig->nch; c++) {
		ch = mig->ch[c];
		mig->round_pages += ch->round_pages;
		mig->round_zero += ch->round_zero;
		mig->round_bytes += ch->round_bytes;
	}
	return rx_round_end(mig, &mig->end_hdr);
}

void mig_rx_reset(struct mig *mig)
{
	unsigned int c, i;

	for (c = 0; c < mig->nch; c++)
		for (i = 0; i < MIG_MAX_BLOCKS; i++)
			mig->ch[c]->rx[i].expect = RX_IDLE;
}
