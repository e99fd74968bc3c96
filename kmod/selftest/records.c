// SPDX-License-Identifier: GPL-2.0
/*
 * Self-test: tern_stream_check_rec() and tern_stream_check_hdr() agree with
 * a deliberately naive restatement of the format rules over every
 * combination of interesting field values.
 */
#include <linux/kernel.h>
#include <linux/tern.h>

#include "../stream.h"
#include "selftest.h"

#define REGION	(16 * TERN_PAGE_SIZE)

static int naive_rec(u64 off, u32 len, u16 flags, u16 resv, u64 nrec)
{
	if (resv)
		return -EINVAL;
	if (flags == TERN_REC_F_END)
		return (len == 0 && off == nrec) ? 0 : -EINVAL;
	if (flags == TERN_REC_F_ZERO)
		return (len == 0 && off < REGION && off % 4096 == 0) ?
			0 : -EINVAL;
	if (flags == 0)
		return (len == 4096 && off < REGION && off % 4096 == 0) ?
			0 : -EINVAL;
	return -EINVAL;
}

bool tern_selftest_records(void)
{
	static const u64 offs[] = { 0, 1, 7, 4095, 4096, REGION - 4096,
				    REGION - 1, REGION, REGION + 4096, ~0ULL };
	static const u32 lens[] = { 0, 1, 4095, 4096, 4097, ~0U };
	static const u16 flagv[] = { 0, 1, 2, 3, 4, 0x8000 };
	static const u16 resv[] = { 0, 1 };
	struct tern_stream_hdr h = {
		.magic = cpu_to_le32(TERN_STREAM_MAGIC),
		.version = cpu_to_le16(TERN_STREAM_VERSION),
		.hdr_len = cpu_to_le16(sizeof(h)),
		.page_size = cpu_to_le32(TERN_PAGE_SIZE),
		.region_size = cpu_to_le64(REGION),
		.round = cpu_to_le64(1),
	};
	struct tern_page_rec rec;
	unsigned int a, b, c, d, i, bad = 0;

	/* every combination, one index decomposed into the four fields */
	for (i = 0; i < ARRAY_SIZE(offs) * ARRAY_SIZE(lens) *
			ARRAY_SIZE(flagv) * ARRAY_SIZE(resv); i++) {
		d = i % ARRAY_SIZE(resv);
		c = i / ARRAY_SIZE(resv) % ARRAY_SIZE(flagv);
		b = i / ARRAY_SIZE(resv) / ARRAY_SIZE(flagv) % ARRAY_SIZE(lens);
		a = i / ARRAY_SIZE(resv) / ARRAY_SIZE(flagv) / ARRAY_SIZE(lens);
		rec.offset = cpu_to_le64(offs[a]);
		rec.length = cpu_to_le32(lens[b]);
		rec.flags = cpu_to_le16(flagv[c]);
		rec.reserved = cpu_to_le16(resv[d]);
		if (tern_stream_check_rec(&rec, REGION, 7) !=
		    naive_rec(offs[a], lens[b], flagv[c], resv[d], 7))
			bad++;
	}
	if (tern_stream_check_hdr(&h, REGION))
		bad++;
	h.region_size = cpu_to_le64(REGION + 4096);
	if (tern_stream_check_hdr(&h, REGION) != -EINVAL)
		bad++;
	h.region_size = cpu_to_le64(REGION);
	h.magic = 0;
	if (tern_stream_check_hdr(&h, REGION) != -EBADMSG)
		bad++;
	if (bad)
		pr_err("self-test: record checks: %u mismatches\n", bad);
	else
		pr_info("self-test: record checks: pass\n");
	return !bad;
}
