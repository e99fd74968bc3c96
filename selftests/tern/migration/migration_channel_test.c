// SPDX-License-Identifier: GPL-2.0
/*
 * Migration over several page-stream channels between two fake VMs in
 * this process, over unix sockets: a busy guest arrives byte for byte
 * over 1, 2 and 4 channels (dirty-log path, and the tern path through a
 * stream set); a count the destination does not take is refused before
 * any page; a stray connection with a wrong token is refused and the
 * migration still completes; a channel cut mid-round fails the
 * migration with the guest running on the source.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mig_run.h"
#include "migration/wire.h"

#define MiB	(1ull << 20)

static const struct fakevm_cfg base_cfg = {
	.ram_size = 16 * MiB,
	.vga_size = 256 << 10,
	.rom_size = 64 << 10,
	.write_rate = 50,
};

struct chan_pair {
	struct fakevm *src, *dst;
	struct mig *msrc, *mdst;
	struct mig_run r;
	char path[96];		/* the destination's socket */
	char uri[104];
	int lfd;
};

static void chan_pair_setup(struct __test_metadata *_metadata,
			    struct chan_pair *p, unsigned int src_ch,
			    unsigned int dst_ch, bool kstream)
{
	struct fakevm_cfg s = base_cfg, d = base_cfg;
	struct mig_params sp, dp;
	static unsigned int seq;

	s.seed = 1;
	d.seed = 2;
	d.write_rate = 0;
	mig__default_params(&sp);
	mig__default_params(&dp);
	sp.quiet = dp.quiet = !getenv("TERN_DEBUG");
	sp.channels = src_ch;
	dp.channels = dst_ch;
	p->src = fakevm_new(&s);
	p->dst = fakevm_new(&d);
	ASSERT_NE(NULL, p->src);
	ASSERT_NE(NULL, p->dst);
	fakevm_fill(p->src, 0);
	fakevm_fill(p->dst, 0xaa);
	p->msrc = mig__new(kstream ? &fakevm_kstream_ops : &fakevm_ops,
			   p->src, &sp);
	p->mdst = mig__new(&fakevm_ops, p->dst, &dp);
	ASSERT_NE(NULL, p->msrc);
	ASSERT_NE(NULL, p->mdst);
	mig_run_init(&p->r, p->src, p->dst, p->msrc, p->mdst);
	snprintf(p->path, sizeof(p->path), "/tmp/tern-chan-test.%d.%u",
		 getpid(), seq++);
	unlink(p->path);
	snprintf(p->uri, sizeof(p->uri), "unix:%s", p->path);
	ASSERT_EQ(0, mig__listen(p->uri, &p->lfd));
	fakevm_writer_start(p->src);
}

static void chan_pair_free(struct chan_pair *p)
{
	close(p->lfd);
	unlink(p->path);
	mig_run_free(&p->r);
	mig__free(p->msrc);
	mig__free(p->mdst);
	fakevm_free(p->src);
	fakevm_free(p->dst);
}

struct incoming_arg {
	struct chan_pair *p;
	int ret;
};

static void *incoming_main(void *arg)
{
	struct incoming_arg *a = arg;

	a->ret = mig__incoming_listener(a->p->mdst, a->p->lfd);
	return NULL;
}

struct migrate_arg {
	struct chan_pair *p;
	const char *uri;
	int ret;
};

static void *migrate_main(void *arg)
{
	struct migrate_arg *a = arg;

	a->ret = mig__migrate(a->p->msrc, a->uri);
	return NULL;
}

/* The destination listens on p->uri; the source connects to uri. */
struct chan_run {
	struct incoming_arg in;
	struct migrate_arg out;
	pthread_t tin, tout;
};

static void run_start(struct chan_pair *p, struct chan_run *cr,
		      const char *uri)
{
	cr->in = (struct incoming_arg){ .p = p };
	cr->out = (struct migrate_arg){ .p = p, .uri = uri };
	pthread_create(&cr->tin, NULL, incoming_main, &cr->in);
	pthread_create(&cr->tout, NULL, migrate_main, &cr->out);
}

static void run_finish(struct chan_pair *p, struct chan_run *cr)
{
	pthread_join(cr->tout, NULL);
	pthread_join(cr->tin, NULL);
	p->r.src_ret = cr->out.ret;
	p->r.dst_ret = cr->in.ret;
	mig__query(p->msrc, &p->r.src_st);
	mig__query(p->mdst, &p->r.dst_st);
}

static void expect_arrived(struct __test_metadata *_metadata,
			   struct chan_pair *p, unsigned int nch, bool kstream)
{
	char why[256];

