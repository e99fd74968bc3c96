// SPDX-License-Identifier: GPL-2.0
/*
 * The modern virtio-pci transport (virtio 1.x, section 4.1): a PCI
 * function with vendor capabilities pointing into BAR 0, which holds
 * the common configuration, ISR, device configuration, the queue notify
 * area (one ioeventfd per queue, so a kick never exits to userspace) and
 * the MSI-X table (one irqfd per vector).  Per-instance state only; its
 * vmstate tables are in virtio_state.c.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/ioloop.h"
#include "vm/iotrap.h"
#include "vm/irq.h"
#include "vm/vm.h"
#include "vm/mem.h"
#include "vm/virtio.h"

#define BAR_SIZE	0x4000
#define COMMON_OFF	0x0000
#define COMMON_LEN	0x38
#define MSIX_TABLE_OFF	0x0800
#define MSIX_PBA_OFF	0x0c00
#define ISR_OFF		0x1000
#define DEVCFG_OFF	0x2000
#define NOTIFY_OFF	0x3000
#define NOTIFY_MULT	4

#define CAP_START	0x40
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000

uint64_t virtio__device_features(struct virtio_dev *vdev)
{
	return vdev->ops->features | (1ULL << VIRTIO_F_VERSION_1);
}

static uint16_t msix_ctrl(struct virtio_dev *vdev)
{
	uint16_t v;

	memcpy(&v, vdev->pci.cfg + vdev->pci.msix_cap + PCI_MSIX_FLAGS, 2);
	return v;
}

static bool vector_masked(struct virtio_dev *vdev, uint16_t vec)
{
	return (msix_ctrl(vdev) & MSIX_CTRL_MASKALL) ||
	       (vdev->transport.msix[vec].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* Vector vec's irqfd, its route and binding made on first use; or -1. */
static int vector_irqfd(struct virtio_dev *vdev, uint16_t vec)
{
	struct msix_entry *m = &vdev->transport.msix[vec];
	int gsi, fd;

	if (vdev->call_gsi[vec] >= 0)
		return vdev->call_fd[vec];
	gsi = irq__add_msi_route(vdev->vm, ((uint64_t)m->addr_hi << 32) | m->addr_lo,
				 m->data);
	if (gsi < 0)
		return -1;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0 || irq__irqfd(vdev->vm, fd, gsi, 0)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	vdev->call_gsi[vec] = gsi;
	vdev->call_fd[vec] = fd;
	return fd;
}

/* Deliver MSI-X vector `vec` now, or leave it pending while masked. */
static void signal_vector(struct virtio_dev *vdev, uint16_t vec)
{
	uint64_t one = 1;
	int fd;

	if (vec >= VIRTIO_MSIX_VECTORS || !(msix_ctrl(vdev) & MSIX_CTRL_ENABLE))
		return;
	if (vector_masked(vdev, vec)) {
		vdev->transport.msix_pending[vec] = 1;
		return;
	}
	fd = vector_irqfd(vdev, vec);
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		pr_warn("%s: irqfd: %s", vdev->dev.path, strerror(errno));
}

int virtio__queue_irqfd(struct virtio_dev *vdev, int q)
{
	uint16_t vec = vdev->transport.queue_vector[q];

	if (vec >= VIRTIO_MSIX_VECTORS || !(msix_ctrl(vdev) & MSIX_CTRL_ENABLE) ||
	    vector_masked(vdev, vec))
		return -1;
	return vector_irqfd(vdev, vec);
}

/* Which queue interrupts an irqfd may take directly has changed. */
static void vectors_changed(struct virtio_dev *vdev)
{
	if (vdev->ops->vectors_changed)
		vdev->ops->vectors_changed(vdev);
}

void vq__notify(struct virtio_dev *vdev, int q)
{
	struct vq_state *vq = &vdev->s.vq[q];
	struct vring_avail *avail = guest__ptr(vdev->vm, vq->avail, 4);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (avail && (avail->flags & VRING_AVAIL_F_NO_INTERRUPT))
		return;
	vdev->s.isr |= 1;
	signal_vector(vdev, vdev->transport.queue_vector[q]);
}

bool virtio__ready(struct virtio_dev *vdev)
{
	return vdev->s.status & VIRTIO_CONFIG_S_DRIVER_OK;
}

