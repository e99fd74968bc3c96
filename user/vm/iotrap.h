/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one dispatcher for guest port I/O and MMIO exits.  Ranges live in a
 * sorted table read lock-free (RCU) by every vCPU exit; registering or
 * removing a range copies the table and publishes it; the old copy is
 * freed after a grace period.  Handlers may (un)register ranges.
 */
#ifndef TERN_VM_IOTRAP_H
#define TERN_VM_IOTRAP_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

enum iotrap_bus {
	IOTRAP_PIO,
	IOTRAP_MMIO,
};

/* addr is absolute (port or guest-physical); data is len bytes, LE. */
typedef void (*iotrap_fn)(struct vcpu *vcpu, uint64_t addr, uint8_t *data,
			  uint32_t len, bool is_write, void *opaque);

int vm__register_iotrap(struct vm *vm, uint64_t base, uint64_t len,
			iotrap_fn fn, void *opaque, enum iotrap_bus bus);
int vm__unregister_iotrap(struct vm *vm, uint64_t base, enum iotrap_bus bus);
/* Move a range (a PCI BAR reprogrammed by the guest). */
int vm__move_iotrap(struct vm *vm, uint64_t old_base, uint64_t new_base,
		    enum iotrap_bus bus);

/* false when no range covers [addr, addr + len). */
bool iotrap__dispatch(struct vm *vm, struct vcpu *vcpu, enum iotrap_bus bus,
		      uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

int iotrap__init(struct vm *vm);
int iotrap__exit(struct vm *vm);

#endif /* TERN_VM_IOTRAP_H */
