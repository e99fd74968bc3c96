/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The machine: one struct vm per guest (its options, KVM fds, vCPUs, RAM,
 * dispatcher tables and devices) and its lifecycle: vm__create builds it
 * through the init levels, vm__run runs it until it ends, vm__reset puts
 * it back to power-on in place, vm__destroy unwinds.  Also what the
 * migration code may call: pause/resume, dirty tracking of VMM-side
 * writes, save/load of every device's and vCPU's state.
 */
#ifndef TERN_VM_VM_H
#define TERN_VM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_MAX_CPUS	8

enum vm_exit_reason {
	VM_EXIT_NONE,
	VM_EXIT_POWEROFF,	/* guest powered off: status 0 */
	VM_EXIT_QUIT,		/* `quit` on the control socket: status 0 */
	VM_EXIT_RESET,		/* guest reset with --no-reboot: status 2 */
	VM_EXIT_ERROR,		/* internal error or KVM failure: status 1 */
};

struct mig_tls;

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *append;
	uint64_t ram_size;
	int nr_cpus;
	const char *disk;
	bool disk_threads;	/* --disk-aio threads: no io_uring */
	const char *net_tap;
	uint8_t net_mac[6];	/* --net tap=IFNAME,mac=MAC, if net_mac_set */
	bool net_mac_set;
	bool net_vhost;		/* --net ...,vhost=on: the kernel's vhost-net */
	const char *control;
	int control_gid;	/* --control-group: also these peers; -1 none */
	const char *state_dir;	/* save/load-state paths allowed under it */
	const char *console;	/* stdio | file:PATH | unix:PATH */
	const char *mem_path;	/* share RAM through this file */
	bool mem_prealloc;	/* allocate all of RAM before it is used */
	const char *vconsole;	/* virtio-console output file */
	const char *incoming;	/* load this saved state instead of booting */
	const char *incoming_uri;	/* wait for a live migration from here */
	long incoming_timeout_ms;	/* --incoming-timeout, or -1: the default */
	struct mig_tls *tls;	/* --tls-creds/--tls-psk, or NULL; migrate.c takes it */
	bool paused;		/* incoming: after commit, stay paused until cont */
	bool rng;
	bool no_reboot;		/* a guest reset ends the VM (status 2) */
};

enum ram_backend {
	RAM_BACKEND_MEMFD,	/* memfd (or --mem-path file); KVM dirty log */
	RAM_BACKEND_TERN,	/* tern.ko region: the module tracks writers */
};

#define RAM_BLOCK_F_NOMIGRATE	(1u << 0)	/* device memory, ROMs */
#define RAM_BLOCK_F_ZEROED	(1u << 1)	/* new: reads as zeros until written */

struct ram_block {
	const char *path;	/* canonical device path: "/machine" */
	const char *name;	/* block name: "ram0" */
	uint64_t size;		/* bytes */
	void *host;		/* MAP_SHARED mapping of fd: the VMM's, devices' */
	void *kvm_view;		/* the memslots' mapping: host, or tern's KVM view */
	int fd;			/* memfd or tern region fd */
	enum ram_backend backend;
	uint32_t flags;		/* RAM_BLOCK_F_* */
};

struct vcpu;
struct kvm_cpuid2;
struct iotrap_table;
struct memmap;
struct device_header;
struct irq_routing;
struct ioloop;
struct control;
struct vmstate_registry;
struct vmsd;
struct machine_state;
struct reset_state;

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
	unsigned long *gpa_log;		/* kernel writers' (vhost), by gpa page */
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
	struct reset_state *reset;		/* power-on state of vCPUs, irqchip */
	struct vm_mig *mig;			/* migrate.c */

	/* Run state: pause requests, parked vCPUs, the exit request. */
	pthread_mutex_t pause_lock;	/* serialises pauses, resumes, resets */
	pthread_mutex_t run_lock;
	pthread_cond_t run_cond;
	int pause_depth;
	int clock_stops;		/* pauses that stop the guest's clock */
	atomic_int pause_waiters;	/* in vm__pause, before pause_lock */
	int nr_parked;
	int nr_running;			/* vCPU threads inside their loop */
	enum vm_exit_reason exit_reason;
	int exit_efd;			/* eventfd: vm__run wakes to end or reset */
	atomic_bool quit_signalled;	/* vm__signal_quit */
	/*
	 * The guest asked for a reset that has not happened yet: vCPUs stay
	 * parked until it has.  Migrates with the machine state, so a reset
	 * asked while the source is paused for switchover happens on the
	 * destination.
	 */
	atomic_bool reset_pending;
	atomic_uint nr_resets;		/* resets done in place */

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