static void reset(struct virtio_dev *vdev)
{
	int i;

	vdev->s.driver_features = 0;
	vdev->s.status = 0;
	vdev->s.isr = 0;
	vdev->transport.dfselect = vdev->transport.gfselect = 0;
	vdev->transport.queue_select = 0;
	vdev->transport.msix_config = VIRTIO_MSI_NO_VECTOR;
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		vdev->s.vq[i] = (struct vq_state){ .size = vdev->ops->queue_size };
		vdev->transport.queue_vector[i] = VIRTIO_MSI_NO_VECTOR;
	}
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
}

static uint64_t common_read(struct virtio_dev *vdev, int off)
{
	struct virtio_state *s = &vdev->s;
	struct virtio_pci_state *t = &vdev->transport;
	struct vq_state *vq = t->queue_select < vdev->ops->nr_queues ?
			      &s->vq[t->queue_select] : NULL;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: return t->dfselect;
	case VIRTIO_PCI_COMMON_DF:
		return t->dfselect > 1 ? 0 : (uint32_t)(virtio__device_features(vdev) >> (32 * t->dfselect));
	case VIRTIO_PCI_COMMON_GFSELECT: return t->gfselect;
	case VIRTIO_PCI_COMMON_GF:
		return t->gfselect > 1 ? 0 : (uint32_t)(s->driver_features >> (32 * t->gfselect));
	case VIRTIO_PCI_COMMON_MSIX: return t->msix_config;
	case VIRTIO_PCI_COMMON_NUMQ: return vdev->ops->nr_queues;
	case VIRTIO_PCI_COMMON_STATUS: return s->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION: return s->config_generation;
	case VIRTIO_PCI_COMMON_Q_SELECT: return t->queue_select;
	case VIRTIO_PCI_COMMON_Q_SIZE: return vq ? vq->size : 0;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return vq ? t->queue_vector[t->queue_select] : VIRTIO_MSI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_Q_ENABLE: return vq ? vq->enabled : 0;
	case VIRTIO_PCI_COMMON_Q_NOFF: return vq ? t->queue_select : 0;
	case VIRTIO_PCI_COMMON_Q_DESCLO: return vq ? (uint32_t)vq->desc : 0;
	case VIRTIO_PCI_COMMON_Q_DESCHI: return vq ? vq->desc >> 32 : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: return vq ? (uint32_t)vq->avail : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILHI: return vq ? vq->avail >> 32 : 0;
	case VIRTIO_PCI_COMMON_Q_USEDLO: return vq ? (uint32_t)vq->used : 0;
	case VIRTIO_PCI_COMMON_Q_USEDHI: return vq ? vq->used >> 32 : 0;
	}
	return 0;
}

static void set_lo(uint64_t *v, uint32_t lo) { *v = (*v & ~0xffffffffULL) | lo; }
static void set_hi(uint64_t *v, uint32_t hi) { *v = (*v & 0xffffffffULL) | ((uint64_t)hi << 32); }

static void common_write(struct virtio_dev *vdev, int off, uint32_t v)
{
	struct virtio_state *s = &vdev->s;
	struct virtio_pci_state *t = &vdev->transport;
	struct vq_state *vq = t->queue_select < vdev->ops->nr_queues ?
			      &s->vq[t->queue_select] : NULL;
	/* Queue setup is frozen once the queue is enabled (spec 4.1.4.3). */
	struct vq_state *vqw = vq && !vq->enabled ? vq : NULL;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: t->dfselect = v; break;
	case VIRTIO_PCI_COMMON_GFSELECT: t->gfselect = v; break;
	case VIRTIO_PCI_COMMON_GF:
		if (t->gfselect == 0)
			set_lo(&s->driver_features, v);
		else if (t->gfselect == 1)
			set_hi(&s->driver_features, v);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		t->msix_config = v < VIRTIO_MSIX_VECTORS ? v : VIRTIO_MSI_NO_VECTOR;
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		if (!(v & 0xff)) {
			reset(vdev);
			break;
		}
		if ((v & VIRTIO_CONFIG_S_FEATURES_OK) &&
		    (s->driver_features & ~virtio__device_features(vdev)))
			v &= ~VIRTIO_CONFIG_S_FEATURES_OK;	/* refused */
		if ((v & VIRTIO_CONFIG_S_DRIVER_OK) && !(s->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
			s->status = v;
			if (vdev->ops->ready)
				vdev->ops->ready(vdev);
		}
		s->status = v;
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT: t->queue_select = v; break;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if (vqw && v && v <= vdev->ops->queue_size && !(v & (v - 1)))
			vqw->size = v;
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (vq) {
			t->queue_vector[t->queue_select] =
				v < VIRTIO_MSIX_VECTORS ? v : VIRTIO_MSI_NO_VECTOR;
			vectors_changed(vdev);
		}
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (vqw && v == 1)
			vqw->enabled = 1;
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO: if (vqw) set_lo(&vqw->desc, v); break;
	case VIRTIO_PCI_COMMON_Q_DESCHI: if (vqw) set_hi(&vqw->desc, v); break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: if (vqw) set_lo(&vqw->avail, v); break;
	case VIRTIO_PCI_COMMON_Q_AVAILHI: if (vqw) set_hi(&vqw->avail, v); break;
	case VIRTIO_PCI_COMMON_Q_USEDLO: if (vqw) set_lo(&vqw->used, v); break;
	case VIRTIO_PCI_COMMON_Q_USEDHI: if (vqw) set_hi(&vqw->used, v); break;
	}
}

