// SPDX-License-Identifier: GPL-2.0
/* virtio-rng (--rng): fills the driver's buffers from getrandom(2). */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <sys/random.h>

#include "vm/init.h"
#include "vm/vm.h"
#include "vm/virtio.h"

struct rng {
	struct virtio_dev vdev;
};

static void rng_notify(struct virtio_dev *vdev, int q)
{
	struct iovec iov[VQ_MAX_SEGS];
	struct vq_elem e;
	uint32_t total;
	int i, n, done = 0;

	while (vq__pop(vdev, q, &e) > 0) {
		total = 0;
		n = vq__in_iov(&e, 0, e.in_len, iov, VQ_MAX_SEGS);
		for (i = 0; i < n; i++) {
			ssize_t got = getrandom(iov[i].iov_base, iov[i].iov_len, 0);

			if (got > 0)
				total += got;
		}
		vq__push(vdev, q, &e, total);
		done++;
	}
	if (done)
		vq__notify(vdev, q);
}

static const struct virtio_ops rng_ops = {
	.name = "virtio-rng",
	.type = VIRTIO_ID_RNG,
	.class_code = 0xff0000,		/* unclassified */
	.nr_queues = 1,
	.queue_size = 64,
	.notify = rng_notify,
};

static int virtio_rng__init(struct vm *vm)
{
	struct rng *r;
	int ret;

	if (!vm->cfg.rng)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	ret = virtio__register(vm, &r->vdev, &rng_ops, r, NULL, 0);
	if (ret)
		free(r);
	return ret;
}

static int virtio_rng__exit(struct vm *vm)
{
	struct virtio_dev *vdev = virtio__find(vm, "virtio-rng", 0);

	if (!vdev)
		return 0;
	virtio__unregister(vm, vdev);
	free(vdev->priv);
	return 0;
}
virtio_dev_init(virtio_rng__init);
virtio_dev_exit(virtio_rng__exit);
