// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM behind one interface, two backends: a tern region when
 * /dev/tern exists (the module sees every writer but the vCPUs, whose
 * memslots sit on the region's KVM view, tracked by KVM's dirty log and
 * handed to the module each round), else a memfd (or the --mem-path file,
 * so a second ternvm can resume on the same memory) with KVM's dirty log
 * plus a VMM-side bitmap as the tracker.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/tern.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/log.h"
#include "vm/device.h"
#include "vm/init.h"
#include "vm/kvm.h"
#include "vm/mem.h"

#define BITS_PER_LONG	(8 * sizeof(unsigned long))

struct memmap_entry {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;		/* devices' view (tracked) */
	uint8_t *slot_host;	/* the memslot's: ram.kvm_view + same offset */
	uint32_t slot;
};

struct memmap {
	int nr;
	struct memmap_entry e[2];
};

static int ram_open_tern(struct vm *vm)
{
	struct tern_region_create req = { .size = vm->ram.size };
	int dev, fd;

	dev = open("/dev/" TERN_DEV_NAME, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	snprintf(req.name, sizeof(req.name), "ternvm-%d-ram0", getpid());
	fd = ioctl(dev, TERN_CREATE_REGION, &req);
	if (fd < 0) {
		int err = errno;

		close(dev);
		pr_err("TERN_CREATE_REGION %llu bytes: %s",
		       (unsigned long long)req.size, strerror(err));
		return -err;
	}
	close(dev);
	vm->ram.backend = RAM_BACKEND_TERN;
	vm->ram.flags |= RAM_BLOCK_F_ZEROED;
	return fd;
}

static int ram_open_memfd(struct vm *vm)
{
	struct stat st;
	int fd;

	if (vm->cfg.mem_path)
		fd = open(vm->cfg.mem_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	else
		fd = memfd_create("ternvm-ram0", MFD_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		pr_err("guest RAM %s: %s",
		       vm->cfg.mem_path ?: "memfd", strerror(err));
		return -err;
	}
	/* A --mem-path file that already holds data is not new RAM. */
	if (!vm->cfg.mem_path || (!fstat(fd, &st) && st.st_size == 0))
		vm->ram.flags |= RAM_BLOCK_F_ZEROED;
	if (ftruncate(fd, vm->ram.size) < 0) {
		int err = errno;

		pr_err("guest RAM: resize to %llu: %s",
		       (unsigned long long)vm->ram.size, strerror(err));
		close(fd);
		return -err;
	}
	vm->ram.backend = RAM_BACKEND_MEMFD;
	return fd;
}

static int set_slot(struct vm *vm, const struct memmap_entry *e, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = e->slot,
		.flags = flags,
		.guest_phys_addr = e->gpa,
		.memory_size = e->size,
		.userspace_addr = (uintptr_t)e->slot_host,
	};

	return vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
}

/*
 * The memslots' own mapping of a tern region: its KVM view, which no
 * harvest zaps, so KVM keeps its mappings across rounds; vCPU writes are
 * then tracked by KVM's dirty log with manual protect (initially set, so
 * enabling the log write-protects nothing at once).  The address stays in
 * this file and the memslots: devices and helpers get ram.host.  Without
 * the ioctl (an older tern.ko) or the capability, one view, as before.
 */
static void ram_kvm_view(struct vm *vm)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
			   KVM_DIRTY_LOG_INITIALLY_SET,
	};
	void *view;
	int kfd;

	vm->ram.kvm_view = vm->ram.host;
	if (vm->ram.backend != RAM_BACKEND_TERN)
		return;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
		  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) <= 0 ||
	    ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		pr_info("guest RAM: no KVM manual dirty log; one tracked view");
		return;
	}
	kfd = ioctl(vm->ram.fd, TERN_REGION_KVM_FD, 0);
	if (kfd < 0) {
		pr_info("guest RAM: tern.ko has no KVM view (%s); one tracked view",
			strerror(errno));
		return;
	}
	view = mmap(NULL, vm->ram.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    kfd, 0);
	close(kfd);
	if (view == MAP_FAILED) {
		pr_warn("guest RAM: mmap KVM view: %s; one tracked view",
			strerror(errno));
		return;
	}
	madvise(view, vm->ram.size, MADV_NOHUGEPAGE);
	vm->ram.kvm_view = view;
}

