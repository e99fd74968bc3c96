// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU creation (CPUID with per-vCPU APIC ids), the per-vCPU run loop,
 * and pause/resume.  A pause sets run->immediate_exit then signals the
 * thread, so a vCPU is either kicked out of KVM_RUN or never enters it.
 */
#include <errno.h>
#include <stdio.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/log.h"
#include "vm/device.h"
#include "vm/init.h"
#include "vm/iotrap.h"
#include "vm/sandbox.h"
#include "vm/vm.h"
#include "vm/test_hooks.h"
#include "vm/vcpu.h"

#define KICK_SIGNAL	SIGUSR1
/* x87, SSE, AVX, MPX, AVX-512, PKRU, AMX: the XCR0 bits Linux 6.1 uses */
#define XCR0_USER_STATES	0x602ffULL

static void kick_handler(int sig)
{
}

static void set_cpuid(struct vm *vm, struct kvm_cpuid2 *c, int id)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffff) | ((uint32_t)id << 24) |
				 ((uint32_t)vm->nr_vcpus << 16);
			e->edx |= 1u << 28;		/* HTT: count is valid */
			e->ecx |= 1u << 31;		/* hypervisor */
			if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
				  KVM_CAP_TSC_DEADLINE_TIMER) > 0)
				e->ecx |= 1u << 24;	/* TSC deadline */
			break;
		case 0xb:
		case 0x1f:
			e->edx = id;
			break;
		case 0x8000001e:
			e->eax = id;
			break;
		}
	}
}

static const struct kvm_cpuid_entry2 *cpuid_find(const struct vm *vm,
						  uint32_t function, uint32_t index)
{
	uint32_t i;

	for (i = 0; i < vm->cpuid->nent; i++)
		if (vm->cpuid->entries[i].function == function &&
		    vm->cpuid->entries[i].index == index)
			return &vm->cpuid->entries[i];
	return NULL;
}

/*
 * The user states Linux will enable: those of leaf 0xd that also have
 * their feature bit (KVM offers PKRU in 0xd without PKU when it runs on
 * shadow paging, for one), as Linux's xsave_cpuid_features table decides.
 */
static uint64_t guest_xcr0(const struct vm *vm)
{
	static const struct { int state; uint32_t leaf; int reg; int bit; } need[] = {
		{ 2, 1, 2, 28 },			/* AVX: CPUID.1:ECX.AVX */
		{ 3, 7, 1, 14 }, { 4, 7, 1, 14 },	/* MPX: CPUID.7:EBX.MPX */
		{ 5, 7, 1, 16 }, { 6, 7, 1, 16 }, { 7, 7, 1, 16 }, /* AVX512F */
		{ 9, 7, 2, 3 },				/* PKRU: CPUID.7:ECX.PKU */
		{ 17, 7, 3, 24 }, { 18, 7, 3, 24 },	/* AMX: CPUID.7:EDX.AMX_TILE */
	};
	const struct kvm_cpuid_entry2 *d = cpuid_find(vm, 0xd, 0), *e;
	uint64_t xcr0;
	uint32_t r;
	size_t i;

	if (!d)
		return 0;
	xcr0 = (d->eax | ((uint64_t)d->edx << 32)) & XCR0_USER_STATES;
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		e = cpuid_find(vm, need[i].leaf, 0);
		r = !e ? 0 : need[i].reg == 1 ? e->ebx : need[i].reg == 2 ? e->ecx : e->edx;
		if (!(r & (1u << need[i].bit)))
			xcr0 &= ~(1ull << need[i].state);
	}
	return xcr0;
}

/*
 * Start with XCR0 = the user states Linux will enable (guest_xcr0).  Under
 * nested SVM on TCG a guest XSETBV does not exit, so KVM would keep XCR0 =
 * x87 and size CPUID leaf 0xD for that: the guest then warns "XSAVE
 * consistency problem" (size != kernel_size), as it does for any state
 * set here that the guest leaves out.
 */
static void set_xcr0(struct vm *vm, struct vcpu *v)
{
	struct kvm_xcrs xcrs = { .nr_xcrs = 1 };

	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) <= 0)
		return;
	xcrs.xcrs[0].value = guest_xcr0(vm);
	if (!(xcrs.xcrs[0].value & 1))
		return;
	if (ioctl(v->fd, KVM_SET_XCRS, &xcrs) < 0)
		pr_warn("vCPU %d: KVM_SET_XCRS 0x%llx: %s", v->id,
			(unsigned long long)xcrs.xcrs[0].value, strerror(errno));
}

