// SPDX-License-Identifier: GPL-2.0
/*
 * No guest lost (DESIGN.md rule 7) between two fake VMs: the connection
 * cut at many byte offsets of either direction, a destination that never
 * answers (or never says `running`), and a cancel in every phase each end
 * with the documented outcome: source resumed, or paused as
 * postcommit-unknown; never running on both sides or on neither.
 * TERN_CHECK_FULL=1 cuts at ten times as many offsets.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mig_run.h"
#include "test_util.h"

#define KiB	(1ull << 10)
#define MSG_COMMIT_LEN	8	/* header only */
#define MSG_RUNNING_LEN	8

static const struct fakevm_cfg small_cfg = {
	.ram_size = 1024 * KiB,
	.vga_size = 64 * KiB,
	.rom_size = 16 * KiB,
};

struct pair {
	struct fakevm *src, *dst;
	struct mig *msrc, *mdst;
	struct mig_run r;
};

static int pair_new_ops(struct pair *p, const struct fakevm_cfg *cfg,
			unsigned int write_rate, unsigned int timeout_ms,
			uint64_t max_bw, const struct mig_vm_ops *ops)
{
	struct fakevm_cfg s = *cfg, d = *cfg;
	struct mig_params mp;

	s.seed = 1;
	s.write_rate = write_rate;
	d.seed = 2;
	p->src = fakevm_new(&s);
	p->dst = fakevm_new(&d);
	if (!p->src || !p->dst)
		return -ENOMEM;
	fakevm_fill(p->src, 0);
	fakevm_fill(p->dst, 0xaa);
	mig__default_params(&mp);
	mp.timeout_ms = timeout_ms;
	mp.max_bandwidth = max_bw;
	mp.quiet = !getenv("TERN_DEBUG");	/* failures are expected here */
	p->msrc = mig__new(ops, p->src, &mp);
	p->mdst = mig__new(&fakevm_ops, p->dst, &mp);
	if (!p->msrc || !p->mdst)
		return -ENOMEM;
	mig_run_init(&p->r, p->src, p->dst, p->msrc, p->mdst);
	fakevm_writer_start(p->src);
	return 0;
}

static int pair_new(struct pair *p, const struct fakevm_cfg *cfg,
		    unsigned int write_rate, unsigned int timeout_ms,
		    uint64_t max_bw)
{
	return pair_new_ops(p, cfg, write_rate, timeout_ms, max_bw,
			    &fakevm_ops);
}

static void pair_free(struct pair *p)
{
	mig_run_free(&p->r);
	mig__free(p->msrc);
	mig__free(p->mdst);
	fakevm_free(p->src);
	fakevm_free(p->dst);
}

static bool full(void)
{
	const char *e = getenv("TERN_CHECK_FULL");

	return e && *e == '1';
}

/* Stream lengths of an undisturbed migration, writer off: deterministic. */
static void clean_lengths(struct __test_metadata *_metadata, uint64_t *fwd,
			  uint64_t *back)
{
	struct pair p;

	ASSERT_EQ(0, pair_new(&p, &small_cfg, 0, 2000, 0));
	ASSERT_EQ(0, mig_run(&p.r));
	ASSERT_EQ(0, p.r.src_ret) TH_LOG("%s", p.r.src_st.error);
	*fwd = p.r.fwd_bytes;
	*back = p.r.back_bytes;
	pair_free(&p);
}

/* Offsets: the first bytes one by one, then spread, then the last ones. */
static uint64_t cut_point(unsigned int i, unsigned int n, uint64_t len)
{
	static const uint64_t head[] = { 0, 1, 4, 7, 8, 9, 15, 16, 40 };
	const unsigned int nh = sizeof(head) / sizeof(head[0]);
	static const uint64_t tail[] = { 17, 16, 9, 8, 7, 1 };
	const unsigned int nt = sizeof(tail) / sizeof(tail[0]);

	if (i < nh)
		return head[i] < len ? head[i] : len - 1;
	if (i >= n - nt)
		return len - tail[i - (n - nt)];
	return 41 + (len - 60) * (uint64_t)(i - nh) / (n - nh - nt);
}

