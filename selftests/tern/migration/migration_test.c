// SPDX-License-Identifier: GPL-2.0
/*
 * The migration protocol between two fake VMs on this host: a guest whose
 * writer keeps dirtying pages arrives byte for byte (dirty-log and
 * kernel-stream paths, socketpair, TCP and unix sockets); incompatible
 * machines are refused before any page with a message naming the
 * difference; auto-converge and the round limit behave as documented.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "kselftest_harness.h"
#include "lib/log.h"
#include "lib/version.h"
#include "mig_run.h"
#include "migration/params.h"
#include "migration/wire.h"
#include "test_util.h"

#define MiB	(1ull << 20)

static const struct fakevm_cfg base_cfg = {
	.ram_size = 16 * MiB,
	.vga_size = 256 << 10,
	.rom_size = 64 << 10,
	.write_rate = 50,
};

struct pair {
	struct fakevm *src, *dst;
	struct mig *msrc, *mdst;
	struct mig_run r;
};

static void pair_setup(struct __test_metadata *_metadata, struct pair *p,
		       const struct fakevm_cfg *scfg,
		       const struct fakevm_cfg *dcfg,
		       const struct mig_params *sp, const struct mig_params *dp,
		       bool kstream)
{
	struct fakevm_cfg s = *scfg, d = *dcfg;

	struct mig_params spq, dpq;

	s.seed = 1;
	d.seed = 2;
	d.write_rate = 0;
	/* Expected failures stay in mig_stats.error; TERN_DEBUG shows all. */
	if (sp)
		spq = *sp;
	else
		mig__default_params(&spq);
	if (dp)
		dpq = *dp;
	else
		mig__default_params(&dpq);
	spq.quiet = dpq.quiet = !getenv("TERN_DEBUG");
	sp = &spq;
	dp = &dpq;
	p->src = fakevm_new(&s);
	p->dst = fakevm_new(&d);
	ASSERT_NE(NULL, p->src);
	ASSERT_NE(NULL, p->dst);
	fakevm_fill(p->src, 0);
	fakevm_fill(p->dst, 0xaa);
	p->msrc = mig__new(kstream ? &fakevm_kstream_ops : &fakevm_ops,
			   p->src, sp);
	p->mdst = mig__new(&fakevm_ops, p->dst, dp);
	ASSERT_NE(NULL, p->msrc);
	ASSERT_NE(NULL, p->mdst);
	mig_run_init(&p->r, p->src, p->dst, p->msrc, p->mdst);
	fakevm_writer_start(p->src);
}

static void pair_free(struct pair *p)
{
	mig_run_free(&p->r);
	mig__free(p->msrc);
	mig__free(p->mdst);
	fakevm_free(p->src);
	fakevm_free(p->dst);
}

/* The writer must still be going: the guest on the source lives. */
static bool writer_alive(struct fakevm *vm)
{
	return fakevm_writer_advances(vm);
}

