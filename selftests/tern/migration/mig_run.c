// SPDX-License-Identifier: GPL-2.0
/*
 * Run one migration source -> relay -> destination inside the test process
 * (see mig_run.h).  The relay is where cuts and stalls happen; the source
 * and destination only ever see a socket that breaks or goes quiet.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mig_run.h"
#include "test_util.h"

struct relay {
	struct mig_run *r;
	int a, b;		/* a: source side, b: destination side */
	atomic_bool stop;
	/* A channel's relay: its own record and counts, never cut. */
	int ch;			/* -1: the main connection */
	uint64_t fwd, back;
};

struct side {
	struct mig_run *r;
	int fd;
	bool src;
	int ch_fds[MIG_CHANNELS_MAX - 1];
};

void mig_run_init(struct mig_run *r, struct fakevm *src, struct fakevm *dst,
		  struct mig *msrc, struct mig *mdst)
{
	memset(r, 0, sizeof(*r));
	r->src = src;
	r->dst = dst;
	r->msrc = msrc;
	r->mdst = mdst;
	r->cut_fwd = r->cut_back = r->stall_back = MIG_RUN_NONE;
	r->cancel_src_at = r->cancel_dst_at = MIG_S_NONE;
	r->dst_fill = 0xaa;
}

void mig_run_free(struct mig_run *r)
{
	unsigned int i;

	free(r->rec);
	r->rec = NULL;
	r->rec_len = r->rec_cap = 0;
	for (i = 0; i < MIG_CHANNELS_MAX - 1; i++) {
		free(r->ch_rec[i]);
		r->ch_rec[i] = NULL;
		r->ch_rec_len[i] = r->ch_rec_cap[i] = 0;
	}
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static void record(struct relay *rl, const uint8_t *p, size_t n)
{
	struct mig_run *r = rl->r;
	uint8_t **rec = rl->ch < 0 ? &r->rec : &r->ch_rec[rl->ch];
	size_t *len = rl->ch < 0 ? &r->rec_len : &r->ch_rec_len[rl->ch];
	size_t *cap = rl->ch < 0 ? &r->rec_cap : &r->ch_rec_cap[rl->ch];

	if (!r->record)
		return;
	/* Doubling: a recording must not slow the link it records. */
	if (*len + n > *cap) {
		*cap = *cap ? *cap : 1 << 20;
		while (*cap < *len + n)
			*cap *= 2;
		*rec = realloc(*rec, *cap);
		TEST_ASSERT(*rec, "recording %zu bytes", *cap);
	}
	memcpy(*rec + *len, p, n);
	*len += n;
}

/* Forward one direction; false once it is closed (or cut). */
static bool pump(struct relay *rl, int from, int to, uint64_t *done,
		 uint64_t cut, uint64_t stall, bool fwd, bool *cutnow)
{
	uint8_t buf[65536];
	size_t want = sizeof(buf);
	ssize_t n;

	if (cut != MIG_RUN_NONE && cut - *done < want)
		want = cut - *done;
	if (stall != MIG_RUN_NONE && stall - *done < want)
		want = stall - *done;
	if (!want) {
		*cutnow = cut != MIG_RUN_NONE && *done >= cut;
		return true;	/* stalled: hold everything */
	}
	n = read(from, buf, want);
	if (n <= 0) {
		shutdown(to, SHUT_WR);
		return false;
	}
	if (fwd)
		record(rl, buf, n);
	/* The receiver is gone: like TCP's reset, the sender learns it. */
	if (write_all(to, buf, n)) {
		*cutnow = true;
		return true;
	}
	*done += n;
	*cutnow = cut != MIG_RUN_NONE && *done >= cut;
	return true;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The main connection's forward direction as a slow link with a deep
 * queue (fwd_kib_per_s): read all that comes, hand it on at the rate.
 * Backward as usual.  No cuts or stalls here.
 */
static void relay_slow(struct relay *rl)
{
	struct mig_run *r = rl->r;
	double rate = r->fwd_kib_per_s * 1024.0, t0 = now_s();
	uint8_t *q = NULL, buf[65536];
	size_t len = 0, off = 0, cap = 0;
	bool fwd = true, back = true, cut = false;
	uint64_t sent = 0;
	struct pollfd p[2];
	ssize_t n;
	size_t want;

	while ((fwd || off < len || back) && !cut && !atomic_load(&rl->stop)) {
		p[0] = (struct pollfd){ .fd = fwd ? rl->a : -1, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = back ? rl->b : -1, .events = POLLIN };
		poll(p, 2, off < len ? 1 : 50);
		if (p[0].revents) {
			n = read(rl->a, buf, sizeof(buf));
			if (n <= 0) {
				fwd = false;
			} else {
				if (len + n > cap) {
					cap = cap ? cap * 2 : 1 << 20;
					while (cap < len + n)
						cap *= 2;
					q = realloc(q, cap);
					TEST_ASSERT(q, "slow link queue of %zu bytes", cap);
				}
				memcpy(q + len, buf, n);
				len += n;
				record(rl, buf, n);
			}
		}
		want = (size_t)((now_s() - t0) * rate) - sent;
		if (want > len - off)
			want = len - off;
		if (want) {
			if (write_all(rl->b, q + off, want))
				cut = true;
			off += want;
			sent += want;
			r->fwd_bytes += want;
		}
		/* An idle link saves up no credit for a burst. */
		if (off == len) {
			t0 = now_s();
			sent = 0;
		}
		if (!fwd && off == len)
			shutdown(rl->b, SHUT_WR);
		if (!cut && p[1].revents)
			back = pump(rl, rl->b, rl->a, &r->back_bytes, MIG_RUN_NONE,
				    MIG_RUN_NONE, false, &cut);
	}
	free(q);
	shutdown(rl->a, SHUT_RDWR);
	shutdown(rl->b, SHUT_RDWR);
}

static void *relay_main(void *arg)
{
	struct relay *rl = arg;
	struct mig_run *r = rl->r;
	bool fwd = true, back = true, cut = false, main = rl->ch < 0;
	uint64_t *fwd_bytes = main ? &r->fwd_bytes : &rl->fwd;
	uint64_t *back_bytes = main ? &r->back_bytes : &rl->back;
	uint64_t cut_fwd = main ? r->cut_fwd : MIG_RUN_NONE;
	uint64_t cut_back = main ? r->cut_back : MIG_RUN_NONE;
	uint64_t stall_back = main ? r->stall_back : MIG_RUN_NONE;
	struct pollfd p[2];

	if (main && r->fwd_kib_per_s) {
		relay_slow(rl);
		return NULL;
	}
	while ((fwd || back) && !cut && !atomic_load(&rl->stop)) {
		bool back_held = stall_back != MIG_RUN_NONE &&
			*back_bytes >= stall_back;

		p[0] = (struct pollfd){ .fd = fwd ? rl->a : -1, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = back && !back_held ? rl->b : -1,
					.events = POLLIN };
		if (poll(p, 2, 50) <= 0)
			continue;
		if (p[0].revents)
			fwd = pump(rl, rl->a, rl->b, fwd_bytes, cut_fwd,
				   MIG_RUN_NONE, true, &cut);
		if (!cut && p[1].revents)
			back = pump(rl, rl->b, rl->a, back_bytes, cut_back,
				    stall_back, false, &cut);
	}
	/* A cut: both peers see the connection end at once. */
	shutdown(rl->a, SHUT_RDWR);
	shutdown(rl->b, SHUT_RDWR);
	return NULL;
}

static void *side_main(void *arg)
{
	struct side *s = arg;

	unsigned int n = s->r->extra_channels;

	if (s->src)
		s->r->src_ret = mig__migrate_fds(s->r->msrc, s->fd, s->fd,
						 s->ch_fds, n);
	else
		s->r->dst_ret = mig__incoming_fds(s->r->mdst, s->fd, s->fd,
						  s->ch_fds, n);
	return NULL;
}

static void maybe_cancel(struct mig_run *r)
{
	struct mig_stats st;

	if (r->cancelled)
		return;
	if (r->cancel_src_at != MIG_S_NONE) {
		mig__query(r->msrc, &st);
		if (st.state == r->cancel_src_at) {
			mig__cancel(r->msrc);
			r->cancelled = true;
		}
	}
	if (r->cancel_dst_at != MIG_S_NONE) {
		mig__query(r->mdst, &st);
		if (st.state == r->cancel_dst_at) {
			mig__cancel(r->mdst);
			r->cancelled = true;
		}
	}
}

int mig_run(struct mig_run *r)
{
	int sa[2], sb[2], ca[MIG_CHANNELS_MAX - 1][2], cb[MIG_CHANNELS_MAX - 1][2];
	struct relay rl = { .r = r, .ch = -1 }, crl[MIG_CHANNELS_MAX - 1];
	struct side ss = { .r = r, .src = true }, sd = { .r = r };
	pthread_t trelay, tsrc, tdst, tch[MIG_CHANNELS_MAX - 1];
	struct timespec tick = { 0, 200000 };
	bool src_done = false, dst_done = r->no_dest;
	unsigned int i, nch = r->extra_channels;

	if (nch > MIG_CHANNELS_MAX - 1)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sa) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sb))
		return -errno;
	ss.fd = sa[0];
	rl.a = sa[1];
	rl.b = sb[0];
	sd.fd = sb[1];
	/* Each channel: source <-> ca[i] relay cb[i] <-> destination. */
	for (i = 0; i < nch; i++) {
		TEST_ASSERT(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ca[i]) &&
			    !socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cb[i]),
			    "socketpair for channel %u", i + 1);
		ss.ch_fds[i] = ca[i][0];
		sd.ch_fds[i] = cb[i][1];
		crl[i] = (struct relay){ .r = r, .ch = i, .a = ca[i][1], .b = cb[i][0] };
		pthread_create(&tch[i], NULL, relay_main, &crl[i]);
	}
	pthread_create(&trelay, NULL, relay_main, &rl);
	if (!r->no_dest)
		pthread_create(&tdst, NULL, side_main, &sd);
	pthread_create(&tsrc, NULL, side_main, &ss);

	/*
	 * Watch the states for a cancel point; a side that is done closes
	 * its socket at once, as a process that exits would.
	 */
	while (!src_done || !dst_done) {
		maybe_cancel(r);
		if (!src_done && pthread_tryjoin_np(tsrc, NULL) == 0) {
			src_done = true;
			close(sa[0]);
		}
		if (!dst_done && pthread_tryjoin_np(tdst, NULL) == 0) {
			dst_done = true;
			close(sb[1]);
		}
		nanosleep(&tick, NULL);
	}
	if (r->no_dest)
		close(sb[1]);
	atomic_store(&rl.stop, true);
	pthread_join(trelay, NULL);
	close(sa[1]);
	close(sb[0]);
	/* The sides hold copies: their ends close here, which ends a relay. */
	for (i = 0; i < nch; i++) {
		close(ca[i][0]);
		close(cb[i][1]);
		atomic_store(&crl[i].stop, true);
		pthread_join(tch[i], NULL);
		r->ch_fwd_bytes[i] = crl[i].fwd;
		close(ca[i][1]);
		close(cb[i][0]);
	}
	mig__query(r->msrc, &r->src_st);
	if (r->mdst)
		mig__query(r->mdst, &r->dst_st);
	return 0;
}

