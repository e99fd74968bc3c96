// SPDX-License-Identifier: GPL-2.0
/*
 * Reset in place: a guest reboot (ACPI reset register, i8042 reset line,
 * triple fault) puts the machine back to power-on inside the same
 * process.  KVM has no reset ioctl, so the state every vCPU, the irqchip
 * and the PIT had when they were created (KVM's own power-on state) is
 * kept here and written back; every device runs its reset handler; the
 * kernel and initrd are loaded again.  A reset asked while someone else
 * holds a pause (a migration's switchover, `stop`) stays pending: it is
 * part of the machine state, so it happens on a migration's destination.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/log.h"
#include "vm/boot.h"
#include "vm/control.h"
#include "vm/device.h"
#include "vm/init.h"
#include "vm/kvm.h"
#include "vm/vcpu.h"
#include "vm/vcpu_state.h"
#include "vm/vm.h"

/* MSRs a reset leaves alone: the TSC runs on; the wall clock is VM-wide. */
static const uint32_t keep_msrs[] = {
	0x00000010,	/* IA32_TSC */
	0x0000003b,	/* IA32_TSC_ADJUST */
	0x4b564d00,	/* KVM_WALL_CLOCK_NEW: a write stores at its address */
};

struct reset_state {
	struct vcpu_state cpu[VM_MAX_CPUS];
	struct kvm_irqchip chip[3];	/* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
};

static int cpu_ioctl(struct vcpu *v, unsigned long req, void *arg, const char *name)
{
	if (ioctl(v->fd, req, arg) < 0) {
		int err = errno;

		pr_err("reset: vCPU %d: %s: %s", v->id, name, strerror(err));
		return -err;
	}
	return 0;
}
#define CPU_IOCTL(v, req, arg) cpu_ioctl(v, req, arg, #req)

static bool kept_msr(uint32_t index)
{
	size_t i;

	for (i = 0; i < sizeof(keep_msrs) / sizeof(keep_msrs[0]); i++)
		if (keep_msrs[i] == index)
			return true;
	return false;
}

/* One MSR at a time: a value KVM refuses is named and skipped. */
static int msr_io(struct vcpu *v, uint32_t index, uint64_t *data, bool set)
{
	uint64_t buf[(sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)) / 8] = { 0 };
	struct kvm_msrs *m = (struct kvm_msrs *)buf;

	m->nmsrs = 1;
	m->entries[0].index = index;
	m->entries[0].data = set ? *data : 0;
	if (ioctl(v->fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, m) != 1) {
		pr_warn("reset: vCPU %d: KVM_%s_MSRS 0x%x failed", v->id,
			set ? "SET" : "GET", index);
		return -EIO;
	}
	if (!set)
		*data = m->entries[0].data;
	return 0;
}

static int cpu_save(struct vcpu *v, struct vcpu_state *s)
{
	uint32_t i;
	int ret;

	ret = CPU_IOCTL(v, KVM_GET_REGS, &s->regs) ?:
	      CPU_IOCTL(v, KVM_GET_SREGS, &s->sregs) ?:
	      CPU_IOCTL(v, KVM_GET_XSAVE, s->xsave) ?:
	      CPU_IOCTL(v, KVM_GET_XCRS, &s->xcrs) ?:
	      CPU_IOCTL(v, KVM_GET_LAPIC, &s->lapic) ?:
	      CPU_IOCTL(v, KVM_GET_VCPU_EVENTS, &s->events) ?:
	      CPU_IOCTL(v, KVM_GET_MP_STATE, &s->mp_state) ?:
	      CPU_IOCTL(v, KVM_GET_DEBUGREGS, &s->debugregs);
	if (ret)
		return ret;
	s->nr_msrs = 0;
	for (i = 0; i < v->host_nr_msrs; i++) {
		uint32_t idx = v->host_msrs[i];

		if (kept_msr(idx) || msr_io(v, idx, &s->msr_data[s->nr_msrs], false))
			continue;
		s->msr_index[s->nr_msrs++] = idx;
	}
	return 0;
}