static void msix_write(struct virtio_dev *vdev, int off, uint32_t v)
{
	int vec = off / 16;
	struct msix_entry *m;

	if (vec >= VIRTIO_MSIX_VECTORS)
		return;
	m = &vdev->transport.msix[vec];
	((uint32_t *)m)[(off % 16) / 4] = v;
	if (vdev->call_gsi[vec] >= 0 && (off % 16) < 12)
		irq__update_msi_route(vdev->vm, vdev->call_gsi[vec],
				      ((uint64_t)m->addr_hi << 32) | m->addr_lo, m->data);
	if (!(m->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT) && vdev->transport.msix_pending[vec]) {
		vdev->transport.msix_pending[vec] = 0;
		signal_vector(vdev, vec);
	}
	if (off % 16 == 12)
		vectors_changed(vdev);
}

static void kick(struct virtio_dev *vdev, int q)
{
	if (q < vdev->ops->nr_queues && virtio__ready(vdev) && vdev->s.vq[q].enabled)
		vdev->ops->notify(vdev, q);
}

static void bar_io(struct vcpu *vcpu, uint64_t addr, uint8_t *data,
		   uint32_t len, bool is_write, void *opaque)
{
	struct virtio_dev *vdev = opaque;
	uint32_t off = addr - vdev->pci.bar_mapped[0], v = 0;
	uint64_t r = 0;
	int i;

	if (len > 4)
		len = 4;
	memcpy(&v, data, is_write ? len : 0);
	pthread_mutex_lock(&vdev->lock);
	if (off < COMMON_OFF + COMMON_LEN) {
		if (is_write)
			common_write(vdev, off, v);
		else
			r = common_read(vdev, off);
	} else if (off >= MSIX_TABLE_OFF && off < MSIX_TABLE_OFF + 16 * VIRTIO_MSIX_VECTORS) {
		if (is_write && len == 4)
			msix_write(vdev, off - MSIX_TABLE_OFF, v);
		else if (!is_write)
			memcpy(&r, (uint8_t *)vdev->transport.msix + (off - MSIX_TABLE_OFF),
			       len <= MSIX_TABLE_OFF + 16 * VIRTIO_MSIX_VECTORS - off ? len : 0);
	} else if (off >= MSIX_PBA_OFF && off < MSIX_PBA_OFF + 8) {
		for (i = 0; !is_write && i < VIRTIO_MSIX_VECTORS; i++)
			r |= (uint64_t)vdev->transport.msix_pending[i] << i;
		r >>= 8 * (off - MSIX_PBA_OFF);
	} else if (off == ISR_OFF) {
		if (!is_write) {
			r = vdev->s.isr;
			vdev->s.isr = 0;
		}
	} else if (off >= DEVCFG_OFF && off < DEVCFG_OFF + vdev->config_size) {
		if (!is_write)
			memcpy(&r, vdev->config + (off - DEVCFG_OFF),
			       len <= DEVCFG_OFF + vdev->config_size - off ?
			       len : DEVCFG_OFF + vdev->config_size - off);
	} else if (off >= NOTIFY_OFF && off < NOTIFY_OFF + NOTIFY_MULT * VIRTIO_MAX_QUEUES) {
		if (is_write)
			kick(vdev, (off - NOTIFY_OFF) / NOTIFY_MULT);
	}
	pthread_mutex_unlock(&vdev->lock);
	if (!is_write)
		memcpy(data, &r, len);
}

