// SPDX-License-Identifier: GPL-2.0
/*
 * The tern path for real (harness VM, tern.ko loaded): a fake VM whose RAM
 * is a tern.ko region, written by a thread while the module tracks it and
 * its page stream is spliced into the migration socket, arrives byte for
 * byte in a second region, over one connection or over channels that
 * share each round through a stream set (TERN_STREAM_OPEN_SET); a cut
 * migration resumes the source; and the module's stream and region
 * counts return to where they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/tern.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "lib/ternnl.h"
#include "mig_run.h"
#include "tern_util.h"
#include "test_util.h"

#define MiB	(1ull << 20)

static int region(int dev, const char *name, uint64_t size)
{
	struct tern_region_create rc = { .size = size };

	strncpy(rc.name, name, sizeof(rc.name) - 1);
	return ioctl(dev, TERN_CREATE_REGION, &rc);
}

struct kpair {
	int dev, sfd, dfd;
	struct fakevm *src, *dst;
	struct mig *msrc, *mdst;
	struct mig_run r;
};

static int kpair_new_ch(struct kpair *k, unsigned int write_rate,
		       unsigned int channels, bool no_defer)
{
	struct fakevm_cfg s = {
		.ram_size = 16 * MiB, .rom_size = 64 << 10, .no_defer = no_defer,
	};
	struct fakevm_cfg d = s;
	struct mig_params p;

	k->dev = open(TERN_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (k->dev < 0)
		return -errno;
	k->sfd = region(k->dev, "mig-src", s.ram_size);
	k->dfd = region(k->dev, "mig-dst", d.ram_size);
	if (k->sfd < 0 || k->dfd < 0)
		return -errno;
	s.ram_fd = k->sfd;
	s.seed = 1;
	s.write_rate = write_rate;
	d.ram_fd = k->dfd;
	d.seed = 2;
	k->src = fakevm_new(&s);
	k->dst = fakevm_new(&d);
	if (!k->src || !k->dst)
		return -ENOMEM;
	fakevm_fill(k->src, 0);
	fakevm_fill(k->dst, 0xaa);
	mig__default_params(&p);
	p.timeout_ms = 5000;
	/*
	 * The debug kernel frames pages several times slower: the busy
	 * region did not converge in 30 rounds at 300 ms there.  The test is
	 * about the kernel stream, not the limit.
	 */
	if (debug_kernel())
		p.downtime_limit_ms = 3000;
	p.quiet = !getenv("TERN_DEBUG");
	p.channels = channels;
	k->msrc = mig__new(&fakevm_tern_ops, k->src, &p);
	k->mdst = mig__new(&fakevm_ops, k->dst, &p);
	if (!k->msrc || !k->mdst)
		return -ENOMEM;
	mig_run_init(&k->r, k->src, k->dst, k->msrc, k->mdst);
	k->r.extra_channels = channels - 1;
	fakevm_writer_start(k->src);
	return 0;
}

static int kpair_new(struct kpair *k, unsigned int write_rate)
{
	return kpair_new_ch(k, write_rate, 1, false);
}

static void kpair_free(struct kpair *k)
{
	mig_run_free(&k->r);
	mig__free(k->msrc);
	mig__free(k->mdst);
	fakevm_free(k->src);
	fakevm_free(k->dst);
	close(k->sfd);
	close(k->dfd);
	close(k->dev);
}

static void counts(struct __test_metadata *_metadata, struct ternnl_stats *st)
{
	struct ternnl *nl = ternnl__open();

	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, ternnl__get_stats(nl, st));
	ternnl__close(nl);
}

/*
 * Not kselftest's default 30 s: a migration under TCG on a loaded machine,
 * or on the debug kernel (make check-debug, KASAN and lockdep), takes
 * longer, and a test killed mid-migration leaves its stream to the next.
 */
FIXTURE(kmig) {
	int unused;
};

FIXTURE_SETUP(kmig)
{
}

FIXTURE_TEARDOWN(kmig)
{
}

/*
 * A region written during the migration arrives byte for byte over
 * `channels` connections (more than one: each a stream of the module's
 * set, each carrying a share), tracking ends with it, and the module's
 * stream and region counts return to where they were.  @no_defer: the
 * sets refuse TERN_STREAM_SET_F_DEFER, as an older module's do; the
 * source asks once, then opens them without it.
 */
