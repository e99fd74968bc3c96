// SPDX-License-Identifier: GPL-2.0
/*
 * track_kvm_bench: what dirty tracking costs a KVM guest, side by side in
 * one run.  A 32-bit guest rewrites every page of a memslot, one pass per
 * KVM_RUN; between passes the host collects the dirty set.  Three ways:
 *
 *   none       anonymous memory, no logging (the floor)
 *   dirty-log  KVM_MEM_LOG_DIRTY_PAGES with manual protect: GET then
 *              CLEAR_DIRTY_LOG, as a userspace VMM does
 *   tern       the memslot over a tern.ko region, TERN_TRACK_HARVEST
 *   tern-2view the memslot over the region's KVM view with the dirty log
 *              (as dirty-log), the VMM writing 1 page in 64 through the
 *              tracked view between passes; the harvest is GET + CLEAR,
 *              TERN_TRACK_MARK, then TERN_TRACK_HARVEST (what ternvm does)
 *   2view-vcpu tern-2view without the VMM's writes: the harvest's cost per
 *              page the vCPU dirtied, and by difference, per page a VMM
 *              writer dirtied
 *   1view-vmm  tern (one view) with the guest idle after its first pass and
 *              the VMM writing 1 page in 64: a sparse VMM page's cost
 *              before the two views
 *
 * For each guest size it prints the pass time (the vCPU's write cost),
 * write faults per second, and the harvest time, min and median of several
 * rounds, and the ratios tern / dirty-log.  Asserts nothing.
 *
 *   track_kvm_bench [MiB[,MiB...]] [rounds]
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/tern.h>

#include "bench.h"

#define PAGE		4096UL
#define MAX_ROUNDS	15
#define MAX_SIZES	8
#define LOW_MEM		0x10000		/* slot 0: the code */
#define SLOT_GPA	0x40000000UL	/* slot 1: the pages written */
#define MAX_MIB		2048		/* SLOT_GPA + size below 4 GiB */

/*
 * for (;;) { for (p = SLOT_GPA, n = NPAGES; n; n--, p += 4096) *p = eax;
 *	      eax++; out 0x10; }
 */
static const unsigned char guest_code[] = {
	0xbf, 0x00, 0x00, 0x00, 0x40,		/* 0: mov edi, SLOT_GPA */
	0xb9, 0x00, 0x00, 0x00, 0x00,		/* 5: mov ecx, NPAGES */
	0x89, 0x07,				/* 10: mov [edi], eax */
	0x81, 0xc7, 0x00, 0x10, 0x00, 0x00,	/* add edi, 4096 */
	0x49,					/* dec ecx */
	0x75, 0xf5,				/* jnz 10 */
	0x40,					/* inc eax */
	0xe6, 0x10,				/* out 0x10, al */
	0xeb, 0xe6,				/* jmp 0 */
};
#define NPAGES_AT	6

enum mode { M_NONE, M_DIRTY_LOG, M_TERN, M_TERN_2VIEW, M_TERN_2VCPU, M_TERN_VMM,
	    NR_MODES };
static const char *const mode_name[NR_MODES] = {
	"none", "dirty-log", "tern", "tern-2view", "2view-vcpu", "1view-vmm"
};
#define two_views(m)	((m) == M_TERN_2VIEW || (m) == M_TERN_2VCPU)
#define on_region(m)	((m) == M_TERN || (m) == M_TERN_VMM || two_views(m))
#define VMM_STRIDE	64		/* tern-2view: VMM writes 1 page in 64 */

struct result {
	double pass_ns[MAX_ROUNDS];	/* one KVM_RUN: every page written once */
	double harvest_ns[MAX_ROUNDS];	/* collect and re-arm the dirty set */
	unsigned long dirty;		/* pages reported in the last round */
	bool ok;
};

struct guest {
	int kvm, vm, vcpu, region;
	char *low, *mem, *view;		/* view: the KVM view (tern-2view) */
	struct kvm_run *run;
	size_t size, npages;
	uint64_t *map;
};

static double min_of(const double *v, int n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	runs_sort(s, n);
	return s[0];
}

static double median_of(const double *v, int n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	runs_sort(s, n);
	return s[n / 2];
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
}

