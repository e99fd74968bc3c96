// SPDX-License-Identifier: GPL-2.0
/*
 * Nested KVM works in the harness: a tiny real-mode guest made through
 * /dev/kvm computes 0x1234 + 0x42, writes the low byte to port 0x10 and
 * halts; the exits and the final registers are exactly those expected.
 */
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "test_util.h"

#define GUEST_MEM	0x10000
#define CODE_GPA	0x1000

static const unsigned char guest_code[] = {
	0xb8, 0x34, 0x12,	/* mov ax, 0x1234 */
	0xbb, 0x42, 0x00,	/* mov bx, 0x0042 */
	0x01, 0xd8,		/* add ax, bx */
	0xe6, 0x10,		/* out 0x10, al */
	0xf4,			/* hlt */
};

FIXTURE(realmode) {
	struct rm_vm v;
	void *mem;
};

FIXTURE_SETUP(realmode)
{
	int ret = rm_vm_create(&self->v);

	if (ret)
		SKIP(return, "/dev/kvm: %s", strerror(-ret));
	self->mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memcpy((char *)self->mem + CODE_GPA, guest_code, sizeof(guest_code));
	rm_vm_set_slot(&self->v, 0, 0, self->mem, GUEST_MEM);
	rm_vm_add_vcpu(&self->v);
}

FIXTURE_TEARDOWN(realmode)
{
	rm_vm_free(&self->v);
	if (self->mem && self->mem != MAP_FAILED)
		munmap(self->mem, GUEST_MEM);
}

TEST_F(realmode, add_out_hlt)
{
	struct kvm_run *run;
	struct kvm_regs regs;

	rm_vm_run_from(&self->v, CODE_GPA);
	run = self->v.run;
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason)
		TH_LOG("exit reason %u", run->exit_reason);
	EXPECT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
	EXPECT_EQ(0x10, run->io.port);
	EXPECT_EQ(1, run->io.size);
	EXPECT_EQ(1, run->io.count);
	EXPECT_EQ(0x76, *((unsigned char *)run + run->io.data_offset));

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_HLT, run->exit_reason)
		TH_LOG("exit reason %u", run->exit_reason);

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x1276, regs.rax & 0xffff);
	EXPECT_EQ(0x42, regs.rbx & 0xffff);
	EXPECT_EQ(CODE_GPA + sizeof(guest_code), regs.rip);
}

TEST_HARNESS_MAIN