static int vcpu_create(struct vm *vm, int id)
{
	struct kvm_cpuid2 *cpuid;
	struct vcpu *v;
	size_t sz;
	int ret;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_VCPU %d: %s", id, strerror(errno));
		goto err_free;
	}
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	sz = sizeof(*cpuid) + vm->cpuid->nent * sizeof(cpuid->entries[0]);
	cpuid = malloc(sz);
	if (!cpuid) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	memcpy(cpuid, vm->cpuid, sz);
	set_cpuid(vm, cpuid, id);
	ret = ioctl(v->fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
	free(cpuid);
	if (ret) {
		pr_err("KVM_SET_CPUID2 vCPU %d: %s", id, strerror(-ret));
		goto err_unmap;
	}
	set_xcr0(vm, v);
	ret = vcpu_state__register(vm, v);
	if (ret)
		goto err_unmap;
	vm->vcpus[id] = v;
	return 0;

err_unmap:
	munmap(v->run, vm->run_size);
err_close:
	close(v->fd);
err_free:
	free(v);
	return ret;
}

int vcpu__init(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	int i, ret;

	sigemptyset(&sa.sa_mask);
	if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	vm->nr_vcpus = vm->cfg.nr_cpus;
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_create(vm, i);
		if (ret)
			return ret;	/* vcpu__exit frees those made */
	}
	return 0;
}

int vcpu__exit(struct vm *vm)
{
	int i;

	vcpu__stop_all(vm);
	for (i = 0; i < VM_MAX_CPUS; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (!v)
			continue;
		if (v->started)
			pthread_join(v->thread, NULL);
		vcpu_state__unregister(vm, v);
		munmap(v->run, vm->run_size);
		close(v->fd);
		free(v);
		vm->vcpus[i] = NULL;
	}
	return 0;
}
base_init(vcpu__init);
base_exit(vcpu__exit);

static void kick(struct vcpu *v)
{
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (v->started)
		pthread_kill(v->thread, KICK_SIGNAL);
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool wr = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		if (!iotrap__dispatch(v->vm, v, IOTRAP_PIO, run->io.port, data,
				      run->io.size, wr) && !wr)
			memset(data, 0xff, run->io.size);
	}
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (!iotrap__dispatch(v->vm, v, IOTRAP_MMIO, run->mmio.phys_addr,
			      run->mmio.data, run->mmio.len, run->mmio.is_write)) {
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, run->mmio.len);
		pr_debug("vCPU %d: unhandled MMIO %s 0x%llx", v->id,
			 run->mmio.is_write ? "write" : "read",
			 (unsigned long long)run->mmio.phys_addr);
	}
}

/*
 * Where a guest died: enough to tell a guest bug from a VMM or host one.
 * On AMD, KVM has already reset the vCPU when it reports the shutdown.
 */
static void log_shutdown(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0 ||
	    (r.rip == 0xfff0 && s.cs.selector == 0xf000)) {
		pr_info("vCPU %d: triple fault (registers already reset), resetting", v->id);
		return;
	}
	pr_info("vCPU %d: triple fault at rip 0x%llx rsp 0x%llx cr0 0x%llx cr2 0x%llx "
		"cr3 0x%llx cr4 0x%llx efer 0x%llx cs 0x%x, resetting", v->id,
		(unsigned long long)r.rip, (unsigned long long)r.rsp,
		(unsigned long long)s.cr0, (unsigned long long)s.cr2,
		(unsigned long long)s.cr3, (unsigned long long)s.cr4,
		(unsigned long long)s.efer, s.cs.selector);
}

/* false when the VM must end. */
static bool handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		log_shutdown(v);
		vm__request_reset(v->vm);
		return true;		/* parks until the reset is done */
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
			vm__request_reset(v->vm);
			return true;
		}
		vm__request_exit(v->vm, VM_EXIT_POWEROFF);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		pr_err("vCPU %d: entry failed, reason 0x%llx", v->id,
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		pr_err("vCPU %d: KVM internal error, suberror %u", v->id,
		       run->internal.suberror);
		break;
	default:
		pr_err("vCPU %d: unexpected exit reason %u", v->id, run->exit_reason);
		break;
	}
	vm__request_exit(v->vm, VM_EXIT_ERROR);
	return false;
}

/*
 * Park while paused.  First a KVM_RUN with immediate_exit set, so KVM
 * completes a pending port/MMIO read into the registers: the state a save
 * sees is then consistent.  false when the VM must end.
 */
static bool park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool end;

	v->run->immediate_exit = 1;
	if (ioctl(v->fd, KVM_RUN, 0) == 0)
		handle_exit(v);		/* no guest entry happened; harmless */
	v->run->immediate_exit = 0;

	pthread_mutex_lock(&vm->run_lock);
	while ((vm->pause_depth || atomic_load(&vm->reset_pending)) &&
	       vm->exit_reason == VM_EXIT_NONE) {
		vm->nr_parked++;
		pthread_cond_broadcast(&vm->run_cond);
		pthread_cond_wait(&vm->run_cond, &vm->run_lock);
		vm->nr_parked--;
	}
	end = vm->exit_reason != VM_EXIT_NONE;
	pthread_mutex_unlock(&vm->run_lock);
	return !end;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%d", v->id);
	pthread_setname_np(pthread_self(), name);
	rcu_register_thread();
	sandbox__enter(SANDBOX_VCPU);
	for (;;) {
		if (__atomic_load_n(&vm->pause_depth, __ATOMIC_SEQ_CST) ||
		    __atomic_load_n(&vm->exit_reason, __ATOMIC_SEQ_CST) ||
		    atomic_load(&vm->reset_pending)) {
			if (!park(v))
				break;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				continue;
			}
			pr_err("vCPU %d: KVM_RUN: %s", v->id, strerror(errno));
			vm__request_exit(vm, VM_EXIT_ERROR);
			break;
		}
		if (!handle_exit(v))
			break;
	}
	rcu_unregister_thread();
	pthread_mutex_lock(&vm->run_lock);
	vm->nr_running--;
	pthread_cond_broadcast(&vm->run_cond);
	pthread_mutex_unlock(&vm->run_lock);
	return NULL;
}

