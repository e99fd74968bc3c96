// SPDX-License-Identifier: GPL-2.0
/*
 * The vmstate decoder against hostile streams: for reference streams,
 * every truncation point and every single-byte change (a sample of
 * values; all 256 with TERN_CHECK_FULL=1) either loads cleanly or fails
 * with an "offset N: ..." message, leaving the device untouched.  Run
 * twice: with checksums verified (every change must be rejected) and with
 * the checksums recomputed after the change (the decoder's own checks
 * must hold).  Under ASan/UBSan any overrun or leak fails the run.
 * Limits on depth, counts, size and sections are enforced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "vmstate/magic.h"
#include "vmstate/testdev.h"
#include "vmstate/tree.h"

struct ref {
	struct vmstate_registry *reg;
	struct td_dev dev[2];
	struct vmstate_buf stream;
};

static void ref_init(struct ref *r, unsigned int seed, int ndev, bool extra)
{
	struct td_dev src[2];
	struct vmstate_registry *sreg = vmstate__registry_new();
	char path[32];
	int i;

	memset(r, 0, sizeof(*r));
	r->reg = vmstate__registry_new();
	for (i = 0; i < ndev; i++) {
		td__random(&src[i], &seed);
		src[i].has_extra = extra;
		td__random(&r->dev[i], &seed);
		snprintf(path, sizeof(path), "/machine/pci0/00:0%d.0/td", i + 3);
		if (vmstate__register(sreg, &td_vmsd, &src[i], path) ||
		    vmstate__register(r->reg, &td_vmsd, &r->dev[i], path))
			abort();
	}
	if (vmstate__save_all(sreg, &r->stream))
		abort();
	vmstate__registry_free(sreg);
}

static void ref_free(struct ref *r)
{
	vmstate__buf_free(&r->stream);
	vmstate__registry_free(r->reg);
}

static bool dev_sane(const struct td_dev *d)
{
	const uint8_t *b = (const uint8_t *)&d->b;
	int i;

	if (d->nfifo > 16 || d->nvals > 6 || d->nvqs > 4 || *b > 1)
		return false;
	for (i = 0; i < 3; i++)
		if (*(const uint8_t *)&d->queues[i].enabled > 1)
			return false;
	return true;
}

struct tally {
	unsigned long loaded, rejected;
};

/* One hostile load: clean success or clean failure, nothing between. */
static int try_load(struct ref *r, const uint8_t *data, size_t len,
		    struct tally *t, char *why, size_t whylen)
{
	struct td_dev before[2];
	struct vmstate_err err;
	int ret;

	memcpy(before, r->dev, sizeof(before));
	ret = vmstate__load_all(r->reg, data, len, &err);
	if (ret == 0) {
		t->loaded++;
		if (!dev_sane(&r->dev[0]) || !dev_sane(&r->dev[1])) {
			snprintf(why, whylen, "loaded an insane device");
			return -1;
		}
		memcpy(r->dev, before, sizeof(before));	/* next try from here */
		return 0;
	}
	t->rejected++;
	if (ret > 0 || strncmp(err.msg, "offset ", 7) || err.errnum != ret) {
		snprintf(why, whylen, "ret %d, message '%s'", ret, err.msg);
		return -1;
	}
	if (memcmp(before, r->dev, sizeof(before))) {
		snprintf(why, whylen, "failed load changed a device: %s", err.msg);
		return -1;
	}
	return 0;
}

static bool full(void)
{
	const char *e = getenv("TERN_CHECK_FULL");

	return e && *e == '1';
}

FIXTURE(ref) {
	struct ref r;
};

FIXTURE_VARIANT(ref) {
	unsigned int seed;
	int ndev;
	bool extra;
};

FIXTURE_VARIANT_ADD(ref, one_device) { .seed = 1, .ndev = 1, .extra = false };
FIXTURE_VARIANT_ADD(ref, with_subsection) { .seed = 2, .ndev = 1, .extra = true };
FIXTURE_VARIANT_ADD(ref, two_devices) { .seed = 3, .ndev = 2, .extra = true };

FIXTURE_SETUP(ref)
{
	ref_init(&self->r, variant->seed, variant->ndev, variant->extra);
}

FIXTURE_TEARDOWN(ref)
{
	ref_free(&self->r);
}

/* The full campaign (TERN_CHECK_FULL=1) takes minutes under ASan. */
#define CAMPAIGN_TIMEOUT	1800

TEST_F_TIMEOUT(ref, every_truncation_fails_cleanly, CAMPAIGN_TIMEOUT)
{
	struct tally t = { 0 };
	size_t n;
	char why[600];

	for (n = 0; n < self->r.stream.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);	/* exact size for ASan */

		memcpy(copy, self->r.stream.data, n);
		ASSERT_EQ(0, try_load(&self->r, copy, n, &t, why, sizeof(why)))
			TH_LOG("truncated at %zu: %s", n, why);
		free(copy);
	}
	ASSERT_EQ(0, t.loaded);
	ASSERT_EQ(self->r.stream.len, t.rejected);
}

static const uint8_t sample_xor[] = { 0x01, 0x02, 0x10, 0x80, 0xff };

