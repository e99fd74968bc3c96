/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device tests' VM (tests/vm_device_test.c): vm__create() with chosen
 * devices and no guest kernel, the test playing the guest through the
 * VMM's own port and MMIO dispatch, as a vCPU exit would; and a small
 * modern virtio-pci driver (capabilities, MSI-X, split rings in guest
 * RAM) to drive the virtio devices as Linux's would.  Under the fake KVM
 * (fake_kvm.h) a kick goes through the queue's ioeventfd and the
 * interrupt comes back through its irqfd; under KVM the kick is the MMIO
 * write itself.
 */
#ifndef TERN_SELFTEST_VM_UTIL_H
#define TERN_SELFTEST_VM_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/vm.h"

/* cfg with 64 MiB, one vCPU and serial output to file `console`. */
struct vm *vmu_create(struct vm_config *cfg, const char *console);

uint8_t vmu_inb(struct vm *vm, uint16_t port);
void vmu_outb(struct vm *vm, uint16_t port, uint8_t v);
uint32_t vmu_pci_read32(struct vm *vm, int slot, int off);
void vmu_pci_write32(struct vm *vm, int slot, int off, uint32_t v);
/* The slot with this vendor and device ID, or -1. */
int vmu_pci_find(struct vm *vm, uint16_t vendor, uint16_t device);
uint32_t vmu_mmio_read(struct vm *vm, uint64_t addr, int len);
void vmu_mmio_write(struct vm *vm, uint64_t addr, uint32_t v, int len);
/* Guest-physical address in low RAM -> the VMM's mapping of it. */
void *vmu_gpa(struct vm *vm, uint64_t gpa);

#define VMU_MAX_QUEUES	4
#define VMU_QUEUE_SIZE	64	/* a batch of every kind of request: 3 descriptors each */
#define VMU_MSI_DATA	0x40	/* queue q's vector's MSI data: 0x40 + q */

struct vmu_vq {
	uint64_t desc, avail, used;	/* guest-physical */
	uint16_t size;
	uint16_t avail_idx;		/* next avail ring slot we fill */
	uint16_t used_seen;		/* used entries consumed */
	uint16_t free_desc;		/* next descriptor (one chain at a time) */
};

struct vmu_virtio {
	struct vm *vm;
	int slot;
	uint64_t bar;
	uint32_t common, isr, device, notify, notify_mult;	/* BAR offsets */
	int nr_queues;
	struct vmu_vq vq[VMU_MAX_QUEUES];
	uint64_t heap;			/* next free guest-physical byte */
};

/* A buffer of a request: device-readable (out) or device-writable (in). */
struct vmu_buf {
	uint64_t gpa;
	uint32_t len;
	bool in;
};

/*
 * Find virtio device `type` (VIRTIO_ID_*) on the bus, read its
 * capabilities, and bring it up as a driver does: reset, features
 * (VERSION_1 and `features`), MSI-X vector q for queue q, the rings of
 * the first `nr_queues` queues in the device's own MiB of guest RAM
 * (slot + 1 MiB: drivers of several devices do not meet), DRIVER_OK.
 * 0, or -errno with the step on stderr.
 */
int vmu_virtio_init(struct vmu_virtio *d, struct vm *vm, uint16_t type,
		    uint64_t features, int nr_queues);
/* `len` bytes of the driver's guest RAM for buffers, zeroed. */
uint64_t vmu_virtio_alloc(struct vmu_virtio *d, uint32_t len);
/* Post one chain of buffers on queue q (no kick); its head. */
int vmu_vq_add(struct vmu_virtio *d, int q, const struct vmu_buf *b, int n);
void vmu_vq_kick(struct vmu_virtio *d, int q);
/* The next used entry's id and length, waiting up to timeout_ms; -1 none. */
int vmu_vq_used(struct vmu_virtio *d, int q, uint32_t *len, int timeout_ms);
uint8_t vmu_virtio_status(struct vmu_virtio *d);
/* Move the driver to VM `vm` (its RAM copied there, its state loaded). */
void vmu_virtio_moved(struct vmu_virtio *d, struct vm *vm);

#endif /* TERN_SELFTEST_VM_UTIL_H */
