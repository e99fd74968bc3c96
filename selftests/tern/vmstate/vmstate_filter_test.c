// SPDX-License-Identifier: GPL-2.0
/*
 * Compatibility filters, each against an old-format stream this test
 * builds by hand: a kvm-apic section loads as apic, one section splits
 * into a proxy and a backend, fields are renamed, dropped or supplied,
 * max_version limits a filter to old streams, and a custom filter's error
 * fails the load.  Without its filter, each old stream is refused.
 */
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include "vmstate/tree.h"

/* ---- today's devices ------------------------------------------------ */

struct apic {
	uint32_t id;
	uint32_t lvt[6];
	uint64_t base;
};

static const struct vmstate_field apic_fields[] = {
	VMSTATE_U32(id, struct apic, 0),
	VMSTATE_U32_ARRAY(lvt, struct apic, 0),
	VMSTATE_U64_HEX(base, struct apic, 0),
	VMSTATE_END,
};

static const struct vmsd apic_vmsd = {
	.name = "apic", .version_id = 1, .minimum_version_id = 1,
	.size = sizeof(struct apic), .fields = apic_fields,
};

struct blk_proxy {
	uint16_t avail;
	uint16_t used;
};

static const struct vmstate_field blk_proxy_fields[] = {
	VMSTATE_U16(avail, struct blk_proxy, 0),
	VMSTATE_U16(used, struct blk_proxy, 0),
	VMSTATE_END,
};

static const struct vmsd blk_proxy_vmsd = {
	.name = "blk", .version_id = 2, .minimum_version_id = 1,
	.size = sizeof(struct blk_proxy), .fields = blk_proxy_fields,
};

struct blk_backend {
	uint64_t sectors;
	bool ro;
};

static const struct vmstate_field blk_backend_fields[] = {
	VMSTATE_U64(sectors, struct blk_backend, 0),
	VMSTATE_BOOL(ro, struct blk_backend, 0),
	VMSTATE_END,
};

static const struct vmsd blk_backend_vmsd = {
	.name = "blk-backend", .version_id = 1, .minimum_version_id = 1,
	.size = sizeof(struct blk_backend), .fields = blk_backend_fields,
};

struct uart {
	uint8_t lsr;
	uint8_t scratch;
};

static const struct vmstate_field uart_fields[] = {
	VMSTATE_U8_HEX(lsr, struct uart, 0),
	VMSTATE_U8(scratch, struct uart, 0),
	VMSTATE_END,
};

static const struct vmsd uart_vmsd = {
	.name = "serial", .version_id = 2, .minimum_version_id = 1,
	.size = sizeof(struct uart), .fields = uart_fields,
};

/* ---- building old streams ------------------------------------------- */

static void put_int(struct vmstate_table *t, const char *name, uint8_t type,
		    uint64_t v)
{
	unsigned int w = vmstate__type_width(type), i;
	struct vmstate_tfield *f = vmstate__table_add_field(t, name, type, 0, 0,
							    1, w);

	for (i = 0; i < w; i++)
		f->data[i] = (uint8_t)(v >> (8 * i));
}

static void encode_one(struct vmstate_buf *b, const char *path,
		       struct vmstate_table *t)
{
	struct vmstate_tree *tree = vmstate__tree_new();

	vmstate__tree_add_section(tree, path, t);
	b->len = 0;
	vmstate__encode(tree, b);
	vmstate__tree_free(tree);
}

/* An apic as the old build saved it: table kvm-apic, under its old path. */
static void old_kvm_apic(struct vmstate_buf *b)
{
	struct vmstate_table *t = vmstate__table_new("kvm-apic", 1);
	struct vmstate_tfield *f;
	int i;

	put_int(t, "id", VMS_U32, 3);
	f = vmstate__table_add_field(t, "lvt", VMS_U32, 0, VMS_F_ARRAY, 6, 4);
	for (i = 0; i < 6; i++)
		f->data[4 * i] = (uint8_t)(0x10 + i);
	put_int(t, "base", VMS_U64, 0xfee00900);
	encode_one(b, "/machine/kvm-apic", t);
}

