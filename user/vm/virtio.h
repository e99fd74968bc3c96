/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtio over modern PCI: the transport (devices/virtio-pci.c) owns the
 * PCI function, the common configuration, MSI-X and one ioeventfd per
 * queue; a device model (virtio-blk, ...) supplies a virtio_ops and its
 * config bytes, and handles its queues with vq__pop/vq__push/vq__notify.
 * Queue handlers run on the I/O thread with vdev->lock held, and never
 * while the VM is paused: kicks then wait for the resume.
 */
#ifndef TERN_VM_VIRTIO_H
#define TERN_VM_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vm/device.h"
#include "vm/devices/pci.h"

#define VIRTIO_MAX_QUEUES	4
#define VIRTIO_MSIX_VECTORS	8
#define VQ_MAX_SEGS		64

struct vm;
struct virtio_dev;

/*
 * Guest-visible state, all of it saved and loaded, in two parts as two
 * sections: the device's own virtio state, the same under any transport
 * (table virtio-device, at the device's path + "/device"), and the PCI
 * transport's registers (table virtio-pci, at the device's path).
 */
struct vq_state {
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
	uint16_t size;
	uint16_t enabled;
	uint16_t last_avail;	/* next avail entry the device consumes */
	uint16_t used_idx;	/* next used entry the device fills */
};

struct virtio_state {
	uint64_t driver_features;
	uint8_t status;
	uint8_t isr;
	uint8_t config_generation;
	struct vq_state vq[VIRTIO_MAX_QUEUES];
};

struct msix_entry {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
	uint32_t ctrl;		/* bit 0: masked */
};

struct virtio_pci_state {
	uint32_t dfselect;
	uint32_t gfselect;
	uint16_t msix_config;
	uint16_t queue_select;
	uint16_t queue_vector[VIRTIO_MAX_QUEUES];	/* MSI-X vector per queue */
	uint8_t msix_pending[VIRTIO_MSIX_VECTORS];
	struct msix_entry msix[VIRTIO_MSIX_VECTORS];
};

struct virtio_ops {
	const char *name;		/* model and path leaf: "virtio-blk" */
	uint16_t type;			/* VIRTIO_ID_* */
	uint32_t class_code;		/* PCI class << 8 | prog-if */
	int nr_queues;
	uint16_t queue_size;
	uint64_t features;		/* device features; VERSION_1 is added */
	/* Queue q was kicked (I/O thread, lock held). */
	void (*notify)(struct virtio_dev *vdev, int q);
	/*
	 * The VM pauses (lock held): finish the work the device took from
	 * its rings outside the lock, so the state saved is whole.
	 */
	void (*quiesce)(struct virtio_dev *vdev);
	/* The driver reset the device (lock held). */
	void (*reset)(struct virtio_dev *vdev);
	/* The driver set DRIVER_OK (lock held). */
	void (*ready)(struct virtio_dev *vdev);
	/* State was loaded, the guest not running yet (lock held). */
	void (*loaded)(struct virtio_dev *vdev);
	/*
	 * A queue's vector, a mask or MSI-X enable changed (lock held): a
	 * kernel backend asks virtio__queue_irqfd() again.
	 */
	void (*vectors_changed)(struct virtio_dev *vdev);
};

struct virtio_dev {
	struct device_header dev;
	struct pci_device pci;
	struct vm *vm;
	const struct virtio_ops *ops;
	void *priv;			/* the device model's instance */
	uint8_t *config;		/* device config space, owned by priv */
	uint32_t config_size;
	pthread_mutex_t lock;
	struct virtio_state s;
	struct virtio_pci_state transport;
	/*
	 * A NIC model's MAC (virtio-net), guest-visible state that the
	 * device section's subsection "mac" carries; zeros: none (or not
	 * sent).
	 */
	uint8_t mac[6];
	/* Host side, rebuilt on load: eventfds and their KVM bindings. */
	int kick_fd[VIRTIO_MAX_QUEUES];
	int call_fd[VIRTIO_MSIX_VECTORS];
	int call_gsi[VIRTIO_MSIX_VECTORS];
	uint8_t kick_pending[VIRTIO_MAX_QUEUES];	/* kicked while paused */
};

struct vq_elem {
	uint16_t head;
	int nr;				/* segments */
	int nr_out;			/* the first nr_out are device-readable */
	size_t out_len;
	size_t in_len;
	struct iovec iov[VQ_MAX_SEGS];
	uint64_t gpa[VQ_MAX_SEGS];
};

int virtio__register(struct vm *vm, struct virtio_dev *vdev,
		     const struct virtio_ops *ops, void *priv,
		     void *config, uint32_t config_size);
void virtio__unregister(struct vm *vm, struct virtio_dev *vdev);
/* The instance of model `name` (n-th), or NULL. */
struct virtio_dev *virtio__find(struct vm *vm, const char *name, int n);
/* After a state load: rebind eventfds, routes, BAR mapping. */
void virtio__post_load(struct virtio_dev *vdev);
/* The same once every section is in: the model's loaded(), then that. */
void virtio__loaded(struct virtio_dev *vdev);
/* What the device offers: its model's features and VERSION_1. */
uint64_t virtio__device_features(struct virtio_dev *vdev);
/* Its two state sections (virtio_state.c). */
int virtio__register_state(struct vm *vm, struct virtio_dev *vdev);
void virtio__unregister_state(struct vm *vm, struct virtio_dev *vdev);
bool virtio__ready(struct virtio_dev *vdev);
/*
 * The eventfd KVM takes as queue q's MSI-X interrupt, for a kernel
 * backend (vhost) to signal with no userspace hop; -1 while the vector
 * is masked, MSI-X off, no vector is set, or no route could be made:
 * the backend then signals through vq__notify, which keeps the pending
 * bit (lock held).
 */
int virtio__queue_irqfd(struct virtio_dev *vdev, int q);

/* Requests the driver made available that the device has not taken. */
uint16_t vq__waiting(struct virtio_dev *vdev, int q);
/* 1: e filled; 0: queue empty; -EINVAL: malformed chain (logged). */
int vq__pop(struct virtio_dev *vdev, int q, struct vq_elem *e);
/* Return e to the driver with `written` bytes stored in its in-segments. */
void vq__push(struct virtio_dev *vdev, int q, const struct vq_elem *e,
	      uint32_t written);
/*
 * After a load: warn of a queue whose used index in guest memory is not
 * the device state's (a write to the ring that RAM did not bring along).
 */
void vq__check_loaded(struct virtio_dev *vdev);
/* Interrupt the driver unless it asked not to be. */
void vq__notify(struct virtio_dev *vdev, int q);

/* Copy between an element's out (in) bytes at `off` and buf. */
size_t vq__read_out(const struct vq_elem *e, size_t off, void *buf, size_t len);
size_t vq__write_in(const struct vq_elem *e, size_t off, const void *buf, size_t len);
/* in-segments from byte `off` for `len` bytes, as an iovec array. */
int vq__in_iov(const struct vq_elem *e, size_t off, size_t len,
	       struct iovec *iov, int max);
int vq__out_iov(const struct vq_elem *e, size_t off, size_t len,
		struct iovec *iov, int max);

#endif /* TERN_VM_VIRTIO_H */
