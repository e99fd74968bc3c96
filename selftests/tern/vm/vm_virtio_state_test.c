// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio device's state is two sections (user/vm/virtio_state.c): the
 * device's own (virtio-device, at PATH/device) and the PCI transport's
 * (virtio-pci version 2, at PATH).  Release 0.1.0 wrote one section,
 * virtio-pci version 1 (Documentation/vmstate-devices-v0.1.0.txt); its
 * streams load through a split filter and a custom one.  Here this
 * build's stream is rewritten into that layout (release_layout(), the
 * inverse of the filters, written from the release's snapshot), and a
 * driver's ring, MSI-X table and queue vector must survive the load.
 * Host test on the fake KVM; in the harness on KVM.
 */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <urcu.h>

#include "fake_kvm.h"
#include "kselftest_harness.h"
#include "vm/ioloop.h"
#include "vm/virtio.h"
#include "vm/vm.h"
#include "vm_util.h"
#include "vmstate/tree.h"

#define MOVED_RAM	(32 << 20)
#define SUFFIX		"/device"

static int move_field(struct vmstate_table *from, struct vmstate_table *to,
		      const char *name)
{
	uint32_t i;

	for (i = 0; i < from->nr_fields; i++)
		if (!strcmp(from->fields[i]->name, name)) {
			if (vmstate__table_append_field(to, from->fields[i]))
				return -ENOMEM;
			vmstate__table_take_field(from, i);
			return 0;
		}
	return -ENOENT;
}

/* One device's two sections as release 0.1.0's one; dev is removed. */
static int join(struct vmstate_tree *tree, uint32_t di, struct vmstate_table *pci)
{
	struct vmstate_table *dev = tree->sections[di].table, *st, *tr;
	struct vmstate_tfield *s, *t, *vq, *qv, *f;
	uint32_t i;

	s = vmstate__table_field(dev, "s");
	t = vmstate__table_field(pci, "transport");
	if (!s || !t)
		return -ENOENT;
	st = s->elems[0];
	tr = t->elems[0];
	vq = vmstate__table_field(st, "vq");
	qv = vmstate__table_field(tr, "queue_vector");
	if (!vq || !qv || vq->count != qv->count)
		return -EINVAL;
	for (i = 0; i < vq->count; i++) {
		f = vmstate__table_add_field(vq->elems[i], "msix_vector", VMS_U16,
					     0, 0, 1, 2);
		if (!f)
			return -ENOMEM;
		memcpy(f->data, qv->data + 2 * i, 2);
		vq->elems[i]->version = 1;
	}
	while (tr->nr_fields) {
		f = vmstate__table_take_field(tr, 0);
		if (!strcmp(f->name, "queue_vector")) {
			vmstate__tfield_free(f);
			continue;
		}
		if (vmstate__table_append_field(st, f))
			return -ENOMEM;
	}
	free(st->name);
	st->name = strdup("virtio-pci-state");
	if (!st->name)
		return -ENOMEM;
	for (i = 0; i < pci->nr_fields; i++)
		if (!strcmp(pci->fields[i]->name, "transport")) {
			vmstate__tfield_free(vmstate__table_take_field(pci, i));
			break;
		}
	if (move_field(dev, pci, "s"))
		return -ENOMEM;
	while (dev->nr_subs)
		if (vmstate__table_add_sub(pci, vmstate__table_take_sub(dev, 0)))
			return -ENOMEM;
	pci->version = 1;
	free(tree->sections[di].path);
	vmstate__table_free(dev);
	memmove(&tree->sections[di], &tree->sections[di + 1],
		(tree->nr_sections - di - 1) * sizeof(tree->sections[0]));
	tree->nr_sections--;
	return 0;
}

/* The stream saved in fd, decoded: 0 or -errno. */
static int tree_of(int fd, struct vmstate_tree **tree)
{
	struct stat st;
	uint8_t *data;
	int ret;

	if (fstat(fd, &st) || !(data = malloc(st.st_size)))
		return -EIO;
	ret = pread(fd, data, st.st_size, 0) == st.st_size ?
	      vmstate__decode(data, st.st_size, NULL, 0, tree, NULL) : -EIO;
	free(data);
	return ret;
}

