// SPDX-License-Identifier: GPL-2.0
/*
 * The 64-bit boot protocol: the protected-mode kernel at its preferred
 * address, boot_params ("zero page") built from the image's own setup
 * header, initrd at the top of low RAM, and vCPU 0 entering startup_64
 * with %rsi = zero page.  Skipped when --incoming loads a saved state;
 * done again at every reset in place.  Every write to guest RAM here is
 * marked for the dirty-log tracker (tern.ko sees it by itself), so a
 * reset during a migration moves the reloaded image.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/acpi.h"
#include "vm/boot.h"
#include "vm/init.h"
#include "vm/vm.h"
#include "vm/mem.h"
#include "vm/vcpu.h"

#define GDT_GPA		0x500ULL
#define ZERO_PAGE_GPA	0x7000ULL
#define PML4_GPA	0x9000ULL
#define PDPT_GPA	0xa000ULL
#define PD_GPA		0xb000ULL	/* four pages: 4 GiB of 2 MiB pages */
#define CMDLINE_GPA	0x20000ULL
#define CMDLINE_MAX	0x10000ULL
#define EBDA_START	0x9fc00ULL
#define BIOS_END	0x100000ULL

/* struct boot_params / setup_header offsets (arch/x86/include/uapi/asm/bootparam.h) */
#define BP_ACPI_RSDP	0x070
#define BP_E820_ENTRIES	0x1e8
#define BP_SETUP_SECTS	0x1f1
#define BP_HDR_MAGIC	0x202
#define BP_VERSION	0x206
#define BP_LOADER_TYPE	0x210
#define BP_LOADFLAGS	0x211
#define BP_RAMDISK_IMG	0x218
#define BP_RAMDISK_SIZE	0x21c
#define BP_HEAP_END	0x224
#define BP_CMDLINE_PTR	0x228
#define BP_INITRD_MAX	0x22c
#define BP_RELOCATABLE	0x234
#define BP_XLOADFLAGS	0x236
#define BP_CMDLINE_SIZE	0x238
#define BP_PREF_ADDR	0x258
#define BP_INIT_SIZE	0x260
#define BP_E820_TABLE	0x2d0
#define E820_MAX	128

#define LOADED_HIGH	0x01
#define CAN_USE_HEAP	0x80
#define XLF_KERNEL_64	0x01

enum { E820_RAM = 1, E820_RESERVED = 2 };

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	ssize_t n;
	size_t off = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		pr_err("%s: %s", path, strerror(errno));
		goto out;
	}
	*buf = malloc(st.st_size ?: 1);
	if (!*buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, *buf + off, st.st_size - off);
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			pr_err("%s: short read", path);
			free(*buf);
			goto out;
		}
		off += n;
	}
	*len = off;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The setup header lies in the image's first 4 KiB. */
static bool bzimage_ok(const uint8_t *img, size_t len)
{
	return len >= 0x1000 && !memcmp(img + BP_HDR_MAGIC, "HdrS", 4) &&
	       (img[BP_VERSION] | img[BP_VERSION + 1] << 8) >= 0x20c &&
	       (img[BP_XLOADFLAGS] & XLF_KERNEL_64);
}

static void bzimage_refuse(const char *path)
{
	pr_err("%s: not a bzImage with a 64-bit entry (boot protocol >= 2.12)", path);
}

/* A relocatable kernel goes where it prefers, any other at 1 MiB. */
static uint64_t bzimage_load_addr(const uint8_t *img)
{
	return img[BP_RELOCATABLE] ? rd64(img + BP_PREF_ADDR) : BIOS_END;
}

/*
 * pref_address comes from the file: below 1 MiB the kernel would land on
 * the zero page, command line and page tables; above 4 GiB, past what
 * the boot page tables map (and a sum with it could wrap).
 */
static bool bzimage_placed(const uint8_t *img, const char *path)
{
	uint64_t load = bzimage_load_addr(img);

	if (load >= BIOS_END && load < (4ULL << 30) && !(load & (GUEST_PAGE_SIZE - 1)))
		return true;
	pr_err("%s: load address 0x%llx (pref_address) not page-aligned in [1 MiB, 4 GiB)",
	       path, (unsigned long long)load);
	return false;
}