static void ram_kvm_view_unmap(struct vm *vm)
{
	if (vm->ram.kvm_view && vm->ram.kvm_view != vm->ram.host)
		munmap(vm->ram.kvm_view, vm->ram.size);
	vm->ram.kvm_view = NULL;
}

/*
 * The tern backend's memslots on the region's KVM view, which tern.ko
 * neither tracks nor re-arms: KVM's dirty log tracks the vCPUs there.
 */
static bool ram_two_views(const struct vm *vm)
{
	return vm->ram.backend == RAM_BACKEND_TERN && vm->ram.kvm_view &&
	       vm->ram.kvm_view != vm->ram.host;
}

int mem__init(struct vm *vm)
{
	struct memmap *map = NULL;
	int fd = -ENOENT, ret, i;

	vm->ram.path = "/machine";
	vm->ram.name = "ram0";
	vm->ram.size = vm->cfg.ram_size;
	vm->ram_low = vm->ram.size < PCI_HOLE_START ? vm->ram.size : PCI_HOLE_START;

	if (!vm->cfg.mem_path && access("/dev/" TERN_DEV_NAME, F_OK) == 0)
		fd = ram_open_tern(vm);
	if (fd < 0)
		fd = ram_open_memfd(vm);
	if (fd < 0)
		return fd;
	vm->ram.fd = fd;

	vm->ram.host = mmap(NULL, vm->ram.size, PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, 0);
	if (vm->ram.host == MAP_FAILED) {
		ret = -errno;
		pr_err("mmap guest RAM: %s", strerror(errno));
		goto err_close;
	}
	madvise(vm->ram.host, vm->ram.size, MADV_NOHUGEPAGE);
	ram_kvm_view(vm);
	if (vm->cfg.mem_prealloc) {
		ret = mem__prealloc(vm);
		if (ret)
			goto err_free;
	}

	vm->vmm_dirty = calloc((vm->ram.size / GUEST_PAGE_SIZE + BITS_PER_LONG - 1) /
			       BITS_PER_LONG, sizeof(unsigned long));
	map = calloc(1, sizeof(*map));
	if (!vm->vmm_dirty || !map) {
		ret = -ENOMEM;
		goto err_free;
	}
	map->e[0] = (struct memmap_entry){ 0, vm->ram_low, vm->ram.host,
					   vm->ram.kvm_view, 0 };
	map->nr = 1;
	if (vm->ram.size > vm->ram_low) {
		map->e[1] = (struct memmap_entry){
			HIGH_RAM_START, vm->ram.size - vm->ram_low,
			(uint8_t *)vm->ram.host + vm->ram_low,
			(uint8_t *)vm->ram.kvm_view + vm->ram_low, 1 };
		map->nr = 2;
	}
	for (i = 0; i < map->nr; i++) {
		ret = set_slot(vm, &map->e[i], 0);
		if (ret)
			goto err_free;
	}
	rcu_assign_pointer(vm->memmap, map);
	pr_debug("guest RAM: %llu MiB, %s backend", (unsigned long long)(vm->ram.size >> 20),
		 ram_two_views(vm) ? "tern region, KVM view" :
		 vm->ram.backend == RAM_BACKEND_TERN ? "tern region" : "memfd");
	return 0;

err_free:
	free(map);
	free(vm->vmm_dirty);
	vm->vmm_dirty = NULL;
	ram_kvm_view_unmap(vm);
	munmap(vm->ram.host, vm->ram.size);
	vm->ram.host = NULL;
err_close:
	close(fd);
	vm->ram.fd = -1;
	return ret;
}

int mem__exit(struct vm *vm)
{
	free(vm->gpa_log);
	vm->gpa_log = NULL;
	free(vm->memmap);
	vm->memmap = NULL;
	free(vm->vmm_dirty);
	vm->vmm_dirty = NULL;
	ram_kvm_view_unmap(vm);
	if (vm->ram.host)
		munmap(vm->ram.host, vm->ram.size);
	vm->ram.host = NULL;
	if (vm->ram.fd >= 0)
		close(vm->ram.fd);
	vm->ram.fd = -1;
	return 0;
}
base_init(mem__init);
base_exit(mem__exit);