static void busy_region_migrates(struct __test_metadata *_metadata,
				 unsigned int channels, bool no_defer)
{
	struct ternnl_stats before, after;
	uint64_t deferred = 0;
	struct kpair k = { 0 };
	char why[256];
	unsigned int i;

	counts(_metadata, &before);
	ASSERT_EQ(0, kpair_new_ch(&k, 50, channels, no_defer));
	ASSERT_EQ(0, mig_run(&k.r));
	ASSERT_EQ(0, k.r.src_ret) TH_LOG("%s", k.r.src_st.error);
	ASSERT_EQ(0, k.r.dst_ret) TH_LOG("%s", k.r.dst_st.error);
	ASSERT_EQ(0, mig_run_check(&k.r, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(MIG_TRACKER_TERN, k.r.dst_st.tracker);
	ASSERT_EQ(channels, k.r.src_st.channels);
	ASSERT_EQ(channels, k.r.dst_st.channels);
	ASSERT_LE(2, k.r.src_st.rounds);
	ASSERT_LT(0, k.r.dst_st.pages);
	ASSERT_LT(0, k.r.dst_st.zero_pages);
	for (i = 0; i + 1 < channels; i++)
		ASSERT_LT(0, k.r.ch_fwd_bytes[i]) TH_LOG("channel %u idle", i + 1);
	/* dirty_stop ran: tracking is off again (a second stop is -EINVAL). */
	ASSERT_EQ(-1, ioctl(k.sfd, TERN_TRACK_STOP, 0));
	ASSERT_EQ(EINVAL, errno);
	for (i = 0; i < k.r.src_st.nr_round; i++)
		deferred += k.r.src_st.round[i].deferred;
	/* Refused once, the source asks no more and sends as before. */
	ASSERT_EQ(no_defer ? 1 : 0, fakevm_defer_refused(k.src));
	if (no_defer)
		ASSERT_EQ(0, deferred);
	TH_LOG("%u channel(s): %llu rounds, %llu pages, %llu zero, %llu left for a next round, downtime %llu ms",
	       channels, (unsigned long long)k.r.dst_st.rounds,
	       (unsigned long long)k.r.dst_st.pages,
	       (unsigned long long)k.r.dst_st.zero_pages,
	       (unsigned long long)deferred,
	       (unsigned long long)k.r.src_st.downtime_ms);
	kpair_free(&k);
	counts(_metadata, &after);
	ASSERT_EQ(before.streams, after.streams);
	ASSERT_EQ(before.regions, after.regions);
}

TEST_F_TIMEOUT(kmig, busy_region_migrates_through_the_kernel_stream, 600)
{
	TEST_REQUIRE(getuid() == 0);
	if (!tern_module_loaded())
		ASSERT_EQ(0, __tern_module_load());
	busy_region_migrates(_metadata, 1, false);
}

TEST_F_TIMEOUT(kmig, busy_region_migrates_over_three_channels_of_a_stream_set, 600)
{
	TEST_REQUIRE(getuid() == 0);
	if (!tern_module_loaded())
		ASSERT_EQ(0, __tern_module_load());
	busy_region_migrates(_metadata, 3, false);
}

/* A tern.ko whose sets cannot defer (older): the rounds go as before. */
TEST_F_TIMEOUT(kmig, sets_that_cannot_defer_send_every_page_they_harvest, 600)
{
	TEST_REQUIRE(getuid() == 0);
	if (!tern_module_loaded())
		ASSERT_EQ(0, __tern_module_load());
	busy_region_migrates(_metadata, 2, true);
}

TEST_F_TIMEOUT(kmig, cut_kernel_stream_migration_resumes_source, 600)
{
	static const uint64_t cuts[] = { 100, 300000, 5000000, 12000000 };
	struct ternnl_stats before, after;
	char why[256];
	unsigned int i;

	TEST_REQUIRE(getuid() == 0);
	if (!tern_module_loaded())
		ASSERT_EQ(0, __tern_module_load());
	counts(_metadata, &before);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct kpair k = { 0 };

		ASSERT_EQ(0, kpair_new(&k, 50));
		k.r.cut_fwd = cuts[i];
		ASSERT_EQ(0, mig_run(&k.r));
		ASSERT_NE(0, k.r.src_ret);
		ASSERT_EQ(0, mig_run_check(&k.r, why, sizeof(why)))
			TH_LOG("cut at %llu: %s", (unsigned long long)cuts[i], why);
		ASSERT_TRUE(fakevm_running(k.src));
		ASSERT_TRUE(fakevm_writer_advances(k.src));
		/* Tracking stopped on failure too; a new migration may start. */
		ASSERT_EQ(-1, ioctl(k.sfd, TERN_TRACK_STOP, 0));
		kpair_free(&k);
	}
	counts(_metadata, &after);
	ASSERT_EQ(before.streams, after.streams);
	ASSERT_EQ(before.regions, after.regions);
}

TEST_HARNESS_MAIN
