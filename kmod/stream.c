// SPDX-License-Identifier: GPL-2.0
/*
 * Page-stream fds.  The read side frames its share of a round (stream
 * header, a record per page with its data or alone for a zero page, an end
 * record): the whole round for a single stream, the runs it claimed for a
 * member of a stream set (stream_set.c); read(2) copies, splice(2) hands
 * the region's pages to the pipe.  The write side checks every header and
 * record before it touches a page.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pipe_fs_i.h>
#include <linux/poll.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/splice.h>
#include <linux/string.h>
#include <linux/tern.h>
#include <linux/uio.h>

#include "compat.h"
#include "ioctl.h"
#include "region.h"
#include "stream.h"
#include "stream_set.h"

static atomic_t tern_streams_nr = ATOMIC_INIT(0);
/* Page references the module itself holds (not those lent to pipes). */
static atomic64_t tern_pages_held = ATOMIC64_INIT(0);

enum src_phase { SRC_IDLE, SRC_RECS, SRC_END };
enum dst_want { DST_HDR, DST_REC, DST_DATA };

struct tern_stream {
	struct tern_region *region;
	struct file *region_file;	/* a reference */
	struct mutex lock;

	/* read side: the share of the set's round being framed */
	struct tern_set *set;		/* a reference */
	u64 gen;			/* the set's round last joined */
	unsigned long *round;		/* pages claimed this round */
	enum src_phase phase;
	unsigned long next;		/* next page index to frame */
	unsigned long end;		/* end of the current claim */
	u64 nrec, round_no, read_rounds, read_pages, read_zero, read_deferred;
	int read_error;			/* sticky: a page could not be read */
	bool item_live;			/* item/page below not yet consumed */
	u8 item[sizeof(struct tern_stream_hdr)];
	u32 item_len, item_pos;		/* header bytes of the item */
	struct page *page;		/* its data, a held reference, or NULL */
	u32 page_pos;
	struct page *stage;		/* splice: header bytes for the pipe */
	u32 stage_off;

	/* write side */
	enum dst_want want;
	u8 buf[sizeof(struct tern_stream_hdr)];
	u32 have;
	u64 data_off;			/* region offset of the data record */
	u32 data_pos;
	u64 dst_nrec, consumed, item_start, records, rounds;
	int error;
};

static void page_hold(struct tern_region *r)
{
	atomic64_inc(&tern_pages_held);
	atomic64_inc(&r->pages_held);
}

static void page_drop(struct tern_region *r, struct page *page)
{
	atomic64_dec(&tern_pages_held);
	atomic64_dec(&r->pages_held);
	put_page(page);
}

int tern_stream_check_hdr(const struct tern_stream_hdr *h, u64 region_size)
{
	if (le32_to_cpu(h->magic) != TERN_STREAM_MAGIC ||
	    le16_to_cpu(h->version) != TERN_STREAM_VERSION ||
	    le16_to_cpu(h->hdr_len) != sizeof(*h) ||
	    le32_to_cpu(h->page_size) != TERN_PAGE_SIZE)
		return -EBADMSG;
	if (h->flags || le64_to_cpu(h->region_size) != region_size ||
	    !h->round)
		return -EINVAL;
	return 0;
}

/* @nrec: page records seen so far in this round, for the end record. */
int tern_stream_check_rec(const struct tern_page_rec *rec, u64 region_size,
			  u64 nrec)
{
	u16 flags = le16_to_cpu(rec->flags);
	u64 off = le64_to_cpu(rec->offset);
	u32 len = le32_to_cpu(rec->length);

	if (rec->reserved || (flags & ~__TERN_REC_F_ALL))
		return -EINVAL;
	if (flags & TERN_REC_F_END)
		return (flags == TERN_REC_F_END && !len && off == nrec) ?
			0 : -EINVAL;
	if (off % TERN_PAGE_SIZE || off >= region_size)
		return -EINVAL;
	if (flags & TERN_REC_F_ZERO)
		return len ? -EINVAL : 0;
	return len == TERN_PAGE_SIZE ? 0 : -EINVAL;
}