static void expect_success(struct __test_metadata *_metadata, struct pair *p)
{
	char why[256];

	ASSERT_EQ(0, mig_run(&p->r));
	ASSERT_EQ(0, p->r.src_ret) TH_LOG("source: %s", p->r.src_st.error);
	ASSERT_EQ(0, p->r.dst_ret) TH_LOG("destination: %s", p->r.dst_st.error);
	ASSERT_EQ(0, mig_run_check(&p->r, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(MIG_S_COMPLETED, p->r.src_st.state);
	ASSERT_EQ(MIG_S_COMPLETED, p->r.dst_st.state);
	ASSERT_FALSE(fakevm_running(p->src));
	ASSERT_TRUE(fakevm_started(p->dst));
	ASSERT_FALSE(fakevm_tracking(p->src));
}

static void expect_refused(struct __test_metadata *_metadata, struct pair *p,
			   const char *needle)
{
	char why[256];

	ASSERT_EQ(0, mig_run(&p->r));
	ASSERT_GT(0, p->r.src_ret);
	ASSERT_GT(0, p->r.dst_ret);
	ASSERT_EQ(0, mig_run_check(&p->r, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(MIG_S_FAILED, p->r.src_st.state);
	ASSERT_NE(NULL, strstr(p->r.dst_st.error, needle))
		TH_LOG("destination error '%s' lacks '%s'", p->r.dst_st.error,
		       needle);
	/* The source learns why from the destination's error message. */
	ASSERT_NE(NULL, strstr(p->r.src_st.error, needle))
		TH_LOG("source error '%s' lacks '%s'", p->r.src_st.error, needle);
	/* Refused before any page: destination memory as it was. */
	ASSERT_EQ(0, p->r.dst_st.pages);
	ASSERT_EQ(0, fakevm_untouched(p->dst, 0xaa));
	ASSERT_FALSE(fakevm_started(p->dst));
	ASSERT_TRUE(writer_alive(p->src));
}

/*
 * The source's per-round figures add up to its totals: every round kept
 * (at most MIG_ROUND_STATS), pages and zero pages summing to the
 * migration's, bytes within its total (the rest is handshake and state),
 * the first round the largest (it sends every page), and query-migrate's
 * JSON carrying one "round-stats" entry per round.
 */
static void expect_round_stats(struct __test_metadata *_metadata,
			       const struct mig_stats *st)
{
	uint64_t pages = 0, zero = 0, bytes = 0;
	struct json_object *o, *a;
	unsigned int i;

	ASSERT_EQ(st->rounds < MIG_ROUND_STATS ? st->rounds : MIG_ROUND_STATS,
		  st->nr_round);
	for (i = 0; i < st->nr_round; i++) {
		pages += st->round[i].pages;
		zero += st->round[i].zero_pages;
		bytes += st->round[i].bytes;
		TH_LOG("round %u: %llu pages, %llu zero, %llu bytes, %llu ms, throttle %u%%",
		       i + 1, (unsigned long long)st->round[i].pages,
		       (unsigned long long)st->round[i].zero_pages,
		       (unsigned long long)st->round[i].bytes,
		       (unsigned long long)st->round[i].ms, st->round[i].throttle_pct);
	}
	ASSERT_EQ(st->pages, pages);
	ASSERT_EQ(st->zero_pages, zero);
	ASSERT_LT(0, bytes);
	ASSERT_LE(bytes, st->bytes);
	for (i = 1; i < st->nr_round; i++)
		ASSERT_LE(st->round[i].pages + st->round[i].zero_pages,
			  st->round[0].pages + st->round[0].zero_pages);
	o = mig__stats_json(st);
	ASSERT_NE(NULL, o);
	ASSERT_TRUE(json_object_object_get_ex(o, "round-stats", &a));
	ASSERT_EQ(st->nr_round, json_object_array_length(a));
	ASSERT_TRUE(json_object_object_get_ex(o, "switchover", &a));
	ASSERT_TRUE(json_object_object_get_ex(a, "load-ms", NULL));
	json_object_put(o);
}

/*
 * Where the switchover's time went: the four parts after the vCPUs
 * stopped add up to the downtime, each rounded down.
 */
static void expect_switchover_stats(struct __test_metadata *_metadata,
				    const struct mig_stats *st)
{
	const struct mig_switchover_stat *sw = &st->sw;
	uint64_t sum = sw->last_round_ms + sw->state_ms + sw->load_ms + sw->start_ms;

	TH_LOG("switchover: stop %llu ms, then last round %llu, state %llu, load %llu, start %llu (downtime %llu)",
	       (unsigned long long)sw->stop_ms, (unsigned long long)sw->last_round_ms,
	       (unsigned long long)sw->state_ms, (unsigned long long)sw->load_ms,
	       (unsigned long long)sw->start_ms, (unsigned long long)st->downtime_ms);
	ASSERT_LE(sum, st->downtime_ms);
	ASSERT_LE(st->downtime_ms, sum + 4);
}

TEST(dirty_log_busy_guest_arrives_intact)
{
	struct pair p;

	pair_setup(_metadata, &p, &base_cfg, &base_cfg, NULL, NULL, false);
	expect_success(_metadata, &p);
	ASSERT_LE(2, p.r.src_st.rounds);
	ASSERT_LT(0, p.r.src_st.pages);
	ASSERT_LT(0, p.r.src_st.zero_pages);
	ASSERT_EQ(p.r.src_st.pages, p.r.dst_st.pages);
	ASSERT_EQ(p.r.src_st.zero_pages, p.r.dst_st.zero_pages);
	ASSERT_EQ(p.r.src_st.rounds, p.r.dst_st.rounds);
	ASSERT_LT(0, p.r.src_st.bandwidth);
	ASSERT_LT(0, p.r.src_st.dirty_rate);	/* the writer dirtied round 1 */
	ASSERT_LT(0, p.r.src_st.elapsed_ms);
	ASSERT_LE(p.r.src_st.downtime_ms, p.r.src_st.elapsed_ms);
	ASSERT_EQ(MIG_TRACKER_DIRTY_LOG, p.r.dst_st.tracker);
	ASSERT_LT(0, fakevm_writes(p.src));
	expect_round_stats(_metadata, &p.r.src_st);
	expect_switchover_stats(_metadata, &p.r.src_st);
	TH_LOG("dirty log: %llu rounds, %llu pages, %llu zero, %llu bytes, downtime %llu ms, %llu MB/s",
	       (unsigned long long)p.r.src_st.rounds,
	       (unsigned long long)p.r.src_st.pages,
	       (unsigned long long)p.r.src_st.zero_pages,
	       (unsigned long long)p.r.src_st.bytes,
	       (unsigned long long)p.r.src_st.downtime_ms,
	       (unsigned long long)(p.r.src_st.bandwidth >> 20));
	pair_free(&p);
}

TEST(kernel_stream_busy_guest_arrives_intact)
{
	struct pair p;

	pair_setup(_metadata, &p, &base_cfg, &base_cfg, NULL, NULL, true);
	expect_success(_metadata, &p);
	ASSERT_LE(2, p.r.src_st.rounds);
	ASSERT_EQ(MIG_TRACKER_TERN, p.r.dst_st.tracker);
	ASSERT_LT(0, p.r.dst_st.zero_pages);
	pair_free(&p);
}

TEST(zero_pages_sent_whole_when_not_agreed)
{
	struct mig_params dp;
	struct pair p;

	mig__default_params(&dp);
	dp.caps &= ~(1u << 1);	/* MIG_CAP_ZERO_PAGES */
	pair_setup(_metadata, &p, &base_cfg, &base_cfg, NULL, &dp, false);
	expect_success(_metadata, &p);
	ASSERT_EQ(0, p.r.dst_st.zero_pages);
	pair_free(&p);
}

struct incoming_arg {
	struct mig *mig;
	int lfd;
	int ret;
};

static void *incoming_main(void *arg)
{
	struct incoming_arg *a = arg;

	a->ret = mig__incoming_listener(a->mig, a->lfd);
	return NULL;
}

/*
 * Connect to host (NULL: listen_uri itself, a unix socket) at the port
 * listen_uri was given.
 */
static void over_uri(struct __test_metadata *_metadata, const char *listen_uri,
		     const char *host)
{
	struct incoming_arg a = { 0 };
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	char uri[128];
	pthread_t t;
	struct pair p;
	char why[256];

	pair_setup(_metadata, &p, &base_cfg, &base_cfg, NULL, NULL, false);
	ASSERT_EQ(0, mig__listen(listen_uri, &a.lfd));
	if (host) {
		ASSERT_EQ(0, getsockname(a.lfd, (struct sockaddr *)&sin, &slen));
		snprintf(uri, sizeof(uri), "tcp:%s:%u", host, ntohs(sin.sin_port));
	} else {
		snprintf(uri, sizeof(uri), "%s", listen_uri);
	}
	a.mig = p.mdst;
	pthread_create(&t, NULL, incoming_main, &a);
	p.r.src_ret = mig__migrate(p.msrc, uri);
	if (p.r.src_ret)	/* no source will come */
		mig__cancel(p.mdst);
	pthread_join(t, NULL);
	close(a.lfd);
	p.r.dst_ret = a.ret;
	mig__query(p.msrc, &p.r.src_st);
	mig__query(p.mdst, &p.r.dst_st);
	ASSERT_EQ(0, p.r.src_ret) TH_LOG("%s", p.r.src_st.error);
	ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why))) TH_LOG("%s", why);
	pair_free(&p);
}

TEST(over_tcp_loopback)
{
	over_uri(_metadata, "tcp:127.0.0.1:0", "127.0.0.1");
}

/*
 * A name with two addresses, the first refusing: "localhost" on a host
 * that lists ::1 before 127.0.0.1 while the destination listens on the
 * second.  The resolver is this program's own, for that one name.
 */
#define TWO_ADDRESSES	"two-addresses.tern.test"

int getaddrinfo(const char *node, const char *service,
		const struct addrinfo *hints, struct addrinfo **res)
{
	int (*next)(const char *, const char *, const struct addrinfo *,
		    struct addrinfo **) = dlsym(RTLD_NEXT, "getaddrinfo");
	struct addrinfo *second, *last;
	int ret;

	if (!next)
		return EAI_SYSTEM;
	if (!node || strcmp(node, TWO_ADDRESSES))
		return next(node, service, hints, res);
	ret = next("127.0.0.2", service, hints, res);
	if (ret)
		return ret;
	ret = next("127.0.0.1", service, hints, &second);
	if (ret) {
		freeaddrinfo(*res);
		return ret;
	}
	for (last = *res; last->ai_next; last = last->ai_next)
		;
	last->ai_next = second;
	return 0;
}

TEST(source_tries_each_address_of_a_name)
{
	over_uri(_metadata, "tcp:127.0.0.1:0", TWO_ADDRESSES);
}

TEST(over_unix_socket)
{
	char path[64];

	snprintf(path, sizeof(path), "unix:/tmp/tern-mig-test.%d", getpid());
	unlink(path + 5);
	over_uri(_metadata, path, NULL);
	unlink(path + 5);
}

/* A TCP connection to 127.0.0.1:port, or -1. */
static int tcp_connect(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && connect(s, (struct sockaddr *)&sin, sizeof(sin))) {
		close(s);
		return -1;
	}
	return s;
}

