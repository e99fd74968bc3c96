// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake admits what the destination's filters convert: two fake
 * VMs migrate when the source's device was renamed (table, path, or both,
 * with or without the source sending types, as release 0.1.0 does not)
 * or split since, because the destination's vmstate registry has the
 * filter; without it, or at a version the filter does not cover, the
 * migration is refused before any page moves, naming the device.  A
 * subsection the destination does not load (unknown, or at a version out
 * of its range, wherever the filters take it) refuses nothing by itself:
 * the source migrates while it is not needed, and fails with the guest
 * running here when it is, before any page if it is needed at the
 * welcome, before commit if it becomes needed later.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "mig_run.h"
#include "test_util.h"
#include "vmstate/vmstate.h"

#define MiB		(1ull << 20)
#define BLK		"/machine/pci0/00:03.0/virtio-blk"

static const struct fakevm_cfg base_cfg = {
	.ram_size = 4 * MiB,
	.write_rate = 20,
};

/* Only names and versions matter to the handshake: one field each. */
struct dummy {
	uint32_t x;
};

static const struct vmstate_field dummy_fields[] = {
	VMSTATE_U32(x, struct dummy, 0),
	VMSTATE_END,
};

#define TABLE(_var, _name, _v, _min)					\
	static const struct vmsd _var = {				\
		.name = _name, .version_id = _v,			\
		.minimum_version_id = _min,				\
		.size = sizeof(struct dummy), .fields = dummy_fields,	\
	}
TABLE(cpu_vmsd, "cpu", 3, 1);
TABLE(blk_vmsd, "virtio-blk", 2, 1);
TABLE(proxy_vmsd, "virtio-pci", 1, 1);
TABLE(backend_vmsd, "virtio-blk", 1, 1);

/* virtio-blk with a subsection "inflight", version 1. */
static const struct vmsd inflight_vmsd = {
	.name = "inflight", .version_id = 1, .minimum_version_id = 1,
	.size = sizeof(struct dummy), .fields = dummy_fields,
};
static const struct vmsd *const inflight_subs[] = { &inflight_vmsd, NULL };
static const struct vmsd blk_sub_vmsd = {
	.name = "virtio-blk", .version_id = 2, .minimum_version_id = 1,
	.size = sizeof(struct dummy), .fields = dummy_fields,
	.subsections = inflight_subs,
};
static const struct vmsd backend_sub_vmsd = {
	.name = "virtio-blk", .version_id = 1, .minimum_version_id = 1,
	.size = sizeof(struct dummy), .fields = dummy_fields,
	.subsections = inflight_subs,
};

static int admit(void *arg, const struct mig_device *src, unsigned int nr,
		 uint32_t *unloadable, char *why, size_t len)
{
	struct vmstate_sub_desc subs[8][MIG_MAX_SUBS];
	struct vmstate_dev_desc d[8];
	unsigned int i, k;

	if (nr > 8)
		return -E2BIG;
	for (i = 0; i < nr; i++) {
		for (k = 0; k < src[i].nr_subs; k++)
			subs[i][k] = (struct vmstate_sub_desc){
				src[i].subs[k].name, src[i].subs[k].version };
		d[i] = (struct vmstate_dev_desc){
			.path = src[i].path, .type = src[i].type,
			.version = src[i].version, .subs = subs[i],
			.nr_subs = src[i].nr_subs };
	}
	return vmstate__admit(arg, d, nr, unloadable, why, len);
}

FIXTURE(compat) {
	struct vmstate_registry *reg;	/* the destination's */
	struct dummy obj[4];
	struct fakevm_cfg src, dst;
	struct fakevm *vsrc, *vdst;
	struct mig *msrc, *mdst;
	struct mig_run r;
};

FIXTURE_SETUP(compat)
{
	self->reg = vmstate__registry_new();
	ASSERT_NE(NULL, self->reg);
	ASSERT_EQ(0, vmstate__register(self->reg, &cpu_vmsd, &self->obj[0],
				       "/machine/cpu0"));
	self->src = base_cfg;
	self->dst = base_cfg;
	self->dst.admit = admit;
	self->dst.admit_arg = self->reg;
}

