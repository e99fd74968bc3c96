// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-anchor: started by the harness VM's /init, holds KVM's APIC static
 * keys steady for the whole run.
 *
 * Why: KVM flips static keys (apic_sw_disabled, apic_hw_disabled,
 * kvm_has_noapic_vcpu) when the first vCPU with such an APIC appears and
 * after the last goes, i.e. whenever a test's VM starts or ends.  Each
 * flip patches the jump sites in __apic_accept_irq() and the vCPU run
 * loop while other vCPUs execute them, and QEMU 7.2's multi-threaded TCG
 * now and then keeps running the unpatched translation on the other
 * CPU: that CPU then spins on the site for good (a soft lockup at
 * __apic_accept_irq+0x72, seen in make check's harness, the guest's tests
 * stuck behind it).  With one VM that holds a never-enabled APIC and one
 * vCPU without an in-kernel APIC, every key stays on and is never
 * patched again.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MSR_IA32_APICBASE	0x1b
#define APIC_DEFAULT_BASE	0xfee00000ull	/* and no ENABLE bit */

static int fail(const char *what)
{
	perror(what);
	return 1;
}

int main(void)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs = {
		.hdr.nmsrs = 1,
		.e = { .index = MSR_IA32_APICBASE, .data = APIC_DEFAULT_BASE },
	};
	int kvm, vm, vcpu, vm2;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("kvm-anchor: /dev/kvm");
	/* An in-kernel APIC, software-disabled from reset, hardware-disabled here. */
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0))
		return fail("kvm-anchor: VM with irqchip");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0 || ioctl(vcpu, KVM_SET_MSRS, &msrs) != 1)
		return fail("kvm-anchor: vCPU with a disabled APIC");
	/* A vCPU with no in-kernel APIC at all. */
	vm2 = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm2 < 0 || ioctl(vm2, KVM_CREATE_VCPU, 0) < 0)
		return fail("kvm-anchor: VM without irqchip");
	printf("kvm-anchor: ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
