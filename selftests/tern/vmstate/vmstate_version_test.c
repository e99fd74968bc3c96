// SPDX-License-Identifier: GPL-2.0
/*
 * vmstate version, subsection and hook rules, each with its exact message:
 * older streams load with documented defaults, streams outside
 * [minimum, current] fail naming both versions, unknown fields and
 * subsections fail naming them, shape mismatches name the field path, hooks
 * refuse cleanly, and a failed load leaves every device untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "vmstate/json.h"
#include "vmstate/testdev.h"
#include "vmstate/tree.h"

#define PATH	"/machine/td"

static struct vmstate_tree *decode(const struct vmstate_buf *b)
{
	struct vmstate_tree *t = NULL;

	if (vmstate__decode(b->data, b->len, NULL, 0, &t, NULL))
		return NULL;
	return t;
}

/* Re-encode t into b (replacing it) and free t. */
static int reencode(struct vmstate_tree *t, struct vmstate_buf *b)
{
	int ret;

	b->len = 0;
	ret = vmstate__encode(t, b);
	vmstate__tree_free(t);
	return ret;
}

/* A saved random device, and another as the load target. */
static void setup(struct td_dev *src, struct td_dev *dst,
		  struct vmstate_buf *b, const struct vmsd *vmsd,
		  unsigned int seed)
{
	td__random(src, &seed);
	td__random(dst, &seed);
	b->len = 0;
	if (vmstate__save(vmsd, src, PATH, b))
		abort();
}

/* Load must fail with exactly msg, leaving dst as it was. */
#define EXPECT_FAIL(_vmsd, _dst, _b, _errno, _msg) do {			\
	struct td_dev __before = *(_dst);				\
	struct vmstate_err __err;					\
									\
	ASSERT_EQ(_errno, vmstate__load(_vmsd, _dst, PATH, (_b)->data,	\
					(_b)->len, &__err));		\
	ASSERT_STREQ(_msg, __err.msg);					\
	ASSERT_TRUE(td__equal(&__before, _dst));			\
	ASSERT_EQ(__before.commits, (_dst)->commits);			\
} while (0)

TEST(older_version_loads_with_defaults)
{
	struct td_dev src, dst;
	struct vmstate_buf b = { 0 };
	struct vmstate_err err;

	setup(&src, &dst, &b, &td_vmsd_v1, 1);
	ASSERT_EQ(0, vmstate__load(&td_vmsd, &dst, PATH, b.data, b.len, &err))
		TH_LOG("%s", err.msg);
	ASSERT_EQ(TD_ADDED_V2_DEFAULT, dst.added_v2);
	src.added_v2 = TD_ADDED_V2_DEFAULT;
	ASSERT_TRUE(td__equal(&src, &dst));
	vmstate__buf_free(&b);
}

static const struct vmstate_field no_fields[] = { VMSTATE_END };

TEST(newer_version_fails_naming_both)
{
	struct vmsd v3 = td_vmsd;
	struct td_dev src, dst;
	struct vmstate_buf b = { 0 };

	v3.version_id = 3;
	setup(&src, &dst, &b, &v3, 2);
	EXPECT_FAIL(&td_vmsd, &dst, &b, -EINVAL,
		    "offset 8: section " PATH ": version 3 of testdev is newer "
		    "than 2, the newest this build loads");
	vmstate__buf_free(&b);
}

TEST(below_minimum_fails_naming_both)
{
	struct vmsd min2 = td_vmsd;
	struct td_dev src, dst;
	struct vmstate_buf b = { 0 };

	min2.minimum_version_id = 2;
	setup(&src, &dst, &b, &td_vmsd_v1, 3);
	EXPECT_FAIL(&min2, &dst, &b, -EINVAL,
		    "offset 8: section " PATH ": version 1 of testdev is older "
		    "than 2, the oldest this build loads");
	vmstate__buf_free(&b);
}