FIXTURE(filters) {
	struct vmstate_registry *reg;
	struct vmstate_buf b;
	struct vmstate_err err;
};

FIXTURE_SETUP(filters)
{
	self->reg = vmstate__registry_new();
	memset(&self->b, 0, sizeof(self->b));
}

FIXTURE_TEARDOWN(filters)
{
	vmstate__buf_free(&self->b);
	vmstate__registry_free(self->reg);
}

TEST_F(filters, rename_device_type)
{
	struct vmstate_filter f = {
		.kind = VMSTATE_FILTER_RENAME_TABLE,
		.table = "kvm-apic", .to = "apic",
	};
	struct apic a = { 0 };

	ASSERT_EQ(0, vmstate__register(self->reg, &apic_vmsd, &a, "/machine/apic"));
	old_kvm_apic(&self->b);
	ASSERT_EQ(-ENOENT, vmstate__load_all(self->reg, self->b.data, self->b.len,
					     &self->err));
	ASSERT_STREQ("offset 8: section /machine/kvm-apic: no such device here",
		     self->err.msg);
	ASSERT_EQ(0, a.id);

	ASSERT_EQ(0, vmstate__filter_register(self->reg, &f));
	ASSERT_EQ(0, vmstate__load_all(self->reg, self->b.data, self->b.len,
				       &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(3, a.id);
	ASSERT_EQ(0x15, a.lvt[5]);
	ASSERT_EQ(0xfee00900, a.base);
}

/* One old "blk" section (v1) holding the backend's state too. */
static void old_blk(struct vmstate_buf *b)
{
	struct vmstate_table *t = vmstate__table_new("blk", 1);

	put_int(t, "avail", VMS_U16, 7);
	put_int(t, "used", VMS_U16, 5);
	put_int(t, "backend_sectors", VMS_U64, 1ull << 33);
	put_int(t, "backend_ro", VMS_BOOL, 1);
	encode_one(b, "/machine/pci0/00:03.0/blk", t);
}

TEST_F(filters, split_into_proxy_and_backend)
{
	static const char *const move[] = {
		"backend_sectors", "backend_ro", NULL,
	};
	const struct vmstate_filter split = {
		.kind = VMSTATE_FILTER_SPLIT, .table = "blk", .max_version = 1,
		.to = "blk-backend", .to_version = 1,
		.path_suffix = "/backend", .move = move,
	};
	const struct vmstate_filter ren1 = {
		.kind = VMSTATE_FILTER_RENAME_FIELD, .table = "blk-backend",
		.from = "backend_sectors", .to = "sectors",
	};
	const struct vmstate_filter ren2 = {
		.kind = VMSTATE_FILTER_RENAME_FIELD, .table = "blk-backend",
		.from = "backend_ro", .to = "ro",
	};
	struct blk_proxy p = { 0 };
	struct blk_backend be = { 0 };

	ASSERT_EQ(0, vmstate__register(self->reg, &blk_proxy_vmsd, &p,
				       "/machine/pci0/00:03.0/blk"));
	ASSERT_EQ(0, vmstate__register(self->reg, &blk_backend_vmsd, &be,
				       "/machine/pci0/00:03.0/blk/backend"));
	old_blk(&self->b);
	ASSERT_EQ(-EINVAL, vmstate__load_all(self->reg, self->b.data,
					     self->b.len, &self->err));
	ASSERT_NE(NULL, strstr(self->err.msg, "unknown field backend_sectors in blk"))
		TH_LOG("%s", self->err.msg);

	ASSERT_EQ(0, vmstate__filter_register(self->reg, &split));
	ASSERT_EQ(0, vmstate__filter_register(self->reg, &ren1));
	ASSERT_EQ(0, vmstate__filter_register(self->reg, &ren2));
	ASSERT_EQ(0, vmstate__load_all(self->reg, self->b.data, self->b.len,
				       &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(7, p.avail);
	ASSERT_EQ(5, p.used);
	ASSERT_EQ(1ull << 33, be.sectors);
	ASSERT_TRUE(be.ro);
}

/* A v1 uart: "lsr_reg" (renamed lsr in v2), an obsolete "pad", no scratch. */
static void old_uart(struct vmstate_buf *b, uint32_t version, bool pad)
{
	struct vmstate_table *t = vmstate__table_new("serial", version);

	put_int(t, "lsr_reg", VMS_U8, 0x60);
	if (pad)
		put_int(t, "pad", VMS_U32, 0xdead);
	encode_one(b, "/machine/isa/serial@3f8", t);
}

TEST_F(filters, rename_drop_and_default_fields)
{
	const struct vmstate_filter ren = {
		.kind = VMSTATE_FILTER_RENAME_FIELD, .table = "serial",
		.max_version = 1, .from = "lsr_reg", .to = "lsr",
	};
	const struct vmstate_filter drop = {
		.kind = VMSTATE_FILTER_DROP_FIELD, .table = "serial",
		.from = "pad",
	};
	const struct vmstate_filter def = {
		.kind = VMSTATE_FILTER_DEFAULT_FIELD, .table = "serial",
		.to = "scratch", .type = VMS_U8, .value = 0x42,
	};
	struct uart u = { .lsr = 1, .scratch = 2 };

	ASSERT_EQ(0, vmstate__register(self->reg, &uart_vmsd, &u,
				       "/machine/isa/serial@3f8"));
	old_uart(&self->b, 1, true);
	ASSERT_EQ(-EINVAL, vmstate__load_all(self->reg, self->b.data,
					     self->b.len, &self->err));
	ASSERT_NE(NULL, strstr(self->err.msg, "unknown field lsr_reg in serial"));

	ASSERT_EQ(0, vmstate__filter_register(self->reg, &ren));
	ASSERT_EQ(-EINVAL, vmstate__load_all(self->reg, self->b.data,
					     self->b.len, &self->err));
	ASSERT_NE(NULL, strstr(self->err.msg, "unknown field pad in serial"))
		TH_LOG("%s", self->err.msg);

	ASSERT_EQ(0, vmstate__filter_register(self->reg, &drop));
	ASSERT_EQ(-EINVAL, vmstate__load_all(self->reg, self->b.data,
					     self->b.len, &self->err));
	ASSERT_STREQ("offset 8: section /machine/isa/serial@3f8 field scratch: "
		     "missing from version 1 of serial", self->err.msg);
	ASSERT_EQ(1, u.lsr);

	ASSERT_EQ(0, vmstate__filter_register(self->reg, &def));
	ASSERT_EQ(0, vmstate__load_all(self->reg, self->b.data, self->b.len,
				       &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0x60, u.lsr);
	ASSERT_EQ(0x42, u.scratch);

	/* max_version 1: a v2 stream's lsr_reg is not renamed */
	old_uart(&self->b, 2, false);
	ASSERT_EQ(-EINVAL, vmstate__load_all(self->reg, self->b.data,
					     self->b.len, &self->err));
	ASSERT_NE(NULL, strstr(self->err.msg, "unknown field lsr_reg in serial"));
}

static int refuse(struct vmstate_tree *tree, void *arg, struct vmstate_err *err)
{
	snprintf(err->msg, sizeof(err->msg), "custom: %s has %u sections",
		 (const char *)arg, tree->nr_sections);
	return -EPROTO;
}

TEST_F(filters, custom_filter_error_fails_the_load)
{
	const struct vmstate_filter f = {
		.kind = VMSTATE_FILTER_CUSTOM, .fn = refuse, .arg = "stream",
	};
	const struct vmstate_filter bad = { .kind = VMSTATE_FILTER_SPLIT };
	struct apic a = { 0 };

	ASSERT_EQ(-EINVAL, vmstate__filter_register(self->reg, &bad));
	ASSERT_EQ(0, vmstate__register(self->reg, &apic_vmsd, &a,
				       "/machine/kvm-apic"));
	ASSERT_EQ(0, vmstate__filter_register(self->reg, &f));
	old_kvm_apic(&self->b);
	ASSERT_EQ(-EPROTO, vmstate__load_all(self->reg, self->b.data,
					     self->b.len, &self->err));
	ASSERT_STREQ("custom: stream has 1 sections", self->err.msg);
	ASSERT_EQ(0, a.id);
}

TEST_HARNESS_MAIN
