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

/* Source side: one block's round, buffered into chunks. */
struct tx {
	struct mig *mig;
	uint32_t block;
	uint32_t len;
};

static int tx_flush(struct tx *t)
{
	struct mig *mig = t->mig;
	struct mig_hdr h = {
		.type = htole32(MIG_MSG_CHUNK),
		.len = htole32(sizeof(struct mig_chunk_hdr) + t->len),
	};
	struct mig_chunk_hdr ch = {
		.block = htole32(t->block),
		.length = htole32(t->len),
	};
	int ret;

	if (!t->len)
		return 0;
	ret = mig_conn_write(&mig->conn, &h, sizeof(h));
	if (!ret)
		ret = mig_conn_write(&mig->conn, &ch, sizeof(ch));
	if (!ret)
		ret = mig_conn_write(&mig->conn, mig->chunk, t->len);
	if (ret)
		return ret;
	mig->round_bytes += t->len;
	mig_stat_add(mig, sizeof(h) + sizeof(ch) + t->len, 0, 0);
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
	memcpy(t->mig->chunk + t->len, p, n);
	t->len += n;
	return 0;
}

static int tx_page(struct tx *t, const struct mig_ram_block *b, uint64_t pg)
{
	const uint8_t *src = (const uint8_t *)b->host + pg * MIG_PAGE_SIZE;
	struct tern_page_rec rec = { .offset = htole64(pg * MIG_PAGE_SIZE) };
	struct mig *mig = t->mig;
	int ret;

	if ((mig->caps & MIG_CAP_ZERO_PAGES) && mig_page_is_zero(src)) {
		rec.flags = htole16(TERN_REC_F_ZERO);
		mig->round_zero++;
		mig_stat_add(mig, 0, 0, 1);
		return tx_put(t, &rec, sizeof(rec));
	}
	rec.length = htole32(MIG_PAGE_SIZE);
	ret = tx_put(t, &rec, sizeof(rec));
	if (!ret)
		ret = tx_put(t, src, MIG_PAGE_SIZE);
	mig->round_pages++;
	mig_stat_add(mig, 0, 1, 0);
	return ret;
}

/*
 * One round of block `block` from userspace: every page (all) or those set
 * in bitmap, byte-identical to what tern.ko would emit for them.
 */