/* ---- read side ---- */

/*
 * The page at @idx with a reference: NULL when it reads as zeros, an
 * ERR_PTR when it cannot be read (swap-in failed): never zeros for a page
 * that may hold data.  The folio lock waits out shmem filling a new
 * folio, which it inserts into the page cache before clearing it: until
 * then its bytes are a previous owner's.  A folio still not uptodate
 * under the lock was never written (fallocate) and reads as zeros; one
 * no longer in our mapping was punched out and reads as zeros too.
 */
static struct page *region_read_page(struct tern_region *r, pgoff_t idx)
{
	struct address_space *mapping = tern_region_mapping(r);
	struct folio *folio = tern_folio_peek(mapping, idx);
	struct page *page = NULL;

	if (!folio)
		return NULL;
	if (xa_is_value(folio))		/* out on swap: bring it back */
		return shmem_read_mapping_page_gfp(mapping, idx,
						   mapping_gfp_mask(mapping));
	folio_lock(folio);
	if (folio->mapping == mapping && folio_test_uptodate(folio)) {
		page = folio_file_page(folio, idx);
		get_page(page);
	}
	folio_unlock(folio);
	folio_put(folio);
	return page;
}

static bool page_is_zero(struct page *page)
{
	void *p = kmap_local_page(page);
	bool zero = !memchr_inv(p, 0, PAGE_SIZE);

	kunmap_local(p);
	return zero;
}

static void src_set_rec(struct tern_stream *s, u64 offset, u32 len, u16 flags)
{
	struct tern_page_rec rec = {
		.offset = cpu_to_le64(offset),
		.length = cpu_to_le32(len),
		.flags = cpu_to_le16(flags),
	};

	memcpy(s->item, &rec, sizeof(rec));
	s->item_len = sizeof(rec);
	s->item_pos = 0;
	s->page_pos = 0;
	s->item_live = true;
}

/*
 * The share cannot be framed: its pages go back to the tracker, the set
 * stops waiting for this member, and its read side fails from now on (the
 * reader holds part of a round).
 */
static int src_fail(struct tern_stream *s, int err)
{
	tern_track_unharvest(s->region, s->round);
	s->phase = SRC_IDLE;
	s->read_error = err;
	tern_set_leave(s->set, s->gen, true);
	return err;
}

/*
 * Frame the next item of the share, joining the set's round (or
 * harvesting one) when the member is in none: -EAGAIN when it already
 * ended the set's open round and must wait for the others.
 */
static int src_next_item(struct tern_stream *s)
{
	struct tern_region *r = s->region;
	struct tern_stream_hdr h = {
		.magic = cpu_to_le32(TERN_STREAM_MAGIC),
		.version = cpu_to_le16(TERN_STREAM_VERSION),
		.hdr_len = cpu_to_le16(sizeof(h)),
		.page_size = cpu_to_le32(TERN_PAGE_SIZE),
		.region_size = cpu_to_le64(r->size),
	};
	struct page *page;
	unsigned long idx;
	int ret;

	if (s->read_error)
		return s->read_error;
	switch (s->phase) {
	case SRC_IDLE:
		ret = tern_set_join(s->set, &s->gen, &s->round_no);
		if (ret)
			return ret;
		bitmap_zero(s->round, r->npages);
		s->end = 0;
		h.round = cpu_to_le64(s->round_no);
		memcpy(s->item, &h, sizeof(h));
		s->item_len = sizeof(h);
		s->item_pos = 0;
		s->item_live = true;
		s->phase = SRC_RECS;
		s->next = 0;
		s->nrec = 0;
		return 0;
	case SRC_RECS:
		for (;;) {
			/* The rest of the claim, else the next claim's first page. */
			idx = find_next_bit(s->round, s->end, s->next);
			if (idx >= s->end) {
				cond_resched();
				if (!tern_set_claim(s->set, s->round, &idx,
						    &s->end)) {
					src_set_rec(s, s->nrec, 0,
						    TERN_REC_F_END);
					s->phase = SRC_END;
					return 0;
				}
			}
			s->next = idx + 1;
			/* Written again: the next round carries it anyway. */
			if (!tern_set_defers(s->set) ||
			    !tern_track_written_since(r, idx))
				break;
			__clear_bit(idx, s->round);
			s->read_deferred++;
		}
		page = region_read_page(r, idx);
		if (IS_ERR(page))
			return src_fail(s, PTR_ERR(page));
		s->nrec++;
		if (page && !page_is_zero(page)) {
			src_set_rec(s, (u64)idx << PAGE_SHIFT, PAGE_SIZE, 0);
			s->page = page;
			s->read_pages++;
			page_hold(r);
			return 0;
		}
		if (page)
			put_page(page);
		src_set_rec(s, (u64)idx << PAGE_SHIFT, 0, TERN_REC_F_ZERO);
		s->read_zero++;
		return 0;
	default:
		return -EINVAL;
	}
}