static int guest_setup(struct guest *g, enum mode m, int dev)
{
	struct kvm_userspace_memory_region slot = { .slot = 0 };
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 0x2 };
	uint32_t n = g->npages;
	int run_size;

	g->vm = ioctl(g->kvm, KVM_CREATE_VM, 0);
	if (g->vm < 0)
		return perror("KVM_CREATE_VM"), -1;
	g->low = mmap(NULL, LOW_MEM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->low == MAP_FAILED)
		return perror("mmap"), -1;
	memcpy(g->low, guest_code, sizeof(guest_code));
	memcpy(g->low + NPAGES_AT, &n, sizeof(n));
	slot.memory_size = LOW_MEM;
	slot.userspace_addr = (uintptr_t)g->low;
	if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &slot))
		return perror("memslot 0"), -1;

	if (on_region(m)) {
		struct tern_region_create req = { .size = g->size, .name = "kvm-bench" };

		g->region = ioctl(dev, TERN_CREATE_REGION, &req);
		if (g->region < 0)
			return perror("TERN_CREATE_REGION"), -1;
		g->mem = mmap(NULL, g->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      g->region, 0);
	} else {
		g->mem = mmap(NULL, g->size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (g->mem == MAP_FAILED)
		return perror("mmap guest pages"), -1;
	g->view = g->mem;
	if (two_views(m)) {
		int kfd = ioctl(g->region, TERN_REGION_KVM_FD, 0);

		if (kfd < 0)
			return perror("TERN_REGION_KVM_FD"), -1;
		g->view = mmap(NULL, g->size, PROT_READ | PROT_WRITE,
			       MAP_SHARED, kfd, 0);
		close(kfd);
		if (g->view == MAP_FAILED)
			return perror("mmap KVM view"), -1;
	}
	if (m == M_DIRTY_LOG || two_views(m)) {
		cap.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
		if (two_views(m))
			cap.args[0] |= KVM_DIRTY_LOG_INITIALLY_SET;
		if (ioctl(g->vm, KVM_ENABLE_CAP, &cap))
			return perror("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2"), -1;
	}
	slot.slot = 1;
	slot.flags = m == M_DIRTY_LOG || two_views(m) ?
		     KVM_MEM_LOG_DIRTY_PAGES : 0;
	slot.guest_phys_addr = SLOT_GPA;
	slot.memory_size = g->size;
	slot.userspace_addr = (uintptr_t)g->view;
	if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &slot))
		return perror("memslot 1"), -1;

	g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (g->vcpu < 0 || run_size <= 0)
		return perror("KVM_CREATE_VCPU"), -1;
	g->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->vcpu, 0);
	if (g->run == MAP_FAILED || ioctl(g->vcpu, KVM_GET_SREGS, &sregs))
		return perror("vcpu"), -1;
	/* Flat 32-bit protected mode, no paging: the whole slot in reach. */
	flat_segment(&sregs.cs, 0x08, 0xb);
	flat_segment(&sregs.ds, 0x10, 0x3);
	sregs.es = sregs.ss = sregs.fs = sregs.gs = sregs.ds;
	sregs.cr0 |= 1;
	if (ioctl(g->vcpu, KVM_SET_SREGS, &sregs) ||
	    ioctl(g->vcpu, KVM_SET_REGS, &regs))
		return perror("vcpu registers"), -1;
	if (on_region(m) && ioctl(g->region, TERN_TRACK_START, 0))
		return perror("TERN_TRACK_START"), -1;
	return 0;
}

static void guest_teardown(struct guest *g)
{
	if (g->vcpu >= 0)
		close(g->vcpu);
	if (g->vm >= 0)
		close(g->vm);
	if (g->view && g->view != MAP_FAILED && g->view != g->mem)
		munmap(g->view, g->size);
	if (g->mem && g->mem != MAP_FAILED)
		munmap(g->mem, g->size);
	if (g->low && g->low != MAP_FAILED)
		munmap(g->low, LOW_MEM);
	if (g->region >= 0)
		close(g->region);
}

/* One pass of the guest over every page: the time of its KVM_RUN. */
static double guest_pass(struct guest *g)
{
	double t0 = now_ns();

	if (ioctl(g->vcpu, KVM_RUN, 0))
		return perror("KVM_RUN"), -1;
	if (g->run->exit_reason != KVM_EXIT_IO || g->run->io.port != 0x10) {
		fprintf(stderr, "track_kvm_bench: guest exit %u, not its out\n",
			g->run->exit_reason);
		return -1;
	}
	return now_ns() - t0;
}

static unsigned long count_bits(const uint64_t *map, size_t npages)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < (npages + 63) / 64; i++)
		n += __builtin_popcountll(map[i]);
	return n;
}

