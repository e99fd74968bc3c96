// SPDX-License-Identifier: GPL-2.0
/*
 * GSI routing: KVM_SET_GSI_ROUTING replaces the whole table, so we keep
 * our own copy (the PIC and IOAPIC pins KVM sets by default, then the MSI
 * routes devices add) and push it after every change.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/log.h"
#include "vm/init.h"
#include "vm/irq.h"
#include "vm/kvm.h"

#define IOAPIC_PINS	24
#define MAX_ROUTES	256

struct irq_routing {
	pthread_mutex_t lock;
	int next_gsi;
	struct kvm_irq_routing *table;	/* MAX_ROUTES entries allocated */
};

int irq__line(struct vm *vm, int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	return vm_ioctl(vm, KVM_IRQ_LINE, &l);
}

int irq__signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = addr >> 32,
		.data = data,
	};

	return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

static void add_entry(struct kvm_irq_routing *t, struct kvm_irq_routing_entry e)
{
	t->entries[t->nr++] = e;
}

static int commit(struct vm *vm)
{
	return vm_ioctl(vm, KVM_SET_GSI_ROUTING, vm->irq->table);
}

int irq__add_msi_route(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct irq_routing *r = vm->irq;
	struct kvm_irq_routing_entry e = { .type = KVM_IRQ_ROUTING_MSI };
	int gsi, ret;

	pthread_mutex_lock(&r->lock);
	if (r->table->nr >= MAX_ROUTES) {
		pthread_mutex_unlock(&r->lock);
		return -ENOSPC;
	}
	gsi = r->next_gsi++;
	e.gsi = gsi;
	e.u.msi.address_lo = (uint32_t)addr;
	e.u.msi.address_hi = addr >> 32;
	e.u.msi.data = data;
	add_entry(r->table, e);
	ret = commit(vm);
	pthread_mutex_unlock(&r->lock);
	return ret ?: gsi;
}

int irq__update_msi_route(struct vm *vm, int gsi, uint64_t addr, uint32_t data)
{
	struct irq_routing *r = vm->irq;
	uint32_t i;
	int ret = -ENOENT;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->table->nr; i++) {
		struct kvm_irq_routing_entry *e = &r->table->entries[i];

		if (e->gsi != (uint32_t)gsi || e->type != KVM_IRQ_ROUTING_MSI)
			continue;
		if (e->u.msi.address_lo == (uint32_t)addr &&
		    e->u.msi.address_hi == addr >> 32 && e->u.msi.data == data) {
			ret = 0;
			break;
		}
		e->u.msi.address_lo = (uint32_t)addr;
		e->u.msi.address_hi = addr >> 32;
		e->u.msi.data = data;
		ret = commit(vm);
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq__irqfd(struct vm *vm, int fd, int gsi, int deassign)
{
	struct kvm_irqfd f = {
		.fd = fd,
		.gsi = gsi,
		.flags = deassign ? KVM_IRQFD_FLAG_DEASSIGN : 0,
	};

	return vm_ioctl(vm, KVM_IRQFD, &f);
}

int irq__init(struct vm *vm)
{
	struct irq_routing *r;
	int i;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->table = calloc(1, sizeof(*r->table) +
			  MAX_ROUTES * sizeof(struct kvm_irq_routing_entry));
	if (!r->table) {
		free(r);
		return -ENOMEM;
	}
	pthread_mutex_init(&r->lock, NULL);
	/* The routes KVM installs with the irqchip, so ISA lines still work. */
	for (i = 0; i < 16; i++) {
		struct kvm_irq_routing_entry e = {
			.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP,
		};

		if (i == 2)
			continue;
		e.u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
		e.u.irqchip.pin = i % 8;
		add_entry(r->table, e);
	}
	for (i = 0; i < IOAPIC_PINS; i++) {
		struct kvm_irq_routing_entry e = {
			.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP,
		};

		e.u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e.u.irqchip.pin = i;
		add_entry(r->table, e);
	}
	r->next_gsi = IOAPIC_PINS;
	vm->irq = r;
	return 0;
}

int irq__exit(struct vm *vm)
{
	if (vm->irq) {
		free(vm->irq->table);
		pthread_mutex_destroy(&vm->irq->lock);
		free(vm->irq);
		vm->irq = NULL;
	}
	return 0;
}
core_init(irq__init);
core_exit(irq__exit);