static void kick_event(int fd, uint32_t events, void *opaque)
{
	struct virtio_dev *vdev = opaque;
	uint64_t n;
	int q;

	if (read(fd, &n, sizeof(n)) < 0)
		return;
	for (q = 0; q < vdev->ops->nr_queues && vdev->kick_fd[q] != fd; q++)
		;
	pthread_mutex_lock(&vdev->lock);
	if (q < VIRTIO_MAX_QUEUES && vm__paused(vdev->vm))
		vdev->kick_pending[q] = 1;
	else
		kick(vdev, q);
	pthread_mutex_unlock(&vdev->lock);
}

/*
 * Wait out a handler in progress and the device's own work (a worker's
 * requests); later kicks see the pause (kick_event).
 */
static void virtio_pause(struct device_header *dev)
{
	struct virtio_dev *vdev = container_of(dev, struct virtio_dev, dev);

	pthread_mutex_lock(&vdev->lock);
	if (vdev->ops->quiesce)
		vdev->ops->quiesce(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

static void virtio_resume(struct device_header *dev)
{
	struct virtio_dev *vdev = container_of(dev, struct virtio_dev, dev);
	int q;

	pthread_mutex_lock(&vdev->lock);
	if (virtio__ready(vdev) && vdev->ops->ready)
		vdev->ops->ready(vdev);		/* e.g. watch the tap again */
	for (q = 0; q < vdev->ops->nr_queues; q++) {
		if (vdev->kick_pending[q]) {
			vdev->kick_pending[q] = 0;
			kick(vdev, q);
		}
	}
	pthread_mutex_unlock(&vdev->lock);
}

/*
 * A machine reset: the device as the driver's own reset leaves it, the
 * MSI-X table and pending bits as at start, config space (BAR, MSI-X
 * enable) as registered.
 */
static void virtio_machine_reset(struct device_header *dev)
{
	struct virtio_dev *vdev = container_of(dev, struct virtio_dev, dev);

	pthread_mutex_lock(&vdev->lock);
	reset(vdev);
	memset(vdev->transport.msix, 0, sizeof(vdev->transport.msix));
	memset(vdev->transport.msix_pending, 0, sizeof(vdev->transport.msix_pending));
	memset(vdev->kick_pending, 0, sizeof(vdev->kick_pending));
	pthread_mutex_unlock(&vdev->lock);
	pci__reset(&vdev->pci);
}

static void set_ioeventfds(struct virtio_dev *vdev, uint32_t bar, bool on)
{
	int q;

	for (q = 0; q < vdev->ops->nr_queues; q++) {
		struct kvm_ioeventfd e = {
			.addr = bar + NOTIFY_OFF + NOTIFY_MULT * q,
			.len = 2,
			.fd = vdev->kick_fd[q],
			.flags = on ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
		};

		if (ioctl(vdev->vm->vm_fd, KVM_IOEVENTFD, &e) < 0)
			pr_warn("%s: KVM_IOEVENTFD queue %d: %s", vdev->dev.path, q,
				strerror(errno));
	}
}

/*
 * A BAR the guest maps, moves or unmaps: one atomic move of the range
 * when it moves (no instant without a handler).  A range the guest put
 * over another device's fails: the BAR then decodes nothing, and it says
 * so once per move rather than on every config write.
 */
static int bar_map(struct pci_device *pdev, int bar, uint32_t old, uint32_t new)
{
	struct virtio_dev *vdev = pdev->opaque;
	int ret = 0;

	if (old)
		set_ioeventfds(vdev, old, false);
	if (old && new) {
		ret = vm__move_iotrap(vdev->vm, old, new, IOTRAP_MMIO);
		if (ret)
			vm__unregister_iotrap(vdev->vm, old, IOTRAP_MMIO);
	} else if (old) {
		ret = vm__unregister_iotrap(vdev->vm, old, IOTRAP_MMIO);
	} else if (new) {
		ret = vm__register_iotrap(vdev->vm, new, BAR_SIZE, bar_io, vdev, IOTRAP_MMIO);
	}
	if (ret && new) {
		pr_warn("%s: BAR %d at 0x%x: %s; it decodes nothing", vdev->dev.path,
			bar, new, strerror(-ret));
		return ret;
	}
	if (new)
		set_ioeventfds(vdev, new, true);
	return 0;
}

/* Config writes may only flip MSI-X enable and function mask. */
static void cfg_written(struct pci_device *pdev, int off, int len)
{
	struct virtio_dev *vdev = pdev->opaque;
	uint8_t ctrl_hi = pdev->cfg[pdev->msix_cap + PCI_MSIX_FLAGS + 1];
	int i;

	memcpy(pdev->cfg + CAP_START, pdev->cfg_ro + CAP_START, PCI_CFG_SIZE - CAP_START);
	pdev->cfg[pdev->msix_cap + PCI_MSIX_FLAGS + 1] =
		(pdev->cfg_ro[pdev->msix_cap + PCI_MSIX_FLAGS + 1] & 0x3f) | (ctrl_hi & 0xc0);
	pthread_mutex_lock(&vdev->lock);
	for (i = 0; i < VIRTIO_MSIX_VECTORS; i++) {
		if (vdev->transport.msix_pending[i] && !vector_masked(vdev, i)) {
			vdev->transport.msix_pending[i] = 0;
			signal_vector(vdev, i);
		}
	}
	vectors_changed(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

static uint8_t *add_cap(uint8_t *cfg, int *at, int len)
{
	uint8_t *c = cfg + *at;

	*at += (len + 3) & ~3;
	return c;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void vendor_cap(uint8_t *c, uint8_t type, uint8_t len, uint32_t off, uint32_t size)
{
	c[0] = PCI_CAP_ID_VNDR;
	c[2] = len;
	c[3] = type;
	c[4] = 0;		/* BAR 0 */
	put32(c + 8, off);
	put32(c + 12, size);
}

static void build_config_space(struct virtio_dev *vdev)
{
	uint8_t *cfg = vdev->pci.cfg, *caps[6];
	const struct virtio_ops *ops = vdev->ops;
	int at = CAP_START, n = 0, i;

	put16(cfg + PCI_VENDOR_ID, 0x1af4);
	put16(cfg + PCI_DEVICE_ID, 0x1040 + ops->type);
	cfg[PCI_REVISION_ID] = 1;
	cfg[PCI_CLASS_PROG] = ops->class_code & 0xff;
	put16(cfg + PCI_CLASS_DEVICE, ops->class_code >> 8);
	put16(cfg + PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
	put16(cfg + PCI_SUBSYSTEM_ID, 0x40);
	cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	cfg[PCI_CAPABILITY_LIST] = CAP_START;
	vdev->pci.bar_size[0] = BAR_SIZE;

	caps[n] = add_cap(cfg, &at, 16);
	vendor_cap(caps[n++], VIRTIO_PCI_CAP_COMMON_CFG, 16, COMMON_OFF, COMMON_LEN);
	caps[n] = add_cap(cfg, &at, 20);
	vendor_cap(caps[n], VIRTIO_PCI_CAP_NOTIFY_CFG, 20, NOTIFY_OFF,
		   NOTIFY_MULT * VIRTIO_MAX_QUEUES);
	put32(caps[n++] + 16, NOTIFY_MULT);
	caps[n] = add_cap(cfg, &at, 16);
	vendor_cap(caps[n++], VIRTIO_PCI_CAP_ISR_CFG, 16, ISR_OFF, 1);
	if (vdev->config_size) {
		caps[n] = add_cap(cfg, &at, 16);
		vendor_cap(caps[n++], VIRTIO_PCI_CAP_DEVICE_CFG, 16, DEVCFG_OFF,
			   vdev->config_size);
	}
	vdev->pci.msix_cap = at;
	caps[n] = add_cap(cfg, &at, 12);
	caps[n][0] = PCI_CAP_ID_MSIX;
	put16(caps[n] + PCI_MSIX_FLAGS, VIRTIO_MSIX_VECTORS - 1);
	put32(caps[n] + PCI_MSIX_TABLE, MSIX_TABLE_OFF);
	put32(caps[n++] + PCI_MSIX_PBA, MSIX_PBA_OFF);
	for (i = 0; i + 1 < n; i++)
		caps[i][1] = caps[i + 1] - cfg;		/* cap_next */
	memcpy(vdev->pci.cfg_ro, cfg, PCI_CFG_SIZE);
}

void virtio__loaded(struct virtio_dev *vdev)
{
	vq__check_loaded(vdev);
	if (vdev->ops->loaded) {
		pthread_mutex_lock(&vdev->lock);
		vdev->ops->loaded(vdev);
		pthread_mutex_unlock(&vdev->lock);
	}
	virtio__post_load(vdev);
}

int virtio__register(struct vm *vm, struct virtio_dev *vdev,
		     const struct virtio_ops *ops, void *priv,
		     void *config, uint32_t config_size)
{
	char slot[16];
	int i, ret;

	vdev->vm = vm;
	vdev->ops = ops;
	vdev->priv = priv;
	vdev->config = config;
	vdev->config_size = config_size;
	vdev->dev.name = ops->name;
	vdev->dev.opaque = vdev;
	vdev->dev.pause = virtio_pause;
	vdev->dev.resume = virtio_resume;
	vdev->dev.reset = virtio_machine_reset;
	pthread_mutex_init(&vdev->lock, NULL);
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vdev->kick_fd[i] = -1;
	for (i = 0; i < VIRTIO_MSIX_VECTORS; i++) {
		vdev->call_fd[i] = -1;
		vdev->call_gsi[i] = -1;
	}
	reset(vdev);
	for (i = 0; i < ops->nr_queues; i++) {
		vdev->kick_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vdev->kick_fd[i] < 0 ||
		    ioloop__add(vm, vdev->kick_fd[i], EPOLLIN, kick_event, vdev)) {
			ret = -EMFILE;
			goto err;
		}
	}
	build_config_space(vdev);
	vdev->pci.bar_map = bar_map;
	vdev->pci.cfg_written = cfg_written;
	vdev->pci.opaque = vdev;
	ret = pci__register(vm, &vdev->pci);
	if (ret)
		goto err;
	pci__slot_name(&vdev->pci, slot, sizeof(slot));
	snprintf(vdev->dev.path, sizeof(vdev->dev.path), "/machine/pci0/%s/%s",
		 slot, ops->name);
	ret = virtio__register_state(vm, vdev);
	if (ret) {
		pci__unregister(vm, &vdev->pci);
		goto err;
	}
	device__register(vm, &vdev->dev);
	return 0;
err:
	for (i = 0; i < ops->nr_queues; i++) {
		if (vdev->kick_fd[i] >= 0) {
			ioloop__del(vm, vdev->kick_fd[i]);
			close(vdev->kick_fd[i]);
		}
	}
	pthread_mutex_destroy(&vdev->lock);
	return ret;
}

void virtio__unregister(struct vm *vm, struct virtio_dev *vdev)
{
	int i;

	device__unregister(vm, &vdev->dev);
	virtio__unregister_state(vm, vdev);
	pci__unregister(vm, &vdev->pci);
	for (i = 0; i < vdev->ops->nr_queues; i++) {
		ioloop__del(vm, vdev->kick_fd[i]);
		close(vdev->kick_fd[i]);
	}
	for (i = 0; i < VIRTIO_MSIX_VECTORS; i++) {
		if (vdev->call_fd[i] >= 0) {
			irq__irqfd(vm, vdev->call_fd[i], vdev->call_gsi[i], 1);
			close(vdev->call_fd[i]);
		}
	}
	pthread_mutex_destroy(&vdev->lock);
}

struct virtio_dev *virtio__find(struct vm *vm, const char *name, int n)
{
	struct device_header *d = device__find(vm, name, n);

	return d ? container_of(d, struct virtio_dev, dev) : NULL;
}

void virtio__post_load(struct virtio_dev *vdev)
{
	int i;

	pci__remap(&vdev->pci);
	pthread_mutex_lock(&vdev->lock);
	for (i = 0; i < VIRTIO_MSIX_VECTORS; i++) {
		struct msix_entry *m = &vdev->transport.msix[i];

		if (vdev->call_gsi[i] >= 0)
			irq__update_msi_route(vdev->vm, vdev->call_gsi[i],
					      ((uint64_t)m->addr_hi << 32) | m->addr_lo, m->data);
	}
	/* Host-side setup a fresh device does at DRIVER_OK, then any work
	 * the driver queued while we were stopped. */
	if (vm__paused(vdev->vm)) {
		for (i = 0; i < vdev->ops->nr_queues; i++)
			vdev->kick_pending[i] = 1;	/* virtio_resume does the rest */
	} else {
		if (virtio__ready(vdev) && vdev->ops->ready)
			vdev->ops->ready(vdev);
		for (i = 0; i < vdev->ops->nr_queues; i++)
			kick(vdev, i);
	}
	pthread_mutex_unlock(&vdev->lock);
}
