// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk on a raw image file (--disk): read, write, flush and get-id,
 * done by the device's own worker thread, so a slow or stuck image never
 * holds the I/O thread (and every other device) with it: a kick only
 * wakes the worker.  Every request is bounds-checked against the image
 * size before any I/O.  The worker submits a batch's reads and flushes
 * to an io_uring at once (bench/disk_bench, the worker's handoff in both:
 * 1.25-1.35x the requests per second of one preadv after another on the
 * host's ext4, 1.02-1.05x on the harness's tmpfs) and writes with pwritev
 * itself: the image is in the page cache, and io_uring hands a buffered
 * write to a kernel worker thread (0.68-0.94x on the host, 0.61-0.85x
 * in the harness).  The ring may only read and sync the image
 * (IORING_REGISTER_RESTRICTIONS, the image its one fixed file).  Where
 * io_uring is not to be had (a kernel or container that forbids it), or
 * with --disk-aio threads, reads and flushes too are done one by one.
 *
 * The worker takes requests from the ring under the device lock and does
 * them without it.  A pause waits until the requests it took are done
 * and in the used ring (blk_quiesce), and the worker takes none while the
 * VM is paused, so saved state never has a request half done.  A driver
 * or machine reset while requests are out bumps the generation: their
 * completions are dropped, not pushed into the new rings.
 *
 * Across a migration (the image on storage both hosts share): a request
 * is done before the VM's pause returns and the ones queued later are in
 * the rings the destination picks up; the image is fdatasync()ed before
 * the device state leaves.
 * The side that runs the guest holds the image's lock (image_lock.h): a
 * destination opens the image at start and takes the lock at `commit`,
 * when the source drops it; a second ternvm on a locked image refuses
 * to start.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/image_lock.h"
#include "vm/init.h"
#include "vm/sandbox.h"
#include "vm/test_hooks.h"
#include "vm/vm.h"
#include "vm/virtio.h"

#define SECTOR		512
#define QUEUE_SIZE	128
#define BATCH		16	/* requests the worker takes at a time */

struct blk {
	struct virtio_dev vdev;
	const char *path;
	int fd;
	uint64_t size;
	struct virtio_blk_config config;
	/* The worker; all below under vdev.lock. */
	pthread_t worker;
	pthread_cond_t wake;	/* kicked or stop */
	pthread_cond_t idle;	/* nr_out went to 0 */
	bool kicked, stop;
	unsigned int nr_out;	/* requests taken, not yet pushed */
	unsigned int gen;	/* bumped by each reset */
	struct vq_elem *batch;	/* BATCH of them, the worker's */
	struct blk_io *io;	/* and what each asks of the image */
	struct io_uring ring;
	bool has_ring;		/* made: to exit */
	bool uring;		/* in use; else one request after another */
};

/* What a checked request asks of the image; NONE: its status is final. */
enum blk_op { BLK_NONE, BLK_READ, BLK_WRITE, BLK_FLUSH };

struct blk_io {
	enum blk_op op;
	int cnt;		/* iov's */
	uint64_t off;
	size_t len;
	struct iovec iov[VQ_MAX_SEGS];
};

/* Check a request and say what I/O it needs (io->op), or its status. */
static uint8_t blk_prepare(struct blk *b, const struct vq_elem *e,
			   struct blk_io *io, uint32_t *written)
{
	struct virtio_blk_outhdr hdr;

