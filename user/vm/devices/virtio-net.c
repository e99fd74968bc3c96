// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net on a tap device (--net tap=IFNAME): no offloads, the 12-byte
 * virtio_net_hdr_v1 passed through the tap's vnet header.  Transmit on the
 * queue kick, receive when the tap is readable and the driver has posted
 * buffers (otherwise the tap is unwatched until it posts more).  With
 * vhost=on the kernel serves both queues instead (vhost-net.c) while the
 * driver is ready and the VM runs; config space, the MAC and its
 * announce stay here.
 *
 * The MAC is the guest's: derived from the tap's name at start (a hash,
 * so two taps get two MACs), it travels with the device state (the
 * subsection "mac" of its virtio-device section, vdev.mac) and a
 * destination takes it over.  Once the migrated
 * guest runs, the destination announces the MAC on its tap, a RARP
 * frame five times at growing intervals (50, 150, ... 450 ms, as QEMU's
 * announce-* defaults), so switches learn the guest's new port.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/init.h"
#include "vm/ioloop.h"
#include "vm/vm.h"
#include "vm/virtio.h"
#include "vm/devices/vhost-net.h"

#define RX_QUEUE	0
#define TX_QUEUE	1
#define HDR_LEN		((int)sizeof(struct virtio_net_hdr_v1))

#define ANNOUNCE_ROUNDS		5
#define ANNOUNCE_INITIAL_MS	50
#define ANNOUNCE_STEP_MS	100

struct net {
	struct virtio_dev vdev;
	int tap;
	struct vhost_net *vhost;	/* vhost=on, else NULL */
	bool rx_watched;
	struct virtio_net_config config;
	int announce_fd;		/* timerfd while announcing, else -1 */
	int announced;			/* frames sent so far */
};

static void rx(struct net *n);
static void watch_tap(struct net *n, bool on);

static void tap_readable(int fd, uint32_t events, void *opaque)
{
	struct net *n = opaque;

	pthread_mutex_lock(&n->vdev.lock);
	if (vm__paused(n->vdev.vm))
		watch_tap(n, false);	/* resume watches it again (ready) */
	else
		rx(n);
	pthread_mutex_unlock(&n->vdev.lock);
}

static void watch_tap(struct net *n, bool on)
{
	if (on == n->rx_watched)
		return;
	if (on)
		ioloop__add(n->vdev.vm, n->tap, EPOLLIN, tap_readable, n);
	else
		ioloop__del(n->vdev.vm, n->tap);
	n->rx_watched = on;
}

/* Lock held. */
static void rx(struct net *n)
{
	struct virtio_dev *vdev = &n->vdev;
	struct iovec iov[VQ_MAX_SEGS];
	struct vq_elem e;
	int cnt, done = 0;
	ssize_t len;

	for (;;) {
		if (!virtio__ready(vdev) || vq__pop(vdev, RX_QUEUE, &e) <= 0) {
			watch_tap(n, false);	/* re-armed by the next rx kick */
			break;
		}
		cnt = vq__in_iov(&e, 0, e.in_len, iov, VQ_MAX_SEGS);
		len = readv(n->tap, iov, cnt);
		if (len < 0) {
			/* Nothing to read: give the buffer back unused. */
			vdev->s.vq[RX_QUEUE].last_avail--;
			watch_tap(n, true);
			break;
		}
		vq__push(vdev, RX_QUEUE, &e, len);
		done++;
	}
	if (done)
		vq__notify(vdev, RX_QUEUE);
}

static void tx(struct net *n)
{
	struct virtio_dev *vdev = &n->vdev;
	struct iovec iov[VQ_MAX_SEGS];
	struct vq_elem e;
	int cnt, done = 0;

	while (vq__pop(vdev, TX_QUEUE, &e) > 0) {
		cnt = vq__out_iov(&e, 0, e.out_len, iov, VQ_MAX_SEGS);
		if (writev(n->tap, iov, cnt) < 0)
			pr_debug("tap write: %s", strerror(errno));
		vq__push(vdev, TX_QUEUE, &e, 0);
		done++;
	}
	if (done)
		vq__notify(vdev, TX_QUEUE);
}