/*
 * Lifecycle.  vm__create builds the machine through every init level
 * (NULL with errno set on failure, everything undone); vm__run starts the
 * I/O thread and the vCPUs and returns when the VM ends, doing the resets
 * the guest asks for in between; vm__destroy stops and unwinds it.  The
 * calling thread must be registered with RCU.  Without cfg->kernel (and
 * no incoming state) nothing is loaded: a test drives the devices
 * through iotrap__dispatch and never runs the vCPUs.
 */
struct vm *vm__create(const struct vm_config *cfg);
enum vm_exit_reason vm__run(struct vm *vm);
void vm__destroy(struct vm *vm);

/* Ask vm__run to end the VM with this reason (first reason wins). */
void vm__request_exit(struct vm *vm, enum vm_exit_reason reason);
/* The same for `quit`, from a signal handler: async-signal-safe. */
void vm__signal_quit(struct vm *vm);
int vm__exit_status(enum vm_exit_reason reason);
const char *vm__exit_name(enum vm_exit_reason reason);

/*
 * The guest asked for a reset (ACPI, i8042, triple fault): from a vCPU
 * or device thread.  With --no-reboot it ends the VM; else the vCPUs park
 * and vm__run does vm__reset once nobody else holds a pause.
 */
void vm__request_reset(struct vm *vm);
/*
 * Power-on reset in place: vCPUs and irqchip to their boot state, every
 * device's reset handler, the kernel and initrd loaded again (VMM writes
 * to guest RAM, tracked).  -EBUSY while someone else holds a pause (the
 * reset stays pending and is done at the last resume).
 */
int vm__reset(struct vm *vm);

/* Describe an instance's state for save/load; path is its canonical path. */
int vm__register_state(struct vm *vm, const struct vmsd *vmsd, void *opaque,
		       const char *path);
void vm__unregister_state(struct vm *vm, const char *path);

/* Park every vCPU outside KVM_RUN; nests (a pause per caller). 0 or -errno. */
int vm__pause(struct vm *vm);
/* Undo one vm__pause(); the vCPUs run again when the last one is undone. */
void vm__resume(struct vm *vm);
bool vm__paused(struct vm *vm);
/*
 * The same for auto-converge's throttle: the vCPUs park, the guest's
 * clock runs on (a vm__pause stops it while the VM is stopped).
 */
void vm__throttle_pause(struct vm *vm);
void vm__throttle_resume(struct vm *vm);

/*
 * Dirty tracking of ram0 for a migration (mem.c, the RAM backend), the
 * same calls for either backend.  tern.ko tracks every writer; where the
 * memslots sit on the region's second view, KVM's
 * dirty log (manual protect) takes the vCPUs' writes and each round's
 * bits are handed to the module before its harvest.  The memfd backend
 * uses KVM's dirty log plus a bitmap of the VMM's own writes
 * (vm__mark_dirty).  A sync ORs what was written since the last one into
 * bitmap (one bit per 4 KiB page of the block) and clears it.
 */
int vm__ram_track_start(struct vm *vm);
int vm__ram_track_stop(struct vm *vm);
int vm__ram_track_sync(struct vm *vm, unsigned long *bitmap);
/*
 * tern.ko only: a page stream of the next round (harvested at its first
 * read), or n streams sharing one harvest, one per channel (-ENOTTY from
 * a module without stream sets).
 */
int vm__ram_stream_open(struct vm *vm, int *fd);
int vm__ram_stream_open_set(struct vm *vm, unsigned int n, bool defer,
			    int *fds);
int vm__ram_track_report(struct vm *vm);
/* Devices call this after writing guest memory (gpa, len). */
void vm__mark_dirty(struct vm *vm, uint64_t gpa, uint64_t len);

/*
 * Machine state (vCPUs, irqchip, PIT, clock, every device) to/from fd, as
 * vmstate sections.  Call with the VM paused.  Never kills the guest: a
 * failure is logged and returned.
 */
int vm__save_state(struct vm *vm, int fd);
/* why (may be NULL): the section and what failed, for a migration error. */
int vm__load_state(struct vm *vm, int fd, char *why, size_t len);
/*
 * The guest's clock stops with the VM (first pause, vCPUs parked) and
 * runs again from there (last resume); a state load in between sets its
 * own clock instead.
 */
void vm__clock_stop(struct vm *vm);
void vm__clock_run(struct vm *vm);

#endif /* TERN_VM_VM_H */
