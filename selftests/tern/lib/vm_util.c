// SPDX-License-Identifier: GPL-2.0
/* The device tests' VM and virtio driver (vm_util.h). */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake_kvm.h"
#include "vm/iotrap.h"
#include "vm/kvm.h"
#include "vm_util.h"

#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc
#define MSI_ADDR	0xfee00000u
/*
 * Each device's driver has its own MiB of guest RAM, past the first (the
 * boot tables'): its rings first, its buffers after.
 */
#define DRIVER_GPA(slot)	(((uint64_t)(slot) + 1) << 20)
#define RING_BYTES		0x2000u	/* one queue's desc, avail and used */

struct vm *vmu_create(struct vm_config *cfg, const char *console)
{
	char spec[128];

	snprintf(spec, sizeof(spec), "file:%s", console);
	if (!cfg->ram_size)
		cfg->ram_size = 64ULL << 20;
	if (!cfg->nr_cpus)
		cfg->nr_cpus = 1;
	cfg->console = spec;	/* only read while the VM is made */
	return vm__create(cfg);
}

uint8_t vmu_inb(struct vm *vm, uint16_t port)
{
	uint8_t v = 0;

	if (!iotrap__dispatch(vm, NULL, IOTRAP_PIO, port, &v, 1, false))
		return 0xff;
	return v;
}

void vmu_outb(struct vm *vm, uint16_t port, uint8_t v)
{
	iotrap__dispatch(vm, NULL, IOTRAP_PIO, port, &v, 1, true);
}

uint32_t vmu_pci_read32(struct vm *vm, int slot, int off)
{
	uint32_t a = 0x80000000u | slot << 11 | (off & 0xfc), v = ~0u;

	iotrap__dispatch(vm, NULL, IOTRAP_PIO, PCI_ADDR, (uint8_t *)&a, 4, true);
	iotrap__dispatch(vm, NULL, IOTRAP_PIO, PCI_DATA, (uint8_t *)&v, 4, false);
	return v;
}

void vmu_pci_write32(struct vm *vm, int slot, int off, uint32_t v)
{
	uint32_t a = 0x80000000u | slot << 11 | (off & 0xfc);

	iotrap__dispatch(vm, NULL, IOTRAP_PIO, PCI_ADDR, (uint8_t *)&a, 4, true);
	iotrap__dispatch(vm, NULL, IOTRAP_PIO, PCI_DATA, (uint8_t *)&v, 4, true);
}

int vmu_pci_find(struct vm *vm, uint16_t vendor, uint16_t device)
{
	int slot;

	for (slot = 0; slot < 32; slot++)
		if (vmu_pci_read32(vm, slot, PCI_VENDOR_ID) == (vendor | (uint32_t)device << 16))
			return slot;
	return -1;
}

uint32_t vmu_mmio_read(struct vm *vm, uint64_t addr, int len)
{
	uint32_t v = 0;

	if (!iotrap__dispatch(vm, NULL, IOTRAP_MMIO, addr, (uint8_t *)&v, len, false))
		return ~0u;
	return v;
}

void vmu_mmio_write(struct vm *vm, uint64_t addr, uint32_t v, int len)
{
	iotrap__dispatch(vm, NULL, IOTRAP_MMIO, addr, (uint8_t *)&v, len, true);
}

void *vmu_gpa(struct vm *vm, uint64_t gpa)
{
	return gpa < vm->ram_low ? (uint8_t *)vm->ram.host + gpa : NULL;
}

static void common_w(struct vmu_virtio *d, int off, uint32_t v, int len)
{
	vmu_mmio_write(d->vm, d->bar + d->common + off, v, len);
}

static uint32_t common_r(struct vmu_virtio *d, int off, int len)
{
	return vmu_mmio_read(d->vm, d->bar + d->common + off, len);
}

static uint8_t cfg_r8(struct vm *vm, int slot, int off)
{
	return vmu_pci_read32(vm, slot, off) >> (8 * (off & 3));
}