TEST(unknown_subsection_fails_naming_it)
{
	struct vmsd nosubs = td_vmsd;
	struct vmstate_tree *t;
	struct td_dev src, dst;
	struct vmstate_buf b = { 0 };
	char msg[256];

	nosubs.subsections = NULL;
	setup(&src, &dst, &b, &td_vmsd, 4);
	src.has_extra = true;
	b.len = 0;
	ASSERT_EQ(0, vmstate__save(&td_vmsd, &src, PATH, &b));
	t = decode(&b);
	ASSERT_NE(NULL, t);
	ASSERT_EQ(1, t->sections[0].table->nr_subs);
	snprintf(msg, sizeof(msg),
		 "offset %zu: section " PATH ": unknown subsection td/extra in testdev",
		 t->sections[0].table->subs[0]->off);
	vmstate__tree_free(t);
	EXPECT_FAIL(&nosubs, &dst, &b, -EINVAL, msg);
	vmstate__buf_free(&b);
}

TEST(subsection_sent_only_when_needed)
{
	struct vmstate_tree *t;
	struct td_dev src, dst;
	struct vmstate_buf b = { 0 };
	struct vmstate_err err;

	setup(&src, &dst, &b, &td_vmsd, 5);
	src.has_extra = false;
	src.extra[0] = src.extra[1] = 0;
	b.len = 0;
	ASSERT_EQ(0, vmstate__save(&td_vmsd, &src, PATH, &b));
	t = decode(&b);
	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, t->sections[0].table->nr_subs);
	vmstate__tree_free(t);
	/* the absent subsection's fields take their defaults */
	dst.has_extra = true;
	dst.extra[0] = 77;
	ASSERT_EQ(0, vmstate__load(&td_vmsd, &dst, PATH, b.data, b.len, &err));
	ASSERT_TRUE(td__equal(&src, &dst));
	vmstate__buf_free(&b);
}

TEST(field_newer_than_stream_version)
{
	struct vmstate_tree *t;
	struct td_dev src, dst;
	struct vmstate_buf b = { 0 };
	char msg[256];

	setup(&src, &dst, &b, &td_vmsd, 6);
	t = decode(&b);
	ASSERT_NE(NULL, t);
	t->sections[0].table->version = 1;	/* but added_v2 is still there */
	ASSERT_EQ(0, reencode(t, &b));
	t = decode(&b);
	snprintf(msg, sizeof(msg),
		 "offset %zu: section " PATH ": field added_v2 is in version 2 "
		 "of testdev, not in 1",
		 vmstate__table_field(t->sections[0].table, "added_v2")->off);
	vmstate__tree_free(t);
	EXPECT_FAIL(&td_vmsd, &dst, &b, -EINVAL, msg);
	vmstate__buf_free(&b);
}

static int field_index(struct vmstate_table *t, const char *name)
{
	uint32_t i;

	for (i = 0; i < t->nr_fields; i++)
		if (!strcmp(t->fields[i]->name, name))
			return (int)i;
	return -1;
}

TEST(missing_and_unknown_fields)
{
	struct vmstate_tree *t;
	struct vmstate_tfield *f;
	struct td_dev src, dst;
	struct vmstate_buf b = { 0 };
	char msg[256];

	setup(&src, &dst, &b, &td_vmsd, 7);
	t = decode(&b);
	vmstate__tfield_free(vmstate__table_take_field(
		t->sections[0].table, (uint32_t)field_index(t->sections[0].table, "u16")));
	ASSERT_EQ(0, reencode(t, &b));
	EXPECT_FAIL(&td_vmsd, &dst, &b, -EINVAL,
		    "offset 8: section " PATH " field u16: missing from "
		    "version 2 of testdev");

	setup(&src, &dst, &b, &td_vmsd, 7);
	t = decode(&b);
	f = vmstate__table_add_field(t->sections[0].table, "bogus", VMS_U8,
				     0, 0, 1, 1);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, reencode(t, &b));
	t = decode(&b);
	snprintf(msg, sizeof(msg),
		 "offset %zu: section " PATH ": unknown field bogus in testdev",
		 vmstate__table_field(t->sections[0].table, "bogus")->off);
	vmstate__tree_free(t);
	EXPECT_FAIL(&td_vmsd, &dst, &b, -EINVAL, msg);
	vmstate__buf_free(&b);
}

