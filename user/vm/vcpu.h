/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vCPUs: one thread each, running KVM_RUN and handing port/MMIO exits to
 * the dispatcher; parked on pause, kicked out of the guest by a signal.
 */
#ifndef TERN_VM_VCPU_H
#define TERN_VM_VCPU_H

#include <pthread.h>
#include <stdbool.h>

#include "vm/vcpu_state.h"

struct vm;

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	struct vcpu_state state;	/* filled by save, applied by load */
	uint32_t host_nr_msrs;		/* MSRs this host's KVM saves */
	uint32_t host_msrs[VCPU_MAX_MSRS];
};

int vcpu__start_all(struct vm *vm);
/* Kick every vCPU out of the guest; they notice the exit request. */
void vcpu__stop_all(struct vm *vm);

/* vm__pause/vm__resume with vm->pause_lock already held (a reset). */
void vm__pause_locked(struct vm *vm);
void vm__resume_locked(struct vm *vm);

int vcpu__init(struct vm *vm);
int vcpu__exit(struct vm *vm);

#endif /* TERN_VM_VCPU_H */