int mig_send_pages(struct mig *mig, unsigned int block, uint64_t round,
		   const unsigned long *bitmap, bool all)
{
	const struct mig_ram_block *b = &mig->blocks[block];
	uint64_t npages = b->size / MIG_PAGE_SIZE, pg, count = 0;
	struct tx t = { .mig = mig, .block = block };
	struct tern_stream_hdr sh = {
		.magic = htole32(TERN_STREAM_MAGIC),
		.version = htole16(TERN_STREAM_VERSION),
		.hdr_len = htole16(sizeof(sh)),
		.page_size = htole32(MIG_PAGE_SIZE),
		.region_size = htole64(b->size),
		.round = htole64(round),
	};
	struct tern_page_rec end = { .flags = htole16(TERN_REC_F_END) };
	int ret;

	ret = tx_put(&t, &sh, sizeof(sh));
	for (pg = 0; !ret && pg < npages; pg++) {
		if (!all && !mig_test_bit(bitmap, pg))
			continue;
		ret = tx_page(&t, b, pg);
		count++;
	}
	end.offset = htole64(count);
	if (!ret)
		ret = tx_put(&t, &end, sizeof(end));
	if (!ret)
		ret = tx_flush(&t);
	if (ret)
		return mig_fail(mig, ret, "sending block '%s' '%s': %s",
				b->path, b->name, mig->conn.err);
	return 0;
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

/* One round from tern.ko: stream fd -> pipe -> socket, in chunks. */
int mig_send_kstream(struct mig *mig, unsigned int block, uint64_t round)
{
	const struct mig_ram_block *b = &mig->blocks[block];
	struct mig_chunk_hdr ch = { .block = htole32(block) };
	struct mig_hdr h = { .type = htole32(MIG_MSG_CHUNK) };
	struct tern_stream_status st0, st, seen;
	int sfd = -1, pfd[2] = { -1, -1 }, ret;
	bool counted;
	ssize_t n;

	ret = mig->ops->stream_round(mig->vm, block, round, &sfd);
	if (ret)
		return mig_fail(mig, ret, "page stream of block '%s' '%s'",
				b->path, b->name);
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
				       "page stream of block '%s' '%s': splice: %s",
				       b->path, b->name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		h.len = htole32(sizeof(ch) + n);
		ch.length = htole32(n);
		ret = mig_conn_write(&mig->conn, &h, sizeof(h));
		if (!ret)
			ret = mig_conn_write(&mig->conn, &ch, sizeof(ch));
		if (!ret)
			ret = mig_conn_splice(&mig->conn, pfd[0], n);
		if (ret) {
			ret = mig_fail(mig, ret, "sending block '%s' '%s': %s",
				       b->path, b->name, mig->conn.err);
			goto out;
		}
		mig->round_bytes += n;
		mig_stat_add(mig, sizeof(h) + sizeof(ch) + n, 0, 0);
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
		mig->round_pages += st.read_pages - st0.read_pages;
		mig->round_zero += st.read_zero - st0.read_zero;
		mig_stat_add(mig, 0, st.read_pages - seen.read_pages,
			     st.read_zero - seen.read_zero);
	} else {
		mig->round_uncounted = true;
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

static int rx_fail(struct mig *mig, unsigned int idx, uint64_t pos,
		   const char *why)
{
	const struct mig_ram_block *b = &mig->blocks[mig->rx[idx].local];

	return mig_fail(mig, -EBADMSG,
			"block %u ('%s' '%s'), stream byte %" PRIu64 ": %s",
			idx, b->path, b->name, pos, why);
}

static int rx_header(struct mig *mig, unsigned int idx, uint64_t pos)
{
	struct mig_rx_block *rx = &mig->rx[idx];
	struct tern_stream_hdr sh;

	memcpy(&sh, rx->part, sizeof(sh));
	if (le32toh(sh.magic) != TERN_STREAM_MAGIC)
		return rx_fail(mig, idx, pos, "bad page-stream magic");
	if (le16toh(sh.version) != TERN_STREAM_VERSION ||
	    le16toh(sh.hdr_len) != sizeof(sh) ||
	    le32toh(sh.page_size) != MIG_PAGE_SIZE || sh.flags)
		return rx_fail(mig, idx, pos,
			       "page-stream header: wrong version, size, page size or flags");
	if (le64toh(sh.region_size) != rx->size)
		return rx_fail(mig, idx, pos,
			       "page-stream region size differs from the block's");
	/* The module numbers its own harvests: any round but 0. */
	if (!le64toh(sh.round))
		return rx_fail(mig, idx, pos, "page-stream round 0");
	rx->expect = RX_REC;
	return 0;
}

static int rx_record(struct mig *mig, unsigned int idx, uint64_t pos)
{
	struct mig_rx_block *rx = &mig->rx[idx];
	const struct mig_ram_block *b = &mig->blocks[rx->local];
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
		return rx_fail(mig, idx, pos, "page record: bad flags");
	if (flags & TERN_REC_F_END) {
		if (len || off != rx->recs)
			return rx_fail(mig, idx, pos,
				       "end record: count differs from the records sent");
		rx->expect = RX_DONE;
		return 0;
	}
	if (off % MIG_PAGE_SIZE || off >= rx->size)
		return rx_fail(mig, idx, pos,
			       "page record: offset unaligned or beyond the block");
	/* In increasing offset order, as tern.ko emits them: no repeats. */
	if (off < rx->next_off)
		return rx_fail(mig, idx, pos,
			       "page record: offset not above the previous one");
	rx->next_off = off + MIG_PAGE_SIZE;
	rx->recs++;
	if (flags & TERN_REC_F_ZERO) {
		if (len || !(mig->caps & MIG_CAP_ZERO_PAGES))
			return rx_fail(mig, idx, pos,
				       "zero page record not agreed or with data");
		if (!rx->written || mig_test_bit(rx->written, off / MIG_PAGE_SIZE))
			memset((uint8_t *)b->host + off, 0, MIG_PAGE_SIZE);
		mig->round_zero++;
		return 0;
	}
	if (len != MIG_PAGE_SIZE)
		return rx_fail(mig, idx, pos, "page record: length is not 4096");
	if (rx->written)
		mig_set_bit(rx->written, off / MIG_PAGE_SIZE);
	rx->dst = (uint8_t *)b->host + off;
	rx->data_left = MIG_PAGE_SIZE;
	rx->expect = RX_DATA;
	mig->round_pages++;
	return 0;
}

/* Feed one chunk's bytes (already in mig->chunk) to the block's parser. */
static int rx_feed(struct mig *mig, unsigned int idx, uint32_t len,
		   uint64_t base)
{
	struct mig_rx_block *rx = &mig->rx[idx];
	const uint8_t *p = mig->chunk;
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
				rx_header(mig, idx, base + off - need) :
				rx_record(mig, idx, base + off - need);
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
			return rx_fail(mig, idx, base + off,
				       "bytes after the end record");
		}
	}
	return 0;
}