	ASSERT_EQ(0, p->r.src_ret) TH_LOG("source: %s", p->r.src_st.error);
	ASSERT_EQ(0, p->r.dst_ret) TH_LOG("destination: %s", p->r.dst_st.error);
	/* Content: every migratable block equal, the guest on one side. */
	ASSERT_EQ(0, mig_run_check(&p->r, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(MIG_S_COMPLETED, p->r.src_st.state);
	ASSERT_EQ(MIG_S_COMPLETED, p->r.dst_st.state);
	ASSERT_EQ(nch, p->r.src_st.channels);
	ASSERT_EQ(nch, p->r.dst_st.channels);
	ASSERT_LE(2, p->r.src_st.rounds);
	ASSERT_EQ(p->r.src_st.rounds, p->r.dst_st.rounds);
	/* query-migrate counts every channel's pages and bytes. */
	ASSERT_LT(0, p->r.dst_st.pages);
	ASSERT_LE(16 * MiB / 4096, p->r.dst_st.pages + p->r.dst_st.zero_pages);
	ASSERT_EQ(p->r.src_st.bytes, p->r.dst_st.bytes);
	/* A fake's stream (a memfd, not tern.ko) leaves the source uncounted. */
	if (kstream)
		return;
	ASSERT_EQ(p->r.src_st.pages, p->r.dst_st.pages);
	ASSERT_EQ(p->r.src_st.zero_pages, p->r.dst_st.zero_pages);
}

static void over_channels(struct __test_metadata *_metadata,
			  unsigned int nch, bool kstream)
{
	struct chan_run cr;
	struct chan_pair p;

	chan_pair_setup(_metadata, &p, nch, 8, kstream);
	run_start(&p, &cr, p.uri);
	run_finish(&p, &cr);
	expect_arrived(_metadata, &p, nch, kstream);
	TH_LOG("%u channel(s)%s: %llu rounds, %llu pages, %llu zero, %llu bytes, downtime %llu ms, total %llu ms",
	       nch, kstream ? " (stream sets)" : "",
	       (unsigned long long)p.r.src_st.rounds,
	       (unsigned long long)p.r.src_st.pages,
	       (unsigned long long)p.r.src_st.zero_pages,
	       (unsigned long long)p.r.src_st.bytes,
	       (unsigned long long)p.r.src_st.downtime_ms,
	       (unsigned long long)p.r.src_st.elapsed_ms);
	chan_pair_free(&p);
}

TEST(dirty_log_over_1_2_4_channels)
{
	over_channels(_metadata, 1, false);
	over_channels(_metadata, 2, false);
	over_channels(_metadata, 4, false);
}

TEST(stream_sets_over_1_2_4_channels)
{
	over_channels(_metadata, 1, true);
	over_channels(_metadata, 2, true);
	over_channels(_metadata, 4, true);
}

/* A socketpair (no URI) has nowhere to open channels: one, whatever asked. */
TEST(no_uri_means_one_channel)
{
	struct chan_pair p;
	char why[256];

	chan_pair_setup(_metadata, &p, 4, 8, false);
	ASSERT_EQ(0, mig_run(&p.r));
	ASSERT_EQ(0, p.r.src_ret) TH_LOG("source: %s", p.r.src_st.error);
	ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(1, p.r.src_st.channels);
	ASSERT_EQ(1, p.r.dst_st.channels);
	chan_pair_free(&p);
}

/* More channels than the destination takes: refused before any page. */
TEST(count_refused_before_ram)
{
	const char *needle = "asks for 4 channels";
	struct chan_run cr;
	struct chan_pair p;
	char why[256];

	chan_pair_setup(_metadata, &p, 4, 2, false);
	run_start(&p, &cr, p.uri);
	run_finish(&p, &cr);
	ASSERT_GT(0, p.r.src_ret);
	ASSERT_GT(0, p.r.dst_ret);
	ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(MIG_S_FAILED, p.r.src_st.state);
	ASSERT_NE(NULL, strstr(p.r.dst_st.error, needle))
		TH_LOG("destination: '%s'", p.r.dst_st.error);
	ASSERT_NE(NULL, strstr(p.r.src_st.error, needle))
		TH_LOG("source: '%s'", p.r.src_st.error);
	ASSERT_NE(NULL, strstr(p.r.src_st.error, "at most 2"));
	ASSERT_EQ(0, p.r.dst_st.pages);
	ASSERT_EQ(0, p.r.src_st.pages);
	ASSERT_EQ(0, fakevm_untouched(p.dst, 0xaa));
	ASSERT_FALSE(fakevm_started(p.dst));
	ASSERT_TRUE(fakevm_writer_advances(p.src));
	chan_pair_free(&p);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (s < 0 || connect(s, (struct sockaddr *)&sun, sizeof(sun))) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

/* A `channel` hello as a source would send it, with this token. */
static int send_channel_hello(int s, const uint8_t *token, uint32_t idx)
{
	struct nl_msg *msg = mig_attrs_new();
	struct nlmsghdr *nlh;
	struct mig_hdr h;

	if (!msg || nla_put_u32(msg, MIG_A_MAGIC, MIG_MAGIC) ||
	    nla_put(msg, MIG_A_CHAN_TOKEN, MIG_CHAN_TOKEN_LEN, token) ||
	    nla_put_u32(msg, MIG_A_CHAN_INDEX, idx))
		return -1;
	nlh = nlmsg_hdr(msg);
	h.type = MIG_MSG_CHANNEL;
	h.len = nlmsg_datalen(nlh);
	if (write(s, &h, sizeof(h)) != sizeof(h) ||
	    write(s, nlmsg_data(nlh), h.len) != (ssize_t)h.len) {
		nlmsg_free(msg);
		return -1;
	}
	nlmsg_free(msg);
	return 0;
}

/*
 * A connection to the listener that guesses the token (all zeros) while
 * the destination waits for its channels: closed, and the migration goes
 * on over the real ones.  The destination's slow welcome holds the
 * source's channels back until the stray is first in the queue.
 */
TEST(stray_connection_refused_migration_completes)
{
	uint8_t token[MIG_CHAN_TOKEN_LEN] = { 0 };
	struct mig_stats st;
	struct chan_run cr;
	struct chan_pair p;
	struct pollfd pfd;
	char buf[16];
	int s;

	chan_pair_setup(_metadata, &p, 2, 8, false);
	fakevm_set_machine_delay(p.dst, 300);
	run_start(&p, &cr, p.uri);
	do {
		usleep(1000);
		mig__query(p.mdst, &st);
	} while (st.state == MIG_S_NONE);
	s = unix_connect(p.path);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, send_channel_hello(s, token, 1));
	run_finish(&p, &cr);
	expect_arrived(_metadata, &p, 2, false);
	/* The stray was closed, never answered. */
	pfd = (struct pollfd){ .fd = s, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, 1000));
	ASSERT_GE(0, read(s, buf, sizeof(buf)));
	close(s);
	chan_pair_free(&p);
}

/*
 * Between source and destination, a proxy that forwards each connection;
 * on one of them (`conn`, 0: the main one) it cuts after `cut_after`
 * bytes sent, stops forwarding after `stall_after`, or flips the byte at
 * `flip_at` (each NONE: never).
 */
#define NONE	UINT64_MAX

struct proxy {
	int lfd;
	const char *to;
	unsigned int conn;
	uint64_t cut_after, stall_after, flip_at;
	bool single;		/* refuse all but the first connection */
	atomic_bool stop;
	pthread_t t;
	unsigned int n;
	struct proxy_conn {
		struct proxy *px;
		int a, b;
		bool hit;		/* the one `conn` names */
		pthread_t t;
	} conns[16];
	atomic_bool did;		/* the cut, stall or flip happened */
};

static void proxy_init(struct proxy *px, unsigned int conn)
{
	memset(px, 0, sizeof(*px));
	px->conn = conn;
	px->cut_after = px->stall_after = px->flip_at = NONE;
}

static void *proxy_conn_main(void *arg)
{
	struct proxy_conn *pc = arg;
	struct proxy *px = pc->px;
	uint64_t fwd = 0, limit = NONE;
	uint8_t buf[65536];
	struct pollfd p[2];
	size_t want;
	ssize_t n;
	int i;

	if (pc->hit)
		limit = px->cut_after < px->stall_after ? px->cut_after :
			px->stall_after;
	while (!atomic_load(&px->stop)) {
		/* Stalled: nothing more forward, the connection stays open. */
		p[0] = (struct pollfd){ .fd = fwd < limit ? pc->a : -1,
					.events = POLLIN };
		p[1] = (struct pollfd){ .fd = pc->b, .events = POLLIN };
		if (poll(p, 2, 50) <= 0)
			continue;
		for (i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			want = sizeof(buf);
			if (i == 0 && limit - fwd < want)
				want = limit - fwd;
			n = read(i ? pc->b : pc->a, buf, want);
			if (n <= 0)
				goto out;
			if (i == 0 && pc->hit && px->flip_at >= fwd &&
			    px->flip_at < fwd + n) {
				buf[px->flip_at - fwd] ^= 0xff;
				atomic_store(&px->did, true);
			}
			if (send(i ? pc->a : pc->b, buf, n, MSG_NOSIGNAL) != n)
				goto out;
			if (i == 0)
				fwd += n;
			if (i == 0 && fwd >= limit) {
				atomic_store(&px->did, true);
				if (fwd >= px->cut_after)
					goto out;
			}
		}
	}
out:
	shutdown(pc->a, SHUT_RDWR);
	shutdown(pc->b, SHUT_RDWR);
	return NULL;
}

static void *proxy_main(void *arg)
{
	struct proxy *px = arg;
	struct proxy_conn *pc;
	struct pollfd pfd;
	int a, b;

	while (!atomic_load(&px->stop) && px->n < 16) {
		pfd = (struct pollfd){ .fd = px->lfd, .events = POLLIN };
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		a = accept4(px->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (a < 0)
			continue;
		b = unix_connect(px->to);
		if (b < 0) {
			close(a);
			continue;
		}
		pc = &px->conns[px->n];
		*pc = (struct proxy_conn){ .px = px, .a = a, .b = b,
					   .hit = px->n == px->conn };
		pthread_create(&pc->t, NULL, proxy_conn_main, pc);
		px->n++;
		if (px->single) {
			/* Closed: the next connect is refused. */
			close(px->lfd);
			px->lfd = -1;
			break;
		}
	}
	return NULL;
}

static void proxy_stop(struct proxy *px)
{
	unsigned int i;

	atomic_store(&px->stop, true);
	pthread_join(px->t, NULL);
	for (i = 0; i < px->n; i++) {
		pthread_join(px->conns[i].t, NULL);
		close(px->conns[i].a);
		close(px->conns[i].b);
	}
}

/*
 * A migration over 2 channels through the proxy, whose channel 1 fails
 * as px says: both sides fail (not cancelled), the guest runs on the
 * source, untracked, and nothing started on the destination.
 */
static void channel_fails(struct __test_metadata *_metadata, struct proxy *px,
			  unsigned int timeout_ms, const char *needle)
{
	char path[96], uri[104], why[256];
	struct chan_run cr;
	struct chan_pair p;

	chan_pair_setup(_metadata, &p, 2, 8, false);
	ASSERT_EQ(0, mig__set_param(p.msrc, "timeout", timeout_ms));
	ASSERT_EQ(0, mig__set_param(p.mdst, "timeout", timeout_ms));
	snprintf(path, sizeof(path), "%s.proxy", p.path);
	snprintf(uri, sizeof(uri), "unix:%s", path);
	unlink(path);
	ASSERT_EQ(0, mig__listen(uri, &px->lfd));
	px->to = p.path;
	pthread_create(&px->t, NULL, proxy_main, px);
	run_start(&p, &cr, uri);
	run_finish(&p, &cr);
	proxy_stop(px);
	if (px->lfd >= 0)
		close(px->lfd);
	unlink(path);
	ASSERT_TRUE(px->single || atomic_load(&px->did));
	ASSERT_GT(0, p.r.src_ret);
	ASSERT_GT(0, p.r.dst_ret);
	ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(MIG_S_FAILED, p.r.src_st.state);
	ASSERT_EQ(MIG_S_FAILED, p.r.dst_st.state);
	ASSERT_FALSE(fakevm_started(p.dst));
	ASSERT_TRUE(fakevm_writer_advances(p.src));
	ASSERT_TRUE(strstr(p.r.dst_st.error, needle) ||
		    strstr(p.r.src_st.error, needle))
		TH_LOG("no '%s' in source: '%s'; destination: '%s'", needle,
		       p.r.src_st.error, p.r.dst_st.error);
	chan_pair_free(&p);
}

/* Channel 1 cut in round 1. */
TEST(cut_channel_fails_source_runs)
{
	struct proxy px;

	proxy_init(&px, 1);
	px.cut_after = 256 << 10;
	channel_fails(_metadata, &px, 30000, "channel 1");
}

/* Channel 1 goes quiet in round 1: a failure after `timeout`. */
TEST(stalled_channel_fails_source_runs)
{
	struct proxy px;

	proxy_init(&px, 1);
	px.stall_after = 256 << 10;
	channel_fails(_metadata, &px, 500, "channel 1");
}

/*
 * The first page-stream header on channel 1 (after its 44-byte hello and
 * the first chunk's 16 bytes of headers) with a flipped magic: refused,
 * naming the channel, the block and the byte.
 */
TEST(bad_record_on_a_channel_fails_naming_it)
{
	struct proxy px;

	proxy_init(&px, 1);
	px.flip_at = 44 + 16;
	channel_fails(_metadata, &px, 30000,
		      "channel 1, block 0 ('/machine' 'ram0'), stream byte 60: bad page-stream magic");
}

/*
 * A source that cannot open its channels (a forwarder that takes one
 * connection) fails at once, and so does the destination waiting for
 * them: not after `timeout` (30 s here).
 */
TEST(unopened_channels_fail_both_sides_at_once)
{
	struct proxy px;
	time_t t0 = time(NULL);

	proxy_init(&px, 0);
	px.single = true;
	channel_fails(_metadata, &px, 30000, "channel 1 of 2: cannot connect");
	ASSERT_GT(t0 + 10, time(NULL));
}

TEST_HARNESS_MAIN
