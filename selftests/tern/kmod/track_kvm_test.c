// SPDX-License-Identifier: GPL-2.0
/*
 * KVM as the writer: a tiny real-mode guest whose memslot is backed by a
 * region writes a stamp into the pages the host lists; after every run the
 * harvested set is exactly those pages and every stamp is in place, over
 * many rounds that revisit pages (so KVM's writable mapping of a page must
 * be dropped by each re-arm, or the next write would go unreported).  The
 * guest's code sits in a separate anonymous memslot, outside the region.
 * The two-view variant is ternvm's layout: the memslot on the region's KVM
 * view, tracked by KVM's dirty log (manual protect, initially set) that is
 * handed to the module before each harvest, while a VMM thread writes
 * other pages through the tracked view during the guest's run; the round
 * is exactly the union, and the guest's writes take no tern fault.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "kvm_util.h"
#include "tern_util.h"
#include "test_util.h"

#define LOW_MEM		0x10000		/* slot 0: code and mailbox */
#define CODE_GPA	0x1000
#define MBOX_GPA	0x8000		/* u16 count, u16 stamp, u16 pages[] */
#define REGION_GPA	0x10000		/* slot 1: the region */
#define NPAGES		128
#define MAX_LIST	48

/*
 * for (i = 0; i < count; i++) *(u16 *)(REGION_GPA + pages[i] * 4096) = stamp;
 * then out 0x10 and hlt.
 */
static const unsigned char guest_code[] = {
	0xa1, 0x00, 0x80,		/* mov ax, [0x8000] */
	0x89, 0xc1,			/* mov cx, ax */
	0xbe, 0x04, 0x80,		/* mov si, 0x8004 */
	0x8b, 0x16, 0x02, 0x80,		/* mov dx, [0x8002] */
	0xe3, 0x11,			/* loop: jcxz done */
	0xad,				/* lodsw */
	0xc1, 0xe0, 0x08,		/* shl ax, 8 */
	0x05, 0x00, 0x10,		/* add ax, 0x1000 */
	0x8e, 0xc0,			/* mov es, ax */
	0x26, 0x89, 0x16, 0x00, 0x00,	/* mov es:[0], dx */
	0x49,				/* dec cx */
	0xeb, 0xed,			/* jmp loop */
	0xe6, 0x10,			/* done: out 0x10, al */
	0xf4,				/* hlt */
};

FIXTURE(kvm_region) {
	struct rm_vm v;
	int region;
	char *low, *mem, *view;		/* view: the memslot's mapping */
};

FIXTURE_VARIANT(kvm_region) {
	bool kvm_view;
};
FIXTURE_VARIANT_ADD(kvm_region, tracked_view) {
	.kvm_view = false,
};
FIXTURE_VARIANT_ADD(kvm_region, two_views) {
	.kvm_view = true,
};

FIXTURE_SETUP(kvm_region)
{
	self->region = -1;
	self->v.kvm = -1;
	if (access(TERN_DEV_PATH, F_OK) || rm_vm_create(&self->v))
		SKIP(return, "needs /dev/kvm and tern.ko");
	self->low = mmap(NULL, LOW_MEM, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->low);
	memcpy(self->low + CODE_GPA, guest_code, sizeof(guest_code));
	rm_vm_set_slot(&self->v, 0, 0, self->low, LOW_MEM);

	self->region = region_create(NPAGES * PAGE, "kvm-ram");
	self->mem = region_map(self->region, NPAGES * PAGE);
	self->view = self->mem;
	if (variant->kvm_view) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
			.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
				   KVM_DIRTY_LOG_INITIALLY_SET,
		};
		int kfd = ioctl(self->region, TERN_REGION_KVM_FD, 0);

		ASSERT_LE(0, kfd);
		self->view = region_map(kfd, NPAGES * PAGE);
		close(kfd);
		ASSERT_EQ(0, ioctl(self->v.vm, KVM_ENABLE_CAP, &cap));
	}
	/* The memslot over a region (its KVM view in the two-view case). */
	rm_vm_set_slot(&self->v, 1, REGION_GPA, self->view, NPAGES * PAGE);
	rm_vm_add_vcpu(&self->v);
}

FIXTURE_TEARDOWN(kvm_region)
{
	if (self->v.kvm < 0)
		return;
	rm_vm_free(&self->v);
	if (self->view != self->mem)
		munmap(self->view, NPAGES * PAGE);
	munmap(self->mem, NPAGES * PAGE);
	close(self->region);
}

static void guest_pass(struct __test_metadata *_metadata,
		       FIXTURE_DATA(kvm_region) *self)
{
	rm_vm_run_from(&self->v, CODE_GPA);
	ASSERT_EQ(KVM_EXIT_IO, self->v.run->exit_reason);
	ASSERT_EQ(0x10, self->v.run->io.port);
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_HLT, self->v.run->exit_reason);
}

/* The VMM's writes of a round, through the tracked view, as the guest runs. */
struct vmm_writes {
	char *mem;
	uint16_t stamp;
	unsigned int n;
	uint16_t pages[MAX_LIST];
};

