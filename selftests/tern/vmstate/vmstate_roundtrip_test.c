// SPDX-License-Identifier: GPL-2.0
/*
 * vmstate round trips: random values in a device with a field of every
 * shape save and load back to equal state; the same state always gives
 * the same bytes; stream -> JSON -> stream gives the same bytes; two
 * registries (two VMs in one process) never touch each other's devices.
 */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "vmstate/json.h"
#include "vmstate/testdev.h"
#include "vmstate/tree.h"

#define PATH	"/machine/pci0/00:03.0/testdev"
#define ROUNDS	200

TEST(random_values_round_trip)
{
	struct td_dev src, dst, fresh;
	struct vmstate_err err;
	unsigned int seed = 1, i;

	for (i = 0; i < ROUNDS; i++) {
		struct vmstate_buf buf = { 0 };

		td__random(&src, &seed);
		td__random(&dst, &seed);	/* different state to overwrite */
		ASSERT_EQ(0, vmstate__save(&td_vmsd, &src, PATH, &buf));
		ASSERT_EQ(0, vmstate__load(&td_vmsd, &dst, PATH, buf.data,
					   buf.len, &err)) TH_LOG("%s", err.msg);
		ASSERT_TRUE(td__equal(&src, &dst)) TH_LOG("round %u", i);
		ASSERT_EQ(1, dst.commits);
		/* and into a zeroed object: nothing depends on old contents */
		memset(&fresh, 0, sizeof(fresh));
		ASSERT_EQ(0, vmstate__load(&td_vmsd, &fresh, PATH, buf.data,
					   buf.len, &err)) TH_LOG("%s", err.msg);
		ASSERT_TRUE(td__equal(&src, &fresh));
		vmstate__buf_free(&buf);
	}
}

TEST(extremes_round_trip)
{
	struct td_dev src, dst;
	struct vmstate_buf buf = { 0 };
	struct vmstate_err err;
	unsigned int seed = 7;

	td__random(&src, &seed);
	src.u64 = UINT64_MAX;
	src.s64 = INT64_MIN;
	src.s8 = INT8_MIN;
	src.s16 = -1;
	src.s32 = INT32_MAX;
	src.nfifo = 16;		/* full capacity */
	src.nvals = 6;
	src.nvqs = 4;
	memset(src.name, 'z', sizeof(src.name));	/* no NUL at all */
	td__random(&dst, &seed);
	ASSERT_EQ(0, vmstate__save(&td_vmsd, &src, PATH, &buf));
	ASSERT_EQ(0, vmstate__load(&td_vmsd, &dst, PATH, buf.data, buf.len,
				   &err)) TH_LOG("%s", err.msg);
	ASSERT_TRUE(td__equal(&src, &dst));
	vmstate__buf_free(&buf);
}

TEST(streams_are_deterministic)
{
	struct td_dev a, b;
	struct vmstate_buf b1 = { 0 }, b2 = { 0 }, b3 = { 0 };
	unsigned int seed = 3, seed2 = 3;

	td__random(&a, &seed);
	td__random(&b, &seed2);		/* same state, another object */
	b.commits = 99;			/* undescribed: must not matter */
	ASSERT_EQ(0, vmstate__save(&td_vmsd, &a, PATH, &b1));
	ASSERT_EQ(0, vmstate__save(&td_vmsd, &a, PATH, &b2));
	ASSERT_EQ(0, vmstate__save(&td_vmsd, &b, PATH, &b3));
	ASSERT_EQ(b1.len, b2.len);
	ASSERT_EQ(b1.len, b3.len);
	ASSERT_EQ(0, memcmp(b1.data, b2.data, b1.len));
	ASSERT_EQ(0, memcmp(b1.data, b3.data, b1.len));
	vmstate__buf_free(&b1);
	vmstate__buf_free(&b2);
	vmstate__buf_free(&b3);
}

TEST(json_round_trip_is_exact)
{
	struct vmstate_buf buf = { 0 }, again = { 0 };
	struct vmstate_err err;
	unsigned int seed = 11, i;
	struct td_dev d;
	char *json;

	for (i = 0; i < 50; i++) {
		td__random(&d, &seed);
		if (i & 1)
			d.name[3] = 1;	/* unprintable: text falls back to hex */
		ASSERT_EQ(0, vmstate__save(&td_vmsd, &d, PATH, &buf));
		ASSERT_EQ(0, vmstate__stream_to_json(buf.data, buf.len, 0,
						     &json, &err)) TH_LOG("%s", err.msg);
		ASSERT_EQ(0, vmstate__json_to_stream(json, &again, &err))
			TH_LOG("%s\n%s", err.msg, json);
		ASSERT_EQ(buf.len, again.len);
		ASSERT_EQ(0, memcmp(buf.data, again.data, buf.len));
		free(json);
		buf.len = 0;
		again.len = 0;
	}
	vmstate__buf_free(&buf);
	vmstate__buf_free(&again);
}

/* json without whitespace, to match pieces of pretty output */
static void squeeze(char *s)
{
	char *o = s;

	for (; *s; s++)
		if (*s != ' ' && *s != '\n')
			*o++ = *s;
	*o = '\0';
}

