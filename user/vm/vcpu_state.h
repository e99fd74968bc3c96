/* SPDX-License-Identifier: GPL-2.0 */
/* A vCPU's saved state (vcpu_state.c): what KVM's get/set ioctls carry. */
#ifndef TERN_VM_VCPU_STATE_H
#define TERN_VM_VCPU_STATE_H

#include <linux/kvm.h>
#include <stdint.h>

#define VCPU_MAX_MSRS	32

struct vm;
struct vcpu;

struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	/* struct kvm_xsave ends in a flexible array: keep its 4 KiB legacy size. */
	uint8_t xsave[4096] __attribute__((aligned(8)));
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	struct kvm_debugregs debugregs;
	uint32_t nr_msrs;
	uint32_t msr_index[VCPU_MAX_MSRS];
	uint64_t msr_data[VCPU_MAX_MSRS];
};

int vcpu_state__register(struct vm *vm, struct vcpu *v);
void vcpu_state__unregister(struct vm *vm, struct vcpu *v);

#endif /* TERN_VM_VCPU_STATE_H */