/* Until the destination counted n dropped connections (5 s at most). */
static uint64_t wait_dropped(struct mig *mig, uint64_t n)
{
	struct mig_stats st;
	int i;

	for (i = 0; i < 500; i++) {
		mig__query(mig, &st);
		if (st.dropped >= n)
			break;
		usleep(10000);
	}
	return st.dropped;
}

/*
 * A waiting destination admits only a whole hello (issue 18, item 2): a
 * port scan, an HTTP request, a stray channel connection, a hello
 * header whose body never comes and a peer that says nothing are each
 * dropped, and the wait goes on; the source that comes next migrates.
 * (Before, the first of them ended the destination.)  With nobody
 * coming, the wait ends at incoming-timeout.
 */
TEST(destination_admits_only_a_whole_hello)
{
	/* Little-endian type and length: a channel's, a 64-byte hello's. */
	const uint8_t channel[8] = { MIG_MSG_CHANNEL }, hello_head[8] = { MIG_MSG_HELLO, 0, 0, 0, 64 };
	struct incoming_arg a = { 0 };
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	struct mig_params dp;
	struct mig_stats st;
	int fd[5], i;
	char uri[64], why[256];
	pthread_t t;
	struct pair p;

	mig__default_params(&dp);
	dp.timeout_ms = 300;		/* each peer's time to say hello */
	pair_setup(_metadata, &p, &base_cfg, &base_cfg, NULL, &dp, false);
	ASSERT_EQ(0, mig__listen("tcp:127.0.0.1:0", &a.lfd));
	ASSERT_EQ(0, getsockname(a.lfd, (struct sockaddr *)&sin, &slen));
	snprintf(uri, sizeof(uri), "tcp:127.0.0.1:%u", ntohs(sin.sin_port));
	a.mig = p.mdst;
	pthread_create(&t, NULL, incoming_main, &a);

	fd[0] = tcp_connect(ntohs(sin.sin_port));	/* a scan: closes at once */
	ASSERT_LE(0, fd[0]);
	close(fd[0]);
	ASSERT_EQ(1, wait_dropped(p.mdst, 1));
	fd[1] = tcp_connect(ntohs(sin.sin_port));
	ASSERT_LE(0, fd[1]);
	ASSERT_EQ(16, write(fd[1], "GET / HTTP/1.0\r\n", 16));
	ASSERT_EQ(2, wait_dropped(p.mdst, 2));
	fd[2] = tcp_connect(ntohs(sin.sin_port));
	ASSERT_LE(0, fd[2]);
	ASSERT_EQ(8, write(fd[2], channel, 8));
	ASSERT_EQ(3, wait_dropped(p.mdst, 3));
	fd[3] = tcp_connect(ntohs(sin.sin_port));	/* hello's header only */
	ASSERT_LE(0, fd[3]);
	ASSERT_EQ(8, write(fd[3], hello_head, 8));
	ASSERT_EQ(4, wait_dropped(p.mdst, 4));
	fd[4] = tcp_connect(ntohs(sin.sin_port));	/* says nothing */
	ASSERT_LE(0, fd[4]);
	ASSERT_EQ(5, wait_dropped(p.mdst, 5));
	mig__query(p.mdst, &st);
	ASSERT_NE(MIG_S_FAILED, st.state) TH_LOG("%s", st.error);

	p.r.src_ret = mig__migrate(p.msrc, uri);
	pthread_join(t, NULL);
	p.r.dst_ret = a.ret;
	mig__query(p.msrc, &p.r.src_st);
	mig__query(p.mdst, &p.r.dst_st);
	ASSERT_EQ(0, p.r.src_ret) TH_LOG("%s", p.r.src_st.error);
	ASSERT_EQ(0, a.ret) TH_LOG("%s", p.r.dst_st.error);
	ASSERT_EQ(5, p.r.dst_st.dropped);
	ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why))) TH_LOG("%s", why);
	for (i = 1; i < 5; i++)
		close(fd[i]);
	close(a.lfd);
	pair_free(&p);

	/* Nobody comes: the wait ends, failed, naming the limit. */
	dp.incoming_timeout_ms = 200;
	pair_setup(_metadata, &p, &base_cfg, &base_cfg, NULL, &dp, false);
	ASSERT_EQ(-ETIMEDOUT, mig__incoming(p.mdst, "tcp:127.0.0.1:0"));
	mig__query(p.mdst, &st);
	ASSERT_EQ(MIG_S_FAILED, st.state);
	ASSERT_NE(NULL, strstr(st.error, "no source said hello within 200 ms"))
		TH_LOG("%s", st.error);
	ASSERT_FALSE(fakevm_started(p.dst));
	pair_free(&p);
}