void *guest__ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
	const struct memmap *map;
	void *p = NULL;
	int i;

	rcu_read_lock();
	map = rcu_dereference(vm->memmap);
	for (i = 0; map && i < map->nr; i++) {
		const struct memmap_entry *e = &map->e[i];

		if (gpa >= e->gpa && len <= e->size && gpa - e->gpa <= e->size - len) {
			p = e->host + (gpa - e->gpa);
			break;
		}
	}
	rcu_read_unlock();
	return p;
}

int guest__ram_ranges(struct vm *vm, struct guest_range *r, int max)
{
	const struct memmap *map;
	int i, n;

	rcu_read_lock();
	map = rcu_dereference(vm->memmap);
	n = map ? map->nr : 0;
	for (i = 0; i < n && i < max; i++)
		r[i] = (struct guest_range){ map->e[i].gpa, map->e[i].size, map->e[i].host };
	rcu_read_unlock();
	return n;
}

uint64_t guest__gpa_log_size(struct vm *vm)
{
	uint64_t end = vm->ram.size > vm->ram_low ?
		       HIGH_RAM_START + vm->ram.size - vm->ram_low : vm->ram_low;
	uint64_t pages = end / GUEST_PAGE_SIZE;

	return (pages + BITS_PER_LONG - 1) / BITS_PER_LONG * sizeof(unsigned long);
}

int64_t guest__ram_offset(struct vm *vm, uint64_t gpa)
{
	if (gpa < vm->ram_low)
		return gpa;
	if (gpa >= HIGH_RAM_START && gpa - HIGH_RAM_START < vm->ram.size - vm->ram_low)
		return gpa - HIGH_RAM_START + vm->ram_low;
	return -1;
}

void vm__mark_dirty(struct vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t first, last, pfn;
	int64_t off;

	if (!len || !__atomic_load_n(&vm->dirty_logging, __ATOMIC_ACQUIRE))
		return;
	off = guest__ram_offset(vm, gpa);
	if (off < 0 || guest__ram_offset(vm, gpa + len - 1) < 0)
		return;
	first = off / GUEST_PAGE_SIZE;
	last = (off + len - 1) / GUEST_PAGE_SIZE;
	for (pfn = first; pfn <= last; pfn++)
		__atomic_fetch_or(&vm->vmm_dirty[pfn / BITS_PER_LONG],
				  1UL << (pfn % BITS_PER_LONG), __ATOMIC_RELEASE);
}

static int set_logging(struct vm *vm, bool on)
{
	const struct memmap *map = vm->memmap;
	int i, ret;

	if (vm->ram.backend != RAM_BACKEND_MEMFD)
		return -EOPNOTSUPP;
	for (i = 0; i < map->nr; i++) {
		ret = set_slot(vm, &map->e[i], on ? KVM_MEM_LOG_DIRTY_PAGES : 0);
		if (ret)
			return ret;
	}
	__atomic_store_n(&vm->dirty_logging, on, __ATOMIC_RELEASE);
	return 0;
}

/*
 * The kernel's writers other than KVM (vhost) write through the devices'
 * view, which the memfd backend does not track: they log by
 * guest-physical page into gpa_log, set before KVM's log starts.
 */
static int dirty_log_start(struct vm *vm)
{
	int ret;

	vm->gpa_log = calloc(1, guest__gpa_log_size(vm));
	if (!vm->gpa_log)
		return -ENOMEM;
	ret = device__dirty_log_all(vm, vm->gpa_log);
	if (!ret)
		ret = set_logging(vm, true);
	if (ret) {
		device__dirty_log_all(vm, NULL);
		free(vm->gpa_log);
		vm->gpa_log = NULL;
	}
	return ret;
}

static int dirty_log_stop(struct vm *vm)
{
	int ret = set_logging(vm, false);

	device__dirty_log_all(vm, NULL);
	free(vm->gpa_log);
	vm->gpa_log = NULL;
	return ret;
}