/* The virtio vendor capabilities and MSI-X, as Linux's virtio_pci_modern finds them. */
static int read_caps(struct vmu_virtio *d, int *msix)
{
	int at = cfg_r8(d->vm, d->slot, PCI_CAPABILITY_LIST), n = 0, seen = 0;

	*msix = 0;
	while (at && n++ < 48) {
		uint8_t id = cfg_r8(d->vm, d->slot, at), type = cfg_r8(d->vm, d->slot, at + 3);
		uint32_t off = vmu_pci_read32(d->vm, d->slot, at + 8);

		if (id == PCI_CAP_ID_MSIX)
			*msix = at;
		if (id == PCI_CAP_ID_VNDR && cfg_r8(d->vm, d->slot, at + 4) == 0) {
			seen |= 1 << type;
			if (type == VIRTIO_PCI_CAP_COMMON_CFG)
				d->common = off;
			else if (type == VIRTIO_PCI_CAP_ISR_CFG)
				d->isr = off;
			else if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
				d->device = off;
			else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
				d->notify = off;
				d->notify_mult = vmu_pci_read32(d->vm, d->slot, at + 16);
			}
		}
		at = cfg_r8(d->vm, d->slot, at + 1);
	}
	/* Common, notify and ISR; device config only where the device has one. */
	if (!*msix || (seen & 0xe) != 0xe) {
		fprintf(stderr, "vmu: slot %d: caps 0x%x, MSI-X at 0x%x\n", d->slot, seen, *msix);
		return -ENODEV;
	}
	return 0;
}