/* Replace field name of table tt by a fresh one of another shape. */
static struct vmstate_tfield *reshape(struct vmstate_table *tt,
				      const char *name, uint8_t type,
				      uint8_t flags, uint32_t count,
				      uint32_t esize)
{
	int i = field_index(tt, name);
	struct vmstate_tfield *f;

	if (i < 0)
		return NULL;
	vmstate__tfield_free(vmstate__table_take_field(tt, (uint32_t)i));
	f = vmstate__table_add_field(tt, name, type, 0, flags, count, esize);
	/* keep the table's order: move it back to slot i */
	memmove(&tt->fields[i + 1], &tt->fields[i],
		(tt->nr_fields - 1 - (uint32_t)i) * sizeof(*tt->fields));
	tt->fields[i] = f;
	return f;
}

/* The field's frame offset after a re-decode, for the exact message. */
static size_t field_off(struct vmstate_buf *b, const char *name, int elem,
			const char *inner)
{
	struct vmstate_tree *t = decode(b);
	struct vmstate_tfield *f;
	size_t off;

	f = vmstate__table_field(t->sections[0].table, name);
	if (elem >= 0)
		f = vmstate__table_field(f->elems[elem], inner);
	off = f->off;
	vmstate__tree_free(t);
	return off;
}

TEST(shape_mismatches_name_the_field)
{
	struct vmstate_tree *t;
	struct td_dev src, dst;
	struct vmstate_buf b = { 0 };
	char msg[256];

	/* a u16 sent as u32 */
	setup(&src, &dst, &b, &td_vmsd, 8);
	t = decode(&b);
	ASSERT_NE(NULL, reshape(t->sections[0].table, "u16", VMS_U32, 0, 1, 4));
	ASSERT_EQ(0, reencode(t, &b));
	snprintf(msg, sizeof(msg), "offset %zu: section " PATH
		 " field u16: type u32, expected u16", field_off(&b, "u16", -1, NULL));
	EXPECT_FAIL(&td_vmsd, &dst, &b, -EINVAL, msg);

	/* a variable array longer than its capacity */
	setup(&src, &dst, &b, &td_vmsd, 9);
	t = decode(&b);
	ASSERT_NE(NULL, reshape(t->sections[0].table, "fifo", VMS_U8,
				VMS_F_VARRAY, 17, 1));
	ASSERT_EQ(0, reencode(t, &b));
	snprintf(msg, sizeof(msg), "offset %zu: section " PATH
		 " field fifo: length 17 exceeds 16", field_off(&b, "fifo", -1, NULL));
	EXPECT_FAIL(&td_vmsd, &dst, &b, -EINVAL, msg);

	/* a fixed array of the wrong size */
	setup(&src, &dst, &b, &td_vmsd, 10);
	t = decode(&b);
	ASSERT_NE(NULL, reshape(t->sections[0].table, "regs", VMS_U32,
				VMS_F_ARRAY, 5, 4));
	ASSERT_EQ(0, reencode(t, &b));
	snprintf(msg, sizeof(msg), "offset %zu: section " PATH
		 " field regs: count 5, expected 4", field_off(&b, "regs", -1, NULL));
	EXPECT_FAIL(&td_vmsd, &dst, &b, -EINVAL, msg);

	/* a scalar sent as an array */
	setup(&src, &dst, &b, &td_vmsd, 11);
	t = decode(&b);
	ASSERT_NE(NULL, reshape(t->sections[0].table, "u8", VMS_U8,
				VMS_F_ARRAY, 1, 1));
	ASSERT_EQ(0, reencode(t, &b));
	snprintf(msg, sizeof(msg), "offset %zu: section " PATH
		 " field u8: is an array, expected a scalar",
		 field_off(&b, "u8", -1, NULL));
	EXPECT_FAIL(&td_vmsd, &dst, &b, -EINVAL, msg);

	/* a buffer inside the third element of an array of structs */
	setup(&src, &dst, &b, &td_vmsd, 12);
	t = decode(&b);
	ASSERT_NE(NULL, reshape(vmstate__table_field(t->sections[0].table,
						     "queues")->elems[2],
				"ring", VMS_BYTES, 0, 1, 9));
	ASSERT_EQ(0, reencode(t, &b));
	snprintf(msg, sizeof(msg), "offset %zu: section " PATH
		 " field queues[2].ring: length 9 exceeds 8",
		 field_off(&b, "queues", 2, "ring"));
	EXPECT_FAIL(&td_vmsd, &dst, &b, -EINVAL, msg);
	vmstate__buf_free(&b);
}

