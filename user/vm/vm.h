/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What ternvm offers the migration code: pause/resume of the vCPUs, the
 * RAM block list, dirty tracking of VMM-side writes (for the KVM dirty log
 * path), and save/load of every device's and vCPU's state.
 */
#ifndef TERN_VM_VM_H
#define TERN_VM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

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
	void *host;		/* MAP_SHARED mapping of fd */
	int fd;			/* memfd or tern region fd */
	enum ram_backend backend;
	uint32_t flags;		/* RAM_BLOCK_F_* */
};

/* Park every vCPU outside KVM_RUN; nests (a pause per caller). 0 or -errno. */
int vm__pause(struct vm *vm);
/* Undo one vm__pause(); the vCPUs run again when the last one is undone. */
void vm__resume(struct vm *vm);
bool vm__paused(struct vm *vm);

/* The RAM blocks, in a stable order; *blocks stays valid while vm lives. */
int vm__ram_blocks(struct vm *vm, const struct ram_block **blocks);

/*
 * Dirty tracking for the memfd backend: KVM's dirty log for vCPU writes
 * plus a bitmap the VMM sets for its own writes to guest memory (virtio
 * used rings, disk reads, net rx).  A sync ORs both into `bitmap` (one bit
 * per 4 KiB page of the block, block offsets) and clears them.
 */
int vm__dirty_log_start(struct vm *vm);
int vm__dirty_log_stop(struct vm *vm);
int vm__dirty_log_sync(struct vm *vm, int block, unsigned long *bitmap);
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

#endif /* TERN_VM_VM_H */
