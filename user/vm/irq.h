/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interrupts into the in-kernel irqchip: ISA lines (KVM_IRQ_LINE) and MSI
 * routes that irqfds fire (KVM_SET_GSI_ROUTING keeps the irqchip pins and
 * adds one GSI per MSI-X vector).
 */
#ifndef TERN_VM_IRQ_H
#define TERN_VM_IRQ_H

#include <stdint.h>

struct vm;

int irq__line(struct vm *vm, int irq, int level);
/* A GSI routed to MSI (addr, data); -errno when the table is full. */
int irq__add_msi_route(struct vm *vm, uint64_t addr, uint32_t data);
int irq__update_msi_route(struct vm *vm, int gsi, uint64_t addr, uint32_t data);
int irq__signal_msi(struct vm *vm, uint64_t addr, uint32_t data);
/* Attach (or, with fd < 0 ... ) an eventfd to a GSI. */
int irq__irqfd(struct vm *vm, int fd, int gsi, int deassign);

int irq__init(struct vm *vm);
int irq__exit(struct vm *vm);

#endif /* TERN_VM_IRQ_H */
