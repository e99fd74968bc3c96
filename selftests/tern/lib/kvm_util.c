// SPDX-License-Identifier: GPL-2.0
/* A real-mode KVM VM for the selftests (kvm_util.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"
#include "test_util.h"

int rm_vm_create(struct rm_vm *v)
{
	*v = (struct rm_vm){ .kvm = -1, .vm = -1, .vcpu = -1 };
	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		return -errno;
	TEST_ASSERT(ioctl(v->kvm, KVM_GET_API_VERSION, 0) == KVM_API_VERSION,
		    "KVM_GET_API_VERSION");
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	TEST_ASSERT(v->vm >= 0, "KVM_CREATE_VM");
	return 0;
}

void rm_vm_set_slot(struct rm_vm *v, uint32_t slot, uint64_t gpa,
		    void *hva, uint64_t size)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	TEST_ASSERT(!ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &r),
		    "KVM_SET_USER_MEMORY_REGION slot %u at 0x%llx", slot,
		    (unsigned long long)gpa);
}

void rm_vm_add_vcpu(struct rm_vm *v)
{
	struct kvm_sregs sregs;
	int size;

	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	TEST_ASSERT(v->vcpu >= 0, "KVM_CREATE_VCPU");
	size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	TEST_ASSERT(size > 0, "KVM_GET_VCPU_MMAP_SIZE");
	v->run_size = size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->vcpu, 0);
	TEST_ASSERT(v->run != MAP_FAILED, "mmap of the vCPU's kvm_run");
	TEST_ASSERT(!ioctl(v->vcpu, KVM_GET_SREGS, &sregs), "KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	TEST_ASSERT(!ioctl(v->vcpu, KVM_SET_SREGS, &sregs), "KVM_SET_SREGS");
}

void rm_vm_run_from(struct rm_vm *v, uint64_t rip)
{
	struct kvm_regs regs = { .rip = rip, .rflags = 0x2 };

	TEST_ASSERT(!ioctl(v->vcpu, KVM_SET_REGS, &regs), "KVM_SET_REGS");
	TEST_ASSERT(!ioctl(v->vcpu, KVM_RUN, 0), "KVM_RUN");
}

void rm_vm_free(struct rm_vm *v)
{
	if (v->run && v->run != MAP_FAILED)
		munmap(v->run, v->run_size);
	if (v->vcpu >= 0)
		close(v->vcpu);
	if (v->vm >= 0)
		close(v->vm);
	if (v->kvm >= 0)
		close(v->kvm);
	*v = (struct rm_vm){ .kvm = -1, .vm = -1, .vcpu = -1 };
}