	*written = 0;
	io->op = BLK_NONE;
	if (e->in_len < 1 || vq__read_out(e, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return VIRTIO_BLK_S_IOERR;
	io->off = hdr.sector * SECTOR;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		io->len = e->in_len - 1;
		if (hdr.sector > b->size / SECTOR || io->len > b->size - io->off)
			return VIRTIO_BLK_S_IOERR;
		io->cnt = vq__in_iov(e, 0, io->len, io->iov, VQ_MAX_SEGS);
		io->op = BLK_READ;
		*written = io->len;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		io->len = e->out_len - sizeof(hdr);
		if (hdr.sector > b->size / SECTOR || io->len > b->size - io->off)
			return VIRTIO_BLK_S_IOERR;
		io->cnt = vq__out_iov(e, sizeof(hdr), io->len, io->iov, VQ_MAX_SEGS);
		io->op = BLK_WRITE;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		io->len = 0;
		io->op = BLK_FLUSH;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		char id[VIRTIO_BLK_ID_BYTES] = "ternvm-disk0";
		size_t len = e->in_len - 1 < sizeof(id) ? e->in_len - 1 : sizeof(id);

		*written = vq__write_in(e, 0, id, len);
		return VIRTIO_BLK_S_OK;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static uint8_t blk_io_sync(struct blk *b, const struct blk_io *io)
{
	ssize_t n;

	if (io->op == BLK_FLUSH)
		return fdatasync(b->fd) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	n = io->op == BLK_READ ? preadv(b->fd, io->iov, io->cnt, io->off) :
					pwritev(b->fd, io->iov, io->cnt, io->off);
	return n == (ssize_t)io->len ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

/*
 * The batch's writes here, then its reads and flushes in one submission.
 * A flush waits for everything submitted before it (IOSQE_IO_DRAIN), and
 * the writes are done by then: what the driver queued ahead of it reaches
 * the disk first.  Should the ring fail, what it did not complete is done
 * here one by one, and so is everything after.
 */
static void blk_io_uring(struct blk *b, const struct blk_io *io,
			 uint8_t *status, unsigned int n)
{
	bool done[BATCH] = { false };
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	unsigned int i, nr = 0;
	int ret;

	for (i = 0; i < n; i++)
		if (io[i].op == BLK_WRITE)
			status[i] = blk_io_sync(b, &io[i]);
	for (i = 0; i < n; i++) {
		if (io[i].op != BLK_READ && io[i].op != BLK_FLUSH)
			continue;
		sqe = io_uring_get_sqe(&b->ring);
		if (io[i].op == BLK_READ)
			io_uring_prep_readv(sqe, 0, io[i].iov, io[i].cnt, io[i].off);
		else
			io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
		sqe->flags |= IOSQE_FIXED_FILE |
			      (io[i].op == BLK_FLUSH ? IOSQE_IO_DRAIN : 0);
		io_uring_sqe_set_data64(sqe, i);
		status[i] = VIRTIO_BLK_S_IOERR;	/* until it completes whole */
		nr++;
	}
	if (!nr)
		return;
	do
		ret = io_uring_submit(&b->ring);
	while (ret == -EINTR);
	if (ret < 0 || (unsigned int)ret < nr) {
		/* What it left in the ring must never go. */
		pr_err("%s: io_uring took %d of %u requests: one by one from now",
		       b->vdev.dev.path, ret, nr);
		b->uring = false;
	}
	for (nr = ret > 0 ? ret : 0; nr; nr--) {
		do
			ret = io_uring_wait_cqe(&b->ring, &cqe);
		while (ret == -EINTR);
		if (ret) {
			pr_err("%s: io_uring wait: %s; requests one by one from now",
			       b->vdev.dev.path, strerror(-ret));
			b->uring = false;
			break;
		}
		i = cqe->user_data;
		if (i < n) {
			done[i] = true;
			if (cqe->res >= 0 && (size_t)cqe->res == io[i].len)
				status[i] = VIRTIO_BLK_S_OK;
		}
		io_uring_cqe_seen(&b->ring, cqe);
	}
	for (i = 0; !b->uring && i < n; i++)
		if ((io[i].op == BLK_READ || io[i].op == BLK_FLUSH) && !done[i])
			status[i] = blk_io_sync(b, &io[i]);
}

/* The I/O thread's part of a kick (lock held): wake the worker. */
static void blk_notify(struct virtio_dev *vdev, int q)
{
	struct blk *b = vdev->priv;

	b->kicked = true;
	pthread_cond_signal(&b->wake);
}

/*
 * Take a batch, do it unlocked, push it: until the ring is empty, the VM
 * pauses or (test builds) one request is done.  Lock held.
 */
static void blk_run(struct blk *b)
{
	struct virtio_dev *vdev = &b->vdev;
	int hook = test_hook__one_request(vdev->ops->name);
	uint32_t written[BATCH];
	uint8_t status[BATCH];
	unsigned int i, n, gen;

	for (;;) {
		if (!virtio__ready(vdev) || !vdev->s.vq[0].enabled)
			return;
		if (vm__paused(vdev->vm)) {
			if (vq__waiting(vdev, 0))
				vdev->kick_pending[0] = 1;	/* virtio_resume */
			return;
		}
		for (n = 0; n < (hook >= 0 ? 1 : BATCH); n++)
			if (vq__pop(vdev, 0, &b->batch[n]) <= 0)
				break;
		if (!n)
			return;
		b->nr_out = n;
		gen = b->gen;
		pthread_mutex_unlock(&vdev->lock);
		for (i = 0; i < n; i++)
			status[i] = blk_prepare(b, &b->batch[i], &b->io[i], &written[i]);
		if (hook > 0)
			usleep(hook * 1000);
		if (b->uring) {
			blk_io_uring(b, b->io, status, n);
		} else {
			for (i = 0; i < n; i++)
				if (b->io[i].op != BLK_NONE)
					status[i] = blk_io_sync(b, &b->io[i]);
		}
		for (i = 0; i < n; i++)
			if (b->io[i].op != BLK_NONE && status[i] != VIRTIO_BLK_S_OK)
				written[i] = 0;
		pthread_mutex_lock(&vdev->lock);
		b->nr_out = 0;
		pthread_cond_broadcast(&b->idle);
		if (gen != b->gen)
			continue;	/* reset meanwhile: not for the new rings */
		for (i = 0; i < n; i++) {
			vq__write_in(&b->batch[i], b->batch[i].in_len - 1, &status[i], 1);
			vq__push(vdev, 0, &b->batch[i], written[i] + 1);
		}
		vq__notify(vdev, 0);
		/* The test build's hook: the rest waits for a kick (test_hooks.h). */
		if (hook >= 0 && vdev->kick_fd[0] >= 0) {
			uint64_t one = 1;

			if (write(vdev->kick_fd[0], &one, sizeof(one)) == sizeof(one))
				return;
		}
	}
}

static void *blk_worker(void *opaque)
{
	struct blk *b = opaque;

	pthread_setname_np(pthread_self(), "virtio-blk");
	sandbox__enter(SANDBOX_IO);
	pthread_mutex_lock(&b->vdev.lock);
	while (!b->stop) {
		if (!b->kicked) {
			pthread_cond_wait(&b->wake, &b->vdev.lock);
			continue;
		}
		b->kicked = false;
		blk_run(b);
	}
	pthread_mutex_unlock(&b->vdev.lock);
	return NULL;
}

/* A pause (lock held): the requests out are done and pushed. */
static void blk_quiesce(struct virtio_dev *vdev)
{
	struct blk *b = vdev->priv;

	while (b->nr_out)
		pthread_cond_wait(&b->idle, &vdev->lock);
}

/* A driver or machine reset (lock held). */
static void blk_reset(struct virtio_dev *vdev)
{
	struct blk *b = vdev->priv;

	b->gen++;
	b->kicked = false;
}

/* State loaded (a migration's destination, a restore): requests queued in
 * the ring when the state was saved, done once the guest runs here
 * (virtio__post_load kicks the queues). */
static void blk_loaded(struct virtio_dev *vdev)
{
	uint16_t n = vq__waiting(vdev, 0);

	if (n)
		pr_info("%s: %u requests were queued when the state was saved; done here",
			vdev->dev.path, n);
}

static const struct virtio_ops blk_ops = {
	.name = "virtio-blk",
	.type = VIRTIO_ID_BLOCK,
	.class_code = 0x018000,		/* mass storage, other */
	.nr_queues = 1,
	.queue_size = QUEUE_SIZE,
	.features = (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
		    (1ULL << VIRTIO_BLK_F_BLK_SIZE),
	.notify = blk_notify,
	.quiesce = blk_quiesce,
	.reset = blk_reset,
	.loaded = blk_loaded,
};

static int blk_sync(struct device_header *dev, char *why, size_t len)
{
	struct blk *b = container_of(dev, struct blk, vdev.dev);

	if (!fdatasync(b->fd))
		return 0;
	snprintf(why, len, "%s: fdatasync of %s: %s", dev->path, b->path, strerror(errno));
	return -errno;
}

/*
 * The source drops the lock right after writing `commit`, and the
 * destination may read it first: wait that moment out.
 */
#define CLAIM_WAIT_MS	5000

static int blk_claim(struct device_header *dev, char *why, size_t len)
{
	struct blk *b = container_of(dev, struct blk, vdev.dev);

	return image_lock__take_wait(b->fd, b->path, CLAIM_WAIT_MS, why, len);
}

static void blk_release(struct device_header *dev)
{
	image_lock__drop(container_of(dev, struct blk, vdev.dev)->fd);
}

/*
 * The worker's ring: readv and fsync of the image, its one fixed file,
 * and nothing else (no other file, no registering more); enabled only
 * once restricted.
 */
static int blk_uring_init(struct blk *b)
{
	struct io_uring_restriction allow[] = {
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READV },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FSYNC },
		{ .opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED,
		  .sqe_flags = IOSQE_FIXED_FILE },
		{ .opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED,
		  .sqe_flags = IOSQE_IO_DRAIN },
	};
	int ret;

	ret = io_uring_queue_init(BATCH * 2, &b->ring, IORING_SETUP_R_DISABLED);
	if (ret)
		return ret;
	ret = io_uring_register_files(&b->ring, &b->fd, 1);
	/* Debian 12's liburing 2.3 exports no wrapper for these two. */
	if (!ret)
		ret = io_uring_register(b->ring.ring_fd, IORING_REGISTER_RESTRICTIONS,
					allow, sizeof(allow) / sizeof(allow[0]));
	if (!ret)
		ret = io_uring_register(b->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
					NULL, 0);
	if (ret)
		io_uring_queue_exit(&b->ring);
	return ret;
}

static int virtio_blk__init(struct vm *vm)
{
	struct stat st;
	struct blk *b;
	int ret;

	if (!vm->cfg.disk)
		return 0;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	pthread_cond_init(&b->wake, NULL);
	pthread_cond_init(&b->idle, NULL);
	b->batch = calloc(BATCH, sizeof(*b->batch));
	b->io = calloc(BATCH, sizeof(*b->io));
	if (!b->batch || !b->io) {
		ret = -ENOMEM;
		goto err_free;
	}
	b->fd = open(vm->cfg.disk, O_RDWR | O_CLOEXEC);
	if (b->fd < 0 || fstat(b->fd, &st) < 0) {
		ret = -errno;
		pr_err("--disk %s: %s", vm->cfg.disk, strerror(errno));
		goto err_free;
	}
	b->path = vm->cfg.disk;
	if (!vm->cfg.disk_threads) {
		ret = blk_uring_init(b);
		b->has_ring = b->uring = !ret;
		if (ret)
			pr_info("--disk %s: no io_uring (%s): reads one by one, as --disk-aio threads",
				b->path, strerror(-ret));
	}
	/* A destination takes the lock at commit (blk_claim). */
	if (!vm->cfg.incoming_uri) {
		char why[256];

		ret = image_lock__take(b->fd, b->path, why, sizeof(why));
		if (ret) {
			pr_err("--disk %s", why);
			goto err_close;
		}
	}
	b->size = st.st_size & ~(uint64_t)(SECTOR - 1);
	b->config.capacity = b->size / SECTOR;
	b->config.seg_max = VQ_MAX_SEGS - 2;
	b->config.blk_size = SECTOR;
	b->vdev.dev.sync = blk_sync;
	b->vdev.dev.claim = blk_claim;
	b->vdev.dev.release = blk_release;
	ret = virtio__register(vm, &b->vdev, &blk_ops, b, &b->config, sizeof(b->config));
	if (ret)
		goto err_close;
	ret = -pthread_create(&b->worker, NULL, blk_worker, b);
	if (ret) {
		pr_err("--disk %s: worker thread: %s", b->path, strerror(-ret));
		virtio__unregister(vm, &b->vdev);
		goto err_close;
	}
	return 0;
err_close:
	image_lock__drop(b->fd);	/* the ring lets go of it later */
	if (b->has_ring)
		io_uring_queue_exit(&b->ring);
	close(b->fd);
err_free:
	pthread_cond_destroy(&b->idle);
	pthread_cond_destroy(&b->wake);
	free(b->io);
	free(b->batch);
	free(b);
	return ret;
}

static int virtio_blk__exit(struct vm *vm)
{
	struct virtio_dev *vdev = virtio__find(vm, "virtio-blk", 0);
	struct blk *b;

	if (!vdev)
		return 0;
	b = vdev->priv;
	pthread_mutex_lock(&vdev->lock);
	b->stop = true;
	pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&vdev->lock);
	pthread_join(b->worker, NULL);
	virtio__unregister(vm, vdev);
	/*
	 * The ring lets go of the image asynchronously, after close: unlock
	 * it now, or a ternvm started next on it may find it still locked.
	 */
	image_lock__drop(b->fd);
	if (b->has_ring)
		io_uring_queue_exit(&b->ring);
	close(b->fd);
	pthread_cond_destroy(&b->idle);
	pthread_cond_destroy(&b->wake);
	free(b->io);
	free(b->batch);
	free(b);
	return 0;
}
virtio_dev_init(virtio_blk__init);
virtio_dev_exit(virtio_blk__exit);