static void mutate_all(struct __test_metadata *_metadata, struct ref *r,
		       bool recompute)
{
	size_t len = r->stream.len, i;
	uint8_t *copy = malloc(len);
	struct tally t = { 0 };
	unsigned int k, nk = full() ? 255 : sizeof(sample_xor);
	char why[600];

	for (i = 0; i < len; i++) {
		for (k = 0; k < nk; k++) {
			uint8_t x = full() ? (uint8_t)(k + 1) : sample_xor[k];

			memcpy(copy, r->stream.data, len);
			copy[i] ^= x;
			if (recompute)
				td__fix_crcs(copy, len);
			ASSERT_EQ(0, try_load(r, copy, len, &t, why, sizeof(why)))
				TH_LOG("byte %zu ^ 0x%02x: %s", i, x, why);
			if (!recompute)
				ASSERT_EQ(0, t.loaded)
					TH_LOG("byte %zu ^ 0x%02x passed the crc", i, x);
		}
	}
	free(copy);
	TH_LOG("%zu bytes x %u changes: %lu loaded, %lu rejected",
	       len, nk, t.loaded, t.rejected);
	/* with crcs fixed, payload changes must still load */
	if (recompute)
		ASSERT_LT(0, t.loaded);
}

TEST_F_TIMEOUT(ref, every_byte_change_rejected_by_crc, CAMPAIGN_TIMEOUT)
{
	mutate_all(_metadata, &self->r, false);
}

TEST_F_TIMEOUT(ref, every_byte_change_with_crc_recomputed, CAMPAIGN_TIMEOUT)
{
	mutate_all(_metadata, &self->r, true);
}

/* ---- limits --------------------------------------------------------- */

static int load_tree(struct vmstate_tree *tree, const struct vmstate_limits *lim,
		     struct vmstate_err *err)
{
	struct vmstate_buf b = { 0 };
	struct vmstate_tree *out = NULL;
	int ret;

	ret = vmstate__encode(tree, &b);
	if (!ret)
		ret = vmstate__decode(b.data, b.len, lim, 0, &out, err);
	vmstate__tree_free(out);
	vmstate__buf_free(&b);
	return ret;
}

TEST(nesting_beyond_the_limit)
{
	struct vmstate_tree *tree = vmstate__tree_new();
	struct vmstate_table *top = vmstate__table_new("t", 1), *t = top, *s;
	struct vmstate_err err;
	char name[8];
	int i;

	for (i = 0; i < 17; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		s = vmstate__table_new(name, 1);
		ASSERT_EQ(0, vmstate__table_add_sub(t, s));
		t = s;
	}
	ASSERT_EQ(0, vmstate__tree_add_section(tree, "/m", top));
	ASSERT_EQ(-EBADMSG, load_tree(tree, NULL, &err));
	ASSERT_NE(NULL, strstr(err.msg, "nesting deeper than 16")) TH_LOG("%s", err.msg);
	vmstate__tree_free(tree);
}

TEST(counts_and_sizes_are_bounded)
{
	struct vmstate_tree *tree = vmstate__tree_new();
	struct vmstate_table *top = vmstate__table_new("t", 1);
	struct vmstate_limits lim = { .max_count = 8 };
	struct vmstate_tfield *f;
	struct vmstate_err err;
	int i;

	f = vmstate__table_add_field(top, "big", VMS_U8, 0, VMS_F_ARRAY, 9, 1);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, vmstate__tree_add_section(tree, "/m", top));
	ASSERT_EQ(-EBADMSG, load_tree(tree, &lim, &err));
	ASSERT_NE(NULL, strstr(err.msg, "field big: count 9 exceeds the limit 8"))
		TH_LOG("%s", err.msg);

	lim.max_count = 0;
	lim.max_stream = 64;
	ASSERT_EQ(-EBADMSG, load_tree(tree, &lim, &err));
	ASSERT_NE(NULL, strstr(err.msg, "exceeds the limit 64")) TH_LOG("%s", err.msg);

	for (i = 0; i < 4; i++) {
		char p[8];

		snprintf(p, sizeof(p), "/m%d", i);
		ASSERT_EQ(0, vmstate__tree_add_section(tree, p,
						       vmstate__table_new("t", 1)));
	}
	lim.max_stream = 0;
	lim.max_sections = 4;
	ASSERT_EQ(-EBADMSG, load_tree(tree, &lim, &err));
	ASSERT_NE(NULL, strstr(err.msg, "more than 4 sections")) TH_LOG("%s", err.msg);
	vmstate__tree_free(tree);
}

/* A field claiming 2^32-1 elements in a tiny frame allocates nothing. */
TEST(huge_count_in_tiny_frame)
{
	static const uint8_t stream_hdr[] = { 'T', 'V', 'M', 'S', 1, 0, 0, 0 };
	struct vmstate_buf b = { 0 };
	struct vmstate_tree *out = NULL;
	struct vmstate_err err;
	size_t lenpos, flen;
	uint32_t v, crc;
	uint8_t u;

	vmstate__buf_put(&b, stream_hdr, sizeof(stream_hdr));
	v = VMS_REC_SECTION;
	vmstate__buf_put(&b, &v, 4);
	lenpos = b.len;
	vmstate__buf_put(&b, &v, 4);
	vmstate__buf_put(&b, "\x02/m\x01t\x01\x00\x00\x00", 9);
	u = VMS_ITEM_FIELD;
	vmstate__buf_put(&b, &u, 1);
	flen = 2 + 3 + 8;
	v = (uint32_t)flen;
	vmstate__buf_put(&b, &v, 4);
	vmstate__buf_put(&b, "\x01x\x0b\x00\x01\xff\xff\xff\xff\x00\x00\x00\x00", 13);
	v = (uint32_t)(b.len - lenpos - 4);
	memcpy(b.data + lenpos, &v, 4);
	crc = vmstate__crc32c(0, b.data + 8, b.len - 8);
	vmstate__buf_put(&b, &crc, 4);
	ASSERT_EQ(-EBADMSG, vmstate__decode(b.data, b.len, NULL, 0, &out, &err));
	ASSERT_NE(NULL, strstr(err.msg, "field x: count 4294967295 exceeds the limit"))
		TH_LOG("%s", err.msg);
	vmstate__buf_free(&b);
}

TEST_HARNESS_MAIN