static void *vmm_writer(void *arg)
{
	struct vmm_writes *w = arg;
	unsigned int i;

	for (i = 0; i < w->n; i++)
		*(volatile uint16_t *)(w->mem + w->pages[i] * PAGE) = w->stamp;
	return NULL;
}

/* ternvm's step before a harvest: KVM's log, fetched, cleared, handed in. */
static void kvm_log_mark(struct __test_metadata *_metadata,
			 FIXTURE_DATA(kvm_region) *self)
{
	uint64_t bm[NPAGES / 64] = { 0 };
	struct kvm_dirty_log get = { .slot = 1, .dirty_bitmap = bm };
	struct kvm_clear_dirty_log clr = {
		.slot = 1, .num_pages = NPAGES, .dirty_bitmap = bm,
	};
	struct tern_track_mark mark = {
		.bitmap = (uintptr_t)bm, .bitmap_size = sizeof(bm),
	};

	ASSERT_EQ(0, ioctl(self->v.vm, KVM_GET_DIRTY_LOG, &get));
	ASSERT_EQ(0, ioctl(self->v.vm, KVM_CLEAR_DIRTY_LOG, &clr));
	ASSERT_EQ(0, ioctl(self->region, TERN_TRACK_MARK, &mark));
}

TEST_F_TIMEOUT(kvm_region, every_guest_write_reported, 600)
{
	unsigned int rounds = check_full() ? 300 : 60, r, i, n, missed = 0;
	unsigned int extra = 0;
	uint64_t map[NPAGES / 64], want[NPAGES / 64], seed = 12345;
	uint16_t *mbox = (uint16_t *)(self->low + MBOX_GPA);
	struct tern_track_stats st;
	struct kvm_userspace_memory_region slot = {
		.slot = 1, .flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = REGION_GPA, .memory_size = NPAGES * PAGE,
		.userspace_addr = (uintptr_t)self->view,
	};
	struct vmm_writes vw = { .mem = self->mem };
	uint64_t vmm_total = 0;
	pthread_t th;

	track_start(self->region);
	if (variant->kvm_view) {
		/* The log goes on after a first run, as ternvm's at migration. */
		guest_pass(_metadata, self);
		ASSERT_EQ(0, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &slot));
		kvm_log_mark(_metadata, self);
	}
	track_harvest(self->region, map, NPAGES, NULL);	/* round 1: all */
	for (r = 1; r <= rounds; r++) {
		n = 1 + xorshift64(&seed) % MAX_LIST;
		memset(want, 0, sizeof(want));
		mbox[0] = n;
		mbox[1] = r;
		for (i = 0; i < n; i++) {
			/* a small pool, so pages are written round after round */
			uint16_t p = xorshift64(&seed) % (NPAGES / 2);

			mbox[2 + i] = p;
			want[p / 64] |= 1ULL << (p % 64);
		}
		/* Two views: the VMM writes too, anywhere, while the guest runs. */
		vw.n = variant->kvm_view ? xorshift64(&seed) % MAX_LIST : 0;
		vw.stamp = r;
		for (i = 0; i < vw.n; i++) {
			vw.pages[i] = xorshift64(&seed) % NPAGES;
			want[vw.pages[i] / 64] |= 1ULL << (vw.pages[i] % 64);
		}
		vmm_total += vw.n;
		ASSERT_EQ(0, pthread_create(&th, NULL, vmm_writer, &vw));
		guest_pass(_metadata, self);
		ASSERT_EQ(0, pthread_join(th, NULL));
		if (variant->kvm_view)
			kvm_log_mark(_metadata, self);
		track_harvest(self->region, map, NPAGES, NULL);
		for (i = 0; i < NPAGES; i++) {
			bool w = want[i / 64] >> (i % 64) & 1;

			if (w && *(uint16_t *)(self->mem + i * PAGE) != r)
				missed++;
			if (w && !bit_test(map, i))
				missed++;
			if (!w && bit_test(map, i))
				extra++;
		}
		ASSERT_EQ(0, missed) TH_LOG("round %u", r);
		/*
		 * A page reported unwritten was kept for a holder (KVM's own
		 * reference while it faulted the page in): never more.
		 */
		track_stats(self->region, &st);
		ASSERT_LE(extra, st.held) TH_LOG("round %u", r);
	}
	track_stats(self->region, &st);
	TH_LOG("%u rounds, %llu write faults, %llu VMM writes, %u reported unwritten, %llu kept for a holder",
	       rounds, (unsigned long long)st.write_faults,
	       (unsigned long long)vmm_total, extra,
	       (unsigned long long)st.held);
	/* Through a KVM view, the guest's writes never fault into tern. */
	if (variant->kvm_view) {
		ASSERT_GE(vmm_total, st.write_faults);
	} else {
		ASSERT_LE(rounds, st.write_faults);
	}
}

TEST_HARNESS_MAIN