/*
 * Called while the command line is parsed, before /dev/kvm is opened, so
 * a wrong --kernel gets the same one-line error on a host without KVM.
 */
int boot__check_kernel(const char *path)
{
	uint8_t hdr[0x1000];
	size_t len = 0;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("--kernel %s: %s", path, strerror(errno));
		return ret;
	}
	while (len < sizeof(hdr) && (n = read(fd, hdr + len, sizeof(hdr) - len)) != 0) {
		if (n < 0) {
			ret = -errno;
			pr_err("--kernel %s: %s", path, strerror(errno));
			goto out;
		}
		len += n;
	}
	if (!bzimage_ok(hdr, len)) {
		bzimage_refuse(path);
		ret = -EINVAL;
	} else if (!bzimage_placed(hdr, path)) {
		ret = -EINVAL;
	}
out:
	close(fd);
	return ret;
}

static void e820_add(uint8_t *zp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t n = zp[BP_E820_ENTRIES];
	uint8_t *e = zp + BP_E820_TABLE + 20 * n;

	if (n >= E820_MAX)
		return;
	wr64(e, addr);
	wr64(e + 8, size);
	wr32(e + 16, type);
	zp[BP_E820_ENTRIES] = n + 1;
}

static int setup_page_tables(struct vm *vm)
{
	uint64_t *pml4 = guest__ptr(vm, PML4_GPA, 4096);
	uint64_t *pdpt = guest__ptr(vm, PDPT_GPA, 4096);
	uint64_t *pd = guest__ptr(vm, PD_GPA, 4 * 4096);
	uint64_t *gdt = guest__ptr(vm, GDT_GPA, 32);
	int i;

	if (!pml4 || !pdpt || !pd || !gdt)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = PDPT_GPA | 0x3;			/* present, writable */
	for (i = 0; i < 4; i++)
		pdpt[i] = (PD_GPA + i * 4096) | 0x3;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;	/* 2 MiB page */

	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = 0x00af9b000000ffffULL;			/* 0x10: 64-bit code */
	gdt[3] = 0x00cf93000000ffffULL;			/* 0x18: data */
	vm__mark_dirty(vm, GDT_GPA, 32);
	vm__mark_dirty(vm, PML4_GPA, PD_GPA + 4 * 4096 - PML4_GPA);
	return 0;
}

