// SPDX-License-Identifier: GPL-2.0
/*
 * A vCPU's architectural state as one vmstate section per vCPU
 * ("/machine/cpu/N"): registers, segment and control registers, XSAVE
 * (x87/SSE/AVX), XCRs, the MSRs KVM can save, the local APIC, pending
 * events, MP state and debug registers.  pre_save reads them from KVM
 * (vCPUs parked); post_commit writes them back in the order KVM needs:
 * sregs before the LAPIC (APIC base), the TSC deadline after the LAPIC,
 * MP state and events last, and fails the load naming the vCPU and the
 * ioctl KVM refused (a destination then never answers `ready`).
 */
#include <errno.h>
#include <stdbool.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/log.h"
#include "vm/kvm.h"
#include "vm/test_hooks.h"
#include "vm/vcpu.h"
#include "vm/vcpu_state.h"
#include "vmstate/vmstate.h"

#define MSR_IA32_TSC_DEADLINE	0x6e0

/* MSRs worth carrying, kept when KVM lists them as saveable. */
static const uint32_t wanted_msrs[] = {
	0x00000010,	/* IA32_TSC */
	0x0000003b,	/* IA32_TSC_ADJUST */
	0x00000174,	/* IA32_SYSENTER_CS */
	0x00000175,	/* IA32_SYSENTER_ESP */
	0x00000176,	/* IA32_SYSENTER_EIP */
	0x000001a0,	/* IA32_MISC_ENABLE */
	0x00000277,	/* IA32_PAT */
	0x000006e0,	/* IA32_TSC_DEADLINE */
	0xc0000081,	/* STAR */
	0xc0000082,	/* LSTAR */
	0xc0000083,	/* CSTAR */
	0xc0000084,	/* SYSCALL_MASK */
	0xc0000102,	/* KERNEL_GS_BASE */
	0xc0000103,	/* TSC_AUX */
	0x4b564d00,	/* KVM_WALL_CLOCK_NEW */
	0x4b564d01,	/* KVM_SYSTEM_TIME_NEW */
	0x4b564d02,	/* KVM_ASYNC_PF_EN */
	0x4b564d03,	/* KVM_STEAL_TIME */
	0x4b564d04,	/* KVM_PV_EOI_EN */
	0x4b564d05,	/* KVM_POLL_CONTROL */
	0x4b564d06,	/* KVM_ASYNC_PF_INT */
};

static int vcpu_ioctl(struct vcpu *v, unsigned long req, void *arg, const char *name)
{
	int err;

	if (test_hook__refuse(name, v->id))
		err = EINVAL;
	else if (ioctl(v->fd, req, arg) < 0)
		err = errno;
	else
		return 0;
	pr_err("vCPU %d: %s: %s", v->id, name, strerror(err));
	return -err;
}
#define VCPU_IOCTL(v, req, arg) vcpu_ioctl(v, req, arg, #req)

/* KVM_GET_MSRS or KVM_SET_MSRS over the state's MSR list. */
static int msrs(struct vcpu *v, struct vcpu_state *s, bool set)
{
	struct kvm_msrs *m;
	uint32_t i;
	int n, ret = 0;

	m = calloc(1, sizeof(*m) + VCPU_MAX_MSRS * sizeof(m->entries[0]));
	if (!m)
		return -ENOMEM;
	m->nmsrs = s->nr_msrs;
	for (i = 0; i < s->nr_msrs; i++) {
		m->entries[i].index = s->msr_index[i];
		m->entries[i].data = set ? s->msr_data[i] : 0;
	}
	if (test_hook__refuse(set ? "KVM_SET_MSRS" : "KVM_GET_MSRS", v->id)) {
		n = -1;
		errno = EINVAL;
	} else {
		n = ioctl(v->fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, m);
	}
	if (n != (int)s->nr_msrs) {
		pr_err("vCPU %d: KVM_%s_MSRS did %d of %u (stopped at 0x%x)", v->id,
		       set ? "SET" : "GET", n, s->nr_msrs,
		       n >= 0 && n < (int)s->nr_msrs ? s->msr_index[n] : 0);
		ret = n < 0 ? -errno : -EIO;
	}
	for (i = 0; !ret && !set && i < s->nr_msrs; i++)
		s->msr_data[i] = m->entries[i].data;
	free(m);
	return ret;
}

static int vcpu_pre_save(void *opaque)
{
	struct vcpu *v = opaque;
	struct vcpu_state *s = &v->state;

	return VCPU_IOCTL(v, KVM_GET_REGS, &s->regs) ?:
	       VCPU_IOCTL(v, KVM_GET_SREGS, &s->sregs) ?:
	       VCPU_IOCTL(v, KVM_GET_XSAVE, s->xsave) ?:
	       VCPU_IOCTL(v, KVM_GET_XCRS, &s->xcrs) ?:
	       msrs(v, s, false) ?:
	       VCPU_IOCTL(v, KVM_GET_LAPIC, &s->lapic) ?:
	       VCPU_IOCTL(v, KVM_GET_VCPU_EVENTS, &s->events) ?:
	       VCPU_IOCTL(v, KVM_GET_MP_STATE, &s->mp_state) ?:
	       VCPU_IOCTL(v, KVM_GET_DEBUGREGS, &s->debugregs);
}

