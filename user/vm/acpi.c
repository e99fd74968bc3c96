// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal ACPI for Linux: a FADT with only the PM1a event and control
 * blocks (poweroff is SLP_TYP|SLP_EN written to PM1a_CNT) and SMI_CMD 0
 * (always in ACPI mode), a DSDT with just _S5 and a PNP0A03 root bridge
 * whose _CRS gives the bus range and I/O and MMIO windows.  Not
 * hardware-reduced: that mode drops the 8259 and with it the ISA IRQs the
 * UART and RTC use.  AML is encoded by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "vm/acpi.h"
#include "vm/vm.h"
#include "vm/mem.h"

#define ACPI_HDR_LEN	36
#define ACPI_AREA_SIZE	0x20000		/* 0xe0000 - 0xfffff */

struct abuf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

static void put(struct abuf *b, const void *d, size_t n)
{
	if (b->len + n <= b->cap)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void put8(struct abuf *b, uint8_t v) { put(b, &v, 1); }
static void put16(struct abuf *b, uint16_t v) { put(b, &v, 2); }
static void put32(struct abuf *b, uint32_t v) { put(b, &v, 4); }
static void put64(struct abuf *b, uint64_t v) { put(b, &v, 8); }

static void set32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void set64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return (uint8_t)-s;
}

static void header(struct abuf *b, const char *sig, uint8_t rev)
{
	put(b, sig, 4);
	put32(b, 0);			/* length, fixed up */
	put8(b, rev);
	put8(b, 0);			/* checksum, fixed up */
	put(b, "TERN  ", 6);
	put(b, "TERNVM  ", 8);
	put32(b, 1);
	put(b, "TERN", 4);
	put32(b, 1);
}

static void finish(uint8_t *table, size_t len)
{
	set32(table + 4, len);
	table[9] = 0;
	table[9] = checksum(table, len);
}

/* Generic address structure: system I/O, `bits` wide. */
static void gas_io(struct abuf *b, uint16_t port, int bits)
{
	put8(b, 1);
	put8(b, bits);
	put8(b, 0);
	put8(b, bits / 8 == 4 ? 3 : bits / 8);	/* access size: 1, 2 or 3 (dword) */
	put64(b, port);
}

static void pad_to(struct abuf *b, size_t off)
{
	while (b->len < off)
		put8(b, 0);
}

/* AML PkgLength for a body of n bytes (the encoding counts itself). */
static void aml_pkglen(struct abuf *b, size_t n)
{
	if (n + 1 < 0x40) {
		put8(b, n + 1);
	} else {
		size_t total = n + 2;

		put8(b, 0x40 | (total & 0xf));
		put8(b, total >> 4);
	}
}

static void aml_word_space(struct abuf *b, uint8_t type, uint8_t tflags,
			   uint16_t min, uint16_t max)
{
	put8(b, 0x88);			/* word address space descriptor */
	put16(b, 13);
	put8(b, type);			/* 1 = I/O, 2 = bus number */
	put8(b, 0x0c);			/* min and max fixed, producer */
	put8(b, tflags);
	put16(b, 0);			/* granularity */
	put16(b, min);
	put16(b, max);
	put16(b, 0);			/* translation */
	put16(b, max - min + 1);
}

static void aml_dword_memory(struct abuf *b, uint32_t min, uint32_t max)
{
	put8(b, 0x87);
	put16(b, 23);
	put8(b, 0);			/* memory */
	put8(b, 0x0c);
	put8(b, 0x01);			/* read-write, non-cacheable */
	put32(b, 0);
	put32(b, min);
	put32(b, max);
	put32(b, 0);
	put32(b, max - min + 1);
}

static void dsdt_body(struct abuf *b)
{
	uint8_t crs[128], dev[256], sb[300];
	struct abuf c = { crs, 0, sizeof(crs) };
	struct abuf d = { dev, 0, sizeof(dev) };
	struct abuf s = { sb, 0, sizeof(sb) };
	static const uint8_t s5[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
		0x0a, ACPI_S5_TYPE, 0x0a, ACPI_S5_TYPE, 0x00, 0x00,
	};
	static const uint8_t hid[] = {
		0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03,	/* PNP0A03 */
		0x08, '_', 'U', 'I', 'D', 0x00,
	};

	aml_word_space(&c, 2, 0, 0, 0xff);
	aml_word_space(&c, 1, 3, 0x0000, 0x0cf7);
	aml_word_space(&c, 1, 3, 0x0d00, 0xffff);
	aml_dword_memory(&c, PCI_MMIO_START, PCI_MMIO_END);
	put8(&c, 0x79);			/* end tag */
	put8(&c, 0);

	/* Device (PCI0) { _HID, _UID, Name (_CRS, Buffer () {...}) } */
	put(&d, hid, sizeof(hid));
	put(&d, "\x08_CRS\x11", 6);
	aml_pkglen(&d, 2 + c.len);
	put8(&d, 0x0a);
	put8(&d, c.len);
	put(&d, crs, c.len);

	put(&s, "_SB_", 4);		/* Scope (_SB) */
	put8(&s, 0x5b);
	put8(&s, 0x82);
	aml_pkglen(&s, 4 + d.len);
	put(&s, "PCI0", 4);
	put(&s, dev, d.len);

	put(b, s5, sizeof(s5));
	put8(b, 0x10);
	aml_pkglen(b, s.len);
	put(b, sb, s.len);
}