/*
 * Channels whose connections were made beforehand (mig__*_fds over
 * socketpairs): a busy guest arrives whole over three, and each extra
 * channel carried pages.
 */
TEST(three_channels_given_as_fds)
{
	struct mig_params sp, dp;
	struct pair p;

	mig__default_params(&sp);
	mig__default_params(&dp);
	sp.channels = dp.channels = 3;
	pair_setup(_metadata, &p, &base_cfg, &base_cfg, &sp, &dp, false);
	p.r.extra_channels = 2;
	expect_success(_metadata, &p);
	EXPECT_EQ(3, p.r.src_st.channels);
	EXPECT_EQ(3, p.r.dst_st.channels);
	EXPECT_LT(64 * 4096, p.r.ch_fwd_bytes[0]);
	EXPECT_LT(64 * 4096, p.r.ch_fwd_bytes[1]);
	TH_LOG("main %llu bytes, channels %llu and %llu",
	       (unsigned long long)p.r.fwd_bytes,
	       (unsigned long long)p.r.ch_fwd_bytes[0],
	       (unsigned long long)p.r.ch_fwd_bytes[1]);
	pair_free(&p);
}

TEST(bad_uri_refused)
{
	int fd;

	ASSERT_EQ(-EINVAL, mig__listen("udp:1.2.3.4:5", &fd));
	ASSERT_EQ(-EINVAL, mig__listen("tcp:nocolon", &fd));
}

/*
 * A migration that cannot even connect (or listen) still ends `failed`
 * with why, not with the state of the one before: a guest that arrived by
 * migration once showed `completed` for a failed connect.  One cancelled
 * before a source came ends `cancelled`.
 */
