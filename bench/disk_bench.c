// SPDX-License-Identifier: GPL-2.0
/*
 * disk_bench: a guest disk's requests done the two ways issue 18 asks to
 * choose between for virtio-blk, on the same image and the same requests.
 * In both, as in virtio-blk, the I/O thread hands a batch to the device's
 * worker thread (mutex and condition variable), and the worker writes an
 * eventfd, the guest's interrupt, once the batch is done:
 *
 *   one by one  each request with preadv/pwritev, one after another
 *               (virtio-blk until io_uring);
 *   io_uring    the batch submitted to an io_uring (liburing) at once,
 *               its completions reaped.
 *
 * Batches of 16 requests (virtio-blk's BATCH), 4 KiB random reads and
 * writes and 64 KiB sequential ones, on a 256 MiB image in the page cache
 * (a guest's working set usually is) and, where the file system takes
 * O_DIRECT, on the disk itself.  Prints requests per second and CPU
 * microseconds per request (every thread of the process, io_uring's
 * kernel workers included), min and median of several runs.  A benchmark:
 * it asserts nothing.
 *
 *   disk_bench [DIR] [runs]     (DIR: where the image goes, default /tmp)
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

#define IMAGE		(256u << 20)
#define BATCH		16
#define MAX_RUNS	15
#define MAX_REQ		(64u << 10)

struct req {
	bool write;
	uint64_t off;
	struct iovec iov;
};

struct workload {
	const char *name;
	bool write, random;
	uint32_t len;
	unsigned int batches;
};

static const struct workload workloads[] = {
	{ "4 KiB random reads", false, true, 4096, 2048 },
	{ "4 KiB random writes", true, true, 4096, 2048 },
	{ "64 KiB sequential reads", false, false, 64 << 10, 256 },
	{ "64 KiB sequential writes", true, false, 64 << 10, 256 },
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The batch's requests: each its own buffer, as a guest's descriptors are. */
static void fill_batch(struct req *r, const struct workload *w, uint64_t *seq)
{
	unsigned int i;

	for (i = 0; i < BATCH; i++) {
		r[i].write = w->write;
		r[i].iov.iov_len = w->len;
		if (w->random) {
			r[i].off = next_rand() % (IMAGE / w->len) * w->len;
		} else {
			r[i].off = *seq;
			*seq = (*seq + w->len) % IMAGE;
		}
	}
}

static int do_one(int fd, const struct req *r)
{
	ssize_t n = r->write ? pwritev(fd, &r->iov, 1, r->off) :
			       preadv(fd, &r->iov, 1, r->off);

	return n == (ssize_t)r->iov.iov_len ? 0 : -1;
}

/* The device's worker, shaped as virtio-blk's. */
struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct req *batch;	/* under lock: a batch to do, or NULL */
	bool stop;
	int fd, irq;		/* the image; the eventfd it signals */
	int (*do_batch)(struct worker *w, struct req *b);
	struct io_uring ring;
	uint32_t len;		/* each request's */
	int err;
};

static int batch_one_by_one(struct worker *w, struct req *b)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < BATCH; i++)
		if (do_one(w->fd, &b[i]))
			ret = -1;
	return ret;
}

static int batch_uring(struct worker *w, struct req *r)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	unsigned int i, head, seen = 0;
	int ret = 0;

	for (i = 0; i < BATCH; i++) {
		sqe = io_uring_get_sqe(&w->ring);
		if (r[i].write)
			io_uring_prep_writev(sqe, w->fd, &r[i].iov, 1, r[i].off);
		else
			io_uring_prep_readv(sqe, w->fd, &r[i].iov, 1, r[i].off);
	}
	if (io_uring_submit_and_wait(&w->ring, BATCH) != BATCH)
		return -1;
	io_uring_for_each_cqe(&w->ring, head, cqe) {
		if (cqe->res != (int)w->len)
			ret = -1;
		seen++;
	}
	io_uring_cq_advance(&w->ring, seen);
	return seen == BATCH ? ret : -1;
}