static void net_notify(struct virtio_dev *vdev, int q)
{
	struct net *n = vdev->priv;
	uint64_t one = 1;

	/* A kick that came another way (after a load, a 4-byte write). */
	if (n->vhost) {
		if (write(vdev->kick_fd[q], &one, sizeof(one)) < 0)
			pr_debug("%s: kick: %s", vdev->dev.path, strerror(errno));
		return;
	}
	if (q == TX_QUEUE)
		tx(n);
	else if (q == RX_QUEUE)
		rx(n);
}

static void net_ready(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;

	if (n->vhost)
		vhost_net__start(n->vhost);
	else
		watch_tap(n, true);
}

/* The VM pauses: the kernel's queues stop where they stand. */
static void net_quiesce(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;

	if (n->vhost)
		vhost_net__stop(n->vhost, true);
}

static void net_reset(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;

	if (n->vhost)
		vhost_net__stop(n->vhost, false);
}

static void net_vectors_changed(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;

	if (n->vhost)
		vhost_net__vectors_changed(n->vhost);
}

static int net_dirty_log(struct device_header *dev, unsigned long *log)
{
	struct virtio_dev *vdev = container_of(dev, struct virtio_dev, dev);
	struct net *n = vdev->priv;
	int ret;

	pthread_mutex_lock(&vdev->lock);
	ret = vhost_net__set_log(n->vhost, log);
	pthread_mutex_unlock(&vdev->lock);
	return ret;
}

/*
 * A RARP "reverse request" from the guest's MAC to everyone, as QEMU's
 * self-announce sends: the switch learns the MAC's port, no host
 * answers.  After the tap's vnet header (no offloads: zeros).
 */
static void announce_once(struct net *n)
{
	uint8_t frame[HDR_LEN + 60] = { 0 };
	uint8_t *e = frame + HDR_LEN, *a = e + 14;

	memset(e, 0xff, 6);
	memcpy(e + 6, n->config.mac, 6);
	e[12] = 0x80, e[13] = 0x35;		/* ETH_P_RARP */
	a[1] = 1;				/* hardware: Ethernet */
	a[2] = 0x08;				/* protocol: IPv4 */
	a[4] = 6, a[5] = 4;			/* address lengths */
	a[7] = 3;				/* reverse request */
	memcpy(a + 8, n->config.mac, 6);	/* sender, IP 0 */
	memcpy(a + 18, n->config.mac, 6);	/* target, IP 0 */
	if (write(n->tap, frame, sizeof(frame)) < 0)
		pr_debug("%s: announce: %s", n->vdev.dev.path, strerror(errno));
}

static void arm(int fd, unsigned int ms)
{
	struct itimerspec t = {
		.it_value = { ms / 1000, (long)(ms % 1000) * 1000000 },
	};

	timerfd_settime(fd, 0, &t, NULL);
}

/* Lock held. */
static void announce_stop(struct net *n)
{
	if (n->announce_fd < 0)
		return;
	ioloop__del(n->vdev.vm, n->announce_fd);
	close(n->announce_fd);
	n->announce_fd = -1;
}

/* A paused guest is not announced yet: the first frame waits for it. */
static void announce_tick(int fd, uint32_t events, void *opaque)
{
	struct net *n = opaque;
	uint64_t expired;

	if (read(fd, &expired, sizeof(expired)) < 0)
		return;
	pthread_mutex_lock(&n->vdev.lock);
	if (vm__paused(n->vdev.vm)) {
		arm(fd, ANNOUNCE_INITIAL_MS);
	} else {
		announce_once(n);
		if (++n->announced < ANNOUNCE_ROUNDS)
			arm(fd, ANNOUNCE_INITIAL_MS + n->announced * ANNOUNCE_STEP_MS);
		else
			announce_stop(n);
	}
	pthread_mutex_unlock(&n->vdev.lock);
}

/* Lock held. */
static void announce_start(struct net *n)
{
	announce_stop(n);
	n->announced = 0;
	n->announce_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (n->announce_fd < 0 ||
	    ioloop__add(n->vdev.vm, n->announce_fd, EPOLLIN, announce_tick, n)) {
		pr_warn("%s: cannot announce the MAC: %s", n->vdev.dev.path,
			n->announce_fd < 0 ? strerror(errno) : "I/O loop full");
		if (n->announce_fd >= 0)
			close(n->announce_fd);
		n->announce_fd = -1;
		return;
	}
	arm(n->announce_fd, ANNOUNCE_INITIAL_MS);
}