FIXTURE_TEARDOWN(compat)
{
	if (self->msrc) {
		mig_run_free(&self->r);
		mig__free(self->msrc);
		mig__free(self->mdst);
		fakevm_free(self->vsrc);
		fakevm_free(self->vdst);
	}
	vmstate__registry_free(self->reg);
}

static void reg_add(struct __test_metadata *_metadata,
		    FIXTURE_DATA(compat) *self, const struct vmsd *v,
		    const char *path, int i)
{
	ASSERT_EQ(0, vmstate__register(self->reg, v, &self->obj[i], path));
}

static void filter(struct __test_metadata *_metadata,
		   FIXTURE_DATA(compat) *self, struct vmstate_filter f)
{
	ASSERT_EQ(0, vmstate__filter_register(self->reg, &f));
}

static void run(struct __test_metadata *_metadata, FIXTURE_DATA(compat) *self)
{
	struct mig_params p;

	mig__default_params(&p);
	p.quiet = !getenv("TERN_DEBUG");
	self->src.seed = 1;
	self->dst.seed = 2;
	self->dst.write_rate = 0;
	self->vsrc = fakevm_new(&self->src);
	self->vdst = fakevm_new(&self->dst);
	ASSERT_NE(NULL, self->vsrc);
	ASSERT_NE(NULL, self->vdst);
	fakevm_fill(self->vsrc, 0);
	fakevm_fill(self->vdst, 0xaa);
	self->msrc = mig__new(&fakevm_ops, self->vsrc, &p);
	self->mdst = mig__new(&fakevm_ops, self->vdst, &p);
	ASSERT_NE(NULL, self->msrc);
	ASSERT_NE(NULL, self->mdst);
	mig_run_init(&self->r, self->vsrc, self->vdst, self->msrc, self->mdst);
	fakevm_writer_start(self->vsrc);
	ASSERT_EQ(0, mig_run(&self->r));
}

