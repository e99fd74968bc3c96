/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loads a bzImage, initrd and command line by the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst): zero page with the setup header and
 * e820 map, identity page tables, a flat GDT, vCPU 0 in long mode at the
 * 64-bit entry.
 */
#ifndef TERN_VM_BOOT_H
#define TERN_VM_BOOT_H

struct vm;

/* A bzImage ternvm can boot, checked before KVM: 0 or -errno, logged. */
int boot__check_kernel(const char *path);
/* Load kernel, initrd, command line, tables; set vCPU 0 to the entry. */
int boot__load(struct vm *vm);

#endif /* TERN_VM_BOOT_H */