TEST(json_shows_hints)
{
	struct vmstate_buf buf = { 0 };
	struct vmstate_err err;
	unsigned int seed = 5;
	struct td_dev d;
	char *json;

	td__random(&d, &seed);
	d.addr = 0xfee00000;
	d.flags = 0x13;
	strcpy(d.name, "disk0");
	ASSERT_EQ(0, vmstate__save(&td_vmsd, &d, PATH, &buf));
	ASSERT_EQ(0, vmstate__stream_to_json(buf.data, buf.len, 0, &json, &err));
	squeeze(json);
	ASSERT_NE(NULL, strstr(json, "\"hint\":\"hex\",\"value\":\"0x00000000fee00000\""))
		TH_LOG("%s", json);
	ASSERT_NE(NULL, strstr(json, "\"hint\":\"flags\",\"value\":[0,1,4]"))
		TH_LOG("%s", json);
	ASSERT_NE(NULL, strstr(json, "\"text\":\"disk0\"")) TH_LOG("%s", json);
	ASSERT_NE(NULL, strstr(json, "{\"path\":\"" PATH "\",\"table\":\"testdev\""));
	free(json);
	vmstate__buf_free(&buf);
}

/* Two machines in one process: each registry loads only its own devices. */
TEST(two_registries)
{
	struct vmstate_registry *vm1 = vmstate__registry_new();
	struct vmstate_registry *vm2 = vmstate__registry_new();
	struct td_dev a1, b1, a2, b2, keep_a2, keep_b2, tmp;
	struct vmstate_buf buf = { 0 };
	struct vmstate_err err;
	unsigned int seed = 21;

	ASSERT_NE(NULL, vm1);
	ASSERT_NE(NULL, vm2);
	td__random(&a1, &seed);
	td__random(&b1, &seed);
	td__random(&a2, &seed);
	td__random(&b2, &seed);
	keep_a2 = a2;
	keep_b2 = b2;
	ASSERT_EQ(0, vmstate__register(vm1, &td_vmsd, &a1, "/machine/a"));
	ASSERT_EQ(0, vmstate__register(vm1, &td_vmsd, &b1, "/machine/b"));
	ASSERT_EQ(-EEXIST, vmstate__register(vm1, &td_vmsd, &b1, "/machine/b"));
	ASSERT_EQ(0, vmstate__register(vm2, &td_vmsd, &a2, "/machine/a"));
	ASSERT_EQ(0, vmstate__register(vm2, &td_vmsd, &b2, "/machine/b"));
	ASSERT_EQ(0, vmstate__save_all(vm1, &buf));

	/* vm1's stream into vm1 (after changing it) restores vm1 only */
	tmp = a1;
	a1.u32 ^= 1;
	ASSERT_EQ(0, vmstate__load_all(vm1, buf.data, buf.len, &err));
	ASSERT_TRUE(td__equal(&tmp, &a1));
	ASSERT_TRUE(td__equal(&keep_a2, &a2));
	ASSERT_TRUE(td__equal(&keep_b2, &b2));

	/* then migrate vm1 -> vm2 */
	ASSERT_EQ(0, vmstate__load_all(vm2, buf.data, buf.len, &err))
		TH_LOG("%s", err.msg);
	ASSERT_TRUE(td__equal(&a1, &a2));
	ASSERT_TRUE(td__equal(&b1, &b2));

	/* unregistering b makes vm1's stream carry a section vm2 lacks */
	ASSERT_EQ(0, vmstate__unregister(vm2, "/machine/b"));
	ASSERT_EQ(-ENOENT, vmstate__load_all(vm2, buf.data, buf.len, &err));
	ASSERT_NE(NULL, strstr(err.msg, "section /machine/b: no such device here"))
		TH_LOG("%s", err.msg);
	vmstate__buf_free(&buf);
	vmstate__registry_free(vm1);
	vmstate__registry_free(vm2);
}

/* What a migration's handshake says of this side: each instance, in order. */
TEST(describe_lists_instances_in_order)
{
	struct vmstate_registry *reg = vmstate__registry_new();
	struct vmstate_inst_desc d[2];
	struct td_dev a, b, c;

	ASSERT_NE(NULL, reg);
	ASSERT_EQ(0u, vmstate__describe(reg, d, 2));
	ASSERT_EQ(0, vmstate__register(reg, &td_vmsd, &a, "/machine/a"));
	ASSERT_EQ(0, vmstate__register(reg, &td_vmsd, &b, "/machine/b"));
	ASSERT_EQ(0, vmstate__register(reg, &td_vmsd, &c, "/machine/c"));
	/* More than fit: the count says so, out holds the first ones. */
	ASSERT_EQ(3u, vmstate__describe(reg, d, 2));
	EXPECT_STREQ("/machine/a", d[0].path);
	EXPECT_STREQ("/machine/b", d[1].path);
	EXPECT_STREQ(td_vmsd.name, d[1].type);
	EXPECT_EQ(td_vmsd.version_id, d[1].version);
	EXPECT_EQ(td_vmsd.minimum_version_id, d[1].min_version);
	ASSERT_EQ(0, vmstate__unregister(reg, "/machine/a"));
	ASSERT_EQ(2u, vmstate__describe(reg, d, 2));
	EXPECT_STREQ("/machine/b", d[0].path);
	EXPECT_STREQ("/machine/c", d[1].path);
	vmstate__registry_free(reg);
}

TEST(crc32c_check_value)
{
	ASSERT_EQ(0xe3069283u, vmstate__crc32c(0, "123456789", 9));
}

TEST_HARNESS_MAIN
