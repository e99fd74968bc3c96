// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-net for virtio-net (vhost-net.h).  The kernel takes the rings
 * from their saved state (VHOST_SET_VRING_BASE: the next avail entry;
 * the used index it reads from guest memory) and gives them back the
 * same way, so a pause, a save and a migration see the rings as the
 * userspace device would leave them.  A queue's kick is its ioeventfd,
 * which the I/O loop then no longer reads.  The kernel's interrupts go
 * straight to KVM, through the irqfd of the queue's MSI-X vector, while
 * that vector is unmasked; while it is masked (or unset, or MSI-X off)
 * they go to an eventfd per queue that the I/O loop turns into
 * vq__notify, which keeps the vector's pending bit.  The transport says
 * when that changes (vectors_changed), so masking and the driver's
 * vector choice stay the transport's.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/ioloop.h"
#include "vm/mem.h"
#include "vm/vm.h"
#include "vm/test_hooks.h"
#include "vm/virtio.h"
#include "vm/devices/vhost-net.h"

#define NR_QUEUES	2	/* receive, transmit */
#define MAX_RANGES	2

struct vhost_net {
	struct vm *vm;
	struct virtio_dev *vdev;
	int fd;				/* /dev/vhost-net */
	int tap;
	uint64_t features;		/* the kernel's */
	unsigned long *log;		/* gpa_log while the dirty log runs */
	bool running;
	/*
	 * The queues handed over: a driver's reset clears the device state
	 * (enabled included) before the stop, which must still find them.
	 */
	unsigned int started;
	int call_fd[NR_QUEUES];		/* the relay's, read by the I/O loop */
	int call_set[NR_QUEUES];	/* what the kernel signals now, or -1 */
};

static int vhost_ioctl(struct vhost_net *vh, unsigned long req, void *arg,
		       const char *what, int q)
{
	int err;

	if (ioctl(vh->fd, req, arg) >= 0)
		return 0;
	err = errno;
	if (q >= 0)
		pr_err("%s: vhost-net %s, queue %d: %s", vh->vdev->dev.path, what, q,
		       strerror(err));
	else
		pr_err("%s: vhost-net %s: %s", vh->vdev->dev.path, what, strerror(err));
	return -err;
}

/* The kernel raised a queue's interrupt: the transport delivers it. */
static void call_event(int fd, uint32_t events, void *opaque)
{
	struct vhost_net *vh = opaque;
	uint64_t n;
	int q;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	for (q = 0; q < NR_QUEUES && vh->call_fd[q] != fd; q++)
		;
	if (q == NR_QUEUES)
		return;
	pthread_mutex_lock(&vh->vdev->lock);
	vq__notify(vh->vdev, q);
	pthread_mutex_unlock(&vh->vdev->lock);
}

static int set_features(struct vhost_net *vh)
{
	uint64_t f = vh->vdev->s.driver_features & vh->features &
		     ~(1ULL << VHOST_F_LOG_ALL);

	if (vh->log)
		f |= 1ULL << VHOST_F_LOG_ALL;
	return vhost_ioctl(vh, VHOST_SET_FEATURES, &f, "SET_FEATURES", -1);
}

static int set_ring_addr(struct vhost_net *vh, int q)
{
	struct vq_state *vq = &vh->vdev->s.vq[q];
	struct vhost_vring_addr a = {
		.index = q,
		.flags = vh->log ? 1u << VHOST_VRING_F_LOG : 0,
		.log_guest_addr = vq->used,
	};
	void *desc = guest__ptr(vh->vm, vq->desc, 16 * (uint64_t)vq->size);
	void *avail = guest__ptr(vh->vm, vq->avail, 6 + 2 * (uint64_t)vq->size);
	void *used = guest__ptr(vh->vm, vq->used, 6 + 8 * (uint64_t)vq->size);

	/* The alignments virtio 1.x requires, as the userspace rings check. */
	if (!desc || !avail || !used || (vq->desc & 15) || (vq->avail & 1) ||
	    (vq->used & 3)) {
		pr_err("%s: queue %d rings misaligned or outside guest RAM",
		       vh->vdev->dev.path, q);
		return -EINVAL;
	}
	a.desc_user_addr = (uintptr_t)desc;
	a.avail_user_addr = (uintptr_t)avail;
	a.used_user_addr = (uintptr_t)used;
	return vhost_ioctl(vh, VHOST_SET_VRING_ADDR, &a, "SET_VRING_ADDR", q);
}