static int rx_chunk(struct mig *mig, const struct mig_hdr *h)
{
	struct mig_chunk_hdr ch;
	uint32_t idx, len;
	uint64_t base;
	int ret;

	if (h->len < sizeof(ch))
		return mig_fail(mig, -EBADMSG, "chunk shorter than its header");
	ret = mig_conn_read(&mig->conn, &ch, sizeof(ch));
	if (ret)
		return mig_fail(mig, ret, "%s", mig->conn.err);
	idx = le32toh(ch.block);
	len = le32toh(ch.length);
	if (len != h->len - sizeof(ch))
		return mig_fail(mig, -EBADMSG,
				"chunk length %u differs from its message (%u)",
				len, h->len - (uint32_t)sizeof(ch));
	if (idx >= mig->nr_rx)
		return mig_fail(mig, -EBADMSG,
				"chunk for block %u: not in the block list (%u blocks)",
				idx, mig->nr_rx);
	if (!mig->rx[idx].migratable)
		return mig_fail(mig, -EBADMSG,
				"chunk for non-migratable block %u ('%s' '%s')",
				idx, mig->blocks[mig->rx[idx].local].path,
				mig->blocks[mig->rx[idx].local].name);
	if (mig->rx[idx].expect == RX_DONE)
		return mig_fail(mig, -EBADMSG,
				"block %u: second stream in round %" PRIu64,
				idx, mig->round);
	base = mig->conn.rx_off;
	ret = mig_conn_read(&mig->conn, mig->chunk, len);
	if (ret)
		return mig_fail(mig, ret, "%s", mig->conn.err);
	mig->round_bytes += len;
	mig_stat_add(mig, sizeof(*h) + sizeof(ch) + len, 0, 0);
	return rx_feed(mig, idx, len, base);
}

static int rx_round_end(struct mig *mig, const struct mig_hdr *h)
{
	struct nlattr *tb[MIG_A_MAX + 1];
	uint64_t round, v;
	unsigned int i;
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
	for (i = 0; i < mig->nr_rx; i++) {
		if (mig->rx[i].expect != RX_IDLE && mig->rx[i].expect != RX_DONE)
			return rx_fail(mig, i, mig->conn.msg_pos,
				       "round ended inside the block's stream");
		mig->rx[i].expect = RX_IDLE;
	}
	mig_stat_add(mig, 0, mig->round_pages, mig->round_zero);
	pthread_mutex_lock(&mig->lock);
	mig->st.rounds = round;
	pthread_mutex_unlock(&mig->lock);
	return 0;
}

/* After round-begin: chunks until round-end. */
int mig_recv_round(struct mig *mig)
{
	struct mig_hdr h;
	int ret;

	mig->round_pages = mig->round_zero = mig->round_bytes = 0;
	for (;;) {
		ret = mig_recv_hdr(&mig->conn, &h);
		if (ret)
			return mig_fail(mig, ret, "%s", mig->conn.err);
		if (h.type == MIG_MSG_ROUND_END)
			return rx_round_end(mig, &h);
		if (h.type != MIG_MSG_CHUNK)
			return mig_fail(mig, -EPROTO, "%s inside round %" PRIu64,
					mig_msg_name(h.type), mig->round);
		ret = rx_chunk(mig, &h);
		if (ret)
			return ret;
	}
}

void mig_rx_reset(struct mig *mig)
{
	unsigned int i;

	for (i = 0; i < MIG_MAX_BLOCKS; i++)
		mig->rx[i].expect = RX_IDLE;
}
