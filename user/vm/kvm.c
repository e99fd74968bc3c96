// SPDX-License-Identifier: GPL-2.0
/*
 * The KVM VM itself: /dev/kvm, KVM_CREATE_VM, the TSS and identity map
 * pages AMD/Intel need below 4 GiB, the in-kernel irqchip and PIT, and
 * the CPUID template the vCPUs start from.  kvm__init unwinds in reverse.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/kvm.h"

#define KVM_TSS_ADDR		0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL
#define CPUID_MAX_ENTRIES	256

int kvm__vm_ioctl(struct vm *vm, unsigned long req, void *arg, const char *name)
{
	if (ioctl(vm->vm_fd, req, arg) < 0) {
		int err = errno;

		pr_err("%s: %s", name, strerror(err));
		return -err;
	}
	return 0;
}

static int kvm_check(struct vm *vm, int cap, const char *name)
{
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap) <= 0) {
		pr_err("KVM lacks %s", name);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int kvm_get_cpuid(struct vm *vm)
{
	struct kvm_cpuid2 *cpuid;

	cpuid = calloc(1, sizeof(*cpuid) +
		       CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		int err = errno;

		pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(err));
		free(cpuid);
		return -err;
	}
	vm->cpuid = cpuid;
	return 0;
}

int kvm__init(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	int ret;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		pr_err("/dev/kvm: %s", strerror(errno));
		return ret;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		pr_err("/dev/kvm: unexpected KVM API version");
		ret = -EINVAL;
		goto err_close_kvm;
	}
	ret = kvm_check(vm, KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP") ?:
	      kvm_check(vm, KVM_CAP_PIT2, "KVM_CAP_PIT2") ?:
	      kvm_check(vm, KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD") ?:
	      kvm_check(vm, KVM_CAP_IRQFD, "KVM_CAP_IRQFD") ?:
	      kvm_check(vm, KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING") ?:
	      kvm_check(vm, KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY");
	if (ret)
		goto err_close_kvm;
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0) {
		ret = -EINVAL;
		goto err_close_kvm;
	}

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		goto err_close_kvm;
	}
	ret = vm_ioctl(vm, KVM_SET_TSS_ADDR, (void *)(uintptr_t)KVM_TSS_ADDR);
	if (!ret)
		ret = vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	if (!ret)
		ret = vm_ioctl(vm, KVM_CREATE_IRQCHIP, NULL);
	if (!ret)
		ret = vm_ioctl(vm, KVM_CREATE_PIT2, &pit);
	if (ret)
		goto err_close_vm;
	ret = kvm_get_cpuid(vm);
	if (ret)
		goto err_close_vm;
	return 0;

err_close_vm:
	close(vm->vm_fd);
	vm->vm_fd = -1;
err_close_kvm:
	close(vm->kvm_fd);
	vm->kvm_fd = -1;
	return ret;
}

void kvm__exit(struct vm *vm)
{
	free(vm->cpuid);
	vm->cpuid = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}