int mig_run_check(struct mig_run *r, char *why, size_t len)
{
	bool running = fakevm_running(r->src);
	bool started = fakevm_started(r->dst);

	if (started && running) {
		snprintf(why, len, "guest runs on both sides");
		return -1;
	}
	if (fakevm_throttle(r->src) || fakevm_tracking(r->src)) {
		snprintf(why, len, "source left throttled (%u%%) or tracking",
			 fakevm_throttle(r->src));
		return -1;
	}
	if (r->src_ret == 0) {
		if (r->src_st.state != MIG_S_COMPLETED || !started ||
		    r->dst_ret) {
			snprintf(why, len, "source says done (%s) but destination %s (%d)",
				 mig__state_name(r->src_st.state),
				 started ? "started" : "did not start", r->dst_ret);
			return -1;
		}
	} else if (r->src_ret == -EINPROGRESS) {
		if (r->src_st.state != MIG_S_POSTCOMMIT_UNKNOWN || running) {
			snprintf(why, len, "postcommit: state %s, source %s",
				 mig__state_name(r->src_st.state),
				 running ? "running" : "paused");
			return -1;
		}
	} else {
		if ((r->src_st.state != MIG_S_FAILED &&
		     r->src_st.state != MIG_S_CANCELLED) || !running || started ||
		    fakevm_tracking(r->src) || fakevm_throttle(r->src)) {
			snprintf(why, len, "failed (%d) but state %s, source %s, destination %s",
				 r->src_ret, mig__state_name(r->src_st.state),
				 running ? "running" : "paused",
				 started ? "started" : "not started");
			return -1;
		}
		if (!r->src_st.error[0]) {
			snprintf(why, len, "failed without an error message");
			return -1;
		}
	}
	if (!started && !r->no_dest && r->dst_ret == 0) {
		snprintf(why, len, "destination returned 0 without starting");
		return -1;
	}
	if (started)
		return fakevm_compare(r->src, r->dst, r->dst_fill, why, len);
	return 0;
}

long mig_stream_find(const uint8_t *s, size_t len, uint32_t type)
{
	uint32_t t, l;
	size_t off = 0;

	while (off + 8 <= len) {
		memcpy(&t, s + off, 4);
		memcpy(&l, s + off + 4, 4);
		if (le32toh(t) == type)
			return off;
		off += 8 + le32toh(l);
	}
	return -1;
}

int mig_replay(struct mig *mdst, const uint8_t *s, size_t len)
{
	int in, out, ret;

	in = memfd_create("mig-replay", MFD_CLOEXEC);
	out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (in < 0 || out < 0 || write(in, s, len) != (ssize_t)len) {
		ret = -EIO;
		goto out;
	}
	lseek(in, 0, SEEK_SET);
	ret = mig__incoming_fd(mdst, in, out);
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}