static int setup_bsp(struct vm *vm, uint64_t entry)
{
	struct vcpu *v = vm->vcpus[0];
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 0xb,
		.present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = 0x18, .type = 0x3,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_regs regs = {
		.rip = entry, .rsi = ZERO_PAGE_GPA, .rflags = 0x2,
	};
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_sregs sregs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.cr0 = 0x80050033;		/* PG, AM, WP, NE, ET, MP, PE */
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = 0x20;		/* PAE */
	sregs.efer = 0x500;		/* LME, LMA */
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(v->fd, KVM_SET_REGS, &regs) < 0 ||
	    ioctl(v->fd, KVM_SET_FPU, &fpu) < 0) {
		pr_err("vCPU 0 initial state: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int load_initrd(struct vm *vm, uint8_t *zp, uint64_t kernel_end)
{
	uint64_t max = rd32(zp + BP_INITRD_MAX), top, addr;
	uint8_t *buf, *dst;
	size_t len;
	int ret;

	ret = read_file(vm->cfg.initrd, &buf, &len);
	if (ret)
		return ret;
	top = vm->ram_low;
	if (max && top > max + 1)
		top = max + 1;
	addr = (top - len) & ~(GUEST_PAGE_SIZE - 1);
	if (len > top || addr < kernel_end || !(dst = guest__ptr(vm, addr, len))) {
		pr_err("%s: %zu bytes do not fit in guest RAM", vm->cfg.initrd, len);
		free(buf);
		return -E2BIG;
	}
	memcpy(dst, buf, len);
	free(buf);
	vm__mark_dirty(vm, addr, len);
	wr32(zp + BP_RAMDISK_IMG, addr);
	wr32(zp + BP_RAMDISK_SIZE, len);
	return 0;
}

int boot__load(struct vm *vm)
{
	uint8_t *img, *zp, *dst;
	uint64_t load, rsdp, init_size;
	size_t len, setup_len, hdr_end;
	const char *cmdline = vm->cfg.append ?: "";
	int ret;

	if (!vm->cfg.kernel) {
		pr_err("no --kernel to load");
		return -ENOENT;
	}
	ret = read_file(vm->cfg.kernel, &img, &len);
	if (ret)
		return ret;
	ret = -EINVAL;
	if (!bzimage_ok(img, len)) {	/* replaced since the command line */
		bzimage_refuse(vm->cfg.kernel);
		goto out;
	}
	if (!bzimage_placed(img, vm->cfg.kernel))
		goto out;
	setup_len = ((img[BP_SETUP_SECTS] ?: 4) + 1) * 512;
	load = bzimage_load_addr(img);
	init_size = rd32(img + BP_INIT_SIZE);
	/* Differences, not sums: nothing here can wrap. */
	if (setup_len >= len || load > vm->ram_low ||
	    len - setup_len > vm->ram_low - load ||
	    init_size > vm->ram_low - load || strlen(cmdline) >= CMDLINE_MAX) {
		pr_err("%s: kernel (%zu bytes, init_size %llu) does not fit in %llu MiB",
		       vm->cfg.kernel, len, (unsigned long long)init_size,
		       (unsigned long long)(vm->ram_low >> 20));
		goto out;
	}
	dst = guest__ptr(vm, load, len - setup_len);
	memcpy(dst, img + setup_len, len - setup_len);
	vm__mark_dirty(vm, load, len - setup_len);

	zp = guest__ptr(vm, ZERO_PAGE_GPA, 4096);
	memset(zp, 0, 4096);
	hdr_end = 0x202 + img[0x201];
	memcpy(zp + BP_SETUP_SECTS, img + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
	zp[BP_LOADER_TYPE] = 0xff;
	zp[BP_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	wr16(zp + BP_HEAP_END, 0xfe00);
	wr32(zp + BP_CMDLINE_PTR, CMDLINE_GPA);
	strcpy(guest__ptr(vm, CMDLINE_GPA, CMDLINE_MAX), cmdline);
	vm__mark_dirty(vm, CMDLINE_GPA, strlen(cmdline) + 1);

	e820_add(zp, 0, EBDA_START, E820_RAM);
	e820_add(zp, EBDA_START, BIOS_END - EBDA_START, E820_RESERVED);
	e820_add(zp, BIOS_END, vm->ram_low - BIOS_END, E820_RAM);
	if (vm->ram.size > vm->ram_low)
		e820_add(zp, HIGH_RAM_START, vm->ram.size - vm->ram_low, E820_RAM);

	ret = acpi__build(vm, &rsdp);
	if (ret)
		goto out;
	wr64(zp + BP_ACPI_RSDP, rsdp);

	if (vm->cfg.initrd) {
		ret = load_initrd(vm, zp, load + init_size);
		if (ret)
			goto out;
	}
	ret = setup_page_tables(vm);
	if (!ret)
		ret = setup_bsp(vm, load + 0x200);
	vm__mark_dirty(vm, ZERO_PAGE_GPA, 4096);
	vm->boot_entry = load + 0x200;
	vm->boot_params_gpa = ZERO_PAGE_GPA;
out:
	free(img);
	return ret;
}

/*
 * A VM that loads a saved or migrated state does not boot; one made
 * without a kernel (a device test) keeps its vCPUs at power-on.
 */
static int boot__init(struct vm *vm)
{
	if (vm->cfg.incoming || vm->cfg.incoming_uri || !vm->cfg.kernel)
		return 0;
	return boot__load(vm);
}
late_init(boot__init);