static void *worker_main(void *opaque)
{
	struct worker *w = opaque;
	uint64_t one = 1;
	struct req *b;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->batch && !w->stop)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stop)
			break;
		b = w->batch;
		pthread_mutex_unlock(&w->lock);
		if (w->do_batch(w, b))
			w->err = -1;
		pthread_mutex_lock(&w->lock);
		w->batch = NULL;
		if (write(w->irq, &one, sizeof(one)) != sizeof(one))
			w->err = -1;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int run_worker(int fd, struct req *r, const struct workload *wl,
		      bool uring)
{
	struct worker w = { .fd = fd, .len = wl->len,
			    .do_batch = uring ? batch_uring : batch_one_by_one };
	uint64_t seq = 0, v;
	unsigned int b;
	int ret = 0;

	if (uring && io_uring_queue_init(BATCH * 2, &w.ring, 0))
		return -1;
	w.irq = eventfd(0, EFD_CLOEXEC);
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.wake, NULL);
	if (w.irq < 0 || pthread_create(&w.thread, NULL, worker_main, &w))
		return -1;
	for (b = 0; b < wl->batches && !ret; b++) {
		fill_batch(r, wl, &seq);
		pthread_mutex_lock(&w.lock);
		w.batch = r;
		pthread_cond_signal(&w.wake);
		pthread_mutex_unlock(&w.lock);
		if (read(w.irq, &v, sizeof(v)) != sizeof(v))
			ret = -1;
	}
	pthread_mutex_lock(&w.lock);
	w.stop = true;
	pthread_cond_signal(&w.wake);
	pthread_mutex_unlock(&w.lock);
	pthread_join(w.thread, NULL);
	close(w.irq);
	pthread_cond_destroy(&w.wake);
	pthread_mutex_destroy(&w.lock);
	if (uring)
		io_uring_queue_exit(&w.ring);
	return ret ?: w.err;
}

static int run_one_by_one(int fd, struct req *r, const struct workload *wl)
{
	return run_worker(fd, r, wl, false);
}

static int run_uring(int fd, struct req *r, const struct workload *wl)
{
	return run_worker(fd, r, wl, true);
}

static double process_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static const struct backend {
	const char *name;
	int (*run)(int fd, struct req *r, const struct workload *wl);
} backends[] = {
	{ "one by one", run_one_by_one },
	{ "io_uring", run_uring },
};

/* One row: a workload on a backend, runs times; 0, or -1 if it failed. */
static int row(int fd, struct req *r, const struct workload *wl,
	       const struct backend *be, int runs, double *iops_med)
{
	double iops[MAX_RUNS], cpu[MAX_RUNS], t0, c0, reqs;
	int i;

	reqs = (double)wl->batches * BATCH;
	for (i = 0; i < runs; i++) {
		c0 = process_cpu();
		t0 = now_ns();
		if (be->run(fd, r, wl)) {
			printf("%-26s %-10s failed: %s\n", wl->name, be->name,
			       strerror(errno));
			return -1;
		}
		iops[i] = reqs / ((now_ns() - t0) / 1e9);
		cpu[i] = (process_cpu() - c0) * 1e6 / reqs;
	}
	runs_sort(iops, runs);
	runs_sort(cpu, runs);
	/* The best rate is the highest: min of the runs' times. */
	printf("%-26s %-10s %10.0f %10.0f %9.1f %9.1f\n", wl->name, be->name,
	       iops[runs - 1], iops[runs / 2], cpu[0], cpu[runs / 2]);
	*iops_med = iops[runs / 2];
	return 0;
}

static int fill_image(int fd)
{
	static uint8_t chunk[1 << 20];
	uint64_t off;

	memset(chunk, 0x5a, sizeof(chunk));
	for (off = 0; off < IMAGE; off += sizeof(chunk))
		if (pwrite(fd, chunk, sizeof(chunk), off) != sizeof(chunk))
			return -1;
	return fsync(fd);
}

static void table(const char *path, int flags, const char *what, struct req *r,
		  int runs)
{
	double med[2];
	unsigned int i, b;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC | flags);
	if (fd < 0) {
		printf("%s: %s, not measured\n", what, strerror(errno));
		return;
	}
	printf("%s\n%-26s %-10s %10s %10s %9s %9s\n", what, "requests", "backend",
	       "req/s max", "req/s med", "CPU us min", "CPU us med");
	for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		for (b = 0; b < 2; b++)
			if (row(fd, r, &workloads[i], &backends[b], runs, &med[b]))
				med[b] = 0;
		if (med[0] > 0 && med[1] > 0)
			printf("%-26s io_uring / one by one, req/s (median): %.2fx\n",
			       workloads[i].name, med[1] / med[0]);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	struct req r[BATCH];
	char path[4096];
	unsigned int i;
	int fd;

	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "disk_bench: runs must be 1..%d\n", MAX_RUNS);
		return 2;
	}
	for (i = 0; i < BATCH; i++)
		if (posix_memalign(&r[i].iov.iov_base, 4096, MAX_REQ))
			return 1;
	snprintf(path, sizeof(path), "%s/tern-disk-bench.%d", dir, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fill_image(fd)) {
		fprintf(stderr, "disk_bench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	close(fd);
	printf("disk_bench: %u MiB image in %s, batches of %d, %d runs each\n",
	       IMAGE >> 20, dir, BATCH, runs);
	table(path, 0, "buffered (page cache)", r, runs);
	table(path, O_DIRECT, "O_DIRECT", r, runs);
	unlink(path);
	return 0;
}