/* Collect the dirty set and re-arm it; returns the time taken. */
static double harvest(struct guest *g, enum mode m, unsigned long *dirty)
{
	double t0 = now_ns();

	if (two_views(m)) {
		struct kvm_dirty_log get = { .slot = 1, .dirty_bitmap = g->map };
		struct kvm_clear_dirty_log clr = {
			.slot = 1, .num_pages = g->npages, .dirty_bitmap = g->map,
		};
		struct tern_track_mark mark = {
			.bitmap = (uintptr_t)g->map,
			.bitmap_size = (g->npages + 63) / 64 * 8,
		};
		struct tern_harvest h = {
			.bitmap = (uintptr_t)g->map,
			.bitmap_size = (g->npages + 63) / 64 * 8,
		};

		if (ioctl(g->vm, KVM_GET_DIRTY_LOG, &get) ||
		    ioctl(g->vm, KVM_CLEAR_DIRTY_LOG, &clr) ||
		    ioctl(g->region, TERN_TRACK_MARK, &mark) ||
		    ioctl(g->region, TERN_TRACK_HARVEST, &h))
			return perror("dirty log into TERN_TRACK_MARK"), -1;
	} else if (m == M_TERN || m == M_TERN_VMM) {
		struct tern_harvest h = {
			.bitmap = (uintptr_t)g->map,
			.bitmap_size = (g->npages + 63) / 64 * 8,
		};

		if (ioctl(g->region, TERN_TRACK_HARVEST, &h))
			return perror("TERN_TRACK_HARVEST"), -1;
	} else if (m == M_DIRTY_LOG) {
		struct kvm_dirty_log get = { .slot = 1, .dirty_bitmap = g->map };
		struct kvm_clear_dirty_log clr = {
			.slot = 1, .num_pages = g->npages, .dirty_bitmap = g->map,
		};

		if (ioctl(g->vm, KVM_GET_DIRTY_LOG, &get) ||
		    ioctl(g->vm, KVM_CLEAR_DIRTY_LOG, &clr))
			return perror("KVM_GET/CLEAR_DIRTY_LOG"), -1;
	} else {
		return 0;
	}
	t0 = now_ns() - t0;
	*dirty = count_bits(g->map, g->npages);
	return t0;
}

static int measure(int kvm, int dev, enum mode m, size_t mib, int rounds,
		   struct result *res)
{
	struct guest g = {
		.kvm = kvm, .vm = -1, .vcpu = -1, .region = -1,
		.size = mib << 20, .npages = (mib << 20) / PAGE,
	};
	int r, ret = -1;

	g.map = calloc((g.npages + 63) / 64, 8);
	if (!g.map || guest_setup(&g, m, dev))
		goto out;
	/* The first pass allocates every page; the first harvest: all. */
	if (guest_pass(&g) < 0 || harvest(&g, m, &res->dirty) < 0)
		goto out;
	for (r = 0; r < rounds; r++) {
		res->pass_ns[r] = m == M_TERN_VMM ? 0 : guest_pass(&g);
		if (m == M_TERN_2VIEW || m == M_TERN_VMM)	/* device writes, untimed */
			for (size_t p = 0; p < g.npages; p += VMM_STRIDE)
				g.mem[p * PAGE + 8] = r;
		res->harvest_ns[r] = harvest(&g, m, &res->dirty);
		if (res->pass_ns[r] < 0 || res->harvest_ns[r] < 0)
			goto out;
	}
	if (m != M_NONE && res->dirty != (m == M_TERN_VMM ?
					  (g.npages + VMM_STRIDE - 1) / VMM_STRIDE : g.npages)) {
		fprintf(stderr, "track_kvm_bench: %s reported %lu of %zu pages\n",
			mode_name[m], res->dirty, g.npages);
		goto out;
	}
	res->ok = true;
	ret = 0;
out:
	guest_teardown(&g);
	free(g.map);
	return ret;
}