static void admitted(struct __test_metadata *_metadata,
		     FIXTURE_DATA(compat) *self)
{
	char why[256];

	run(_metadata, self);
	ASSERT_EQ(0, self->r.src_ret) TH_LOG("source: %s", self->r.src_st.error);
	ASSERT_EQ(0, self->r.dst_ret) TH_LOG("destination: %s", self->r.dst_st.error);
	ASSERT_EQ(0, mig_run_check(&self->r, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_TRUE(fakevm_started(self->vdst));
}

/* Refused with `needle` in both sides' errors, before any page moved. */
static void refused(struct __test_metadata *_metadata,
		    FIXTURE_DATA(compat) *self, const char *needle)
{
	run(_metadata, self);
	ASSERT_GT(0, self->r.src_ret);
	ASSERT_GT(0, self->r.dst_ret);
	ASSERT_NE(NULL, strstr(self->r.dst_st.error, needle))
		TH_LOG("destination error '%s' lacks '%s'",
		       self->r.dst_st.error, needle);
	ASSERT_NE(NULL, strstr(self->r.src_st.error, needle))
		TH_LOG("source error '%s' lacks '%s'", self->r.src_st.error,
		       needle);
	ASSERT_EQ(0, self->r.dst_st.pages);
	ASSERT_EQ(0, fakevm_untouched(self->vdst, 0xaa));
	ASSERT_FALSE(fakevm_started(self->vdst));
	ASSERT_TRUE(fakevm_writer_advances(self->vsrc));
}

/*
 * The source refused to go on, naming `needle`, with the guest running
 * there: before any page (at_welcome) or at the switchover.
 */
static void source_refused(struct __test_metadata *_metadata,
			   FIXTURE_DATA(compat) *self, const char *needle,
			   bool at_welcome)
{
	run(_metadata, self);
	ASSERT_GT(0, self->r.src_ret);
	ASSERT_GT(0, self->r.dst_ret);
	ASSERT_NE(NULL, strstr(self->r.src_st.error, needle))
		TH_LOG("source error '%s' lacks '%s'", self->r.src_st.error,
		       needle);
	TH_LOG("destination: %s", self->r.dst_st.error);
	if (at_welcome) {
		ASSERT_EQ(0, self->r.dst_st.pages);
		ASSERT_EQ(0, fakevm_untouched(self->vdst, 0xaa));
	} else {
		ASSERT_LT(0, self->r.dst_st.pages);
	}
	ASSERT_FALSE(fakevm_started(self->vdst));
	ASSERT_TRUE(fakevm_writer_advances(self->vsrc));
}

#define NOT_LOADED(_v)							\
	"device '" BLK "': subsection 'inflight' version " #_v		\
	" is needed now and the destination does not load it"

TEST_F(compat, subsection_known_and_needed_admitted)
{
	self->src.blk_sub = "inflight";
	self->src.blk_sub_needed = 1;
	reg_add(_metadata, self, &blk_sub_vmsd, BLK, 1);
	admitted(_metadata, self);
}

TEST_F(compat, subsection_unknown_not_needed_admitted)
{
	self->src.blk_sub = "inflight";
	reg_add(_metadata, self, &blk_vmsd, BLK, 1);
	admitted(_metadata, self);
}

TEST_F(compat, subsection_unknown_and_needed_refused_before_any_page)
{
	self->src.blk_sub = "inflight";
	self->src.blk_sub_needed = 1;
	reg_add(_metadata, self, &blk_vmsd, BLK, 1);
	source_refused(_metadata, self, NOT_LOADED(1), true);
}

TEST_F(compat, subsection_too_new_and_needed_refused_before_any_page)
{
	self->src.blk_sub = "inflight";
	self->src.blk_sub_version = 2;
	self->src.blk_sub_needed = 1;
	reg_add(_metadata, self, &blk_sub_vmsd, BLK, 1);
	source_refused(_metadata, self, NOT_LOADED(2), true);
}

/* Needed once the vCPUs stop: the switchover fails, the guest goes on. */
TEST_F(compat, subsection_needed_at_switchover_fails_before_commit)
{
	self->src.blk_sub = "inflight";
	self->src.blk_sub_needed = 2;
	reg_add(_metadata, self, &blk_vmsd, BLK, 1);
	source_refused(_metadata, self, NOT_LOADED(1), false);
}

TEST_F(compat, same_devices_admitted)
{
	reg_add(_metadata, self, &blk_vmsd, BLK, 1);
	admitted(_metadata, self);
}

TEST_F(compat, renamed_table_refused_without_filter)
{
	self->src.blk_type = "kvm-blk";
	reg_add(_metadata, self, &blk_vmsd, BLK, 1);
	refused(_metadata, self, "device '" BLK "': table kvm-blk on the source, virtio-blk here, and no filter converts it");
}

TEST_F(compat, renamed_table_admitted_by_filter)
{
	self->src.blk_type = "kvm-blk";
	reg_add(_metadata, self, &blk_vmsd, BLK, 1);
	filter(_metadata, self, (struct vmstate_filter){
		.kind = VMSTATE_FILTER_RENAME_TABLE, .table = "kvm-blk",
		.to = "virtio-blk" });
	admitted(_metadata, self);
}

/* The filter renames the path's component too; typed or not. */
TEST_F(compat, renamed_path_admitted_by_filter)
{
	self->src.blk_path = "/machine/pci0/00:03.0/kvm-blk";
	self->src.blk_type = "kvm-blk";
	reg_add(_metadata, self, &blk_vmsd, BLK, 1);
	filter(_metadata, self, (struct vmstate_filter){
		.kind = VMSTATE_FILTER_RENAME_TABLE, .table = "kvm-blk",
		.to = "virtio-blk" });
	admitted(_metadata, self);
}

TEST_F(compat, renamed_path_admitted_without_types)
{
	self->src.blk_path = "/machine/pci0/00:03.0/kvm-blk";
	self->src.no_types = true;
	reg_add(_metadata, self, &blk_vmsd, BLK, 1);
	filter(_metadata, self, (struct vmstate_filter){
		.kind = VMSTATE_FILTER_RENAME_TABLE, .table = "kvm-blk",
		.to = "virtio-blk" });
	admitted(_metadata, self);
}

TEST_F(compat, renamed_path_refused_without_filter)
{
	self->src.blk_path = "/machine/pci0/00:03.0/kvm-blk";
	self->src.no_types = true;
	reg_add(_metadata, self, &blk_vmsd, BLK, 1);
	refused(_metadata, self, "device '/machine/pci0/00:03.0/kvm-blk' of the source does not exist here");
}

/*
 * One old section into a transport and a device, as the filter splits it
 * (its subsection "inflight" goes with the device).
 */
static void add_split_to(struct __test_metadata *_metadata,
			 FIXTURE_DATA(compat) *self, const struct vmsd *backend)
{
	static const char *const move[] = { "x", "inflight", NULL };

	reg_add(_metadata, self, &proxy_vmsd, BLK, 1);
	reg_add(_metadata, self, backend, BLK "/backend", 2);
	filter(_metadata, self, (struct vmstate_filter){
		.kind = VMSTATE_FILTER_SPLIT, .table = "virtio-blk-pci",
		.max_version = 1, .to = "virtio-blk", .to_version = 1,
		.path_suffix = "/backend", .move = move });
	filter(_metadata, self, (struct vmstate_filter){
		.kind = VMSTATE_FILTER_RENAME_TABLE, .table = "virtio-blk-pci",
		.to = "virtio-pci" });
}

static void add_split(struct __test_metadata *_metadata,
		      FIXTURE_DATA(compat) *self)
{
	add_split_to(_metadata, self, &backend_vmsd);
}

/* Where the split takes the subsection decides whether it loads. */
TEST_F(compat, subsection_split_to_a_table_that_loads_it_admitted)
{
	self->src.blk_type = "virtio-blk-pci";
	self->src.blk_version = 1;
	self->src.blk_sub = "inflight";
	self->src.blk_sub_needed = 1;
	add_split_to(_metadata, self, &backend_sub_vmsd);
	admitted(_metadata, self);
}

TEST_F(compat, subsection_split_to_a_table_without_it_refused)
{
	self->src.blk_type = "virtio-blk-pci";
	self->src.blk_version = 1;
	self->src.blk_sub = "inflight";
	self->src.blk_sub_needed = 1;
	add_split(_metadata, self);
	source_refused(_metadata, self, NOT_LOADED(1), true);
}

TEST_F(compat, split_admitted_by_filter)
{
	self->src.blk_type = "virtio-blk-pci";
	self->src.blk_version = 1;
	add_split(_metadata, self);
	admitted(_metadata, self);
}

TEST_F(compat, split_refused_past_its_version)
{
	self->src.blk_type = "virtio-blk-pci";
	self->src.blk_version = 2;
	add_split(_metadata, self);
	refused(_metadata, self, "device '" BLK "' (virtio-blk-pci version 2) is virtio-pci version 2 after filters, this side loads 1..1");
}

TEST_F(compat, unconvertible_device_refused)
{
	self->src.extra_device = true;
	reg_add(_metadata, self, &blk_vmsd, BLK, 1);
	refused(_metadata, self, "device '/machine/pci0/00:05.0/virtio-rng' of the source does not exist here");
}

TEST_F(compat, device_only_here_refused)
{
	reg_add(_metadata, self, &blk_vmsd, BLK, 1);
	reg_add(_metadata, self, &backend_vmsd, BLK "/backend", 2);
	refused(_metadata, self, "device '" BLK "/backend' exists here but not on the source");
}

TEST_F(compat, version_out_of_range_refused)
{
	self->src.blk_version = 5;
	reg_add(_metadata, self, &blk_vmsd, BLK, 1);
	refused(_metadata, self, "device '" BLK "': source saves version 5, this side loads 1..2");
}

TEST_HARNESS_MAIN