/* tree encoded into fd in place of what it held, then freed. */
static int tree_put(int fd, struct vmstate_tree *tree)
{
	struct vmstate_buf out = { 0 };
	int ret = vmstate__encode(tree, &out);

	vmstate__tree_free(tree);
	if (!ret && (ftruncate(fd, 0) || pwrite(fd, out.data, out.len, 0) != (ssize_t)out.len))
		ret = -EIO;
	vmstate__buf_free(&out);
	return ret;
}

/* This build's stream in fd, rewritten in place in release 0.1.0's layout. */
static int release_layout(int fd, int *joined)
{
	struct vmstate_tree *tree;
	uint32_t i, j;
	int ret;

	*joined = 0;
	ret = tree_of(fd, &tree);
	if (ret)
		return ret;
	for (i = 0; !ret && i < tree->nr_sections;) {
		const char *path = tree->sections[i].path;
		size_t plen = strlen(path), slen = strlen(SUFFIX);

		if (strcmp(tree->sections[i].table->name, "virtio-device")) {
			i++;
			continue;
		}
		for (j = 0; j < tree->nr_sections; j++)
			if (strlen(tree->sections[j].path) == plen - slen &&
			    !strncmp(tree->sections[j].path, path, plen - slen))
				break;
		ret = j == tree->nr_sections ? -ENOENT :
		      join(tree, i, tree->sections[j].table);
		(*joined)++;
	}
	if (ret) {
		vmstate__tree_free(tree);
		return ret;
	}
	return tree_put(fd, tree);
}

/* The section paths and tables of the stream in fd, one string. */
static void sections_of(int fd, char *buf, size_t len)
{
	struct vmstate_tree *tree;
	uint32_t i;

	buf[0] = '\0';
	if (tree_of(fd, &tree))
		return;
	for (i = 0; i < tree->nr_sections; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s=%s.%u ",
			 tree->sections[i].path, tree->sections[i].table->name,
			 tree->sections[i].table->version);
	vmstate__tree_free(tree);
}

/* Queue 0's msix_vector in a 0.1.0 stream (inside virtio-pci-state). */
static int set_release_vector(int fd, uint16_t vec)
{
	struct vmstate_tfield *s, *vq, *v = NULL;
	struct vmstate_tree *tree;
	uint32_t i;
	int ret;

	ret = tree_of(fd, &tree);
	if (ret)
		return ret;
	for (i = 0; i < tree->nr_sections && !v; i++) {
		if (strcmp(tree->sections[i].table->name, "virtio-pci"))
			continue;
		s = vmstate__table_field(tree->sections[i].table, "s");
		vq = s ? vmstate__table_field(s->elems[0], "vq") : NULL;
		v = vq ? vmstate__table_field(vq->elems[0], "msix_vector") : NULL;
	}
	if (!v) {
		vmstate__tree_free(tree);
		return -ENOENT;
	}
	memcpy(v->data, &vec, 2);	/* little-endian, as the stream */
	return tree_put(fd, tree);
}

FIXTURE(rng) {
	struct vm *vm;
	struct vmu_virtio d;
	struct vmu_buf b;
	char console[64];
	int fd;			/* the saved state */
};

/* A driver with one buffer posted on virtio-rng, not kicked; saved. */
FIXTURE_SETUP(rng)
{
	struct vm_config cfg = { .rng = true };
	uint32_t len = 0;

	rcu_register_thread();
	snprintf(self->console, sizeof(self->console), "/tmp/vm_virtio_state_test.%d", getpid());
	self->vm = vmu_create(&cfg, self->console);
	ASSERT_NE(NULL, self->vm);
	ASSERT_EQ(0, ioloop__start(self->vm));
	ASSERT_EQ(0, vmu_virtio_init(&self->d, self->vm, VIRTIO_ID_RNG, 0, 1));
	/* One request served first: the ring's indices are not at zero. */
	self->b = (struct vmu_buf){ .gpa = vmu_virtio_alloc(&self->d, 64), .len = 64, .in = true };
	ASSERT_EQ(0, vmu_vq_add(&self->d, 0, &self->b, 1));
	vmu_vq_kick(&self->d, 0);
	ASSERT_EQ(0, vmu_vq_used(&self->d, 0, &len, 2000));
	self->b.gpa = vmu_virtio_alloc(&self->d, 64);
	ASSERT_EQ(1, vmu_vq_add(&self->d, 0, &self->b, 1));
	self->fd = memfd_create("vm_virtio_state_test", MFD_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vm__save_state(self->vm, self->fd));
	ioloop__stop(self->vm);
}