int main(int argc, char **argv)
{
	static struct result res[MAX_SIZES][NR_MODES];
	size_t sizes[MAX_SIZES], mib;
	int nsizes = 0, rounds, kvm, dev, i, m;
	const char *arg = argc > 1 ? argv[1] : "128,256,512,1024";
	char *end;

	rounds = argc > 2 ? atoi(argv[2]) : 5;
	while (*arg && nsizes < MAX_SIZES) {
		mib = strtoul(arg, &end, 10);
		if (end == arg || !mib || mib > MAX_MIB || (*end && *end != ','))
			break;
		sizes[nsizes++] = mib;
		arg = *end ? end + 1 : end;
	}
	if (*arg || !nsizes || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: track_kvm_bench [MiB[,MiB...] (<= %d each, %d sizes)] [rounds <= %d]\n",
			MAX_MIB, MAX_SIZES, MAX_ROUNDS);
		return 2;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	dev = open("/dev/tern", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("track_kvm_bench: no /dev/kvm here, nothing measured\n");
		return 0;
	}
	if (dev < 0)
		printf("track_kvm_bench: no /dev/tern here, tern not measured\n");

	printf("track_kvm_bench: a guest rewrites every page of its memslot, one pass per KVM_RUN, "
	       "then the host collects the dirty set; %d rounds, min/median\n", rounds);
	printf("%-9s %-10s %16s %10s %12s %18s %10s\n", "size MiB", "tracking",
	       "pass ms min/med", "ns/page", "faults/s", "harvest ms min/med",
	       "ns/page");
	for (i = 0; i < nsizes; i++) {
		size_t np = (sizes[i] << 20) / PAGE;

		for (m = 0; m < NR_MODES; m++) {
			struct result *x = &res[i][m];
			double pm, hm;

			if (on_region(m) && dev < 0)
				continue;
			if (measure(kvm, dev, m, sizes[i], rounds, x)) {
				printf("%-9zu %-10s failed\n", sizes[i], mode_name[m]);
				continue;
			}
			pm = median_of(x->pass_ns, rounds);
			hm = median_of(x->harvest_ns, rounds);
			printf("%-9zu %-10s %7.1f/%-8.1f %10.0f %12.0f %8.2f/%-9.2f %10.1f\n",
			       sizes[i], mode_name[m],
			       min_of(x->pass_ns, rounds) / 1e6, pm / 1e6, pm / np,
			       m == M_NONE || m == M_TERN_VMM ? 0 : np / (pm / 1e9),
			       min_of(x->harvest_ns, rounds) / 1e6, hm / 1e6,
			       hm / np);
		}
	}
	printf("ratios (median):\n");
	for (i = 0; i < nsizes; i++) {
		struct result *x = res[i];
		double none, dl, tern, two;

		if (x[M_DIRTY_LOG].ok && x[M_TERN_2VIEW].ok) {
			dl = median_of(x[M_DIRTY_LOG].pass_ns, rounds);
			two = median_of(x[M_TERN_2VIEW].pass_ns, rounds);
			printf("  %4zu MiB: vCPU writes tern-2view %.2fx dirty-log; harvest tern-2view %.2fx dirty-log\n",
			       sizes[i], two / dl,
			       median_of(x[M_TERN_2VIEW].harvest_ns, rounds) /
			       median_of(x[M_DIRTY_LOG].harvest_ns, rounds));
		}
		if (x[M_DIRTY_LOG].ok && x[M_TERN_2VIEW].ok && x[M_TERN_2VCPU].ok &&
		    x[M_TERN_VMM].ok) {
			double vcpu = median_of(x[M_TERN_2VCPU].harvest_ns, rounds);
			double vmm_pages = (double)((sizes[i] << 20) / PAGE) / VMM_STRIDE;

			printf("  %4zu MiB: harvest per vCPU-dirtied page 2view-vcpu %.2fx dirty-log;"
			       " per VMM-dirtied page (1 in %d) %.0f ns, one view %.0f ns\n",
			       sizes[i], vcpu / median_of(x[M_DIRTY_LOG].harvest_ns, rounds),
			       VMM_STRIDE,
			       (median_of(x[M_TERN_2VIEW].harvest_ns, rounds) - vcpu) / vmm_pages,
			       median_of(x[M_TERN_VMM].harvest_ns, rounds) / vmm_pages);
		}
		if (!x[M_NONE].ok || !x[M_DIRTY_LOG].ok || !x[M_TERN].ok)
			continue;
		none = median_of(x[M_NONE].pass_ns, rounds);
		dl = median_of(x[M_DIRTY_LOG].pass_ns, rounds);
		tern = median_of(x[M_TERN].pass_ns, rounds);
		printf("  %4zu MiB: vCPU writes tern %.2fx dirty-log (slowdown vs none: tern %.2fx, dirty-log %.2fx); "
		       "harvest + write tern %.2fx dirty-log\n",
		       sizes[i], tern / dl, tern / none, dl / none,
		       (tern + median_of(x[M_TERN].harvest_ns, rounds)) /
		       (dl + median_of(x[M_DIRTY_LOG].harvest_ns, rounds)));
	}
	return 0;
}