TEST(cut_source_to_destination_at_many_offsets)
{
	unsigned int i, n = full() ? 2000 : 120, failed = 0, post = 0;
	uint64_t fwd, back, off;
	char why[256];
	struct pair p;

	clean_lengths(_metadata, &fwd, &back);
	for (i = 0; i < n; i++) {
		off = cut_point(i, n, fwd);
		ASSERT_EQ(0, pair_new(&p, &small_cfg, 0, 2000, 0));
		p.r.cut_fwd = off;
		ASSERT_EQ(0, mig_run(&p.r));
		ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why)))
			TH_LOG("cut at byte %llu of %llu: %s",
			       (unsigned long long)off, (unsigned long long)fwd, why);
		ASSERT_FALSE(fakevm_started(p.dst)) TH_LOG("cut at %llu", (unsigned long long)off);
		ASSERT_NE(0, p.r.dst_ret);
		/* The destination names where it stopped. */
		ASSERT_NE(NULL, strstr(p.r.dst_st.error, ", byte "))
			TH_LOG("'%s'", p.r.dst_st.error);
		/* Cut right before commit: ready never comes back. */
		if (off <= fwd - MSG_COMMIT_LEN) {
			ASSERT_NE(0, p.r.src_ret);
			ASSERT_NE(-EINPROGRESS, p.r.src_ret)
				TH_LOG("cut at %llu, before commit", (unsigned long long)off);
			ASSERT_TRUE(fakevm_running(p.src));
			failed++;
		} else {
			/* commit left the source whole: it may not resume. */
			ASSERT_EQ(-EINPROGRESS, p.r.src_ret)
				TH_LOG("cut at %llu, inside commit", (unsigned long long)off);
			post++;
		}
		pair_free(&p);
	}
	TH_LOG("%u cuts over %llu bytes: %u resumed, %u postcommit-unknown, 0 lost",
	       n, (unsigned long long)fwd, failed, post);
}

TEST(cut_destination_to_source_at_many_offsets)
{
	unsigned int i, n = full() ? 200 : 32;
	uint64_t fwd, back, off;
	char why[256];
	struct pair p;

	clean_lengths(_metadata, &fwd, &back);
	for (i = 0; i < n; i++) {
		off = back * i / n;
		ASSERT_EQ(0, pair_new(&p, &small_cfg, 0, 2000, 0));
		p.r.cut_back = off;
		ASSERT_EQ(0, mig_run(&p.r));
		ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why)))
			TH_LOG("back cut at %llu of %llu: %s",
			       (unsigned long long)off, (unsigned long long)back, why);
		/* Before `ready` is whole the source cannot have committed. */
		if (off < back - MSG_RUNNING_LEN) {
			ASSERT_TRUE(fakevm_running(p.src))
				TH_LOG("back cut at %llu", (unsigned long long)off);
		}
		pair_free(&p);
	}
	/* Cut right after `ready`: commit may or may not leave. */
	for (off = back - MSG_RUNNING_LEN; off < back; off++) {
		ASSERT_EQ(0, pair_new(&p, &small_cfg, 0, 2000, 0));
		p.r.cut_back = off;
		ASSERT_EQ(0, mig_run(&p.r));
		ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why)))
			TH_LOG("back cut at %llu: %s", (unsigned long long)off, why);
		pair_free(&p);
	}
}

/* With the writer going the stream differs each run: invariants only. */
TEST(cut_busy_guest_at_spread_offsets)
{
	unsigned int i, n = full() ? 200 : 30;
	uint64_t fwd, back, off;
	char why[256];
	struct pair p;

	clean_lengths(_metadata, &fwd, &back);
	for (i = 0; i < n; i++) {
		off = fwd * (2 * i + 1) / (2 * n);
		ASSERT_EQ(0, pair_new(&p, &small_cfg, 50, 2000, 0));
		p.r.cut_fwd = off;
		ASSERT_EQ(0, mig_run(&p.r));
		ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why)))
			TH_LOG("cut at %llu: %s", (unsigned long long)off, why);
		if (p.r.src_ret && p.r.src_ret != -EINPROGRESS)
			ASSERT_TRUE(fakevm_writer_advances(p.src))
				TH_LOG("writer stopped");
		pair_free(&p);
	}
}

/*
 * The kernel-stream path splices into the socket, and splice has no
 * MSG_NOSIGNAL: a cut must come back as an error, not kill the VMM.
 */
TEST(cut_kernel_stream_path_at_spread_offsets)
{
	unsigned int i, n = full() ? 100 : 16;
	uint64_t fwd, back, off;
	char why[256];
	struct pair p;

	clean_lengths(_metadata, &fwd, &back);
	for (i = 0; i < n; i++) {
		off = fwd * (2 * i + 1) / (2 * n);
		ASSERT_EQ(0, pair_new_ops(&p, &small_cfg, 50, 2000, 0,
					  &fakevm_kstream_ops));
		p.r.cut_fwd = off;
		ASSERT_EQ(0, mig_run(&p.r));
		ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why)))
			TH_LOG("cut at %llu: %s", (unsigned long long)off, why);
		pair_free(&p);
	}
}

TEST(destination_never_answers_running)
{
	uint64_t fwd, back;
	char why[256];
	struct pair p;

	clean_lengths(_metadata, &fwd, &back);
	ASSERT_EQ(0, pair_new(&p, &small_cfg, 50, 1000, 0));
	p.r.stall_back = back - MSG_RUNNING_LEN;
	ASSERT_EQ(0, mig_run(&p.r));
	ASSERT_EQ(-EINPROGRESS, p.r.src_ret) TH_LOG("%s", p.r.src_st.error);
	ASSERT_EQ(MIG_S_POSTCOMMIT_UNKNOWN, p.r.src_st.state);
	ASSERT_FALSE(fakevm_running(p.src));
	ASSERT_TRUE(fakevm_started(p.dst));
	ASSERT_EQ(0, p.r.dst_ret);
	ASSERT_NE(NULL, strstr(p.r.src_st.error, "running"))
		TH_LOG("%s", p.r.src_st.error);
	ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why))) TH_LOG("%s", why);
	pair_free(&p);
}