static u32 src_data_len(struct tern_stream *s)
{
	return s->page ? PAGE_SIZE : 0;
}

/* The current item is fully consumed: drop it; true at a round's end. */
static bool src_item_done(struct tern_stream *s)
{
	if (s->page) {
		page_drop(s->region, s->page);
		s->page = NULL;
	}
	s->item_live = false;
	if (s->phase == SRC_END) {
		s->phase = SRC_IDLE;
		s->read_rounds++;
		tern_set_end(s->set);
		return true;
	}
	return false;
}

/*
 * A member that ended its set's open round waits, with its own lock
 * dropped, until every member has: only a call that returned nothing yet
 * waits, since a call never crosses a round's end.  0 to try again.
 */
static int src_wait(struct tern_stream *s, u64 gen, bool nonblock)
{
	if (nonblock)
		return -EAGAIN;
	return wait_event_interruptible(*tern_set_wq(s->set),
					tern_set_ready(s->set, gen));
}

static ssize_t stream_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct tern_stream *s = iocb->ki_filp->private_data;
	bool nonblock = (iocb->ki_flags & IOCB_NOWAIT) ||
			(iocb->ki_filp->f_flags & O_NONBLOCK);
	size_t n, done;
	bool wait;
	int ret;
	u64 gen;

again:
	done = 0;
	ret = 0;
	mutex_lock(&s->lock);
	while (iov_iter_count(to)) {
		if (!s->item_live) {
			ret = src_next_item(s);
			if (ret)
				break;
		}
		if (s->item_pos < s->item_len) {
			n = min_t(size_t, s->item_len - s->item_pos,
				  iov_iter_count(to));
			n = copy_to_iter(s->item + s->item_pos, n, to);
			s->item_pos += n;
		} else {
			n = min_t(size_t, src_data_len(s) - s->page_pos,
				  iov_iter_count(to));
			n = copy_page_to_iter(s->page, s->page_pos, n, to);
			s->page_pos += n;
		}
		done += n;
		if (!n) {
			ret = -EFAULT;
			break;
		}
		if (s->item_pos == s->item_len &&
		    s->page_pos == src_data_len(s) && src_item_done(s))
			break;
	}
	/* -EAGAIN from the join alone: a member between rounds, not failed */
	wait = !done && ret == -EAGAIN && s->phase == SRC_IDLE &&
	       !s->read_error;
	gen = s->gen;
	mutex_unlock(&s->lock);
	if (wait) {
		ret = src_wait(s, gen, nonblock);
		if (!ret)
			goto again;
	}
	return done ? done : ret;
}

/* Room for @n header bytes in the staging page that feeds the pipe. */
static int src_stage(struct tern_stream *s, u32 n)
{
	if (s->stage && s->stage_off + n <= PAGE_SIZE)
		return 0;
	if (s->stage)
		page_drop(s->region, s->stage);
	s->stage = alloc_page(GFP_KERNEL_ACCOUNT);
	if (!s->stage)
		return -ENOMEM;
	page_hold(s->region);
	s->stage_off = 0;
	return 0;
}