/* What the kernel's writers logged since the last sync, by block page. */
static void gpa_log_sync(struct vm *vm, unsigned long *bitmap)
{
	uint64_t words = guest__gpa_log_size(vm) / sizeof(unsigned long), w;

	for (w = 0; vm->gpa_log && w < words; w++) {
		unsigned long bits;

		if (!__atomic_load_n(&vm->gpa_log[w], __ATOMIC_RELAXED))
			continue;
		bits = __atomic_exchange_n(&vm->gpa_log[w], 0, __ATOMIC_ACQ_REL);
		while (bits) {
			uint64_t gpa = (w * BITS_PER_LONG + __builtin_ctzl(bits)) *
				       GUEST_PAGE_SIZE;
			int64_t off = guest__ram_offset(vm, gpa);

			bits &= bits - 1;
			if (off >= 0) {
				uint64_t p = off / GUEST_PAGE_SIZE;

				bitmap[p / BITS_PER_LONG] |= 1UL << (p % BITS_PER_LONG);
			}
		}
	}
}

static int dirty_log_sync(struct vm *vm, unsigned long *bitmap)
{
	const struct memmap *map = vm->memmap;
	uint64_t words = (vm->ram.size / GUEST_PAGE_SIZE + BITS_PER_LONG - 1) / BITS_PER_LONG;
	uint64_t w;
	int i, ret;

	if (!vm->dirty_logging)
		return -EINVAL;
	for (i = 0; i < map->nr; i++) {
		const struct memmap_entry *e = &map->e[i];
		uint64_t pages = e->size / GUEST_PAGE_SIZE;
		uint64_t base = guest__ram_offset(vm, e->gpa) / GUEST_PAGE_SIZE;
		unsigned long *slot_bm;
		struct kvm_dirty_log log = { .slot = e->slot };
		uint64_t p;

		slot_bm = calloc((pages + 63) / 64, 8);
		if (!slot_bm)
			return -ENOMEM;
		log.dirty_bitmap = slot_bm;
		ret = vm_ioctl(vm, KVM_GET_DIRTY_LOG, &log);
		if (ret) {
			free(slot_bm);
			return ret;
		}
		for (p = 0; p < pages; p++)
			if (slot_bm[p / BITS_PER_LONG] & (1UL << (p % BITS_PER_LONG)))
				bitmap[(base + p) / BITS_PER_LONG] |=
					1UL << ((base + p) % BITS_PER_LONG);
		free(slot_bm);
	}
	for (w = 0; w < words; w++)
		bitmap[w] |= __atomic_exchange_n(&vm->vmm_dirty[w], 0, __ATOMIC_ACQ_REL);
	gpa_log_sync(vm, bitmap);
	return 0;
}

static int set_kvm_log(struct vm *vm, bool on)
{
	const struct memmap *map = vm->memmap;
	int i, ret;

	if (!ram_two_views(vm))
		return 0;
	for (i = 0; i < map->nr; i++) {
		ret = set_slot(vm, &map->e[i], on ? KVM_MEM_LOG_DIRTY_PAGES : 0);
		if (ret)
			return ret;
	}
	return 0;
}

static int kvm_log_start(struct vm *vm)
{
	return set_kvm_log(vm, true);
}

static int kvm_log_stop(struct vm *vm)
{
	return set_kvm_log(vm, false);
}

/*
 * Each slot: GET its log, CLEAR the same bits (KVM write-protects those
 * pages again before we return, so a later vCPU write is in the next
 * log), and hand the bits to the module, which harvests them with the
 * round.  A write after GET to a page already in it lands before the
 * round's pages are read; a write after GET to any other page faults in
 * KVM and is kept for the next GET.
 */
static int kvm_log_mark(struct vm *vm)
{
	const struct memmap *map = vm->memmap;
	int i, ret = 0;

	if (!ram_two_views(vm))
		return 0;
	for (i = 0; i < map->nr && !ret; i++) {
		const struct memmap_entry *e = &map->e[i];
		uint64_t pages = e->size / GUEST_PAGE_SIZE;
		uint64_t words = (pages + 63) / 64;
		uint64_t *bm = calloc(words, 8);
		struct kvm_dirty_log get = { .slot = e->slot, .dirty_bitmap = bm };
		struct kvm_clear_dirty_log clr = {
			.slot = e->slot, .num_pages = pages, .dirty_bitmap = bm,
		};
		struct tern_track_mark mark = {
			.bitmap = (uintptr_t)bm,
			.bitmap_size = words * 8,
			.first_page = guest__ram_offset(vm, e->gpa) / GUEST_PAGE_SIZE,
		};

		if (!bm)
			return -ENOMEM;
		ret = vm_ioctl(vm, KVM_GET_DIRTY_LOG, &get);
		if (!ret)
			ret = vm_ioctl(vm, KVM_CLEAR_DIRTY_LOG, &clr);
		if (!ret && ioctl(vm->ram.fd, TERN_TRACK_MARK, &mark) < 0) {
			ret = -errno;
			pr_err("TERN_TRACK_MARK slot %u: %s", e->slot,
			       strerror(errno));
		}
		free(bm);
	}
	return ret;
}