int vcpu__start_all(struct vm *vm)
{
	sigset_t set;
	int i, ret;

	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		pthread_mutex_lock(&vm->run_lock);
		vm->nr_running++;
		pthread_mutex_unlock(&vm->run_lock);
		ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (ret) {
			pthread_mutex_lock(&vm->run_lock);
			vm->nr_running--;
			pthread_mutex_unlock(&vm->run_lock);
			pr_err("vCPU %d thread: %s", i, strerror(ret));
			return -ret;
		}
		v->started = true;
	}
	return 0;
}

void vcpu__stop_all(struct vm *vm)
{
	int i;

	vm__request_exit(vm, VM_EXIT_QUIT);	/* no-op if a reason is set */
	for (i = 0; i < VM_MAX_CPUS; i++)
		if (vm->vcpus[i])
			kick(vm->vcpus[i]);
}

/*
 * Outermost pause: vCPUs parked first (no new kicks), then the devices'
 * I/O (what the I/O thread was doing finishes; later work waits).
 * Pauses, resumes and resets are serialised by pause_lock so the device
 * hooks pair up.
 *
 * stop_clock: the guest's clock stops too (a stop, a switchover, a
 * reset); not for auto-converge's throttle, whose pauses are the
 * guest's own time going by.  Counted apart from the depth, so a stop
 * during a throttle's pause stops the clock all the same.
 */
static void pause_locked(struct vm *vm, bool stop_clock)
{
	bool first;
	int i;

	pthread_mutex_lock(&vm->run_lock);
	first = vm->pause_depth++ == 0;
	if (first) {
		for (i = 0; i < vm->nr_vcpus; i++)
			kick(vm->vcpus[i]);
	}
	while (vm->nr_parked < vm->nr_running && vm->exit_reason == VM_EXIT_NONE)
		pthread_cond_wait(&vm->run_cond, &vm->run_lock);
	pthread_mutex_unlock(&vm->run_lock);
	if (first && test_hook__env("TERN_TEST_PAUSE_GAP_MS"))
		usleep(1000 * atoi(test_hook__env("TERN_TEST_PAUSE_GAP_MS")));
	if (first)
		device__pause_all(vm);
	if (stop_clock && vm->clock_stops++ == 0)
		vm__clock_stop(vm);
}

void vm__pause_locked(struct vm *vm)
{
	pause_locked(vm, true);
}

static void resume_locked(struct vm *vm, bool stop_clock)
{
	uint64_t one = 1;
	bool last;

	if (stop_clock && vm->clock_stops > 0 && --vm->clock_stops == 0)
		vm__clock_run(vm);
	pthread_mutex_lock(&vm->run_lock);
	last = vm->pause_depth > 0 && --vm->pause_depth == 0;
	pthread_mutex_unlock(&vm->run_lock);
	if (last)
		device__resume_all(vm);
	pthread_mutex_lock(&vm->run_lock);
	if (last)
		pthread_cond_broadcast(&vm->run_cond);
	pthread_mutex_unlock(&vm->run_lock);
	/* A reset asked while paused: the vCPUs stay parked, vm__run does it. */
	if (last && atomic_load(&vm->reset_pending) &&
	    write(vm->exit_efd, &one, sizeof(one)) < 0)
		pr_warn("exit eventfd: %s", strerror(errno));
}

void vm__resume_locked(struct vm *vm)
{
	resume_locked(vm, true);
}

void vm__throttle_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	pause_locked(vm, false);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm__throttle_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	resume_locked(vm, false);
	pthread_mutex_unlock(&vm->pause_lock);
}

int vm__pause(struct vm *vm)
{
	atomic_fetch_add(&vm->pause_waiters, 1);
	pthread_mutex_lock(&vm->pause_lock);
	atomic_fetch_sub(&vm->pause_waiters, 1);
	vm__pause_locked(vm);
	pthread_mutex_unlock(&vm->pause_lock);
	return 0;
}

void vm__resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm__resume_locked(vm);
	pthread_mutex_unlock(&vm->pause_lock);
}

bool vm__paused(struct vm *vm)
{
	bool p;

	pthread_mutex_lock(&vm->run_lock);
	p = vm->pause_depth > 0;
	pthread_mutex_unlock(&vm->run_lock);
	return p;
}