/*
 * Lengthen the pipe's last buffer by @n header bytes just written after it
 * in the staging page: a run of zero-page records then takes one buffer
 * (one socket fragment), not one each.  The caller holds the pipe locked.
 */
static bool src_stage_extend(struct tern_stream *s,
			     struct pipe_inode_info *pipe, u32 n)
{
	struct pipe_buffer *last;

	if (pipe_empty(pipe->head, pipe->tail))
		return false;
	last = &pipe->bufs[(pipe->head - 1) & (pipe->ring_size - 1)];
	if (last->ops != &nosteal_pipe_buf_ops || last->page != s->stage ||
	    last->offset + last->len != s->stage_off)
		return false;
	last->len += n;
	return true;
}

/*
 * Header bytes go through a staging page the pipe shares (append only, so
 * bytes lent to the pipe never change); data goes as the region's page.
 * The pipe's buffers use the kernel's nosteal ops, not ours, so a pipe
 * still holding pages after rmmod calls no module code.
 */
static ssize_t stream_splice_read(struct file *file, loff_t *ppos,
				  struct pipe_inode_info *pipe, size_t len,
				  unsigned int flags)
{
	struct tern_stream *s = file->private_data;
	bool nonblock = (flags & SPLICE_F_NONBLOCK) ||
			(file->f_flags & O_NONBLOCK);
	struct pipe_buffer buf;
	ssize_t done, ret;
	bool hdr, wait;
	u64 gen;
	u32 n;

again:
	done = 0;
	ret = 0;
	mutex_lock(&s->lock);
	while (len) {
		if (!pipe->readers) {
			ret = -EPIPE;
			break;
		}
		if (pipe_full(pipe->head, pipe->tail, pipe->max_usage))
			break;
		if (!s->item_live) {
			ret = src_next_item(s);
			if (ret)
				break;
		}
		memset(&buf, 0, sizeof(buf));
		buf.ops = &nosteal_pipe_buf_ops;
		hdr = s->item_pos < s->item_len;
		if (hdr) {
			n = min_t(size_t, s->item_len - s->item_pos, len);
			ret = src_stage(s, n);
			if (ret)
				break;
			memcpy(page_address(s->stage) + s->stage_off,
			       s->item + s->item_pos, n);
			buf.page = s->stage;
			buf.offset = s->stage_off;
		} else {
			n = min_t(size_t, PAGE_SIZE - s->page_pos, len);
			buf.page = s->page;
			buf.offset = s->page_pos;
		}
		buf.len = n;
		if (!hdr || !src_stage_extend(s, pipe, n)) {
			get_page(buf.page);
			ret = add_to_pipe(pipe, &buf);
			if (ret < 0)
				break;
			ret = 0;
		}
		if (hdr) {
			s->stage_off += n;
			s->item_pos += n;
		} else {
			s->page_pos += n;
		}
		done += n;
		len -= n;
		if (s->item_pos == s->item_len &&
		    s->page_pos == src_data_len(s) && src_item_done(s))
			break;
	}
	/* -EAGAIN from the join alone: a member between rounds, not failed */
	wait = !done && ret == -EAGAIN && s->phase == SRC_IDLE &&
	       !s->read_error;
	gen = s->gen;
	mutex_unlock(&s->lock);
	if (wait) {
		ret = src_wait(s, gen, nonblock);
		if (!ret)
			goto again;
	}
	return done ? done : ret;
}

/*
 * Readable unless the member ended its set's open round and the others
 * have not (a single stream never waits); writable always, as before.
 */
