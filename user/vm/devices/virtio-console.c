// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console (--vconsole FILE): one port, hvc0 in the guest; what the
 * guest writes goes to FILE.  Nothing is ever sent to the guest, so its
 * receive queue just holds the buffers the driver posts.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/init.h"
#include "vm/vm.h"
#include "vm/virtio.h"

#define RX_QUEUE	0
#define TX_QUEUE	1

struct vcon {
	struct virtio_dev vdev;
	int out_fd;
	struct virtio_console_config config;
};

static void vcon_notify(struct virtio_dev *vdev, int q)
{
	struct vcon *c = vdev->priv;
	struct iovec iov[VQ_MAX_SEGS];
	struct vq_elem e;
	int n, done = 0;

	if (q != TX_QUEUE)
		return;
	while (vq__pop(vdev, q, &e) > 0) {
		n = vq__out_iov(&e, 0, e.out_len, iov, VQ_MAX_SEGS);
		if (writev(c->out_fd, iov, n) < 0)
			pr_debug("vconsole: %s", strerror(errno));
		vq__push(vdev, q, &e, 0);
		done++;
	}
	if (done)
		vq__notify(vdev, q);
}

static const struct virtio_ops vcon_ops = {
	.name = "virtio-console",
	.type = VIRTIO_ID_CONSOLE,
	.class_code = 0x078000,		/* communication, other */
	.nr_queues = 2,
	.queue_size = 64,
	.features = 1ULL << VIRTIO_CONSOLE_F_SIZE,
	.notify = vcon_notify,
};

static int virtio_console__init(struct vm *vm)
{
	struct vcon *c;
	int ret;

	if (!vm->cfg.vconsole)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->out_fd = open(vm->cfg.vconsole, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (c->out_fd < 0) {
		ret = -errno;
		pr_err("--vconsole %s: %s", vm->cfg.vconsole, strerror(errno));
		free(c);
		return ret;
	}
	c->config.cols = 80;
	c->config.rows = 25;
	ret = virtio__register(vm, &c->vdev, &vcon_ops, c, &c->config, sizeof(c->config));
	if (ret) {
		close(c->out_fd);
		free(c);
	}
	return ret;
}

static int virtio_console__exit(struct vm *vm)
{
	struct virtio_dev *vdev = virtio__find(vm, "virtio-console", 0);
	struct vcon *c;

	if (!vdev)
		return 0;
	c = vdev->priv;
	virtio__unregister(vm, vdev);
	close(c->out_fd);
	free(c);
	return 0;
}
virtio_dev_init(virtio_console__init);
virtio_dev_exit(virtio_console__exit);
