// SPDX-License-Identifier: GPL-2.0
/*
 * --mem-prealloc: every page of guest RAM allocated before the guest or
 * an incoming migration needs it.  A destination that allocates each page
 * at the first write of the stream spends round 1 in page faults (fault,
 * allocate, clear: issue 17's measurement); populated beforehand, the
 * stream's writes land in pages that exist.  It also makes a host that
 * cannot hold the guest say so at start, not with a SIGBUS later.
 *
 * MADV_POPULATE_WRITE (Linux 5.14) write-faults the pages without
 * storing to them, so it keeps what a --mem-path file already holds.
 * Helper threads take 64 MiB chunks in turn, at most one per vCPU.  A
 * tern region's KVM view, a second mapping of the same pages, is
 * populated too: KVM then finds each page mapped where it looks, not a
 * fault per page the guest first touches after an incoming migration.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/mem.h"
#include "vm/vm.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

#define PREALLOC_CHUNK		(64ULL << 20)
#define PREALLOC_THREADS_MAX	16

struct prealloc {
	uint8_t *base;
	uint8_t *kvm_view;		/* or NULL: one mapping */
	uint64_t size;
	atomic_uint_fast64_t next;	/* offset of the next chunk to take */
	atomic_int err;			/* first failure's errno, or 0 */
	atomic_uint_fast64_t err_off;	/* and the chunk it failed in */
};

static void *prealloc_worker(void *arg)
{
	struct prealloc *pa = arg;
	uint64_t off, len;

	while (!atomic_load(&pa->err)) {
		off = atomic_fetch_add(&pa->next, PREALLOC_CHUNK);
		if (off >= pa->size)
			break;
		len = pa->size - off < PREALLOC_CHUNK ? pa->size - off : PREALLOC_CHUNK;
		if (madvise(pa->base + off, len, MADV_POPULATE_WRITE) ||
		    (pa->kvm_view &&
		     madvise(pa->kvm_view + off, len, MADV_POPULATE_WRITE))) {
			int none = 0;

			/* The first failure is told; the others stop at it. */
			if (atomic_compare_exchange_strong(&pa->err, &none, errno))
				atomic_store(&pa->err_off, off);
			break;
		}
	}
	return NULL;
}

static uint64_t elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

int mem__prealloc(struct vm *vm)
{
	struct prealloc pa = {
		.base = vm->ram.host, .size = vm->ram.size,
		.kvm_view = vm->ram.kvm_view != vm->ram.host ? vm->ram.kvm_view : NULL,
	};
	pthread_t tid[PREALLOC_THREADS_MAX];
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int n = vm->cfg.nr_cpus, started, i;
	struct timespec t0;
	int err;

	if (online > 0 && n > online)
		n = online;
	if (n > PREALLOC_THREADS_MAX)
		n = PREALLOC_THREADS_MAX;
	if (n > (pa.size + PREALLOC_CHUNK - 1) / PREALLOC_CHUNK)
		n = (pa.size + PREALLOC_CHUNK - 1) / PREALLOC_CHUNK;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* This thread is one of them; a helper that cannot start is not. */
	for (started = 0; started + 1 < n; started++)
		if (pthread_create(&tid[started], NULL, prealloc_worker, &pa))
			break;
	prealloc_worker(&pa);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);

	err = atomic_load(&pa.err);
	if (err == EINVAL) {
		pr_err("--mem-prealloc: this kernel cannot populate memory (MADV_POPULATE_WRITE needs Linux 5.14)");
		return -err;
	}
	if (err) {
		pr_err("--mem-prealloc: cannot allocate guest RAM %s at offset %#llx of %llu MiB: %s%s",
		       vm->cfg.mem_path ?: vm->ram.backend == RAM_BACKEND_TERN ?
		       "(tern region)" : "(memfd)",
		       (unsigned long long)atomic_load(&pa.err_off),
		       (unsigned long long)(pa.size >> 20), strerror(err),
		       err == EFAULT ? " (no room: is its file system full?)" : "");
		return -err;
	}
	pr_debug("guest RAM: %llu MiB preallocated in %llu ms, %u thread%s",
		 (unsigned long long)(pa.size >> 20),
		 (unsigned long long)elapsed_ms(&t0), started + 1,
		 started ? "s" : "");
	return 0;
}
