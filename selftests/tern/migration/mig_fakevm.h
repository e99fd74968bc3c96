/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake VM for migration tests and the receive fuzzer: malloc'd RAM
 * blocks, a writer thread standing in for the vCPUs (stamps pages, marks
 * a userspace dirty bitmap), an opaque device-state blob, and hooks that
 * make a destination slow or failing at a chosen step.
 */
#ifndef TERN_SELFTEST_MIG_FAKEVM_H
#define TERN_SELFTEST_MIG_FAKEVM_H

#include <stdbool.h>
#include <stdint.h>

#include "migration/migration.h"

struct fakevm_cfg {
	uint64_t ram_size;		/* "/machine" "ram0" */
	uint64_t vga_size;		/* "/machine/pci0/00:02.0/vga" "vram", 0: none */
	uint64_t rom_size;		/* "/machine" "bios.rom", non-migratable */
	const char *ram_name;		/* default "ram0" */
	bool kstream;			/* offer ops->stream_round (tern path) */
	const char *cpu_model;		/* default "tern-test-v1" */
	uint8_t cpuid_extra;		/* OR'd into CPUID byte 1 */
	uint32_t blk_version;		/* virtio-blk vmstate version, default 2 */
	uint32_t blk_min_version;	/* default 1 */
	bool extra_device;		/* add "/machine/pci0/00:05.0/virtio-rng" */
	const char *blk_path;		/* default "/machine/pci0/00:03.0/virtio-blk" */
	const char *blk_type;		/* its table, default "virtio-blk" */
	bool no_types;			/* no device types sent (release 0.1.0) */
	/* virtio-blk's subsection (version blk_sub_version, default 1). */
	const char *blk_sub;
	uint32_t blk_sub_version;
	/* Source: is it needed?  0 never, 1 always, 2 from the first pause. */
	int blk_sub_needed;
	/* The destination's mig_machine.admit (a vmstate registry's filters). */
	int (*admit)(void *arg, const struct mig_device *src, unsigned int nr,
		     uint32_t *unloadable, char *why, size_t len);
	void *admit_arg;
	unsigned int write_rate;	/* writer: page writes per ms, 0: none */
	uint32_t seed;
	unsigned int state_size;	/* device-state blob bytes, default 9000 */
	int ram_fd;			/* >0: ram0 is this tern.ko region */
	bool ram_zeroed;		/* ram0 is new (MIG_BLK_F_ZEROED) */
	/* ram0's stream sets refuse TERN_STREAM_SET_F_DEFER, as an older tern.ko's */
	bool no_defer;
};

struct fakevm;

/* The small machine the receive fuzzer and its recorded corpus use. */
extern const struct fakevm_cfg fakevm_fuzz_cfg;

extern const struct mig_vm_ops fakevm_ops;
/*
 * The same plus stream_round and stream_set: pages come as a
 * tern.ko-style stream, or as a set of disjoint shares of one harvest.
 */
extern const struct mig_vm_ops fakevm_kstream_ops;
/* ram0 a real tern.ko region (cfg.ram_fd): tracking and stream by the module. */
extern const struct mig_vm_ops fakevm_tern_ops;

struct fakevm *fakevm_new(const struct fakevm_cfg *cfg);
void fakevm_free(struct fakevm *vm);
/* Fill RAM with a pattern: half the pages zero, the rest stamped. */
void fakevm_fill(struct fakevm *vm, uint8_t pattern);
void fakevm_writer_start(struct fakevm *vm);
void fakevm_writer_stop(struct fakevm *vm);
uint64_t fakevm_writes(struct fakevm *vm);
/* The guest lives: its writer makes progress within 2 s. */
bool fakevm_writer_advances(struct fakevm *vm);

bool fakevm_running(struct fakevm *vm);
/* Stream sets refused for asking to defer (cfg.no_defer). */
unsigned int fakevm_defer_refused(struct fakevm *vm);	/* not paused, not stopped */
bool fakevm_started(struct fakevm *vm);	/* destination: start() called */
unsigned int fakevm_throttle(struct fakevm *vm);
bool fakevm_tracking(struct fakevm *vm);

/* Hooks for destinations. */
void fakevm_set_load_delay(struct fakevm *vm, unsigned int ms);
void fakevm_set_start_delay(struct fakevm *vm, unsigned int ms);
/* ops->machine takes this long (a destination slow to welcome). */
void fakevm_set_machine_delay(struct fakevm *vm, unsigned int ms);
void fakevm_set_load_error(struct fakevm *vm, int err);

/*
 * 0 if every migratable block and the device state of dst equal src's and
 * dst's non-migratable blocks still hold `untouched`; else -1 and why.
 */
int fakevm_compare(struct fakevm *src, struct fakevm *dst, uint8_t untouched,
		   char *why, unsigned int len);
/* 0 if every block of vm still holds only `pattern` bytes. */
int fakevm_untouched(struct fakevm *vm, uint8_t pattern);

#endif /* TERN_SELFTEST_MIG_FAKEVM_H */
