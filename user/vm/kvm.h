/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KVM side of a struct vm (vm.h): /dev/kvm, the VM fd with its
 * in-kernel irqchip and PIT, the CPUID template, and a checked ioctl on
 * the VM fd.
 */
#ifndef TERN_VM_KVM_H
#define TERN_VM_KVM_H

#include "vm/vm.h"

int kvm__init(struct vm *vm);
void kvm__exit(struct vm *vm);
/* Checked ioctl on the VM fd: 0 or -errno, logging the name on failure. */
int kvm__vm_ioctl(struct vm *vm, unsigned long req, void *arg, const char *name);
#define vm_ioctl(vm, req, arg) kvm__vm_ioctl(vm, req, arg, #req)

#endif /* TERN_VM_KVM_H */