TEST(destination_never_answers_at_all)
{
	char why[256];
	struct pair p;

	ASSERT_EQ(0, pair_new(&p, &small_cfg, 50, 300, 0));
	p.r.no_dest = true;
	ASSERT_EQ(0, mig_run(&p.r));
	ASSERT_EQ(-ETIMEDOUT, p.r.src_ret) TH_LOG("%s", p.r.src_st.error);
	ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_NE(NULL, strstr(p.r.src_st.error, "welcome"))
		TH_LOG("%s", p.r.src_st.error);
	pair_free(&p);
}

FIXTURE(cancel) {
	struct pair p;
};

FIXTURE_VARIANT(cancel) {
	bool on_dest;
	enum mig_state at;
	int src_ret;		/* expected; 0: any failure */
	enum mig_state src_end;
};

FIXTURE_VARIANT_ADD(cancel, setup) {
	.at = MIG_S_SETUP, .src_ret = -ECANCELED, .src_end = MIG_S_CANCELLED,
};
FIXTURE_VARIANT_ADD(cancel, precopy) {
	.at = MIG_S_ACTIVE, .src_ret = -ECANCELED, .src_end = MIG_S_CANCELLED,
};
FIXTURE_VARIANT_ADD(cancel, switchover) {
	.at = MIG_S_DEVICE, .src_ret = -ECANCELED, .src_end = MIG_S_CANCELLED,
};
FIXTURE_VARIANT_ADD(cancel, after_commit) {
	.at = MIG_S_COMMITTING, .src_ret = -EINPROGRESS,
	.src_end = MIG_S_POSTCOMMIT_UNKNOWN,
};
/* The source learns it by a write error or the error message. */
FIXTURE_VARIANT_ADD(cancel, destination_precopy) {
	.on_dest = true, .at = MIG_S_ACTIVE, .src_ret = 0,
	.src_end = MIG_S_FAILED,
};

FIXTURE_SETUP(cancel)
{
	struct fakevm_cfg cfg = small_cfg;

	cfg.ram_size = 8192 * KiB;
	/* 8 MiB at 16 MiB/s: pre-copy lasts long enough to be caught. */
	ASSERT_EQ(0, pair_new(&self->p, &cfg, 50, 3000,
			      variant->at == MIG_S_ACTIVE ? 16 << 20 : 0));
	if (variant->at == MIG_S_SETUP)
		self->p.r.no_dest = true;
	if (variant->at == MIG_S_DEVICE)
		fakevm_set_load_delay(self->p.dst, 500);
	if (variant->at == MIG_S_COMMITTING)
		fakevm_set_start_delay(self->p.dst, 500);
}

FIXTURE_TEARDOWN(cancel)
{
	pair_free(&self->p);
}

TEST_F(cancel, in_phase)
{
	struct mig_run *r = &self->p.r;
	char why[256];

	if (variant->on_dest)
		r->cancel_dst_at = variant->at;
	else
		r->cancel_src_at = variant->at;
	ASSERT_EQ(0, mig_run(r));
	ASSERT_TRUE(r->cancelled) TH_LOG("state %s never seen",
					 mig__state_name(variant->at));
	if (variant->src_ret) {
		ASSERT_EQ(variant->src_ret, r->src_ret) TH_LOG("%s", r->src_st.error);
	} else {
		ASSERT_GT(0, r->src_ret);
	}
	ASSERT_EQ(variant->src_end, r->src_st.state);
	ASSERT_EQ(0, mig_run_check(r, why, sizeof(why))) TH_LOG("%s", why);
	if (variant->src_ret != -EINPROGRESS) {
		ASSERT_FALSE(fakevm_started(self->p.dst));
		ASSERT_TRUE(fakevm_writer_advances(self->p.src));
	}
}

struct listen_arg {
	struct mig *mig;
	int lfd, ret;
};

static void *listen_main(void *arg)
{
	struct listen_arg *a = arg;

	a->ret = mig__incoming_listener(a->mig, a->lfd);
	return NULL;
}

TEST(cancel_destination_waiting_for_source)
{
	struct listen_arg a = { 0 };
	struct mig_stats st;
	struct fakevm *vm;
	pthread_t t;

	vm = fakevm_new(&small_cfg);
	ASSERT_NE(NULL, vm);
	a.mig = mig__new(&fakevm_ops, vm, NULL);
	ASSERT_EQ(0, mig__listen("tcp:127.0.0.1:0", &a.lfd));
	pthread_create(&t, NULL, listen_main, &a);
	usleep(50000);
	mig__cancel(a.mig);
	pthread_join(t, NULL);
	ASSERT_EQ(-ECANCELED, a.ret);
	mig__query(a.mig, &st);
	ASSERT_FALSE(fakevm_started(vm));
	close(a.lfd);
	mig__free(a.mig);
	fakevm_free(vm);
}

TEST_HARNESS_MAIN
