/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A KVM VM for a few bytes of 16-bit code: the VM, its memslots, and one
 * vCPU in real mode with CS and DS at 0, as the KVM selftests'
 * vm_create_with_one_vcpu makes one in long mode.  Failures end the test
 * through TEST_ASSERT, naming the ioctl.
 */
#ifndef TERN_SELFTEST_KVM_UTIL_H
#define TERN_SELFTEST_KVM_UTIL_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

struct rm_vm {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
};

/* The VM; -errno (nothing made) when /dev/kvm cannot be opened. */
int rm_vm_create(struct rm_vm *v);
/* Memslot `slot` of size bytes at gpa, backed by hva. */
void rm_vm_set_slot(struct rm_vm *v, uint32_t slot, uint64_t gpa,
		    void *hva, uint64_t size);
/* vCPU 0, real mode, CS and DS at 0 (after the memslots). */
void rm_vm_add_vcpu(struct rm_vm *v);
/* Run from rip (flags clear) until the next exit; run->exit_reason. */
void rm_vm_run_from(struct rm_vm *v, uint64_t rip);
void rm_vm_free(struct rm_vm *v);

#endif /* TERN_SELFTEST_KVM_UTIL_H */
