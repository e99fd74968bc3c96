/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake /dev/kvm for the device tests on a host without KVM, as
 * mig_fakevm.c is a fake VM for the migration tests.  A test binary
 * linked with -Wl,--wrap=open,--wrap=ioctl (FAKE_KVM_LDFLAGS in vm.mk)
 * gets it when /dev/kvm cannot be opened, and the real KVM otherwise (in
 * the harness), so vm__create() builds a whole VM (memory, a parked vCPU,
 * irqchip, every device) either way.  vCPUs never run: the test plays
 * the guest through the VMM's own dispatch.
 *
 * What KVM would keep it keeps, so state saved from one VM loads into
 * another (registers, MSRs, irqchip, PIT, clock: each GET returns the
 * last SET), and what KVM would consume it lets the test see: the level
 * of each interrupt line, the MSIs devices raise through their irqfds
 * (resolved through the GSI routing the VMM set), and the ioeventfd a
 * queue kick goes to.
 */
#ifndef TERN_SELFTEST_FAKE_KVM_H
#define TERN_SELFTEST_FAKE_KVM_H

#include <stdbool.h>
#include <stdint.h>

/* True when /dev/kvm is the fake here (no KVM on this host). */
bool fake_kvm_active(void);

/* The last level KVM_IRQ_LINE set on `irq` of VM `vm_fd`; -1 unknown. */
int fake_kvm_irq_level(int vm_fd, int irq);
/* How many times `irq` went from 0 to 1. */
unsigned int fake_kvm_irq_raised(int vm_fd, int irq);

/*
 * MSIs with this data value raised since the last call: each irqfd's
 * count consumed (as KVM would) and resolved through the GSI routing,
 * plus KVM_SIGNAL_MSI calls.  Waits up to `timeout_ms` for `want` of
 * them (an MSI may follow the used-ring update it announces).
 */
unsigned int fake_kvm_msi_taken(int vm_fd, uint32_t data, unsigned int want,
				int timeout_ms);

/* The eventfd bound by KVM_IOEVENTFD at guest address `addr`, or -1. */
int fake_kvm_ioeventfd(int vm_fd, uint64_t addr);

#endif /* TERN_SELFTEST_FAKE_KVM_H */