static int setup_queue(struct vmu_virtio *d, int q)
{
	struct vmu_vq *vq = &d->vq[q];
	uint32_t size;

	common_w(d, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	size = common_r(d, VIRTIO_PCI_COMMON_Q_SIZE, 2);
	if (!size)
		return -ENOENT;
	if (size > VMU_QUEUE_SIZE)
		size = VMU_QUEUE_SIZE;
	*vq = (struct vmu_vq){
		.desc = DRIVER_GPA(d->slot) + q * RING_BYTES,
		.avail = DRIVER_GPA(d->slot) + q * RING_BYTES + 0x800,
		.used = DRIVER_GPA(d->slot) + q * RING_BYTES + 0x1000,
		.size = size,
	};
	memset(vmu_gpa(d->vm, vq->desc), 0, RING_BYTES);
	common_w(d, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	common_w(d, VIRTIO_PCI_COMMON_Q_DESCLO, vq->desc, 4);
	common_w(d, VIRTIO_PCI_COMMON_Q_DESCHI, 0, 4);
	common_w(d, VIRTIO_PCI_COMMON_Q_AVAILLO, vq->avail, 4);
	common_w(d, VIRTIO_PCI_COMMON_Q_AVAILHI, 0, 4);
	common_w(d, VIRTIO_PCI_COMMON_Q_USEDLO, vq->used, 4);
	common_w(d, VIRTIO_PCI_COMMON_Q_USEDHI, 0, 4);
	common_w(d, VIRTIO_PCI_COMMON_Q_MSIX, q, 2);
	common_w(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	return common_r(d, VIRTIO_PCI_COMMON_Q_MSIX, 2) == (uint32_t)q ? 0 : -EIO;
}

int vmu_virtio_init(struct vmu_virtio *d, struct vm *vm, uint16_t type,
		    uint64_t features, int nr_queues)
{
	const char *step;
	uint32_t table;
	int msix, q, i, ret;

	memset(d, 0, sizeof(*d));
	d->vm = vm;
	d->nr_queues = nr_queues;
	d->slot = vmu_pci_find(vm, 0x1af4, 0x1040 + type);
	if (d->slot < 0 || nr_queues > VMU_MAX_QUEUES ||
	    DRIVER_GPA(d->slot + 1) > vm->ram_low) {
		fprintf(stderr, "vmu: no virtio device of type %u\n", type);
		return -ENODEV;
	}
	d->heap = DRIVER_GPA(d->slot) + VMU_MAX_QUEUES * RING_BYTES;
	d->bar = vmu_pci_read32(vm, d->slot, PCI_BASE_ADDRESS_0) & PCI_BASE_ADDRESS_MEM_MASK;
	ret = read_caps(d, &msix);
	if (ret)
		return ret;

	common_w(d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	common_w(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	common_w(d, VIRTIO_PCI_COMMON_STATUS,
		 VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
	features |= 1ULL << VIRTIO_F_VERSION_1;
	common_w(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	common_w(d, VIRTIO_PCI_COMMON_GF, (uint32_t)features, 4);
	common_w(d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	common_w(d, VIRTIO_PCI_COMMON_GF, features >> 32, 4);
	common_w(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		 VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK, 1);
	step = "FEATURES_OK";
	if (!(vmu_virtio_status(d) & VIRTIO_CONFIG_S_FEATURES_OK))
		goto refused;

	/* MSI-X on: vector i sends data VMU_MSI_DATA + i, unmasked. */
	table = vmu_pci_read32(vm, d->slot, msix + PCI_MSIX_TABLE);
	step = "MSI-X table in BAR 0";
	if (table & PCI_MSIX_TABLE_BIR)
		goto refused;
	vmu_pci_write32(vm, d->slot, msix,
			vmu_pci_read32(vm, d->slot, msix) | (uint32_t)PCI_MSIX_FLAGS_ENABLE << 16);
	for (i = 0; i < nr_queues; i++) {
		uint64_t e = d->bar + (table & PCI_MSIX_TABLE_OFFSET) + PCI_MSIX_ENTRY_SIZE * i;

		vmu_mmio_write(vm, e + PCI_MSIX_ENTRY_LOWER_ADDR, MSI_ADDR, 4);
		vmu_mmio_write(vm, e + PCI_MSIX_ENTRY_UPPER_ADDR, 0, 4);
		vmu_mmio_write(vm, e + PCI_MSIX_ENTRY_DATA, VMU_MSI_DATA + i, 4);
		vmu_mmio_write(vm, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	}
	step = "queue setup";
	for (q = 0; q < nr_queues; q++)
		if (setup_queue(d, q))
			goto refused;
	common_w(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		 VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
		 VIRTIO_CONFIG_S_DRIVER_OK, 1);
	step = "DRIVER_OK";
	if (!(vmu_virtio_status(d) & VIRTIO_CONFIG_S_DRIVER_OK))
		goto refused;
	return 0;

refused:
	fprintf(stderr, "vmu: virtio type %u at slot %d: %s refused (status 0x%x)\n",
		type, d->slot, step, vmu_virtio_status(d));
	return -EIO;
}

uint8_t vmu_virtio_status(struct vmu_virtio *d)
{
	return common_r(d, VIRTIO_PCI_COMMON_STATUS, 1);
}

uint64_t vmu_virtio_alloc(struct vmu_virtio *d, uint32_t len)
{
	uint64_t gpa = d->heap;

	if (gpa + len > DRIVER_GPA(d->slot + 1)) {
		fprintf(stderr, "vmu: slot %d: out of buffer space\n", d->slot);
		abort();
	}
	d->heap += (len + 63) & ~63u;
	memset(vmu_gpa(d->vm, gpa), 0, len);
	return gpa;
}

int vmu_vq_add(struct vmu_virtio *d, int q, const struct vmu_buf *b, int n)
{
	struct vmu_vq *vq = &d->vq[q];
	struct vring_desc *desc = vmu_gpa(d->vm, vq->desc);
	struct vring_avail *avail = vmu_gpa(d->vm, vq->avail);
	uint16_t head = vq->free_desc % vq->size, at = head;
	int i;

	for (i = 0; i < n; i++) {
		uint16_t next = (at + 1) % vq->size;

		desc[at] = (struct vring_desc){
			.addr = b[i].gpa,
			.len = b[i].len,
			.flags = (b[i].in ? VRING_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			.next = i + 1 < n ? next : 0,
		};
		at = next;
	}
	vq->free_desc = at;
	avail->ring[vq->avail_idx % vq->size] = head;
	__atomic_store_n(&avail->idx, ++vq->avail_idx, __ATOMIC_RELEASE);
	return head;
}

void vmu_vq_kick(struct vmu_virtio *d, int q)
{
	uint64_t addr = d->bar + d->notify + (uint64_t)d->notify_mult * q, one = 1;
	int fd = fake_kvm_ioeventfd(d->vm->vm_fd, addr);

	/* KVM would take the write in the kernel: its eventfd, if bound. */
	if (fd >= 0 && write(fd, &one, sizeof(one)) == sizeof(one))
		return;
	vmu_mmio_write(d->vm, addr, q, 2);
}

int vmu_vq_used(struct vmu_virtio *d, int q, uint32_t *len, int timeout_ms)
{
	struct vmu_vq *vq = &d->vq[q];
	struct vring_used *used = vmu_gpa(d->vm, vq->used);
	struct timespec ts = { 0, 1000000 };
	struct vring_used_elem e;
	int i;

	for (i = 0; i <= timeout_ms; i++) {
		if (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) != vq->used_seen) {
			e = used->ring[vq->used_seen++ % vq->size];
			if (len)
				*len = e.len;
			return e.id;
		}
		nanosleep(&ts, NULL);
	}
	return -1;
}

void vmu_virtio_moved(struct vmu_virtio *d, struct vm *vm)
{
	d->vm = vm;
}
