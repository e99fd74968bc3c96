/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The machine: one struct vm per guest, holding the KVM fds, the options
 * it was started with, its vCPUs, RAM, dispatcher tables and devices.
 * Nothing device-specific lives here; devices hang off vm->devices.
 */
#ifndef TERN_VM_KVM_H
#define TERN_VM_KVM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/vm.h"

#define VM_MAX_CPUS	8

enum vm_exit_reason {
	VM_EXIT_NONE,
	VM_EXIT_POWEROFF,	/* guest powered off: status 0 */
	VM_EXIT_QUIT,		/* `quit` on the control socket: status 0 */
	VM_EXIT_RESET,		/* guest reboot or triple fault: status 2 */
	VM_EXIT_ERROR,		/* internal error or KVM failure: status 1 */
};

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *append;
	uint64_t ram_size;
	int nr_cpus;
	const char *disk;
	const char *net_tap;
	const char *control;
	const char *console;	/* stdio | file:PATH | unix:PATH */
	const char *mem_path;	/* share RAM through this file */
	const char *vconsole;	/* virtio-console output file */
	const char *incoming;	/* load this saved state instead of booting */
	const char *incoming_uri;	/* wait for a live migration from here */
	bool paused;		/* incoming: after commit, stay paused until cont */
	bool rng;
};

struct vcpu;
struct iotrap_table;
struct memmap;
struct device_header;
struct irq_routing;
struct ioloop;
struct control;
struct vmstate_registry;
struct vmsd;
struct machine_state;

struct vm {
	struct vm_config cfg;
	int kvm_fd;
	int vm_fd;
	int run_size;
	struct kvm_cpuid2 *cpuid;

	int nr_vcpus;
	struct vcpu *vcpus[VM_MAX_CPUS];

	struct ram_block ram;		/* "/machine" "ram0" */
	uint64_t ram_low;		/* bytes of ram0 below the PCI hole */
	unsigned long *vmm_dirty;	/* VMM-side writes, one bit per page */
	bool dirty_logging;

	struct memmap *memmap;		/* RCU: guest-physical -> host */
	struct iotrap_table *iotraps;	/* RCU: port and MMIO ranges */
	pthread_mutex_t update_lock;	/* serialises RCU table updaters */

	struct device_header *devices;	/* registry, in registration order */
	struct irq_routing *irq;
	struct ioloop *loop;
	struct control *ctl;
	struct vmstate_registry *vmstate;	/* every device's and vCPU's state */
	struct machine_state *machine;		/* irqchip, PIT, clock */

	/* Run state: pause requests, parked vCPUs, the exit request. */
	pthread_mutex_t pause_lock;	/* serialises vm__pause/vm__resume */
	pthread_mutex_t run_lock;
	pthread_cond_t run_cond;
	int pause_depth;
	int nr_parked;
	int nr_running;			/* vCPU threads inside their loop */
	enum vm_exit_reason exit_reason;
	int exit_efd;			/* eventfd: main() wakes to end the VM */

	/*
	 * A pause the operator owns (`cont` undoes it): `stop`, or the
	 * source's after a commit whose `running` never came.  Whoever sets
	 * it keeps its pause; whoever finds it set drops its own.
	 */
	atomic_bool user_stopped;
	/*
	 * Source: `commit` went out, so the destination may run the guest;
	 * the switchover's pause stays until `cont --revert` (the operator's
	 * word that the destination is paused or gone) or quit.
	 * away_confirmed: and the destination said `running` (completed).
	 */
	atomic_bool migrated_away;
	atomic_bool away_confirmed;
	int init_levels_done;
	uint64_t boot_entry;		/* set by the boot loader */
	uint64_t boot_params_gpa;
	int console_in_fd;		/* set by the serial backend */
};

/* Why cont and migrate refuse once migrated_away is set. */
#define VM_MIGRATED_AWAY_MSG \
	"this guest was migrated and runs at the destination; this copy stays paused: " \
	"quit it, or resume it with `cont --revert` once the destination is paused or gone"
#define VM_COMMITTED_AWAY_MSG \
	"a migration committed this guest to its destination, which may run it; this copy " \
	"stays paused: resume it with `cont --revert` once the destination is paused or gone, or quit it"
#define vm__away_msg(vm) (atomic_load(&(vm)->away_confirmed) ? \
	VM_MIGRATED_AWAY_MSG : VM_COMMITTED_AWAY_MSG)

/* Ask main() to end the VM with this reason (first reason wins). */
void vm__request_exit(struct vm *vm, enum vm_exit_reason reason);
int vm__exit_status(enum vm_exit_reason reason);
const char *vm__exit_name(enum vm_exit_reason reason);

/* Describe an instance's state for save/load; path is its canonical path. */
int vm__register_state(struct vm *vm, const struct vmsd *vmsd, void *opaque,
		       const char *path);
void vm__unregister_state(struct vm *vm, const char *path);

int kvm__init(struct vm *vm);
void kvm__exit(struct vm *vm);
/* Checked ioctl on the VM fd: 0 or -errno, logging the name on failure. */
int kvm__vm_ioctl(struct vm *vm, unsigned long req, void *arg, const char *name);
#define vm_ioctl(vm, req, arg) kvm__vm_ioctl(vm, req, arg, #req)

#endif /* TERN_VM_KVM_H */