FIXTURE_TEARDOWN(rng)
{
	close(self->fd);
	if (self->vm)
		vm__destroy(self->vm);
	unlink(self->console);
	rcu_unregister_thread();
}

/*
 * The saved state loaded into a second VM with the first one's RAM: the
 * posted buffer is served there from the same ring, and its interrupt
 * comes on queue 0's vector through the moved MSI-X table.
 */
static void served_after_load(struct __test_metadata *_metadata,
			      FIXTURE_DATA(rng) *self)
{
	struct vm_config cfg = { .rng = true };
	uint8_t zero[64] = { 0 };
	char why[512] = "";
	uint32_t len = 0;
	struct vm *vm2;

	vm2 = vmu_create(&cfg, self->console);
	ASSERT_NE(NULL, vm2);
	memcpy(vmu_gpa(vm2, 0), vmu_gpa(self->vm, 0), MOVED_RAM);
	vm__destroy(self->vm);
	self->vm = vm2;
	ASSERT_EQ(0, (int)lseek(self->fd, 0, SEEK_SET));
	ASSERT_EQ(0, vm__load_state(vm2, self->fd, why, sizeof(why)))
		TH_LOG("load: %s", why);
	ASSERT_EQ(0, ioloop__start(vm2));
	vmu_virtio_moved(&self->d, vm2);
	EXPECT_EQ(0, vmu_mmio_read(vm2, self->d.bar + self->d.common +
				   VIRTIO_PCI_COMMON_Q_MSIX, 2));	/* queue 0's vector */
	vmu_vq_kick(&self->d, 0);
	EXPECT_EQ(1, vmu_vq_used(&self->d, 0, &len, 2000));
	EXPECT_EQ(64, len);
	EXPECT_NE(0, memcmp(zero, vmu_gpa(vm2, self->b.gpa), 64));
	if (fake_kvm_active())
		EXPECT_EQ(1, fake_kvm_msi_taken(vm2->vm_fd, VMU_MSI_DATA, 1, 2000));
	ioloop__stop(vm2);
}

/* This build: two sections per virtio device, and they move. */
TEST_F(rng, two_sections_per_device_and_they_move)
{
	char secs[2048];

	sections_of(self->fd, secs, sizeof(secs));
	TH_LOG("%s", secs);
	EXPECT_NE(NULL, strstr(secs, "/virtio-rng=virtio-pci.2 "));
	EXPECT_NE(NULL, strstr(secs, "/virtio-rng/device=virtio-device.1 "));
	served_after_load(_metadata, self);
}

/* Release 0.1.0's one section loads: the split and custom filters. */
TEST_F(rng, release_0_1_0_one_section_loads)
{
	char secs[2048];
	int joined;

	ASSERT_EQ(0, release_layout(self->fd, &joined));
	EXPECT_EQ(1, joined);
	sections_of(self->fd, secs, sizeof(secs));
	TH_LOG("as 0.1.0: %s", secs);
	EXPECT_NE(NULL, strstr(secs, "/virtio-rng=virtio-pci.1 "));
	EXPECT_EQ(NULL, strstr(secs, "virtio-device"));
	served_after_load(_metadata, self);
}

/*
 * A 0.1.0 stream whose queue vector names no MSI-X entry is refused,
 * naming the table, and the VM that refused it is unchanged.
 */
TEST_F(rng, release_0_1_0_bad_vector_refused)
{
	struct vm_config cfg = { .rng = true };
	char why[512] = "";
	struct vm *vm2;
	int joined;

	ASSERT_EQ(0, release_layout(self->fd, &joined));
	ASSERT_EQ(0, set_release_vector(self->fd, 9));	/* of 8 entries */
	vm2 = vmu_create(&cfg, self->console);
	ASSERT_NE(NULL, vm2);
	ASSERT_EQ(0, (int)lseek(self->fd, 0, SEEK_SET));
	EXPECT_NE(0, vm__load_state(vm2, self->fd, why, sizeof(why)));
	TH_LOG("refused: %s", why);
	EXPECT_NE(NULL, strstr(why, "virtio-pci-transport refused"));
	EXPECT_NE(NULL, strstr(why, "/virtio-rng"));
	EXPECT_EQ(0xffff, virtio__find(vm2, "virtio-rng", 0)->transport.queue_vector[0]);
	vm__destroy(vm2);
}

TEST_HARNESS_MAIN
