// SPDX-License-Identifier: GPL-2.0
/*
 * A destination whose RAM is new (MIG_BLK_F_ZEROED) leaves a zero page it
 * never wrote alone: after migrating a guest whose RAM is mostly zero, it
 * holds the same bytes as the source, yet only the pages that carried data
 * were ever touched (mincore).  Without the flag, every page is written.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mig_run.h"
#include "test_util.h"

#define RAM	(16u << 20)
#define PAGE	4096u

static uint8_t *ram(struct fakevm *vm)
{
	const struct mig_ram_block *b;
	unsigned int nr;

	fakevm_ops.ram_blocks(vm, &b, &nr);
	return b->host;
}

static unsigned int resident(struct fakevm *vm)
{
	static unsigned char vec[RAM / PAGE];
	unsigned int i, n = 0;

	TEST_ASSERT(!mincore(ram(vm), RAM, vec), "mincore");
	for (i = 0; i < RAM / PAGE; i++)
		n += vec[i] & 1;
	return n;
}

/* One migration, src -> dst; 0 if both ends completed. */
static int migrate(struct fakevm *src, struct fakevm *dst, struct mig_run *r)
{
	struct mig_params p;
	struct mig *msrc, *mdst;
	int ret;

	mig__default_params(&p);
	p.quiet = !getenv("TERN_DEBUG");
	msrc = mig__new(&fakevm_ops, src, &p);
	mdst = mig__new(&fakevm_ops, dst, &p);
	mig_run_init(r, src, dst, msrc, mdst);
	r->dst_fill = 0;
	ret = mig_run(r) || r->src_ret || r->dst_ret ? -1 : 0;
	mig__free(msrc);
	mig__free(mdst);
	return ret;
}

static void one_case(struct __test_metadata *_metadata, bool zeroed,
		     unsigned int *touched, unsigned int *data_pages)
{
	struct fakevm_cfg c = { .ram_size = RAM, .seed = 3, .state_size = 100 };
	struct fakevm *src, *dst;
	struct mig_run r;
	char why[256];
	unsigned int i;

	src = fakevm_new(&c);
	c.ram_zeroed = zeroed;
	dst = fakevm_new(&c);
	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, dst);
	/* One page in 16 holds data; the rest were never written. */
	for (i = 0; i < RAM / PAGE; i += 16)
		memset(ram(src) + (size_t)i * PAGE, 0x5a, PAGE);
	*data_pages = RAM / PAGE / 16;
	ASSERT_EQ(0, migrate(src, dst, &r));
	*touched = resident(dst);	/* before the compare reads every page */
	ASSERT_EQ(0, fakevm_compare(src, dst, 0, why, sizeof(why))) TH_LOG("%s", why);
	mig_run_free(&r);
	fakevm_free(src);
	fakevm_free(dst);
}

TEST(new_ram_leaves_unwritten_zero_pages_alone)
{
	unsigned int touched, data;

	one_case(_metadata, true, &touched, &data);
	ASSERT_EQ(data, touched) TH_LOG("%u pages touched for %u data pages", touched, data);
}

TEST(ram_not_known_new_writes_every_zero_page)
{
	unsigned int touched, data;

	one_case(_metadata, false, &touched, &data);
	ASSERT_EQ(RAM / PAGE, touched) TH_LOG("%u of %u pages touched", touched, RAM / PAGE);
}

TEST_HARNESS_MAIN