TEST(connect_and_listen_failures_end_failed)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	struct mig_stats st;
	char uri[64];
	struct pair p;
	int s;

	pair_setup(_metadata, &p, &base_cfg, &base_cfg, NULL, NULL, false);
	expect_success(_metadata, &p);

	/* A loopback port nothing listens on. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(0, bind(s, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, getsockname(s, (struct sockaddr *)&sin, &slen));
	close(s);
	snprintf(uri, sizeof(uri), "tcp:127.0.0.1:%u", ntohs(sin.sin_port));

	ASSERT_EQ(-ECONNREFUSED, mig__migrate(p.mdst, uri));
	mig__query(p.mdst, &st);
	ASSERT_EQ(MIG_S_FAILED, st.state);
	ASSERT_NE(NULL, strstr(st.error, "cannot connect to"))
		TH_LOG("error '%s'", st.error);
	ASSERT_TRUE(fakevm_running(p.dst));

	ASSERT_EQ(-EINVAL, mig__incoming(p.msrc, "tcp:nocolon"));
	mig__query(p.msrc, &st);
	ASSERT_EQ(MIG_S_FAILED, st.state);
	ASSERT_NE(NULL, strstr(st.error, "cannot listen on 'tcp:nocolon'"))
		TH_LOG("error '%s'", st.error);

	/* Cancelled while waiting for a source: `cancelled`, not `failed`. */
	mig__cancel(p.msrc);
	ASSERT_EQ(-ECANCELED, mig__incoming(p.msrc, "tcp:127.0.0.1:0"));
	mig__query(p.msrc, &st);
	ASSERT_EQ(MIG_S_CANCELLED, st.state);
	ASSERT_NE(NULL, strstr(st.error, "waiting for the source"))
		TH_LOG("error '%s'", st.error);
	pair_free(&p);
}

/*
 * A destination that never answers SYN: a loopback listener whose accept
 * queue is full (Linux drops the SYN).  migrate-cancel during connect()
 * ends the migration `cancelled` within a second and the guest runs;
 * before, the cancel was lost and connect() went on for minutes.
 */
struct migrate_arg {
	struct mig *mig;
	const char *uri;
	int ret;
};

static void *migrate_main(void *arg)
{
	struct migrate_arg *a = arg;

	a->ret = mig__migrate(a->mig, a->uri);
	return NULL;
}

