// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueues (virtio 1.x, no indirect descriptors, no event index):
 * every index, length and address the driver wrote is checked before use;
 * a bad chain is refused, never followed.  Device writes into guest RAM
 * are reported dirty for the KVM-dirty-log migration path.
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <string.h>

#include "lib/log.h"
#include "vm/vm.h"
#include "vm/mem.h"
#include "vm/virtio.h"

static struct vring_avail *avail_of(struct virtio_dev *vdev, struct vq_state *vq)
{
	return guest__ptr(vdev->vm, vq->avail, 4 + 2 * (uint64_t)vq->size);
}

/* A malformed ring: stop using the queue until the driver resets us. */
static int broken(struct virtio_dev *vdev)
{
	vdev->s.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	return -EINVAL;
}

uint16_t vq__waiting(struct virtio_dev *vdev, int q)
{
	struct vq_state *vq = &vdev->s.vq[q];
	struct vring_avail *avail;

	if (!vq->enabled || !vq->size || (vq->avail & 1))
		return 0;
	avail = avail_of(vdev, vq);
	if (!avail)
		return 0;
	return __atomic_load_n(&avail->idx, __ATOMIC_ACQUIRE) - vq->last_avail;
}

int vq__pop(struct virtio_dev *vdev, int q, struct vq_elem *e)
{
	struct vq_state *vq = &vdev->s.vq[q];
	struct vring_desc *desc;
	struct vring_avail *avail;
	uint16_t idx, head, i;
	int n;

	if (!vq->enabled || !vq->size || (vdev->s.status & VIRTIO_CONFIG_S_NEEDS_RESET))
		return 0;
	/* The alignments virtio 1.x requires (2.7): anything else is refused. */
	if ((vq->desc & 15) || (vq->avail & 1) || (vq->used & 3)) {
		pr_err("%s: queue %d rings misaligned", vdev->dev.path, q);
		return broken(vdev);
	}
	avail = avail_of(vdev, vq);
	desc = guest__ptr(vdev->vm, vq->desc, 16 * (uint64_t)vq->size);
	if (!avail || !desc) {
		pr_err("%s: queue %d rings outside guest RAM", vdev->dev.path, q);
		return broken(vdev);
	}
	idx = __atomic_load_n(&avail->idx, __ATOMIC_ACQUIRE);
	if (idx == vq->last_avail)
		return 0;
	if ((uint16_t)(idx - vq->last_avail) > vq->size) {
		pr_err("%s: queue %d avail index %u jumped from %u", vdev->dev.path,
		       q, idx, vq->last_avail);
		return broken(vdev);
	}
	head = __atomic_load_n(&avail->ring[vq->last_avail % vq->size], __ATOMIC_RELAXED);
	vq->last_avail++;
	memset(e, 0, offsetof(struct vq_elem, iov));
	e->head = head;
	for (i = head, n = 0;; n++) {
		struct vring_desc d;
		void *p;

		if (i >= vq->size || n >= vq->size || n >= VQ_MAX_SEGS) {
			pr_err("%s: queue %d bad chain from head %u", vdev->dev.path, q, head);
			return broken(vdev);
		}
		/* One read of each field: the guest may rewrite the table meanwhile. */
		d.addr = __atomic_load_n(&desc[i].addr, __ATOMIC_RELAXED);
		d.len = __atomic_load_n(&desc[i].len, __ATOMIC_RELAXED);
		d.flags = __atomic_load_n(&desc[i].flags, __ATOMIC_RELAXED);
		d.next = __atomic_load_n(&desc[i].next, __ATOMIC_RELAXED);
		p = guest__ptr(vdev->vm, d.addr, d.len);
		if (!p && d.len) {
			pr_err("%s: queue %d buffer 0x%llx+%u outside RAM", vdev->dev.path,
			       q, (unsigned long long)d.addr, d.len);
			return broken(vdev);
		}
		if (d.flags & VRING_DESC_F_INDIRECT) {
			pr_err("%s: queue %d indirect descriptor not negotiated",
			       vdev->dev.path, q);
			return broken(vdev);
		}
		e->iov[n] = (struct iovec){ p, d.len };
		e->gpa[n] = d.addr;
		if (d.flags & VRING_DESC_F_WRITE) {
			e->in_len += d.len;
		} else {
			if (e->in_len) {
				pr_err("%s: queue %d readable after writable", vdev->dev.path, q);
				return broken(vdev);
			}
			e->out_len += d.len;
			e->nr_out++;
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		i = d.next;
	}
	e->nr = n + 1;
	return 1;
}

void vq__push(struct virtio_dev *vdev, int q, const struct vq_elem *e,
	      uint32_t written)
{
	struct vq_state *vq = &vdev->s.vq[q];
	uint64_t used_gpa = vq->used;
	struct vring_used *used;
	uint32_t left = written;
	int i;

	used = guest__ptr(vdev->vm, used_gpa, 4 + 8 * (uint64_t)vq->size);
	if (!used)
		return;
	for (i = e->nr_out; i < e->nr && left; i++) {
		uint32_t n = left < e->iov[i].iov_len ? left : e->iov[i].iov_len;

		vm__mark_dirty(vdev->vm, e->gpa[i], n);
		left -= n;
	}
	used->ring[vq->used_idx % vq->size].id = e->head;
	used->ring[vq->used_idx % vq->size].len = written;
	vq->used_idx++;
	__atomic_store_n(&used->idx, vq->used_idx, __ATOMIC_RELEASE);
	vm__mark_dirty(vdev->vm, used_gpa, 4 + 8 * (uint64_t)vq->size);
}

void vq__check_loaded(struct virtio_dev *vdev)
{
	int q;

	for (q = 0; q < vdev->ops->nr_queues; q++) {
		struct vq_state *vq = &vdev->s.vq[q];
		uint16_t *idx;

		if (!vq->enabled || !vq->size || (vq->used & 3))
			continue;
		idx = guest__ptr(vdev->vm, vq->used + 2, 2);
		if (idx && *idx != vq->used_idx)
			pr_warn("%s: queue %d: the used ring in guest memory is at %u, the"
				" device state at %u: RAM and device state disagree",
				vdev->dev.path, q, *idx, vq->used_idx);
	}
}

static size_t copy_iov(const struct vq_elem *e, int first, int last, size_t off,
		       void *buf, size_t len, bool to_guest)
{
	size_t done = 0;
	int i;

	for (i = first; i < last && done < len; i++) {
		size_t seg = e->iov[i].iov_len, n;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		n = seg - off < len - done ? seg - off : len - done;
		if (to_guest)
			memcpy((char *)e->iov[i].iov_base + off, (char *)buf + done, n);
		else
			memcpy((char *)buf + done, (char *)e->iov[i].iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t vq__read_out(const struct vq_elem *e, size_t off, void *buf, size_t len)
{
	return copy_iov(e, 0, e->nr_out, off, buf, len, false);
}

size_t vq__write_in(const struct vq_elem *e, size_t off, const void *buf, size_t len)
{
	return copy_iov(e, e->nr_out, e->nr, off, (void *)buf, len, true);
}

static int sub_iov(const struct vq_elem *e, int first, int last, size_t off,
		   size_t len, struct iovec *iov, int max)
{
	int i, n = 0;

	for (i = first; i < last && len && n < max; i++) {
		size_t seg = e->iov[i].iov_len, c;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		c = seg - off < len ? seg - off : len;
		iov[n++] = (struct iovec){ (char *)e->iov[i].iov_base + off, c };
		len -= c;
		off = 0;
	}
	return n;
}

int vq__in_iov(const struct vq_elem *e, size_t off, size_t len,
	       struct iovec *iov, int max)
{
	return sub_iov(e, e->nr_out, e->nr, off, len, iov, max);
}

int vq__out_iov(const struct vq_elem *e, size_t off, size_t len,
		struct iovec *iov, int max)
{
	return sub_iov(e, 0, e->nr_out, off, len, iov, max);
}