int acpi__build(struct vm *vm, uint64_t *rsdp_gpa)
{
	uint8_t *base = guest__ptr(vm, ACPI_TABLES_GPA, ACPI_AREA_SIZE);
	struct abuf b = { base, 0, ACPI_AREA_SIZE };
	size_t xsdt, facs, fadt, dsdt, madt;
	int i;

	if (!base)
		return -EFAULT;
	memset(base, 0, ACPI_AREA_SIZE);

	/* RSDP (revision 2) at the start, XSDT at +0x40. */
	b.len = 0x40;
	xsdt = b.len;
	header(&b, "XSDT", 1);
	put64(&b, 0);			/* FADT */
	put64(&b, 0);			/* MADT */
	b.len = (b.len + 15) & ~15UL;

	dsdt = b.len;
	header(&b, "DSDT", 2);
	dsdt_body(&b);
	finish(base + dsdt, b.len - dsdt);
	b.len = (b.len + 15) & ~15UL;

	facs = b.len = (b.len + 63) & ~63UL;
	put(&b, "FACS", 4);
	put32(&b, 64);
	pad_to(&b, facs + 64);

	fadt = b.len;
	header(&b, "FACP", 6);
	put32(&b, ACPI_TABLES_GPA + facs);		/* FIRMWARE_CTRL */
	put32(&b, ACPI_TABLES_GPA + dsdt);		/* DSDT */
	pad_to(&b, fadt + 46);
	put16(&b, ACPI_SCI_IRQ);			/* SCI_INT */
	pad_to(&b, fadt + 56);				/* SMI_CMD 0: no SMM */
	put32(&b, ACPI_PM1A_EVT);
	put32(&b, 0);
	put32(&b, ACPI_PM1A_CNT);
	pad_to(&b, fadt + 88);
	put8(&b, 4);					/* PM1_EVT_LEN */
	put8(&b, 2);					/* PM1_CNT_LEN */
	pad_to(&b, fadt + 108);
	put8(&b, 0x32);					/* CENTURY cmos index */
	put16(&b, 0x0007);		/* IAPC_BOOT_ARCH: legacy, 8042, no VGA */
	put8(&b, 0);
	put32(&b, (1u << 10) | (1u << 8) | (1u << 5) | (1u << 4) | (1u << 0));
		/* RESET_REG_SUP, FIX_RTC (no RTC wake event), no buttons, WBINVD */
	gas_io(&b, ACPI_RESET_REG, 8);
	put8(&b, ACPI_RESET_VALUE);
	put16(&b, 0);					/* ARM_BOOT_ARCH */
	put8(&b, 0);					/* minor version */
	put64(&b, ACPI_TABLES_GPA + facs);		/* X_FIRMWARE_CTRL */
	put64(&b, ACPI_TABLES_GPA + dsdt);		/* X_DSDT */
	gas_io(&b, ACPI_PM1A_EVT, 32);			/* X_PM1a_EVT_BLK */
	pad_to(&b, fadt + 172);
	gas_io(&b, ACPI_PM1A_CNT, 16);			/* X_PM1a_CNT_BLK */
	pad_to(&b, fadt + 268);				/* no sleep registers */
	put(&b, "TERNTERN", 8);				/* hypervisor vendor */
	finish(base + fadt, b.len - fadt);
	b.len = (b.len + 15) & ~15UL;

	madt = b.len;
	header(&b, "APIC", 4);
	put32(&b, LAPIC_GPA);
	put32(&b, 1);					/* PCAT_COMPAT: 8259s */
	for (i = 0; i < vm->nr_vcpus; i++) {
		put8(&b, 0);				/* processor local APIC */
		put8(&b, 8);
		put8(&b, i);
		put8(&b, i);
		put32(&b, 1);				/* enabled */
	}
	put8(&b, 1);					/* IOAPIC */
	put8(&b, 12);
	put8(&b, vm->nr_vcpus);				/* its APIC id */
	put8(&b, 0);
	put32(&b, IOAPIC_GPA);
	put32(&b, 0);					/* GSI base */
	put8(&b, 4);					/* local APIC NMI: LINT1 */
	put8(&b, 6);
	put8(&b, 0xff);
	put16(&b, 0x0005);				/* active high, edge */
	put8(&b, 1);
	finish(base + madt, b.len - madt);
	if (b.len > b.cap)
		return -E2BIG;

	set64(base + xsdt + ACPI_HDR_LEN, ACPI_TABLES_GPA + fadt);
	set64(base + xsdt + ACPI_HDR_LEN + 8, ACPI_TABLES_GPA + madt);
	finish(base + xsdt, ACPI_HDR_LEN + 16);

	memcpy(base, "RSD PTR ", 8);
	memcpy(base + 9, "TERN  ", 6);
	base[15] = 2;					/* revision */
	set32(base + 20, 36);				/* length */
	set64(base + 24, ACPI_TABLES_GPA + xsdt);
	base[8] = checksum(base, 20);
	base[32] = checksum(base, 36);
	*rsdp_gpa = ACPI_TABLES_GPA;
	vm__mark_dirty(vm, ACPI_TABLES_GPA, b.len);
	return 0;
}
