/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCI bus 0 behind configuration mechanism #1 (ports 0xcf8/0xcfc): a host
 * bridge at 00:00.0 and devices that register a config space and 32-bit
 * memory BARs.  BARs are assigned here; a device hears when the guest
 * maps, moves or unmaps one.
 */
#ifndef TERN_VM_DEVICES_PCI_H
#define TERN_VM_DEVICES_PCI_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vmsd;

/* Describes a pci_device's config space, for devices' own tables. */
extern const struct vmsd pci_device_vmsd;

#define PCI_CFG_SIZE	256
#define PCI_NR_BARS	6

struct pci_device {
	struct vm *vm;
	uint8_t slot;
	uint8_t cfg[PCI_CFG_SIZE];	/* guest-visible config space */
	uint32_t bar_size[PCI_NR_BARS];	/* 0: no BAR; power of two */
	uint32_t bar_mapped[PCI_NR_BARS];	/* address decoded now, 0 if none */
	uint8_t cfg_ro[PCI_CFG_SIZE];	/* pristine copy, for read-only bytes */
	uint8_t cfg_boot[PCI_CFG_SIZE];	/* as registered (BARs assigned) */
	int msix_cap;			/* offset of the MSI-X capability */
	/*
	 * new == 0: unmapped; old == 0: newly mapped.  On an error the BAR
	 * decodes nothing (the device undid its old mapping too).
	 */
	int (*bar_map)(struct pci_device *pdev, int bar, uint32_t old, uint32_t new);
	/* After the guest wrote config bytes [off, off + len). */
	void (*cfg_written)(struct pci_device *pdev, int off, int len);
	void *opaque;
};

/* Fills vendor/device ids first; assigns a slot and BAR addresses. */
int pci__register(struct vm *vm, struct pci_device *pdev);
void pci__unregister(struct vm *vm, struct pci_device *pdev);
/* Config space back to how it was registered (a machine reset). */
void pci__reset(struct pci_device *pdev);
/* Re-apply BAR decoding after cfg[] was loaded from a saved state. */
void pci__remap(struct pci_device *pdev);
/* "00:03.0" */
void pci__slot_name(const struct pci_device *pdev, char *buf, int len);

#endif /* TERN_VM_DEVICES_PCI_H */
