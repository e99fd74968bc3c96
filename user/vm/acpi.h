/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ACPI tables: RSDP, XSDT, FADT (PM1a event/control blocks and the reset
 * register at ACPI_PM_PORT, SCI on IRQ 9), FACS, DSDT (_S5 and the PCI
 * root bridge), MADT (a local APIC per vCPU, the IOAPIC, dual 8259).
 */
#ifndef TERN_VM_ACPI_H
#define TERN_VM_ACPI_H

#include <stdint.h>

struct vm;

#define ACPI_TABLES_GPA		0xe0000ULL	/* RSDP first; ends below 1 MiB */
#define ACPI_PM_PORT		0x600		/* PM1a_EVT, PM1a_CNT, reset */
#define ACPI_PM_LEN		7
#define ACPI_PM1A_EVT		(ACPI_PM_PORT + 0)	/* status, enable: 2 + 2 */
#define ACPI_PM1A_CNT		(ACPI_PM_PORT + 4)	/* control: 2 */
#define ACPI_RESET_REG		(ACPI_PM_PORT + 6)
#define ACPI_SCI_IRQ		9
#define ACPI_RESET_VALUE	0x01
#define ACPI_S5_TYPE		5
#define IOAPIC_GPA		0xfec00000ULL
#define LAPIC_GPA		0xfee00000ULL
#define PCI_MMIO_START		PCI_HOLE_START
#define PCI_MMIO_END		0xfebfffffULL	/* below the IOAPIC */

/* Writes the tables at ACPI_TABLES_GPA; returns the RSDP address. */
int acpi__build(struct vm *vm, uint64_t *rsdp_gpa);

#endif /* TERN_VM_ACPI_H */