/* State loaded (a migration's destination, a restore): the guest's MAC. */
static void net_loaded(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;
	static const uint8_t none[6];

	if (memcmp(vdev->mac, none, 6)) {
		const uint8_t *m = vdev->vm->cfg.net_mac;

		/* The guest knows its MAC: a different mac= here cannot apply. */
		if (vdev->vm->cfg.net_mac_set && memcmp(m, vdev->mac, 6))
			pr_warn("%s: the guest keeps its MAC %02x:%02x:%02x:%02x:%02x:%02x;"
				" mac=%02x:%02x:%02x:%02x:%02x:%02x applies to a guest booted here",
				vdev->dev.path, vdev->mac[0], vdev->mac[1], vdev->mac[2],
				vdev->mac[3], vdev->mac[4], vdev->mac[5],
				m[0], m[1], m[2], m[3], m[4], m[5]);
		memcpy(n->config.mac, vdev->mac, 6);
	} else
		memcpy(vdev->mac, n->config.mac, 6);	/* not sent: ours stays */
	announce_start(n);
}

static const struct virtio_ops net_ops = {
	.name = "virtio-net",
	.type = VIRTIO_ID_NET,
	.class_code = 0x020000,		/* ethernet */
	.nr_queues = 2,
	.queue_size = 256,
	.features = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS),
	.notify = net_notify,
	.quiesce = net_quiesce,
	.reset = net_reset,
	.ready = net_ready,
	.loaded = net_loaded,
	.vectors_changed = net_vectors_changed,
};

static int open_tap(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd, hdr = HDR_LEN;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int virtio_net__init(struct vm *vm)
{
	struct net *n;
	int ret;

	if (!vm->cfg.net_tap)
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->tap = open_tap(vm->cfg.net_tap);
	if (n->tap < 0) {
		ret = n->tap;
		pr_err("--net tap=%s: %s", vm->cfg.net_tap, strerror(-ret));
		free(n);
		return ret;
	}
	n->announce_fd = -1;
	/* The user's (--net ...,mac=); else locally administered, stable
	 * across runs of the same tap, and different for two taps (FNV-1a of
	 * the name). */
	if (vm->cfg.net_mac_set) {
		memcpy(n->config.mac, vm->cfg.net_mac, 6);
	} else {
		const char *c;
		uint32_t h = 2166136261u;

		for (c = vm->cfg.net_tap; *c; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
		memcpy(n->config.mac, "\x52\x54\x00", 3);
		n->config.mac[3] = h >> 16, n->config.mac[4] = h >> 8, n->config.mac[5] = h;
	}
	memcpy(n->vdev.mac, n->config.mac, 6);
	n->config.status = VIRTIO_NET_S_LINK_UP;
	ret = virtio__register(vm, &n->vdev, &net_ops, n, &n->config, sizeof(n->config));
	if (ret)
		goto err_tap;
	if (vm->cfg.net_vhost) {
		n->vhost = vhost_net__open(vm, &n->vdev, n->tap, &ret);
		if (!n->vhost) {
			pr_err("--net tap=%s,vhost=on: %s", vm->cfg.net_tap, strerror(-ret));
			virtio__unregister(vm, &n->vdev);
			goto err_tap;
		}
		n->vdev.dev.dirty_log = net_dirty_log;
	}
	return 0;
err_tap:
	close(n->tap);
	free(n);
	return ret;
}

static int virtio_net__exit(struct vm *vm)
{
	struct virtio_dev *vdev = virtio__find(vm, "virtio-net", 0);
	struct net *n;

	if (!vdev)
		return 0;
	n = vdev->priv;
	watch_tap(n, false);
	announce_stop(n);
	if (n->vhost) {
		pthread_mutex_lock(&vdev->lock);
		vhost_net__stop(n->vhost, false);
		pthread_mutex_unlock(&vdev->lock);
	}
	virtio__unregister(vm, vdev);
	vhost_net__close(n->vhost);
	close(n->tap);
	free(n);
	return 0;
}
virtio_dev_init(virtio_net__init);
virtio_dev_exit(virtio_net__exit);
