// SPDX-License-Identifier: GPL-2.0
/*
 * Nested KVM works in the harness: a tiny real-mode guest made through
 * /dev/kvm computes 0x1234 + 0x42, writes the low byte to port 0x10 and
 * halts; the exits and the final registers are exactly those expected.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
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
	int kvm, vm, vcpu;
	void *mem;
	struct kvm_run *run;
};

FIXTURE_SETUP(realmode)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_MEM,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = CODE_GPA,
		.rflags = 0x2,
	};
	int run_size;

	self->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (self->kvm < 0)
		SKIP(return, "/dev/kvm: %s", strerror(errno));
	ASSERT_EQ(KVM_API_VERSION, ioctl(self->kvm, KVM_GET_API_VERSION, 0));
	self->vm = ioctl(self->kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, self->vm) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));

	self->mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memcpy((char *)self->mem + CODE_GPA, guest_code, sizeof(guest_code));
	slot.userspace_addr = (unsigned long)self->mem;
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &slot));

	self->vcpu = ioctl(self->vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, self->vcpu) TH_LOG("KVM_CREATE_VCPU: %s", strerror(errno));
	run_size = ioctl(self->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, run_size);
	self->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->vcpu, 0);
	ASSERT_NE(MAP_FAILED, self->run);

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_SREGS, &sregs));
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_REGS, &regs));
}

FIXTURE_TEARDOWN(realmode)
{
	if (self->kvm < 0)
		return;
	close(self->vcpu);
	close(self->vm);
	close(self->kvm);
	munmap(self->mem, GUEST_MEM);
}

TEST_F(realmode, add_out_hlt)
{
	struct kvm_regs regs;

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, self->run->exit_reason)
		TH_LOG("exit reason %u", self->run->exit_reason);
	EXPECT_EQ(KVM_EXIT_IO_OUT, self->run->io.direction);
	EXPECT_EQ(0x10, self->run->io.port);
	EXPECT_EQ(1, self->run->io.size);
	EXPECT_EQ(1, self->run->io.count);
	EXPECT_EQ(0x76, *((unsigned char *)self->run + self->run->io.data_offset));

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_HLT, self->run->exit_reason)
		TH_LOG("exit reason %u", self->run->exit_reason);

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x1276, regs.rax & 0xffff);
	EXPECT_EQ(0x42, regs.rbx & 0xffff);
	EXPECT_EQ(CODE_GPA + sizeof(guest_code), regs.rip);
}

TEST_HARNESS_MAIN