TEST(cancel_during_connect)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	struct migrate_arg a;
	struct timespec t0, t1;
	struct mig_stats st;
	int l, c[2], i;
	char uri[64];
	struct pair p;
	pthread_t t;
	double s;

	pair_setup(_metadata, &p, &base_cfg, &base_cfg, NULL, NULL, false);
	l = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, l);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(0, bind(l, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(l, 0));
	ASSERT_EQ(0, getsockname(l, (struct sockaddr *)&sin, &slen));
	/* Fill the accept queue (backlog 0 holds one) and then some. */
	for (i = 0; i < 2; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ASSERT_LE(0, c[i]);
		connect(c[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(100000);
	snprintf(uri, sizeof(uri), "tcp:127.0.0.1:%u", ntohs(sin.sin_port));
	a = (struct migrate_arg){ .mig = p.msrc, .uri = uri };
	pthread_create(&t, NULL, migrate_main, &a);
	usleep(300000);
	mig__query(p.msrc, &st);
	ASSERT_EQ(MIG_S_SETUP, st.state) TH_LOG("state %s", mig__state_name(st.state));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mig__cancel(p.msrc);
	pthread_join(t, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	TH_LOG("cancel took %.3f s", s);
	ASSERT_GT(1.0, s);
	ASSERT_EQ(-ECANCELED, a.ret);
	mig__query(p.msrc, &st);
	ASSERT_EQ(MIG_S_CANCELLED, st.state);
	ASSERT_NE(NULL, strstr(st.error, "cannot connect to")) TH_LOG("%s", st.error);
	ASSERT_TRUE(writer_alive(p.src));

	/* The cancel was this migration's: the next one is not cancelled. */
	p.r.src_ret = 0;
	expect_success(_metadata, &p);
	close(c[0]);
	close(c[1]);
	close(l);
	pair_free(&p);
}

/*
 * The handshake's admission, one case per way the two machines differ:
 * refused before any page with a message that names the difference
 * (expect_refused), or, for a difference the destination can take,
 * migrated (refused NULL).
 */
struct machines {
	struct fakevm_cfg s, d;
	struct mig_params sp, dp;
	bool kstream;
};

static void dst_ram_smaller(struct machines *m) { m->d.ram_size = 8 * MiB; }
static void dst_no_vram(struct machines *m) { m->d.vga_size = 0; }
static void src_no_vram(struct machines *m) { m->s.vga_size = 0; }
static void dst_ram_renamed(struct machines *m) { m->d.ram_name = "pc.ram"; }
static void src_blk_newer(struct machines *m) { m->s.blk_version = 5; }
static void src_blk_older(struct machines *m) { m->s.blk_version = 1; }
static void src_extra_device(struct machines *m) { m->s.extra_device = true; }
static void src_cpu_model(struct machines *m) { m->s.cpu_model = "tern-test-v2"; }
static void src_cpuid_feature(struct machines *m) { m->s.cpuid_extra = 0x02; }

/* The kernel stream needs zero pages as headers; dst refuses them. */
static void dst_no_zero_pages(struct machines *m)
{
	m->dp.caps &= ~(1u << 1);
	m->kstream = true;
}

/* Peers from before the release attribute (none in their hellos). */
static void no_release(struct machines *m)
{
	m->sp.release = NULL;
	m->dp.release = NULL;
}

static void no_release_cpu_model(struct machines *m)
{
	m->sp.release = NULL;
	src_cpu_model(m);
}

FIXTURE(handshake) {
	struct pair p;
};

FIXTURE_VARIANT(handshake) {
	void (*differ)(struct machines *m);
	const char *refused;	/* what the message names; NULL: it migrates */
};

FIXTURE_VARIANT_ADD(handshake, ram_size) {
	.differ = dst_ram_smaller,
	.refused = "RAM block '/machine' 'ram0': size 0x1000000 on the source, 0x800000 here",
};
FIXTURE_VARIANT_ADD(handshake, missing_block) {
	.differ = dst_no_vram,
	.refused = "'vram' of the source does not exist here",
};
FIXTURE_VARIANT_ADD(handshake, extra_block_here) {
	.differ = src_no_vram,
	.refused = "'vram' exists here but not on the source",
};
FIXTURE_VARIANT_ADD(handshake, renamed_block) {
	.differ = dst_ram_renamed,
	.refused = "'ram0' of the source does not exist here",
};
FIXTURE_VARIANT_ADD(handshake, required_capability) {
	.differ = dst_no_zero_pages,
	.refused = "capability 'zero-pages' required by the source",
};
FIXTURE_VARIANT_ADD(handshake, release_absent_accepted) {
	.differ = no_release,
};
/* A refusal from an old source names it "unknown", not garbage. */
FIXTURE_VARIANT_ADD(handshake, release_absent_named_unknown) {
	.differ = no_release_cpu_model,
	.refused = "here (source ternvm unknown, destination ternvm",
};
FIXTURE_VARIANT_ADD(handshake, device_version) {
	.differ = src_blk_newer,
	.refused = "device '/machine/pci0/00:03.0/virtio-blk': source saves version 5, this side loads 1..2",
};
FIXTURE_VARIANT_ADD(handshake, older_device_version_accepted) {
	.differ = src_blk_older,
};
FIXTURE_VARIANT_ADD(handshake, missing_device) {
	.differ = src_extra_device,
	.refused = "device '/machine/pci0/00:05.0/virtio-rng' of the source does not exist here",
};
FIXTURE_VARIANT_ADD(handshake, cpu_model) {
	.differ = src_cpu_model,
	.refused = "vCPU model 'tern-test-v2' on the source, 'tern-test-v1' here",
};
FIXTURE_VARIANT_ADD(handshake, cpuid_feature) {
	.differ = src_cpuid_feature,
	.refused = "CPUID feature bit 9 on the source is missing here",
};

FIXTURE_SETUP(handshake)
{
	struct machines m = { .s = base_cfg, .d = base_cfg };

	mig__default_params(&m.sp);
	mig__default_params(&m.dp);
	variant->differ(&m);
	pair_setup(_metadata, &self->p, &m.s, &m.d, &m.sp, &m.dp, m.kstream);
}

FIXTURE_TEARDOWN(handshake)
{
	pair_free(&self->p);
}

TEST_F(handshake, admitted_or_refused_by_name)
{
	if (variant->refused)
		expect_refused(_metadata, &self->p, variant->refused);
	else
		expect_success(_metadata, &self->p);
}

TEST(protocol_version_refused)
{
	struct mig_params sp;
	struct pair p;
	char want[160];

	mig__default_params(&sp);
	sp.version_min = 2;
	sp.version_max = 3;
	sp.release = "9.9.9-test";
	pair_setup(_metadata, &p, &base_cfg, &base_cfg, &sp, NULL, false);
	/* Both sides' releases (the hello's and the welcome's) name the pair. */
	snprintf(want, sizeof(want),
		 "protocol versions 2..3 on the source, 1..1 here (source ternvm 9.9.9-test, destination ternvm %s)",
		 tern_version);
	expect_refused(_metadata, &p, want);
	pair_free(&p);
}

TEST(device_state_refused_resumes_source)
{
	struct pair p;
	char why[256];

	pair_setup(_metadata, &p, &base_cfg, &base_cfg, NULL, NULL, false);
	fakevm_set_load_error(p.dst, -EINVAL);
	ASSERT_EQ(0, mig_run(&p.r));
	ASSERT_GT(0, p.r.src_ret);
	ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_NE(NULL, strstr(p.r.src_st.error, "loading the machine state"))
		TH_LOG("%s", p.r.src_st.error);
	/* The source learns which object and which call failed. */
	ASSERT_NE(NULL, strstr(p.r.src_st.error, "vCPU 0: KVM_SET_SREGS refused"))
		TH_LOG("%s", p.r.src_st.error);
	ASSERT_FALSE(fakevm_started(p.dst));
	ASSERT_TRUE(writer_alive(p.src));
	pair_free(&p);
}

/* A guest dirtying faster than the cap: throttled until it fits. */
TEST(auto_converge_throttles_until_it_fits)
{
	struct fakevm_cfg s = base_cfg;
	struct mig_params sp;
	struct pair p;

	s.ram_size = 4 * MiB;
	s.write_rate = 400;
	mig__default_params(&sp);
	sp.max_bandwidth = 40 * MiB;
	sp.downtime_limit_ms = 20;
	sp.max_rounds = 200;
	pair_setup(_metadata, &p, &s, &s, &sp, NULL, false);
	expect_success(_metadata, &p);
	ASSERT_LT(0, p.r.src_st.throttle_pct);
	TH_LOG("converged after %llu rounds at throttle %u%%",
	       (unsigned long long)p.r.src_st.rounds, p.r.src_st.throttle_pct);
	pair_free(&p);
}

TEST(round_limit_fails_with_source_running)
{
	struct fakevm_cfg s = base_cfg;
	struct mig_params sp;
	struct pair p;
	char why[256];

	s.ram_size = 4 * MiB;
	s.write_rate = 400;
	mig__default_params(&sp);
	sp.max_bandwidth = 40 * MiB;
	sp.downtime_limit_ms = 1;
	sp.max_rounds = 4;
	sp.auto_converge = false;
	pair_setup(_metadata, &p, &s, &s, &sp, NULL, false);
	ASSERT_EQ(0, mig_run(&p.r));
	ASSERT_EQ(-ETIMEDOUT, p.r.src_ret) TH_LOG("%s", p.r.src_st.error);
	ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_NE(NULL, strstr(p.r.src_st.error, "not converged after 4 rounds"))
		TH_LOG("%s", p.r.src_st.error);
	ASSERT_EQ(0, p.r.src_st.throttle_pct);
	ASSERT_TRUE(writer_alive(p.src));
	pair_free(&p);
}

/*
 * A slow link with a deep queue: the source's first round "ends" when
 * the queue has it, half a second before the destination does.  The
 * source drains (MIG_CAP_DRAIN) before it judges the round, so the
 * bandwidth is the link's and the vCPUs stop with nothing of round 1
 * still on its way.  An idle guest: the downtime is the state's alone
 * (host: 2 ms; without the drain 457 ms, round 1 "sent" in 69 ms of
 * the link's 520).
 */
TEST(drained_before_the_pause_over_a_slow_deep_link)
{
	struct fakevm_cfg s = base_cfg;
	struct mig_params sp;
	struct pair p;
	double link_ms;

	s.ram_size = 8 * MiB;
	s.write_rate = 0;	/* idle: nothing is left to send but the backlog */
	mig__default_params(&sp);
	sp.downtime_limit_ms = 300;
	pair_setup(_metadata, &p, &s, &s, &sp, NULL, false);
	p.r.fwd_kib_per_s = 8 << 10;
	expect_success(_metadata, &p);
	ASSERT_LE(1, p.r.src_st.nr_round);
	link_ms = p.r.src_st.round[0].bytes / (8.0 * MiB) * 1000;
	TH_LOG("round 1: %llu bytes in %llu ms (the link needs %.0f ms); %llu rounds, downtime %llu ms",
	       (unsigned long long)p.r.src_st.round[0].bytes,
	       (unsigned long long)p.r.src_st.round[0].ms, link_ms,
	       (unsigned long long)p.r.src_st.rounds,
	       (unsigned long long)p.r.src_st.downtime_ms);
	ASSERT_LE(link_ms * 0.9, (double)p.r.src_st.round[0].ms);
	ASSERT_GE(sp.downtime_limit_ms, p.r.src_st.downtime_ms);
	pair_free(&p);
}

/* A second migration while one runs is refused; the first completes. */
static void *run_thread(void *arg)
{
	mig_run(arg);
	return NULL;
}

TEST(second_migration_while_one_runs_is_ebusy)
{
	struct mig_params sp;
	struct mig_stats st;
	struct pair p;
	pthread_t t;
	int sv[2];

	mig__default_params(&sp);
	sp.max_bandwidth = 64 * MiB;
	pair_setup(_metadata, &p, &base_cfg, &base_cfg, &sp, NULL, false);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pthread_create(&t, NULL, run_thread, &p.r);
	do {
		mig__query(p.msrc, &st);
		usleep(1000);
	} while (st.state != MIG_S_ACTIVE && st.state < MIG_S_COMPLETED);
	ASSERT_EQ(MIG_S_ACTIVE, st.state);
	ASSERT_EQ(-EBUSY, mig__migrate_fd(p.msrc, sv[0], sv[0]));
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	ASSERT_EQ(0, p.r.src_ret) TH_LOG("%s", p.r.src_st.error);
	pair_free(&p);
}

/*
 * The VM's own reason to stop (its guest powered off): the migration ends
 * `failed` with that reason, not `cancelled`, and the destination fails.
 */
TEST(abort_fails_with_the_reason)
{
	struct mig_params sp;
	struct mig_stats st;
	struct pair p;
	pthread_t t;

	mig__default_params(&sp);
	sp.max_bandwidth = 2 * MiB;
	pair_setup(_metadata, &p, &base_cfg, &base_cfg, &sp, NULL, false);
	pthread_create(&t, NULL, run_thread, &p.r);
	do {
		mig__query(p.msrc, &st);
		usleep(1000);
	} while (st.state != MIG_S_ACTIVE && st.state < MIG_S_COMPLETED);
	ASSERT_EQ(MIG_S_ACTIVE, st.state);
	mig__abort(p.msrc, "guest powered off");
	pthread_join(t, NULL);
	ASSERT_EQ(-ECANCELED, p.r.src_ret);
	ASSERT_EQ(MIG_S_FAILED, p.r.src_st.state);
	ASSERT_STREQ("guest powered off", p.r.src_st.error);
	/* (It is told if no page chunk was cut short: best effort.) */
	ASSERT_EQ(MIG_S_FAILED, p.r.dst_st.state);
	ASSERT_FALSE(fakevm_started(p.dst));
	ASSERT_TRUE(writer_alive(p.src));
	pair_free(&p);
}

/*
 * Parameters by name, also mid-migration: a 16 MiB guest at 2 MiB/s would
 * take 8 s; lifting the cap once pre-copy runs finishes it at once.  The
 * final statistics read back as query-migrate JSON.
 */
/* Every parameter of the table: its range holds, and query reports it. */
TEST(param_table_ranges_and_query)
{
	const struct mig_param *d;
	struct json_object *o, *v;
	struct mig_params sp;
	struct mig *m;
	int n = 0;

	mig__default_params(&sp);
	m = mig__new(&fakevm_ops, NULL, &sp);
	ASSERT_NE(NULL, m);
	for (d = mig_param_table; d->name; d++, n++) {
		ASSERT_EQ(0, mig__set_param(m, d->name, d->min)) TH_LOG("%s", d->name);
		ASSERT_EQ(0, mig__set_param(m, d->name, d->max)) TH_LOG("%s", d->name);
		if (d->min)
			ASSERT_EQ(-EINVAL, mig__set_param(m, d->name, d->min - 1))
				TH_LOG("%s", d->name);
		if (d->max != UINT64_MAX)
			ASSERT_EQ(-EINVAL, mig__set_param(m, d->name, d->max + 1))
				TH_LOG("%s", d->name);
		o = mig__params_json(m);
		ASSERT_TRUE(json_object_object_get_ex(o, d->name, &v)) TH_LOG("%s", d->name);
		ASSERT_EQ(d->max, json_object_get_uint64(v)) TH_LOG("%s", d->name);
		json_object_put(o);
	}
	ASSERT_LE(n, MIG_PARAM_MAX);
	ASSERT_EQ(-EINVAL, mig__set_param(m, "no-such-param", 1));
	mig__free(m);
}

TEST(params_by_name_and_query_json)
{
	struct json_object *o, *v;
	struct mig_params sp;
	struct mig_stats st;
	struct pair p;
	uint64_t t0;
	pthread_t t;

	mig__default_params(&sp);
	pair_setup(_metadata, &p, &base_cfg, &base_cfg, &sp, NULL, false);
	ASSERT_EQ(-EINVAL, mig__set_param(p.msrc, "no-such-param", 1));
	ASSERT_EQ(-EINVAL, mig__set_param(p.msrc, "auto-converge", 2));
	ASSERT_EQ(-EINVAL, mig__set_param(p.msrc, "downtime-limit", 0));
	ASSERT_EQ(0, mig__set_param(p.msrc, "max-bandwidth", 2 << 20));
	ASSERT_EQ(0, mig__set_param(p.msrc, "downtime-limit", 500));
	t0 = time(NULL);
	pthread_create(&t, NULL, run_thread, &p.r);
	do {
		mig__query(p.msrc, &st);
		usleep(1000);
	} while (st.state < MIG_S_ACTIVE || (st.state == MIG_S_ACTIVE && st.bytes < (1 << 20)));
	ASSERT_EQ(MIG_S_ACTIVE, st.state);
	/* Round 1 has not ended (2 MiB/s), yet its pages and rate show. */
	ASSERT_EQ(0, st.rounds);
	ASSERT_LT(0, st.pages);
	ASSERT_LT(0, st.bandwidth);
	o = mig__stats_json(&st);
	ASSERT_NE(NULL, o);
	ASSERT_TRUE(json_object_object_get_ex(o, "status", &v));
	ASSERT_STREQ("active", json_object_get_string(v));
	ASSERT_TRUE(json_object_object_get_ex(o, "elapsed", &v));
	json_object_put(o);
	ASSERT_EQ(0, mig__set_param(p.msrc, "max-bandwidth", 0));
	pthread_join(t, NULL);
	ASSERT_EQ(0, p.r.src_ret) TH_LOG("%s", p.r.src_st.error);
	ASSERT_GT(t0 + 5, (uint64_t)time(NULL));

	o = mig__stats_json(&p.r.src_st);
	ASSERT_TRUE(json_object_object_get_ex(o, "status", &v));
	ASSERT_STREQ("completed", json_object_get_string(v));
	ASSERT_TRUE(json_object_object_get_ex(o, "bytes", &v));
	ASSERT_EQ(p.r.src_st.bytes, json_object_get_uint64(v));
	ASSERT_TRUE(json_object_object_get_ex(o, "rounds", &v));
	ASSERT_EQ(p.r.src_st.rounds, json_object_get_uint64(v));
	ASSERT_TRUE(json_object_object_get_ex(o, "tracker", &v));
	ASSERT_STREQ("kvm-dirty-log", json_object_get_string(v));
	ASSERT_FALSE(json_object_object_get_ex(o, "error", &v));
	json_object_put(o);
	pair_free(&p);
}

TEST_HARNESS_MAIN