int vm__ram_track_start(struct vm *vm)
{
	int ret;

	if (vm->ram.backend != RAM_BACKEND_TERN)
		return dirty_log_start(vm);
	/* The vCPUs' log first: a write between the two is in both. */
	ret = kvm_log_start(vm);
	if (ret)
		return ret;
	if (ioctl(vm->ram.fd, TERN_TRACK_START, 0) < 0) {
		ret = -errno;
		kvm_log_stop(vm);
	}
	return ret;
}

int vm__ram_track_stop(struct vm *vm)
{
	int ret;

	if (vm->ram.backend != RAM_BACKEND_TERN)
		return dirty_log_stop(vm);
	ret = ioctl(vm->ram.fd, TERN_TRACK_STOP, 0) < 0 ? -errno : 0;
	kvm_log_stop(vm);
	return ret;
}

int vm__ram_track_sync(struct vm *vm, unsigned long *bitmap)
{
	uint64_t words = (vm->ram.size / GUEST_PAGE_SIZE + BITS_PER_LONG - 1) / BITS_PER_LONG;
	struct tern_harvest h;
	unsigned long *bm;
	uint64_t w;
	int ret;

	if (vm->ram.backend != RAM_BACKEND_TERN)
		return dirty_log_sync(vm, bitmap);
	ret = kvm_log_mark(vm);
	if (ret)
		return ret;
	bm = calloc(words, sizeof(*bm));
	if (!bm)
		return -ENOMEM;
	h = (struct tern_harvest){
		.bitmap = (uintptr_t)bm, .bitmap_size = words * sizeof(*bm),
	};
	if (ioctl(vm->ram.fd, TERN_TRACK_HARVEST, &h) < 0) {
		free(bm);
		return -errno;
	}
	for (w = 0; w < words; w++)
		bitmap[w] |= bm[w];
	free(bm);
	return 0;
}

int vm__ram_stream_open(struct vm *vm, int *fd)
{
	int s;

	if (vm->ram.backend != RAM_BACKEND_TERN)
		return -EOPNOTSUPP;
	/* The round is harvested at the stream's first read: mark before. */
	s = kvm_log_mark(vm);
	if (s)
		return s;
	s = ioctl(vm->ram.fd, TERN_STREAM_OPEN, 0);
	if (s < 0)
		return -errno;
	*fd = s;
	return 0;
}

/*
 * -EOPNOTSUPP: this tern.ko's sets cannot defer (an unknown flag is
 * -EINVAL to it); ask again without.
 */
int vm__ram_stream_open_set(struct vm *vm, unsigned int n, bool defer,
			    int *fds)
{
	struct tern_stream_set set = {
		.count = n, .fds = (uintptr_t)fds,
		.flags = defer ? TERN_STREAM_SET_F_DEFER : 0,
	};
	int ret;

	if (vm->ram.backend != RAM_BACKEND_TERN)
		return -ENOTTY;
	/* As for one stream: the harvest is at the first read, mark before. */
	ret = kvm_log_mark(vm);
	if (ret)
		return ret;
	if (!ioctl(vm->ram.fd, TERN_STREAM_OPEN_SET, &set))
		return 0;
	return errno == EINVAL && defer ? -EOPNOTSUPP : -errno;
}

/* Mid-round: the vCPUs' writes since the harvest, to the module now. */
int vm__ram_track_report(struct vm *vm)
{
	if (vm->ram.backend != RAM_BACKEND_TERN)
		return 0;
	return kvm_log_mark(vm);
}