/*
 * Queue q's interrupts to the vector's irqfd if it takes them now, else
 * to the relay.  An interrupt the kernel raised on the old fd meanwhile
 * is delivered anyway: the irqfd's by KVM, the relay's by the I/O loop
 * (then as pending, if the vector is masked).
 */
static int set_call(struct vhost_net *vh, int q)
{
	int fd = virtio__queue_irqfd(vh->vdev, q);
	struct vhost_vring_file call = { q, fd >= 0 ? fd : vh->call_fd[q] };
	int ret;

	if (call.fd == vh->call_set[q])
		return 0;
	ret = vhost_ioctl(vh, VHOST_SET_VRING_CALL, &call, "SET_VRING_CALL", q);
	if (ret)
		return ret;
	vh->call_set[q] = call.fd;
	pr_debug("%s: vhost-net queue %d interrupts: %s", vh->vdev->dev.path, q,
		 fd >= 0 ? "the vector's irqfd, straight to KVM" :
			   "relayed (vector masked or unset)");
	return 0;
}

static int start_queue(struct vhost_net *vh, int q)
{
	struct vq_state *vq = &vh->vdev->s.vq[q];
	struct vhost_vring_state num = { q, vq->size }, base = { q, vq->last_avail };
	struct vhost_vring_file kick = { q, vh->vdev->kick_fd[q] };
	struct vhost_vring_file backend = { q, vh->tap };

	vh->call_set[q] = -1;
	return vhost_ioctl(vh, VHOST_SET_VRING_NUM, &num, "SET_VRING_NUM", q) ?:
	       vhost_ioctl(vh, VHOST_SET_VRING_BASE, &base, "SET_VRING_BASE", q) ?:
	       set_ring_addr(vh, q) ?:
	       vhost_ioctl(vh, VHOST_SET_VRING_KICK, &kick, "SET_VRING_KICK", q) ?:
	       set_call(vh, q) ?:
	       vhost_ioctl(vh, VHOST_NET_SET_BACKEND, &backend, "NET_SET_BACKEND", q);
}

void vhost_net__vectors_changed(struct vhost_net *vh)
{
	int q;

	for (q = 0; q < NR_QUEUES; q++)
		if (vh->started & 1u << q)
			set_call(vh, q);
}

/* Detach the tap from queue q; save: and note where its rings stand. */
static void stop_queue(struct vhost_net *vh, int q, bool save)
{
	struct vq_state *vq = &vh->vdev->s.vq[q];
	struct vhost_vring_file backend = { q, -1 };
	struct vhost_vring_state base = { q, 0 };
	uint16_t *used_idx;

	/* Returns once the kernel thread is done with the queue. */
	vhost_ioctl(vh, VHOST_NET_SET_BACKEND, &backend, "NET_SET_BACKEND", q);
	if (vhost_ioctl(vh, VHOST_GET_VRING_BASE, &base, "GET_VRING_BASE", q) || !save)
		return;
	vq->last_avail = base.num;
	used_idx = guest__ptr(vh->vm, vq->used + 2, 2);
	if (used_idx)
		vq->used_idx = __atomic_load_n(used_idx, __ATOMIC_ACQUIRE);
}

static void stop_queues(struct vhost_net *vh, bool save)
{
	uint64_t n;
	int q;

	for (q = 0; q < NR_QUEUES; q++)
		if (vh->started & 1u << q)
			stop_queue(vh, q, save);
	vh->started = 0;
	vh->running = false;
	/* An interrupt raised before the stop and not yet delivered. */
	for (q = 0; q < NR_QUEUES; q++)
		if (read(vh->call_fd[q], &n, sizeof(n)) == sizeof(n) && save)
			vq__notify(vh->vdev, q);
}

int vhost_net__start(struct vhost_net *vh)
{
	int q, ret;

	if (vh->running)
		return 0;
	ret = set_features(vh);
	vh->running = true;
	for (q = 0; q < NR_QUEUES && !ret; q++) {
		if (!vh->vdev->s.vq[q].enabled)
			continue;
		/* Detached again by the stop, even if only part of it got in. */
		vh->started |= 1u << q;
		ret = start_queue(vh, q);
	}
	if (ret) {
		stop_queues(vh, false);
		vh->vdev->s.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	}
	return ret;
}

