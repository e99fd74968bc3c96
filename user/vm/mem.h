/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest RAM: one block ("/machine" "ram0") from a tern region or a memfd,
 * mapped MAP_SHARED and given to KVM as memslots around the PCI hole, and
 * the guest-physical -> host map (RCU) that devices translate through.
 */
#ifndef TERN_VM_MEM_H
#define TERN_VM_MEM_H

#include <stdint.h>

struct vm;

#define GUEST_PAGE_SIZE		4096ULL
#define PCI_HOLE_START		0xc0000000ULL	/* 3 GiB: MMIO up to 4 GiB */
#define HIGH_RAM_START		0x100000000ULL

/* Host pointer for [gpa, gpa + len), or NULL if not all in RAM. */
void *guest__ptr(struct vm *vm, uint64_t gpa, uint64_t len);
/* Block offset of a guest-physical address in ram0, or -1. */
int64_t guest__ram_offset(struct vm *vm, uint64_t gpa);

/* A guest-physical range of ram0 on the devices' (tracked) view. */
struct guest_range {
	uint64_t gpa;
	uint64_t size;
	void *host;
};

/* ram0's ranges, at most max of them; returns how many there are. */
int guest__ram_ranges(struct vm *vm, struct guest_range *r, int max);
/* Bytes of a log of every guest-physical page up to ram0's last. */
uint64_t guest__gpa_log_size(struct vm *vm);

/* Allocate every page of ram0 now (--mem-prealloc); an error names where. */
int mem__prealloc(struct vm *vm);
int mem__init(struct vm *vm);
int mem__exit(struct vm *vm);

#endif /* TERN_VM_MEM_H */