static __poll_t stream_poll(struct file *file, poll_table *wait)
{
	struct tern_stream *s = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, tern_set_wq(s->set), wait);
	if (file->f_mode & FMODE_WRITE)
		mask |= EPOLLOUT | EPOLLWRNORM;
	if (READ_ONCE(s->phase) != SRC_IDLE || READ_ONCE(s->read_error) ||
	    tern_set_ready(s->set, READ_ONCE(s->gen)))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/* ---- write side ---- */

static int dst_fail(struct tern_stream *s, int err)
{
	s->error = err;
	return err;
}

/* A complete header or record sits in s->buf: check it, then act. */
static int dst_item(struct tern_stream *s)
{
	struct tern_region *r = s->region;
	struct tern_stream_hdr h;
	struct tern_page_rec rec;
	struct page *page;
	u16 flags;
	int ret;

	if (s->want == DST_HDR) {
		memcpy(&h, s->buf, sizeof(h));
		ret = tern_stream_check_hdr(&h, r->size);
		if (ret)
			return ret;
		s->want = DST_REC;
		s->dst_nrec = 0;
		return 0;
	}
	memcpy(&rec, s->buf, sizeof(rec));
	ret = tern_stream_check_rec(&rec, r->size, s->dst_nrec);
	if (ret)
		return ret;
	flags = le16_to_cpu(rec.flags);
	if (flags & TERN_REC_F_END) {
		s->want = DST_HDR;
		s->rounds++;
		return 0;
	}
	s->dst_nrec++;
	s->data_off = le64_to_cpu(rec.offset);
	if (!(flags & TERN_REC_F_ZERO)) {
		s->want = DST_DATA;
		s->data_pos = 0;
		return 0;
	}
	page = region_read_page(r, s->data_off >> PAGE_SHIFT);
	if (IS_ERR(page))
		return PTR_ERR(page);
	if (page) {
		clear_highpage(page);
		set_page_dirty(page);
		put_page(page);
		tern_track_mark(r, s->data_off >> PAGE_SHIFT);
	}
	s->records++;
	return 0;
}

static ssize_t dst_data(struct tern_stream *s, struct iov_iter *from)
{
	struct tern_region *r = s->region;
	pgoff_t idx = s->data_off >> PAGE_SHIFT;
	struct address_space *mapping = tern_region_mapping(r);
	struct page *page;
	size_t n;

	page = shmem_read_mapping_page_gfp(mapping, idx,
					   mapping_gfp_mask(mapping));
	if (IS_ERR(page))
		return PTR_ERR(page);
	page_hold(r);
	n = min_t(size_t, PAGE_SIZE - s->data_pos, iov_iter_count(from));
	n = copy_page_from_iter(page, s->data_pos, n, from);
	set_page_dirty(page);
	page_drop(r, page);
	tern_track_mark(r, idx);
	if (!n)
		return -EFAULT;
	s->data_pos += n;
	if (s->data_pos == PAGE_SIZE) {
		s->want = DST_REC;
		s->records++;
	}
	return n;
}

static u32 dst_need(struct tern_stream *s)
{
	return s->want == DST_HDR ? sizeof(struct tern_stream_hdr) :
				    sizeof(struct tern_page_rec);
}

static ssize_t stream_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct tern_stream *s = iocb->ki_filp->private_data;
	ssize_t done = 0, ret = 0;
	size_t n;

	mutex_lock(&s->lock);
	if (s->error) {
		ret = s->error;
		goto out;
	}
	while (iov_iter_count(from)) {
		if (s->want == DST_DATA) {
			ret = dst_data(s, from);
			if (ret < 0)
				break;
			done += ret;
			s->consumed += ret;
			ret = 0;
			continue;
		}
		n = min_t(size_t, dst_need(s) - s->have, iov_iter_count(from));
		if (copy_from_iter(s->buf + s->have, n, from) != n) {
			ret = -EFAULT;
			break;
		}
		s->have += n;
		done += n;
		if (s->have < dst_need(s))
			continue;
		ret = dst_item(s);
		if (ret) {
			/* consumed stays at the bad item's first byte */
			done = 0;
			dst_fail(s, ret);
			break;
		}
		s->consumed += s->have;
		s->have = 0;
	}