/* In the order KVM needs: sregs (APIC base) before the LAPIC, MP state last. */
static int cpu_restore(struct vcpu *v, struct vcpu_state *s)
{
	uint32_t i;
	int ret;

	ret = CPU_IOCTL(v, KVM_SET_SREGS, &s->sregs) ?:
	      CPU_IOCTL(v, KVM_SET_REGS, &s->regs) ?:
	      CPU_IOCTL(v, KVM_SET_XCRS, &s->xcrs) ?:
	      CPU_IOCTL(v, KVM_SET_XSAVE, s->xsave);
	if (ret)
		return ret;
	for (i = 0; i < s->nr_msrs; i++)
		msr_io(v, s->msr_index[i], &s->msr_data[i], true);
	return CPU_IOCTL(v, KVM_SET_LAPIC, &s->lapic) ?:
	       CPU_IOCTL(v, KVM_SET_DEBUGREGS, &s->debugregs) ?:
	       CPU_IOCTL(v, KVM_SET_VCPU_EVENTS, &s->events) ?:
	       CPU_IOCTL(v, KVM_SET_MP_STATE, &s->mp_state);
}

static int reset__init(struct vm *vm)
{
	struct reset_state *r;
	int i, ret;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = cpu_save(vm->vcpus[i], &r->cpu[i]);
		if (ret)
			goto err;
	}
	for (i = 0; i < 3; i++) {
		r->chip[i].chip_id = i;		/* KVM_IRQCHIP_PIC_MASTER... */
		ret = vm_ioctl(vm, KVM_GET_IRQCHIP, &r->chip[i]);
		if (ret)
			goto err;
	}
	ret = vm_ioctl(vm, KVM_GET_PIT2, &r->pit);
	if (ret)
		goto err;
	vm->reset = r;
	return 0;
err:
	free(r);
	return ret;
}

static int reset__exit(struct vm *vm)
{
	free(vm->reset);
	vm->reset = NULL;
	return 0;
}
/* After vcpu.c in link order: the vCPUs exist, nothing has run yet. */
base_init(reset__init);
base_exit(reset__exit);

/* With every vCPU parked and every device paused. */
static int reset_machine(struct vm *vm)
{
	struct reset_state *r = vm->reset;
	int i, ret;

	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = cpu_restore(vm->vcpus[i], &r->cpu[i]);
		if (ret)
			return ret;
	}
	for (i = 0; i < 3; i++) {
		ret = vm_ioctl(vm, KVM_SET_IRQCHIP, &r->chip[i]);
		if (ret)
			return ret;
	}
	ret = vm_ioctl(vm, KVM_SET_PIT2, &r->pit);
	if (ret)
		return ret;
	device__reset_all(vm);
	return boot__load(vm);
}

int vm__reset(struct vm *vm)
{
	struct json_object *data;
	unsigned int n = 0;
	int ret;

	pthread_mutex_lock(&vm->pause_lock);
	/*
	 * A guest that reboots at once would have this thread take the lock
	 * again and again: a pause waiting for it (a migration's switchover)
	 * goes first, and its last vm__resume() asks again.
	 */
	if (!atomic_load(&vm->reset_pending) || vm__paused(vm) ||
	    atomic_load(&vm->pause_waiters)) {
		pthread_mutex_unlock(&vm->pause_lock);
		return atomic_load(&vm->reset_pending) ? -EBUSY : 0;
	}
	vm__pause_locked(vm);
	ret = reset_machine(vm);
	if (!ret) {
		n = atomic_fetch_add(&vm->nr_resets, 1) + 1;
		atomic_store(&vm->reset_pending, false);
	}
	vm__resume_locked(vm);
	pthread_mutex_unlock(&vm->pause_lock);
	if (ret) {
		pr_err("reset in place failed (%s): ending the VM as a reset",
		       strerror(-ret));
		vm__request_exit(vm, VM_EXIT_RESET);
		return ret;
	}
	pr_info("guest reset in place (%u)", n);
	data = json_object_new_object();
	json_object_object_add(data, "count", json_object_new_int64(n));
	control__event(vm, "RESET", data);
	return 0;
}