TEST(table_name_mismatch)
{
	struct vmstate_tree *t;
	struct td_dev src, dst;
	struct vmstate_buf b = { 0 };
	char *n;

	setup(&src, &dst, &b, &td_vmsd, 13);
	t = decode(&b);
	n = strdup("serial");
	free(t->sections[0].table->name);
	t->sections[0].table->name = n;
	ASSERT_EQ(0, reencode(t, &b));
	EXPECT_FAIL(&td_vmsd, &dst, &b, -EINVAL,
		    "offset 8: section " PATH ": table serial, expected testdev");
	vmstate__buf_free(&b);
}

TEST(pre_save_refusal_fails_the_save_only)
{
	struct vmstate_buf b = { 0 };
	struct td_dev d;
	unsigned int seed = 14;

	td__random(&d, &seed);
	ASSERT_EQ(0, vmstate__buf_put(&b, "keep", 4));
	d.refuse_save = -EIO;
	ASSERT_EQ(-EIO, vmstate__save(&td_vmsd, &d, PATH, &b));
	ASSERT_EQ(4, b.len);		/* nothing partial appended */
	d.refuse_save = 0;
	d.nfifo = 17;			/* inconsistent: over capacity */
	ASSERT_EQ(-EINVAL, vmstate__save(&td_vmsd, &d, PATH, &b));
	ASSERT_EQ(4, b.len);
	vmstate__buf_free(&b);
}

TEST(post_load_refusal_leaves_device_untouched)
{
	struct td_dev src, dst;
	struct vmstate_buf b = { 0 };

	setup(&src, &dst, &b, &td_vmsd, 15);
	dst.refuse_load = -ERANGE;
	EXPECT_FAIL(&td_vmsd, &dst, &b, -ERANGE,
		    "offset 8: section " PATH ": testdev refused the state: "
		    "Numerical result out of range");
	vmstate__buf_free(&b);
}

/*
 * A device that cannot apply its loaded state (a KVM SET refused) fails
 * the load naming the section and the call: a migration destination must
 * not answer `ready` for it.
 */
TEST(post_commit_refusal_fails_naming_the_section)
{
	struct td_dev src, dst;
	struct vmstate_buf b = { 0 };
	struct vmstate_err err;

	setup(&src, &dst, &b, &td_vmsd, 17);
	dst.refuse_commit = -EINVAL;
	ASSERT_EQ(-EINVAL, vmstate__load(&td_vmsd, &dst, PATH, b.data, b.len,
					 &err));
	ASSERT_STREQ("offset 0: section " PATH ": applying the state: "
		     "testdev: TD_SET refused", err.msg);
	ASSERT_EQ(1, dst.commits);
	vmstate__buf_free(&b);
}