out:
	mutex_unlock(&s->lock);
	return done ? done : ret;
}

static long stream_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	static const struct tern_ioc iocs[] = {
		{ TERN_STREAM_STATUS, TERN_STREAM_STATUS_SIZE_VER0 },
	};
	struct tern_stream *s = file->private_data;
	struct tern_stream_status st = {};
	size_t usize;

	/* Any size from VER0 on: older callers get the fields they know. */
	if (tern_ioc_canon(cmd, iocs, ARRAY_SIZE(iocs), &usize) != TERN_STREAM_STATUS)
		return -ENOTTY;
	mutex_lock(&s->lock);
	st.consumed = s->consumed;
	st.records = s->records;
	st.rounds = s->rounds;
	st.error = s->error;
	st.state = (s->want == DST_HDR && !s->have) ? TERN_STREAM_S_IDLE :
						     TERN_STREAM_S_ROUND;
	st.read_rounds = s->read_rounds;
	st.read_pages = s->read_pages;
	st.read_zero = s->read_zero;
	st.read_deferred = s->read_deferred;
	mutex_unlock(&s->lock);
	return tern_ioc_out((void __user *)arg, usize, &st, sizeof(st));
}

static int stream_release(struct inode *inode, struct file *file)
{
	struct tern_stream *s = file->private_data;

	/*
	 * A share its reader never finished was not delivered: give it back;
	 * the set stops waiting for this member (a failed one left already).
	 */
	if (!s->read_error) {
		if (s->phase != SRC_IDLE)
			tern_track_unharvest(s->region, s->round);
		tern_set_leave(s->set, s->gen, s->phase != SRC_IDLE);
	}
	tern_set_put(s->set);
	if (s->page)
		page_drop(s->region, s->page);
	if (s->stage)
		page_drop(s->region, s->stage);
	atomic_dec(&s->region->streams);
	fput(s->region_file);
	kvfree(s->round);
	kfree(s);
	atomic_dec(&tern_streams_nr);
	return 0;
}

static const struct file_operations stream_fops = {
	.owner		= THIS_MODULE,
	.release	= stream_release,
	.read_iter	= stream_read_iter,
	.write_iter	= stream_write_iter,
	.splice_read	= stream_splice_read,
	.splice_write	= iter_file_splice_write,
	.poll		= stream_poll,
	.unlocked_ioctl	= stream_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= no_llseek,
};

/*
 * A new stream file of @r reading rounds of @set, in no fd table yet: the
 * caller installs it last, after everything that can fail (fput() undoes
 * it).  @flags: O_RDWR for a single stream, O_RDONLY for a set's member.
 */
static struct file *stream_file(struct tern_region *r, struct tern_set *set,
				int flags)
{
	struct tern_stream *s;
	struct file *file;
	int ret = -ENOMEM;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->round = kvcalloc(BITS_TO_LONGS(r->npages), sizeof(unsigned long),
			     GFP_KERNEL_ACCOUNT);
	if (!s->round)
		goto err_free;
	mutex_init(&s->lock);
	s->region = r;
	file = anon_inode_getfile("[tern-stream]", &stream_fops, s, flags);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_free;
	}
	/* A stream: no positions, so no f_pos lock and no pread/pwrite. */
	file->f_mode &= ~(FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE);
	file->f_mode |= FMODE_STREAM;
	s->region_file = get_file(r->file);
	s->set = set;
	tern_set_add(set);
	atomic_inc(&r->streams);
	atomic_inc(&tern_streams_nr);
	return file;

err_free:
	kvfree(s->round);
	kfree(s);
	return ERR_PTR(ret);
}

/* A single stream: a set of one, read and written. */
struct file *tern_stream_file(struct tern_region *r)
{
	struct tern_set *set = tern_set_new(r, 0);
	struct file *file;