/* The staging copy: reject what KVM would misread before committing. */
static int vcpu_post_load(void *staging, uint32_t version)
{
	struct vcpu *v = staging;
	struct vcpu_state *s = &v->state;
	uint32_t i, j;

	if (s->xcrs.nr_xcrs > KVM_MAX_XCRS || s->nr_msrs > VCPU_MAX_MSRS)
		return -EINVAL;
	/* Only MSRs this host's KVM saves too, so the set cannot fail. */
	for (i = 0; i < s->nr_msrs; i++) {
		for (j = 0; j < v->host_nr_msrs; j++)
			if (v->host_msrs[j] == s->msr_index[i])
				break;
		if (j == v->host_nr_msrs) {
			pr_err("vCPU %d: MSR 0x%x not saveable here", v->id, s->msr_index[i]);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/*
 * IA32_TSC_DEADLINE is ignored unless the LAPIC timer is in deadline
 * mode, so it is written again once the LAPIC is restored.
 */
static int set_deadline(struct vcpu *v, struct vcpu_state *s)
{
	struct kvm_msrs *m;
	uint32_t i;
	int n = 1;

	for (i = 0; i < s->nr_msrs; i++) {
		if (s->msr_index[i] != MSR_IA32_TSC_DEADLINE)
			continue;
		m = calloc(1, sizeof(*m) + sizeof(m->entries[0]));
		if (!m)
			return -ENOMEM;
		m->nmsrs = 1;
		m->entries[0].index = MSR_IA32_TSC_DEADLINE;
		m->entries[0].data = s->msr_data[i];
		n = ioctl(v->fd, KVM_SET_MSRS, m);
		free(m);
	}
	return n == 1 ? 0 : -EIO;
}

/* Each SET in KVM's order; the first refusal names the vCPU and the call. */
static int vcpu_post_commit(void *opaque, char *why, size_t len)
{
	struct vcpu *v = opaque;
	struct vcpu_state *s = &v->state;
	const char *call;
	int ret;

#define SET(req, arg) (call = #req, vcpu_ioctl(v, req, arg, #req))
	ret = SET(KVM_SET_SREGS, &s->sregs) ?:
	      SET(KVM_SET_REGS, &s->regs) ?:
	      SET(KVM_SET_XCRS, &s->xcrs) ?:
	      SET(KVM_SET_XSAVE, s->xsave) ?:
	      (call = "KVM_SET_MSRS", msrs(v, s, true)) ?:
	      SET(KVM_SET_LAPIC, &s->lapic) ?:
	      (call = "KVM_SET_MSRS (TSC deadline)", set_deadline(v, s)) ?:
	      SET(KVM_SET_DEBUGREGS, &s->debugregs) ?:
	      SET(KVM_SET_MP_STATE, &s->mp_state) ?:
	      SET(KVM_SET_VCPU_EVENTS, &s->events);
#undef SET
	if (ret)
		snprintf(why, len, "vCPU %d: %s: %s", v->id, call, strerror(-ret));
	return ret;
}

static const struct vmstate_field vcpu_state_fields[] = {
	VMSTATE_BUFFER(regs, struct vcpu_state, 0),
	VMSTATE_BUFFER(sregs, struct vcpu_state, 0),
	VMSTATE_BUFFER(xsave, struct vcpu_state, 0),
	VMSTATE_BUFFER(xcrs, struct vcpu_state, 0),
	VMSTATE_U32_VARRAY(msr_index, struct vcpu_state, nr_msrs, 0),
	VMSTATE_U64_VARRAY(msr_data, struct vcpu_state, nr_msrs, 0),
	VMSTATE_BUFFER(lapic, struct vcpu_state, 0),
	VMSTATE_BUFFER(events, struct vcpu_state, 0),
	VMSTATE_BUFFER(mp_state, struct vcpu_state, 0),
	VMSTATE_BUFFER(debugregs, struct vcpu_state, 0),
	VMSTATE_END,
};

static const struct vmsd vcpu_state_vmsd = {
	.name = "kvm-vcpu",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct vcpu_state),
	.fields = vcpu_state_fields,
};

static const struct vmstate_field vcpu_fields[] = {
	VMSTATE_STRUCT(state, struct vcpu, 0, vcpu_state_vmsd, struct vcpu_state),
	VMSTATE_END,
};

static const struct vmsd vcpu_vmsd = {
	.name = "cpu",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct vcpu),
	.fields = vcpu_fields,
	.pre_save = vcpu_pre_save,
	.post_load = vcpu_post_load,
	.post_commit = vcpu_post_commit,
};
VMSTATE_DEVICE_TABLE(vcpu_vmsd);

int vcpu_state__register(struct vm *vm, struct vcpu *v)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *list;
	char path[32];
	uint32_t i, j;
	int err;

	/* KVM says how many it lists (E2BIG for a short list): none is lost. */
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG) {
		err = errno;
		pr_err("vCPU %d: KVM_GET_MSR_INDEX_LIST: %s", v->id, strerror(err));
		return -err;
	}
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
	if (!list)
		return -ENOMEM;
	list->nmsrs = probe.nmsrs;
	if (probe.nmsrs && ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		err = errno;
		free(list);
		pr_err("vCPU %d: KVM_GET_MSR_INDEX_LIST (%u): %s", v->id, probe.nmsrs,
		       strerror(err));
		return -err;
	}
	for (i = 0; i < sizeof(wanted_msrs) / sizeof(wanted_msrs[0]); i++) {
		for (j = 0; j < list->nmsrs; j++) {
			if (list->indices[j] == wanted_msrs[i] && v->state.nr_msrs < VCPU_MAX_MSRS) {
				v->state.msr_index[v->state.nr_msrs++] = wanted_msrs[i];
				v->host_msrs[v->host_nr_msrs++] = wanted_msrs[i];
			}
		}
	}
	free(list);
	snprintf(path, sizeof(path), "/machine/cpu/%d", v->id);
	return vm__register_state(vm, &vcpu_vmsd, v, path);
}

void vcpu_state__unregister(struct vm *vm, struct vcpu *v)
{
	char path[32];

	snprintf(path, sizeof(path), "/machine/cpu/%d", v->id);
	vm__unregister_state(vm, path);
}