void vhost_net__stop(struct vhost_net *vh, bool save)
{
	if (vh->running)
		stop_queues(vh, save);
}

int vhost_net__set_log(struct vhost_net *vh, unsigned long *log)
{
	uint64_t base = (uintptr_t)log;
	int q, ret = 0;

	if (test_hook__env("TERN_TEST_VHOST_UNLOGGED"))
		return 0;
	if (log)
		ret = vhost_ioctl(vh, VHOST_SET_LOG_BASE, &base, "SET_LOG_BASE", -1);
	if (ret)
		return ret;
	vh->log = log;
	if (!vh->running)
		return 0;		/* the next start logs */
	/* On: the used rings' log before every write's; off: the reverse. */
	for (q = 0; q < NR_QUEUES && log && !ret; q++)
		if (vh->started & 1u << q)
			ret = set_ring_addr(vh, q);
	ret = ret ?: set_features(vh);
	for (q = 0; q < NR_QUEUES && !log && !ret; q++)
		if (vh->started & 1u << q)
			ret = set_ring_addr(vh, q);
	return ret;
}

static int set_mem_table(struct vhost_net *vh)
{
	struct guest_range r[MAX_RANGES];
	struct vhost_memory *mem;
	int i, n, ret;

	n = guest__ram_ranges(vh->vm, r, MAX_RANGES);
	if (n > MAX_RANGES)
		return -E2BIG;
	mem = calloc(1, sizeof(*mem) + n * sizeof(mem->regions[0]));
	if (!mem)
		return -ENOMEM;
	mem->nregions = n;
	for (i = 0; i < n; i++)
		mem->regions[i] = (struct vhost_memory_region){
			.guest_phys_addr = r[i].gpa,
			.memory_size = r[i].size,
			.userspace_addr = (uintptr_t)r[i].host,
		};
	ret = vhost_ioctl(vh, VHOST_SET_MEM_TABLE, mem, "SET_MEM_TABLE", -1);
	free(mem);
	return ret;
}

struct vhost_net *vhost_net__open(struct vm *vm, struct virtio_dev *vdev,
				  int tap, int *err)
{
	const uint64_t need = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VHOST_F_LOG_ALL);
	struct vhost_net *vh;
	int q;

	vh = calloc(1, sizeof(*vh));
	if (!vh) {
		*err = -ENOMEM;
		return NULL;
	}
	vh->vm = vm;
	vh->vdev = vdev;
	vh->tap = tap;
	for (q = 0; q < NR_QUEUES; q++)
		vh->call_fd[q] = vh->call_set[q] = -1;
	vh->fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (vh->fd < 0) {
		*err = -errno;
		pr_err("%s: /dev/vhost-net: %s", vdev->dev.path, strerror(errno));
		goto err;
	}
	*err = vhost_ioctl(vh, VHOST_SET_OWNER, NULL, "SET_OWNER", -1) ?:
	       vhost_ioctl(vh, VHOST_GET_FEATURES, &vh->features, "GET_FEATURES", -1);
	if (!*err && (vh->features & need) != need) {
		pr_err("%s: vhost-net offers features 0x%llx, without VERSION_1 or LOG_ALL",
		       vdev->dev.path, (unsigned long long)vh->features);
		*err = -EOPNOTSUPP;
	}
	*err = *err ?: set_mem_table(vh);
	for (q = 0; q < NR_QUEUES && !*err; q++) {
		vh->call_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vh->call_fd[q] < 0)
			*err = -errno;
		else if (ioloop__add(vm, vh->call_fd[q], EPOLLIN, call_event, vh))
			*err = -EMFILE;		/* the I/O loop's table is full */
	}
	if (*err)
		goto err;
	/* The kicks are the kernel's to read now. */
	for (q = 0; q < NR_QUEUES; q++)
		ioloop__del(vm, vdev->kick_fd[q]);
	return vh;
err:
	vhost_net__close(vh);
	return NULL;
}

void vhost_net__close(struct vhost_net *vh)
{
	int q;

	if (!vh)
		return;
	for (q = 0; q < NR_QUEUES; q++) {
		if (vh->call_fd[q] >= 0) {
			ioloop__del(vh->vm, vh->call_fd[q]);
			close(vh->call_fd[q]);
		}
	}
	if (vh->fd >= 0)
		close(vh->fd);
	free(vh);
}