	if (!set)
		return ERR_PTR(-ENOMEM);
	file = stream_file(r, set, O_RDWR);
	tern_set_put(set);
	return file;
}

/*
 * TERN_STREAM_OPEN_SET: every member's file and fd number first, then the
 * numbers to the caller, and only then the fds installed, so a failure at
 * any step leaves none in the caller's table.
 */
int tern_stream_open_set(struct tern_region *r,
			 const struct tern_stream_set *req)
{
	struct file *files[TERN_STREAM_SET_MAX] = {};
	int fds[TERN_STREAM_SET_MAX];
	struct tern_set *set;
	u32 i, nfd = 0;
	int ret = 0;

	if (!req->count || req->count > TERN_STREAM_SET_MAX ||
	    req->flags & ~__TERN_STREAM_SET_F_ALL)
		return -EINVAL;
	set = tern_set_new(r, req->flags);
	if (!set)
		return -ENOMEM;
	for (i = 0; i < req->count; i++) {
		files[i] = stream_file(r, set, O_RDONLY);
		if (IS_ERR(files[i])) {
			ret = PTR_ERR(files[i]);
			files[i] = NULL;
			goto err_files;
		}
	}
	for (nfd = 0; nfd < req->count; nfd++) {
		fds[nfd] = get_unused_fd_flags(O_CLOEXEC);
		if (fds[nfd] < 0) {
			ret = fds[nfd];
			goto err_fds;
		}
	}
	if (copy_to_user(u64_to_user_ptr(req->fds), fds,
			 req->count * sizeof(fds[0]))) {
		ret = -EFAULT;
		goto err_fds;
	}
	for (i = 0; i < req->count; i++)
		fd_install(fds[i], files[i]);
	tern_set_put(set);
	return 0;

err_fds:
	while (nfd--)
		put_unused_fd(fds[nfd]);
err_files:
	for (i = 0; i < req->count && files[i]; i++)
		fput(files[i]);
	tern_set_put(set);
	return ret;
}

/* Returns a new O_CLOEXEC stream fd in the caller's table, or -errno. */
int tern_stream_open(struct tern_region *r)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	file = tern_stream_file(r);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	fd_install(fd, file);
	return fd;
}

u32 tern_stream_count(void)
{
	return atomic_read(&tern_streams_nr);
}

u64 tern_stream_pages_held(void)
{
	return atomic64_read(&tern_pages_held);
}

int __init tern_stream_init(void)
{
	BUILD_BUG_ON(sizeof(struct tern_stream_hdr) != 32);
	BUILD_BUG_ON(sizeof(struct tern_page_rec) != 16);
	BUILD_BUG_ON(sizeof(struct tern_region_create) != 48);
	BUILD_BUG_ON(sizeof(struct tern_harvest) != 32);
	BUILD_BUG_ON(sizeof(struct tern_region_info) != 56);
	BUILD_BUG_ON(offsetof(struct tern_track_stats, held) !=
		     TERN_TRACK_STATS_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct tern_track_stats) !=
		     TERN_TRACK_STATS_SIZE_VER1);
	BUILD_BUG_ON(sizeof(struct tern_track_mark) != 32);
	BUILD_BUG_ON(sizeof(struct tern_stream_set) !=
		     TERN_STREAM_SET_SIZE_VER0);
	BUILD_BUG_ON(offsetof(struct tern_stream_status, read_pages) !=
		     TERN_STREAM_STATUS_SIZE_VER0);
	BUILD_BUG_ON(offsetof(struct tern_stream_status, read_deferred) !=
		     TERN_STREAM_STATUS_SIZE_VER1);
	BUILD_BUG_ON(sizeof(struct tern_stream_status) !=
		     TERN_STREAM_STATUS_SIZE_VER2);
	BUILD_BUG_ON(TERN_PAGE_SIZE != PAGE_SIZE);
	return 0;
}

void tern_stream_exit(void)
{
	WARN_ON(atomic64_read(&tern_pages_held));
}