/* Two devices: the second section is bad, so neither device changes. */
TEST(failed_load_changes_no_device)
{
	struct vmstate_registry *src = vmstate__registry_new();
	struct vmstate_registry *dst = vmstate__registry_new();
	struct td_dev a, b, da, db, keep_a, keep_b;
	struct vmstate_buf buf = { 0 };
	struct vmstate_err err;
	struct vmstate_tree *t;
	unsigned int seed = 16;
	char msg[256];

	td__random(&a, &seed);
	td__random(&b, &seed);
	td__random(&da, &seed);
	td__random(&db, &seed);
	keep_a = da;
	keep_b = db;
	ASSERT_EQ(0, vmstate__register(src, &td_vmsd, &a, "/machine/a"));
	ASSERT_EQ(0, vmstate__register(src, &td_vmsd, &b, "/machine/b"));
	ASSERT_EQ(0, vmstate__register(dst, &td_vmsd, &da, "/machine/a"));
	ASSERT_EQ(0, vmstate__register(dst, &td_vmsd, &db, "/machine/b"));
	ASSERT_EQ(0, vmstate__save_all(src, &buf));
	t = decode(&buf);
	t->sections[1].table->version = 9;
	ASSERT_EQ(0, reencode(t, &buf));
	ASSERT_EQ(-EINVAL, vmstate__load_all(dst, buf.data, buf.len, &err));
	ASSERT_NE(NULL, strstr(err.msg, "section /machine/b: version 9 of testdev"));
	ASSERT_TRUE(td__equal(&keep_a, &da));
	ASSERT_TRUE(td__equal(&keep_b, &db));
	ASSERT_EQ(0, da.commits);

	/* a registered device without a section is an error too */
	buf.len = 0;
	ASSERT_EQ(0, vmstate__unregister(src, "/machine/b"));
	ASSERT_EQ(0, vmstate__save_all(src, &buf));
	ASSERT_EQ(-ENOENT, vmstate__load_all(dst, buf.data, buf.len, &err));
	snprintf(msg, sizeof(msg), "offset %zu: no section for /machine/b (testdev)",
		 buf.len - 16);	/* the end record */
	ASSERT_STREQ(msg, err.msg);
	ASSERT_TRUE(td__equal(&keep_a, &da));
	vmstate__buf_free(&buf);
	vmstate__registry_free(src);
	vmstate__registry_free(dst);
}

TEST(malformed_tables_refused_at_register)
{
	struct vmstate_registry *reg = vmstate__registry_new();
	struct vmsd bad = td_vmsd;
	struct td_dev d;

	bad.version_id = 1;	/* added_v2 says version 2 */
	ASSERT_EQ(-EINVAL, vmstate__register(reg, &bad, &d, "/machine/x"));
	bad = td_vmsd;
	bad.size = 8;		/* fields lie beyond it */
	ASSERT_EQ(-EINVAL, vmstate__register(reg, &bad, &d, "/machine/x"));
	bad = td_vmsd;
	bad.fields = no_fields;
	ASSERT_EQ(0, vmstate__register(reg, &bad, &d, "/machine/x"));
	vmstate__registry_free(reg);
}

/* The JSON form as a test's editor: a fifo of 17 bytes for a 16-byte one. */
TEST(json_edit_crafts_a_corrupt_stream)
{
	struct td_dev src, dst;
	struct vmstate_buf b = { 0 };
	struct vmstate_err err;
	char *json, *at, *edited, msg[256];

	setup(&src, &dst, &b, &td_vmsd, 17);
	ASSERT_EQ(0, vmstate__stream_to_json(b.data, b.len, 0, &json, &err));
	at = strstr(json, "\"name\": \"fifo\"");
	ASSERT_NE(NULL, at);
	at = strstr(at, "\"value\": [");
	ASSERT_NE(NULL, at);
	at += strlen("\"value\": [");
	ASSERT_LT(0, asprintf(&edited, "%.*s 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, "
			      "12, 13, 14, 15, 16, 17 ]%s", (int)(at - json), json,
			      strchr(at, ']') + 1));
	b.len = 0;
	ASSERT_EQ(0, vmstate__json_to_stream(edited, &b, &err)) TH_LOG("%s", err.msg);
	snprintf(msg, sizeof(msg), "offset %zu: section " PATH
		 " field fifo: length 17 exceeds 16", field_off(&b, "fifo", -1, NULL));
	EXPECT_FAIL(&td_vmsd, &dst, &b, -EINVAL, msg);
	free(json);
	free(edited);
	vmstate__buf_free(&b);
}

TEST_HARNESS_MAIN
