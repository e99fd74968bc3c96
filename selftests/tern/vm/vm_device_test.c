// SPDX-License-Identifier: GPL-2.0
/*
 * The VMM's device tests (CRIU zdtm's shape: set state, save, load,
 * verify): a VM built in this process by vm__create() with no kernel,
 * driven through the same port/MMIO dispatch a vCPU exit takes; state
 * saved from one VM is loaded into a second in the same process, and
 * read back there.  On a host without KVM the VM stands on the fake KVM
 * of fake_kvm.h (a host test); in the harness, on KVM itself.  Every
 * device in user/vm/devices/ has its test here.  The virtio-net cases
 * make taps (/dev/net/tun, root).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/pci_regs.h>
#include <linux/serial_reg.h>
#include <linux/userfaultfd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "fake_kvm.h"
#include "kselftest_harness.h"
#include "test_util.h"
#include "vm/acpi.h"
#include "vm/device.h"
#include "vm/ioloop.h"
#include "vm/iotrap.h"
#include "vm/kvm.h"
#include "vm/virtio.h"
#include "vm/vm.h"
#include "vm_util.h"
#include "vmstate/testdev.h"

#define COM1		0x3f8
#define SERIAL_IRQ	4

/* A VM with no kernel whose serial console is the file `console`. */
static struct vm *make_vm(const char *console)
{
	struct vm_config cfg = { .rng = true };

	return vmu_create(&cfg, console);
}

/* A VM with no kernel and a virtio-net on tap `tap`. */
static struct vm *make_net_vm(const char *console, const char *tap)
{
	struct vm_config cfg = { .net_tap = tap };

	return vmu_create(&cfg, console);
}

/* The MAC the guest reads: the first 6 bytes of the device config. */
static void net_mac(struct vm *vm, uint8_t mac[6])
{
	struct virtio_dev *v = virtio__find(vm, "virtio-net", 0);

	memset(mac, 0, 6);
	if (v)
		memcpy(mac, v->config, 6);
}

/* vm's whole device state, saved and loaded into vm2: 0 or the refusal. */
static int move_state(struct vm *vm, struct vm *vm2, char *why, size_t len)
{
	int fd = memfd_create("vm_device_test", MFD_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = vm__save_state(vm, fd);
	if (!ret && lseek(fd, 0, SEEK_SET))
		ret = -errno;
	if (!ret)
		ret = vm__load_state(vm2, fd, why, len);
	close(fd);
	return ret;
}

FIXTURE(vm) {
	struct vm *vm;
	char console[64];	/* the VM's serial output */
	char console2[64];	/* a second VM's */
};

FIXTURE_SETUP(vm)
{
	rcu_register_thread();
	snprintf(self->console, sizeof(self->console), "/tmp/vm_device_test.%d", getpid());
	snprintf(self->console2, sizeof(self->console2), "/tmp/vm_device_test.%d.2", getpid());
	self->vm = make_vm(self->console);
	ASSERT_NE(NULL, self->vm);
}

FIXTURE_TEARDOWN(vm)
{
	if (self->vm)
		vm__destroy(self->vm);
	unlink(self->console);
	unlink(self->console2);
	rcu_unregister_thread();
}

/* The UART answers as Linux's 8250 probe expects, and THR reaches the console. */
TEST_F(vm, serial_registers_and_output)
{
	char buf[8] = { 0 };
	ssize_t r, n;
	int fd, i;

	EXPECT_EQ(UART_LSR_TEMT | UART_LSR_THRE, vmu_inb(self->vm, COM1 + UART_LSR));
	vmu_outb(self->vm, COM1 + UART_SCR, 0x5a);
	EXPECT_EQ(0x5a, vmu_inb(self->vm, COM1 + UART_SCR));
	vmu_outb(self->vm, COM1 + UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	vmu_outb(self->vm, COM1 + UART_DLL, 0x0c);
	vmu_outb(self->vm, COM1 + UART_LCR, UART_LCR_WLEN8);
	EXPECT_EQ(UART_LCR_WLEN8, vmu_inb(self->vm, COM1 + UART_LCR));
	vmu_outb(self->vm, COM1 + UART_TX, 'T');
	vmu_outb(self->vm, COM1 + UART_TX, '!');
	fd = open(self->console, O_RDONLY);
	ASSERT_LE(0, fd);
	/* The console's writer thread drains the UART's output: wait for it. */
	for (i = 0, n = 0; i < 200 && n < 2; i++) {
		r = pread(fd, buf + n, sizeof(buf) - 1 - n, n);
		if (r > 0)
			n += r;
		else
			usleep(10000);
	}
	EXPECT_EQ(2, n);
	EXPECT_STREQ("T!", buf);
	close(fd);
}

/* Set registers in one VM, save, load into another, read them there. */
TEST_F(vm, serial_state_moves_to_a_second_vm)
{
	struct vm *vm2;
	int fd;

	vmu_outb(self->vm, COM1 + UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN7);
	vmu_outb(self->vm, COM1 + UART_DLL, 0x30);
	vmu_outb(self->vm, COM1 + UART_LCR, UART_LCR_WLEN7 | UART_LCR_PARITY);
	vmu_outb(self->vm, COM1 + UART_SCR, 0xa5);
	vmu_outb(self->vm, COM1 + UART_IER, UART_IER_RDI);

	fd = memfd_create("vm_device_test", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vm__save_state(self->vm, fd));
	vm2 = make_vm(self->console2);
	ASSERT_NE(NULL, vm2);
	EXPECT_EQ(0, vmu_inb(vm2, COM1 + UART_SCR));	/* a fresh one first */
	ASSERT_EQ(0, (int)lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(0, vm__load_state(vm2, fd, NULL, 0));
	EXPECT_EQ(0xa5, vmu_inb(vm2, COM1 + UART_SCR));
	EXPECT_EQ(UART_IER_RDI, vmu_inb(vm2, COM1 + UART_IER));
	EXPECT_EQ(UART_LCR_WLEN7 | UART_LCR_PARITY, vmu_inb(vm2, COM1 + UART_LCR));
	vmu_outb(vm2, COM1 + UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN7);
	EXPECT_EQ(0x30, vmu_inb(vm2, COM1 + UART_DLL));
	close(fd);
	vm__destroy(vm2);
}

/*
 * The PCI host bridge answers at slot 0, an empty slot reads all ones,
 * and a device's BAR sizes as a firmware probes it: all ones written,
 * the size mask read back, the address restored; with memory decoding
 * off its MMIO range answers nothing, on again it answers.
 */
TEST_F(vm, pci_config_space_and_bar_decoding)
{
	uint32_t bar, size, numq_addr;
	int slot;

	EXPECT_NE(0xffffffffu, vmu_pci_read32(self->vm, 0, PCI_VENDOR_ID));
	EXPECT_EQ(0xffffffffu, vmu_pci_read32(self->vm, 31, PCI_VENDOR_ID));
	slot = vmu_pci_find(self->vm, 0x1af4, 0x1040 + VIRTIO_ID_RNG);
	ASSERT_LE(1, slot);
	bar = vmu_pci_read32(self->vm, slot, PCI_BASE_ADDRESS_0);
	ASSERT_NE(0, bar & PCI_BASE_ADDRESS_MEM_MASK);
	numq_addr = (bar & PCI_BASE_ADDRESS_MEM_MASK) + VIRTIO_PCI_COMMON_NUMQ;
	EXPECT_EQ(1, vmu_mmio_read(self->vm, numq_addr, 2));

	vmu_pci_write32(self->vm, slot, PCI_BASE_ADDRESS_0, ~0u);
	size = ~(vmu_pci_read32(self->vm, slot, PCI_BASE_ADDRESS_0) & PCI_BASE_ADDRESS_MEM_MASK) + 1;
	EXPECT_EQ(0x4000, size);
	vmu_pci_write32(self->vm, slot, PCI_BASE_ADDRESS_0, bar);
	EXPECT_EQ(bar, vmu_pci_read32(self->vm, slot, PCI_BASE_ADDRESS_0));
	EXPECT_EQ(1, vmu_mmio_read(self->vm, numq_addr, 2));

	vmu_pci_write32(self->vm, slot, PCI_COMMAND,
			vmu_pci_read32(self->vm, slot, PCI_COMMAND) & ~PCI_COMMAND_MEMORY);
	EXPECT_EQ(~0u, vmu_mmio_read(self->vm, numq_addr, 2));
	vmu_pci_write32(self->vm, slot, PCI_COMMAND,
			vmu_pci_read32(self->vm, slot, PCI_COMMAND) | PCI_COMMAND_MEMORY);
	EXPECT_EQ(1, vmu_mmio_read(self->vm, numq_addr, 2));
}

/*
 * A driver's read from virtio-rng: capabilities, MSI-X, a ring in guest
 * RAM, a kick; the buffer comes back filled and the queue's vector fires
 * (seen under the fake KVM; under KVM it goes into the guest's LAPIC).
 */
TEST_F(vm, virtio_rng_fills_a_buffer_and_interrupts)
{
	uint8_t zero[64] = { 0 };
	struct vmu_virtio d;
	struct vmu_buf b;
	uint32_t len = 0;

	ASSERT_EQ(0, ioloop__start(self->vm));
	ASSERT_EQ(0, vmu_virtio_init(&d, self->vm, VIRTIO_ID_RNG, 0, 1));
	b = (struct vmu_buf){ .gpa = vmu_virtio_alloc(&d, 64), .len = 64, .in = true };
	ASSERT_EQ(0, vmu_vq_add(&d, 0, &b, 1));
	vmu_vq_kick(&d, 0);
	ASSERT_EQ(0, vmu_vq_used(&d, 0, &len, 2000));
	EXPECT_EQ(64, len);
	EXPECT_NE(0, memcmp(zero, vmu_gpa(self->vm, b.gpa), 64));
	if (fake_kvm_active())
		EXPECT_EQ(1, fake_kvm_msi_taken(self->vm->vm_fd, VMU_MSI_DATA, 1, 2000));
}

/*
 * The serial line follows IER and OUT2 as Linux's 8250 driver expects:
 * THRE interrupt enabled with OUT2 set raises IRQ 4, reading IIR (the
 * THRE source) lowers it.  The line level is seen under the fake KVM.
 */
TEST_F(vm, serial_interrupt_line_follows_ier)
{
	TEST_REQUIRE(fake_kvm_active());
	vmu_outb(self->vm, COM1 + UART_MCR, UART_MCR_OUT2);
	EXPECT_EQ(0, fake_kvm_irq_raised(self->vm->vm_fd, SERIAL_IRQ));
	vmu_outb(self->vm, COM1 + UART_IER, UART_IER_THRI);
	EXPECT_EQ(1, fake_kvm_irq_level(self->vm->vm_fd, SERIAL_IRQ));
	EXPECT_EQ(UART_IIR_THRI, vmu_inb(self->vm, COM1 + UART_IIR) & 0x0f);
	EXPECT_EQ(0, fake_kvm_irq_level(self->vm->vm_fd, SERIAL_IRQ));
	vmu_outb(self->vm, COM1 + UART_TX, 'x');	/* THR empties again */
	EXPECT_EQ(1, fake_kvm_irq_level(self->vm->vm_fd, SERIAL_IRQ));
	vmu_outb(self->vm, COM1 + UART_MCR, 0);
	EXPECT_EQ(0, fake_kvm_irq_level(self->vm->vm_fd, SERIAL_IRQ));
	EXPECT_EQ(2, fake_kvm_irq_raised(self->vm->vm_fd, SERIAL_IRQ));
}

#define I8042_DATA	0x60
#define I8042_CMD	0x64

/*
 * The i8042 passes Linux's controller self-test, keeps the command byte
 * it is given (and moves it with the state), and resets the machine on
 * command 0xfe; the machine's reset brings it back to power-on.
 */
TEST_F(vm, i8042_self_test_command_byte_and_reset)
{
	struct vm *vm2;

	EXPECT_EQ(0x14, vmu_inb(self->vm, I8042_CMD));	/* SYSFLAG | KEYLOCK, empty */
	vmu_outb(self->vm, I8042_CMD, 0xaa);
	EXPECT_EQ(0x15, vmu_inb(self->vm, I8042_CMD));	/* a reply waits */
	EXPECT_EQ(0x55, vmu_inb(self->vm, I8042_DATA));
	EXPECT_EQ(0x14, vmu_inb(self->vm, I8042_CMD));
	vmu_outb(self->vm, I8042_CMD, 0x60);
	vmu_outb(self->vm, I8042_DATA, 0x47);
	vmu_outb(self->vm, I8042_CMD, 0x20);
	EXPECT_EQ(0x47, vmu_inb(self->vm, I8042_DATA));

	vmu_outb(self->vm, I8042_CMD, 0x20);		/* a reply in flight moves too */
	vm2 = make_vm(self->console2);
	ASSERT_NE(NULL, vm2);
	ASSERT_EQ(0, move_state(self->vm, vm2, NULL, 0));
	EXPECT_EQ(0x15, vmu_inb(vm2, I8042_CMD));
	EXPECT_EQ(0x47, vmu_inb(vm2, I8042_DATA));
	vm__destroy(vm2);

	EXPECT_FALSE(atomic_load(&self->vm->reset_pending));
	vmu_outb(self->vm, I8042_CMD, 0xfe);
	EXPECT_TRUE(atomic_load(&self->vm->reset_pending));
	/* What vm__reset does to devices (it also reloads the kernel: none here). */
	device__reset_all(self->vm);
	vmu_outb(self->vm, I8042_CMD, 0x20);
	EXPECT_EQ(0x30, vmu_inb(self->vm, I8042_DATA));	/* power-on command byte */
}

/*
 * ACPI PM: SCI_EN reads set (ACPI mode, no SMI handshake), S5 with
 * SLP_EN powers off, another sleep type does nothing, and the reset
 * register asks for a reset.
 */
TEST_F(vm, acpi_pm_power_off_and_reset)
{
	uint16_t v;

	EXPECT_EQ(1, vmu_inb(self->vm, ACPI_PM1A_CNT) & 1);
	v = 3 << 10 | 1 << 13;				/* S3, SLP_EN: not offered */
	iotrap__dispatch(self->vm, NULL, IOTRAP_PIO, ACPI_PM1A_CNT, (uint8_t *)&v, 2, true);
	EXPECT_EQ(VM_EXIT_NONE, self->vm->exit_reason);
	vmu_outb(self->vm, ACPI_RESET_REG, ACPI_RESET_VALUE);
	EXPECT_TRUE(atomic_load(&self->vm->reset_pending));
	v = ACPI_S5_TYPE << 10 | 1 << 13;
	iotrap__dispatch(self->vm, NULL, IOTRAP_PIO, ACPI_PM1A_CNT, (uint8_t *)&v, 2, true);
	EXPECT_EQ(VM_EXIT_POWEROFF, self->vm->exit_reason);
}

/* A virtio-console's transmit queue reaches its --vconsole file. */
TEST(virtio_console_output_reaches_its_file)
{
	static const char msg[] = "hvc0 says hello\n";
	char con[64], out[64], buf[64] = "";
	struct vm_config cfg = { .vconsole = out };
	struct vmu_virtio d;
	struct vmu_buf b;
	uint32_t len = 1;
	struct vm *vm;
	int fd, i;
	ssize_t n = 0;

	rcu_register_thread();
	snprintf(con, sizeof(con), "/tmp/vm_device_test.%d.vc", getpid());
	snprintf(out, sizeof(out), "/tmp/vm_device_test.%d.hvc0", getpid());
	vm = vmu_create(&cfg, con);
	ASSERT_NE(NULL, vm);
	ASSERT_EQ(0, ioloop__start(vm));
	ASSERT_EQ(0, vmu_virtio_init(&d, vm, VIRTIO_ID_CONSOLE, 0, 2));
	b = (struct vmu_buf){ .gpa = vmu_virtio_alloc(&d, sizeof(msg) - 1), .len = sizeof(msg) - 1 };
	memcpy(vmu_gpa(vm, b.gpa), msg, b.len);
	ASSERT_EQ(0, vmu_vq_add(&d, 1, &b, 1));
	vmu_vq_kick(&d, 1);
	ASSERT_EQ(0, vmu_vq_used(&d, 1, &len, 2000));
	EXPECT_EQ(0, len);				/* nothing written to the guest */
	if (fake_kvm_active())
		EXPECT_EQ(1, fake_kvm_msi_taken(vm->vm_fd, VMU_MSI_DATA + 1, 1, 2000));
	fd = open(out, O_RDONLY);
	ASSERT_LE(0, fd);
	for (i = 0; i < 200 && n < (ssize_t)b.len; i++) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n < (ssize_t)b.len)
			usleep(10000);
	}
	EXPECT_STREQ(msg, buf);
	close(fd);
	vm__destroy(vm);
	unlink(con);
	unlink(out);
	rcu_unregister_thread();
}

#define DISK_SECTORS	128
#define MOVED_RAM	(32 << 20)	/* every driver's rings and buffers */

/* A disk image of DISK_SECTORS, sector i filled with byte i; its fd. */
static int make_disk(const char *path)
{
	uint8_t sector[512];
	int fd, i;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	for (i = 0; fd >= 0 && i < DISK_SECTORS; i++) {
		memset(sector, i, sizeof(sector));
		if (pwrite(fd, sector, 512, i * 512) != 512) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * A VM with a virtio-blk on a fresh image, driver ready: the image's fd,
 * the VM in *vmp; con and disk (64 bytes each) get paths named for tag.
 */
static int blk_vm_new(struct __test_metadata *_metadata, struct vm_config *cfg,
		      const char *tag, char *con, char *disk,
		      struct vmu_virtio *d, struct vm **vmp)
{
	int fd;

	snprintf(con, 64, "/tmp/vm_device_test.%d.%s", getpid(), tag);
	snprintf(disk, 64, "/tmp/vm_device_test.%d.%s.img", getpid(), tag);
	fd = make_disk(disk);
	EXPECT_LE(0, fd);
	*vmp = vmu_create(cfg, con);
	EXPECT_NE(NULL, *vmp);
	if (fd < 0 || !*vmp)
		return -1;
	EXPECT_EQ(0, ioloop__start(*vmp));
	EXPECT_EQ(0, vmu_virtio_init(d, *vmp, VIRTIO_ID_BLOCK, 0, 1));
	return fd;
}

/* Kick queue q of `model` as KVM does on the notify write: its eventfd. */
static bool kick_eventfd(struct vm *vm, const char *model, int q)
{
	struct virtio_dev *v = virtio__find(vm, model, 0);
	uint64_t one = 1;

	return v && write(v->kick_fd[q], &one, sizeof(one)) == sizeof(one);
}

struct blk_req {
	uint64_t hdr, data, status;	/* guest-physical */
};

/* One request: header, data (device-writable for a read), status. */
static int blk_post(struct vmu_virtio *d, struct blk_req *r, uint32_t type,
		    uint64_t sector, uint32_t len)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	struct vmu_buf b[3];

	r->hdr = vmu_virtio_alloc(d, sizeof(h));
	r->data = vmu_virtio_alloc(d, len);
	r->status = vmu_virtio_alloc(d, 1);
	*(uint8_t *)vmu_gpa(d->vm, r->status) = 0xff;
	memcpy(vmu_gpa(d->vm, r->hdr), &h, sizeof(h));
	b[0] = (struct vmu_buf){ .gpa = r->hdr, .len = sizeof(h) };
	b[1] = (struct vmu_buf){ .gpa = r->data, .len = len,
				 .in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID };
	b[2] = (struct vmu_buf){ .gpa = r->status, .len = 1, .in = true };
	return vmu_vq_add(d, 0, b, 3);
}

static uint8_t blk_status(struct vmu_virtio *d, const struct blk_req *r)
{
	return *(uint8_t *)vmu_gpa(d->vm, r->status);
}

static bool all_bytes(const uint8_t *p, uint8_t v, size_t n)
{
	while (n--)
		if (*p++ != v)
			return false;
	return true;
}

/*
 * virtio-blk reads and writes the image, refuses a request past its end
 * without touching it, and a request the driver posted but the device
 * has not seen (no kick yet) survives a move to a second VM: with its
 * state and RAM loaded there, it is served from the same ring.
 */
TEST(virtio_blk_requests_and_one_pending_across_a_move)
{
	char con[64], disk[64];
	struct vm_config cfg = { .disk = disk };
	uint8_t sector[512], *ram;
	struct vmu_virtio d;
	struct blk_req r;
	uint32_t len = 0;
	struct vm *vm, *vm2;
	int fd, head;

	rcu_register_thread();
	fd = blk_vm_new(_metadata, &cfg, "blk", con, disk, &d, &vm);
	ASSERT_LE(0, fd);
	EXPECT_EQ(DISK_SECTORS, vmu_mmio_read(vm, d.bar + d.device, 4));	/* capacity */

	head = blk_post(&d, &r, VIRTIO_BLK_T_IN, 3, 1024);
	vmu_vq_kick(&d, 0);
	EXPECT_EQ(head, vmu_vq_used(&d, 0, &len, 2000));
	EXPECT_EQ(1025, len);
	EXPECT_EQ(VIRTIO_BLK_S_OK, blk_status(&d, &r));
	EXPECT_TRUE(all_bytes(vmu_gpa(vm, r.data), 3, 512));
	EXPECT_TRUE(all_bytes(vmu_gpa(vm, r.data + 512), 4, 512));
	if (fake_kvm_active())
		EXPECT_EQ(1, fake_kvm_msi_taken(vm->vm_fd, VMU_MSI_DATA, 1, 2000));

	head = blk_post(&d, &r, VIRTIO_BLK_T_OUT, 5, 512);
	memset(vmu_gpa(vm, r.data), 0xab, 512);
	vmu_vq_kick(&d, 0);
	EXPECT_EQ(head, vmu_vq_used(&d, 0, NULL, 2000));
	EXPECT_EQ(VIRTIO_BLK_S_OK, blk_status(&d, &r));
	ASSERT_EQ(512, pread(fd, sector, 512, 5 * 512));
	EXPECT_TRUE(all_bytes(sector, 0xab, 512));

	head = blk_post(&d, &r, VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, 1024);	/* one past */
	memset(vmu_gpa(vm, r.data), 0xcd, 1024);
	vmu_vq_kick(&d, 0);
	EXPECT_EQ(head, vmu_vq_used(&d, 0, NULL, 2000));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, blk_status(&d, &r));
	ASSERT_EQ(512, pread(fd, sector, 512, (DISK_SECTORS - 1) * 512));
	EXPECT_TRUE(all_bytes(sector, DISK_SECTORS - 1, 512));

	/* Posted, not kicked: the state and RAM move, the kick comes there. */
	head = blk_post(&d, &r, VIRTIO_BLK_T_IN, 7, 512);
	ram = malloc(MOVED_RAM);
	ASSERT_NE(NULL, ram);
	memcpy(ram, vmu_gpa(vm, 0), MOVED_RAM);
	fd = memfd_create("vm_device_test", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vm__save_state(vm, fd));
	vm__destroy(vm);				/* it holds the image's lock */
	vm2 = vmu_create(&cfg, con);
	ASSERT_NE(NULL, vm2);
	memcpy(vmu_gpa(vm2, 0), ram, MOVED_RAM);
	free(ram);
	ASSERT_EQ(0, (int)lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(0, vm__load_state(vm2, fd, NULL, 0));
	close(fd);
	ASSERT_EQ(0, ioloop__start(vm2));
	vmu_virtio_moved(&d, vm2);
	EXPECT_EQ(VIRTIO_CONFIG_S_DRIVER_OK, vmu_virtio_status(&d) & VIRTIO_CONFIG_S_DRIVER_OK);
	vmu_vq_kick(&d, 0);
	EXPECT_EQ(head, vmu_vq_used(&d, 0, &len, 2000));
	EXPECT_EQ(513, len);
	EXPECT_EQ(VIRTIO_BLK_S_OK, blk_status(&d, &r));
	EXPECT_TRUE(all_bytes(vmu_gpa(vm2, r.data), 7, 512));
	if (fake_kvm_active())
		EXPECT_EQ(1, fake_kvm_msi_taken(vm2->vm_fd, VMU_MSI_DATA, 1, 2000));
	vm__destroy(vm2);
	unlink(con);
	unlink(disk);
	rcu_unregister_thread();
}

/*
 * One kick, one batch of every kind: reads of one and of several
 * sectors, writes, a flush behind them, get-id, a type the device does
 * not know and a read past the end, each with its status and its bytes
 * where they belong, through the io_uring (--disk-aio io_uring, the
 * default) and without it (threads).
 */
static void blk_one_batch(struct __test_metadata *_metadata, bool threads)
{
	static const struct {
		uint32_t type;
		uint64_t sector;
		uint32_t len;
		uint8_t status;
	} kinds[] = {
		{ VIRTIO_BLK_T_IN, 10, 512, VIRTIO_BLK_S_OK },
		{ VIRTIO_BLK_T_OUT, 40, 512, VIRTIO_BLK_S_OK },
		{ VIRTIO_BLK_T_IN, 20, 2048, VIRTIO_BLK_S_OK },
		{ VIRTIO_BLK_T_OUT, 50, 1536, VIRTIO_BLK_S_OK },
		{ VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 1024, VIRTIO_BLK_S_IOERR },
		{ VIRTIO_BLK_T_GET_ID, 0, 20, VIRTIO_BLK_S_OK },
		{ VIRTIO_BLK_T_IN, 30, 512, VIRTIO_BLK_S_OK },
		{ 99, 0, 512, VIRTIO_BLK_S_UNSUPP },
		{ VIRTIO_BLK_T_FLUSH, 0, 0, VIRTIO_BLK_S_OK },
		{ VIRTIO_BLK_T_IN, 60, 4096, VIRTIO_BLK_S_OK },
	};
	enum { N = sizeof(kinds) / sizeof(kinds[0]) };
	char con[64], disk[64];
	struct vm_config cfg = { .disk = disk, .disk_threads = threads };
	struct blk_req r[N];
	uint8_t sector[512];
	struct vmu_virtio d;
	int fd, head[N], got, i, j;
	unsigned int seen = 0, k;
	uint32_t len;
	struct vm *vm;

	rcu_register_thread();
	fd = blk_vm_new(_metadata, &cfg, "batch", con, disk, &d, &vm);
	ASSERT_LE(0, fd);
	for (i = 0; i < N; i++) {
		head[i] = blk_post(&d, &r[i], kinds[i].type, kinds[i].sector,
				   kinds[i].len ?: 1);
		ASSERT_LE(0, head[i]);
		if (kinds[i].type == VIRTIO_BLK_T_OUT)
			memset(vmu_gpa(vm, r[i].data), 0xe0 + i, kinds[i].len);
	}
	vmu_vq_kick(&d, 0);
	for (j = 0; j < N; j++) {
		got = vmu_vq_used(&d, 0, &len, 5000);
		ASSERT_LE(0, got) TH_LOG("%d of %d requests done", j, N);
		for (i = 0; i < N && head[i] != got; i++)
			;
		ASSERT_GT(N, i);
		seen |= 1u << i;
		EXPECT_EQ(kinds[i].status, blk_status(&d, &r[i]))
			TH_LOG("request %d (type %u, sector %llu)", i, kinds[i].type,
			       (unsigned long long)kinds[i].sector);
		if (kinds[i].type == VIRTIO_BLK_T_IN && kinds[i].status == VIRTIO_BLK_S_OK) {
			EXPECT_EQ(kinds[i].len + 1, len);
			for (k = 0; k < kinds[i].len / 512; k++)
				EXPECT_TRUE(all_bytes(vmu_gpa(vm, r[i].data + k * 512),
						      kinds[i].sector + k, 512));
		}
		if (kinds[i].type == VIRTIO_BLK_T_IN && kinds[i].status != VIRTIO_BLK_S_OK)
			EXPECT_EQ(1, len);	/* the status byte only */
		if (kinds[i].type == VIRTIO_BLK_T_GET_ID)
			EXPECT_EQ(0, strcmp((char *)vmu_gpa(vm, r[i].data), "ternvm-disk0"));
	}
	EXPECT_EQ((1u << N) - 1, seen);
	for (i = 0; i < N; i++) {
		if (kinds[i].type != VIRTIO_BLK_T_OUT)
			continue;
		for (k = 0; k < kinds[i].len / 512; k++) {
			ASSERT_EQ(512, pread(fd, sector, 512, (kinds[i].sector + k) * 512));
			EXPECT_TRUE(all_bytes(sector, 0xe0 + i, 512));
		}
	}
	vm__destroy(vm);
	close(fd);
	unlink(con);
	unlink(disk);
	rcu_unregister_thread();
}

TEST(virtio_blk_one_batch_of_every_kind_io_uring)
{
	blk_one_batch(_metadata, false);
}

TEST(virtio_blk_one_batch_of_every_kind_threads)
{
	blk_one_batch(_metadata, true);
}

/*
 * A disk request that cannot finish holds only virtio-blk's worker: the
 * I/O thread still serves another device (virtio-rng) at once, and the
 * request completes when it can.  Its guest buffer is a page dropped from
 * guest RAM and registered with a userfaultfd that answers late, so the
 * read stops in the kernel on that page, as it would on a stuck image.
 * (The I/O used to be done on the I/O thread: every device stalled.)
 */
TEST(virtio_blk_stuck_request_holds_no_other_device)
{
	char con[64], disk[64], mem[64];
	struct vm_config cfg = { .disk = disk, .mem_path = mem, .rng = true };
	static uint8_t page[4096] __attribute__((aligned(4096)));
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_copy copy = { .len = 4096 };
	struct vmu_virtio blk, rng;
	struct pollfd pfd;
	struct uffd_msg msg;
	struct blk_req r;
	struct vmu_buf b;
	uint64_t buf;
	struct vm *vm;
	uint32_t len = 0;
	int fd, uffd, head;

	TEST_REQUIRE(access("/dev/shm", W_OK) == 0);	/* shmem: uffd can hold it */
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	TEST_REQUIRE(uffd >= 0);
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	rcu_register_thread();
	snprintf(con, sizeof(con), "/tmp/vm_device_test.%d.stuck", getpid());
	snprintf(disk, sizeof(disk), "/tmp/vm_device_test.%d.stuck.img", getpid());
	snprintf(mem, sizeof(mem), "/dev/shm/vm_device_test.%d.ram", getpid());
	fd = make_disk(disk);
	ASSERT_LE(0, fd);
	vm = vmu_create(&cfg, con);
	ASSERT_NE(NULL, vm);
	ASSERT_EQ(0, ioloop__start(vm));
	ASSERT_EQ(0, vmu_virtio_init(&blk, vm, VIRTIO_ID_BLOCK, 0, 1));
	ASSERT_EQ(0, vmu_virtio_init(&rng, vm, VIRTIO_ID_RNG, 0, 1));

	/* A read of sector 9 into a page that is not there. */
	head = blk_post(&blk, &r, VIRTIO_BLK_T_IN, 9, 8192);
	buf = (r.data + 4095) & ~4095ULL;
	ASSERT_EQ(0, fallocate(vm->ram.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, buf, 4096));
	reg.range.start = (uintptr_t)vmu_gpa(vm, buf);
	reg.range.len = 4096;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));
	ASSERT_TRUE(kick_eventfd(vm, "virtio-blk", 0));
	pfd = (struct pollfd){ .fd = uffd, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, 5000)) TH_LOG("the read never reached the page");
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ(-1, vmu_vq_used(&blk, 0, NULL, 0));	/* held */

	/* Meanwhile the I/O thread serves virtio-rng. */
	b = (struct vmu_buf){ .gpa = vmu_virtio_alloc(&rng, 16), .len = 16, .in = true };
	ASSERT_EQ(0, vmu_vq_add(&rng, 0, &b, 1));
	ASSERT_TRUE(kick_eventfd(vm, "virtio-rng", 0));
	EXPECT_EQ(0, vmu_vq_used(&rng, 0, &len, 2000)) TH_LOG("virtio-rng waits behind the disk");

	/* The page comes: the read completes, the data where it belongs. */
	copy.dst = reg.range.start;
	copy.src = (uintptr_t)page;
	EXPECT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	EXPECT_EQ(head, vmu_vq_used(&blk, 0, &len, 5000));
	EXPECT_EQ(8193, len);
	EXPECT_EQ(VIRTIO_BLK_S_OK, blk_status(&blk, &r));
	EXPECT_TRUE(all_bytes(vmu_gpa(vm, r.data), 9, 512));
	EXPECT_TRUE(all_bytes(vmu_gpa(vm, r.data + 8192 - 512), 9 + 15, 512));
	ioctl(uffd, UFFDIO_UNREGISTER, &reg.range);
	close(uffd);
	vm__destroy(vm);
	close(fd);
	unlink(con);
	unlink(disk);
	unlink(mem);
	rcu_unregister_thread();
}

#define CMOS_INDEX	0x70
#define CMOS_DATA	0x71

static void cmos_write(struct vm *vm, uint8_t idx, uint8_t v)
{
	vmu_outb(vm, CMOS_INDEX, idx);
	vmu_outb(vm, CMOS_DATA, v);
}

static uint8_t cmos_read(struct vm *vm, uint8_t idx)
{
	vmu_outb(vm, CMOS_INDEX, idx);
	return vmu_inb(vm, CMOS_DATA);
}

/* The whole of memfd `fd`, from its start, in a malloc'd buffer. */
static uint8_t *read_all(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	uint8_t *p = end > 0 ? malloc(end) : NULL;

	if (!p || pread(fd, p, end, 0) != end) {
		free(p);
		return NULL;
	}
	*len = end;
	return p;
}

/*
 * The CMOS clock keeps the time a guest set as an offset from the host's
 * clock, and the offset travels in the state.  A stream's offset beyond
 * any time a guest can set used to be taken as it came, and the next
 * clock read wrapped now + offset (UBSan aborts on it): now the load is
 * refused, naming the device, and a set time still moves.
 */
TEST_F(vm, rtc_offset_from_a_stream_is_range_checked)
{
	struct tm tm = { .tm_year = 2050 - 1900, .tm_mday = 1 };
	int64_t want, v, bad = INT64_MAX - 1;
	char why[256] = "";
	size_t len, i, at = 0;
	struct vm *vm2;
	uint8_t *p;
	int fd, fd2, found = 0;

	/* The guest sets 2050-01-01 00:00:00, binary mode, 24 h. */
	cmos_write(self->vm, 11, 0x80 | 0x04 | 0x02);
	cmos_write(self->vm, 0, 0);
	cmos_write(self->vm, 2, 0);
	cmos_write(self->vm, 4, 0);
	cmos_write(self->vm, 7, 1);
	cmos_write(self->vm, 8, 1);
	cmos_write(self->vm, 9, 50);
	cmos_write(self->vm, 0x32, 20);
	cmos_write(self->vm, 11, 0x04 | 0x02);
	want = (int64_t)timegm(&tm) - time(NULL);
	EXPECT_EQ(50, cmos_read(self->vm, 9));

	fd = memfd_create("vm_device_test", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vm__save_state(self->vm, fd));
	p = read_all(fd, &len);
	ASSERT_NE(NULL, p);
	for (i = 0; i + 8 <= len; i++) {
		memcpy(&v, p + i, 8);
		if (v >= want - 5 && v <= want + 5) {
			at = i;
			found++;
		}
	}
	ASSERT_EQ(1, found) TH_LOG("the offset %lld in the saved state", (long long)want);

	/* As saved, it loads, and the second VM's clock reads 2050. */
	vm2 = make_vm(self->console2);
	ASSERT_NE(NULL, vm2);
	ASSERT_EQ(0, (int)lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(0, vm__load_state(vm2, fd, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(50, cmos_read(vm2, 9));
	EXPECT_EQ(20, cmos_read(vm2, 0x32));
	vm__destroy(vm2);

	/* An offset no guest could set, its CRC made right: refused. */
	memcpy(p + at, &bad, 8);
	td__fix_crcs(p, len);
	fd2 = memfd_create("vm_device_test.bad", MFD_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ((ssize_t)len, write(fd2, p, len));
	ASSERT_EQ(0, (int)lseek(fd2, 0, SEEK_SET));
	vm2 = make_vm(self->console2);
	ASSERT_NE(NULL, vm2);
	EXPECT_NE(0, vm__load_state(vm2, fd2, why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "rtc")) TH_LOG("%s", why);
	EXPECT_NE(50, cmos_read(vm2, 9));	/* its own clock, untouched */
	vm__destroy(vm2);
	free(p);
	close(fd);
	close(fd2);
}

/* One line from fd within timeout_ms, without its newline. */
static bool ctl_line(int fd, char *line, size_t size, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < size) {
		if (poll(&p, 1, timeout_ms) != 1 || read(fd, line + n, 1) != 1)
			return false;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	return true;
}

/* A client of the control socket at `path`, its greeting read; or -1. */
static int ctl_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char line[512];
	int fd;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    !ctl_line(fd, line, sizeof(line), 2000)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * save-state to a FIFO nobody reads yet waits on the FIFO (its open
 * blocks, as a hung NFS file's writes would), and only its client waits:
 * another client's query-status is answered meanwhile, a second request
 * on the waiting connection is refused after the first one's reply, and
 * once the FIFO is read the state arrives whole and the reply comes.
 * (The command ran on the I/O thread: the whole VMM froze with it.)
 */
TEST(save_state_to_a_stalled_file_freezes_nothing)
{
	char dir[64], sock[96], fifo[96], con[64], line[512];
	struct vm_config cfg = { .control = sock, .state_dir = dir }, cfg2 = { 0 };
	static const char req[] =
		"{\"execute\": \"save-state\", \"arguments\": {\"path\": \"%s\"}, \"id\": 1}\n"
		"{\"execute\": \"query-status\", \"id\": 2}\n";
	static char buf[1 << 20];
	char con2[80], why[256] = "";
	struct vm *vm, *vm2;
	int a, b, rd, mfd;
	ssize_t n, total = 0;

	rcu_register_thread();
	snprintf(dir, sizeof(dir), "/tmp/vm_device_test.%d.states", getpid());
	snprintf(sock, sizeof(sock), "%s/c.sock", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(con, sizeof(con), "/tmp/vm_device_test.%d.ctl", getpid());
	snprintf(con2, sizeof(con2), "%s.2", con);
	ASSERT_EQ(0, mkdir(dir, 0700));
	ASSERT_EQ(0, mkfifo(fifo, 0600));
	vm = vmu_create(&cfg, con);
	ASSERT_NE(NULL, vm);
	ASSERT_EQ(0, ioloop__start(vm));
	a = ctl_connect(sock);
	ASSERT_LE(0, a);
	ASSERT_LT(0, dprintf(a, req, fifo));

	b = ctl_connect(sock);
	ASSERT_LE(0, b) TH_LOG("no greeting for a second client: the I/O thread is held");
	ASSERT_LT(0, dprintf(b, "{\"execute\": \"query-status\"}\n"));
	ASSERT_TRUE(ctl_line(b, line, sizeof(line), 2000));
	EXPECT_NE(NULL, strstr(line, "\"running\"")) TH_LOG("%s", line);
	EXPECT_FALSE(ctl_line(a, line, sizeof(line), 100));	/* still waiting */

	rd = open(fifo, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rd);
	while ((n = read(rd, buf + total, sizeof(buf) - total)) > 0)
		total += n;
	close(rd);
	ASSERT_TRUE(ctl_line(a, line, sizeof(line), 5000));
	EXPECT_NE(NULL, strstr(line, "\"return\"")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "\"id\":1")) TH_LOG("%s", line);
	ASSERT_TRUE(ctl_line(a, line, sizeof(line), 2000));
	EXPECT_NE(NULL, strstr(line, "one request at a time")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "\"id\":2")) TH_LOG("%s", line);
	/* Whole: it loads into a second VM. */
	mfd = memfd_create("vm_device_test", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(total, write(mfd, buf, total));
	ASSERT_EQ(0, (int)lseek(mfd, 0, SEEK_SET));
	vm2 = vmu_create(&cfg2, con2);
	ASSERT_NE(NULL, vm2);
	EXPECT_EQ(0, vm__load_state(vm2, mfd, why, sizeof(why))) TH_LOG("%s", why);
	vm__destroy(vm2);
	close(mfd);
	close(a);
	close(b);
	vm__destroy(vm);
	unlink(fifo);
	unlink(con);
	unlink(con2);
	rmdir(dir);
	rcu_unregister_thread();
}

/*
 * Two taps whose names have the same length got the same MAC (the
 * length was its last byte): two guests on one bridge then collide.
 */
TEST(virtio_net_macs_differ_between_taps)
{
	char con[2][64];
	uint8_t mac[2][6];
	struct vm *vm[2];
	int i;

	TEST_REQUIRE(access("/dev/net/tun", R_OK) == 0);
	rcu_register_thread();
	for (i = 0; i < 2; i++) {
		snprintf(con[i], sizeof(con[i]), "/tmp/vm_device_test.%d.mac%d", getpid(), i);
		vm[i] = make_net_vm(con[i], i ? "tdmacB" : "tdmacA");
		ASSERT_NE(NULL, vm[i]);
		net_mac(vm[i], mac[i]);
		EXPECT_EQ(0x52, mac[i][0]);	/* locally administered, unicast */
	}
	EXPECT_NE(0, memcmp(mac[0], mac[1], 6));
	for (i = 0; i < 2; i++) {
		vm__destroy(vm[i]);
		unlink(con[i]);
	}
	rcu_unregister_thread();
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A packet socket on interface `name` (brought up), or -1. */
static int sniff(const char *name)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr = { 0 };
	int s, fd;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		close(s);
		return -1;
	}
	close(s);
	sll.sll_ifindex = if_nametoindex(name);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -1;
	return fd;
}

/*
 * The MAC is device state: a second VM (another tap, so another MAC of
 * its own) that loads the first one's state gives its guest the first
 * one's MAC, and announces it on its tap: RARP frames from that MAC,
 * five of them, at growing intervals.
 */
TEST(virtio_net_mac_moves_with_the_state_and_is_announced)
{
	uint8_t mac1[6], mac2[6], frame[1600];
	struct sockaddr_ll from;
	socklen_t fromlen;
	char con[2][64];
	double t0, t[8];
	struct vm *vm1, *vm2;
	int fd, sk, n = 0, i;
	ssize_t len;

	TEST_REQUIRE(access("/dev/net/tun", R_OK) == 0);
	rcu_register_thread();
	for (i = 0; i < 2; i++)
		snprintf(con[i], sizeof(con[i]), "/tmp/vm_device_test.%d.ann%d", getpid(), i);
	vm1 = make_net_vm(con[0], "tdann1");
	ASSERT_NE(NULL, vm1);
	net_mac(vm1, mac1);
	/* A driver has probed the device: its guest knows the MAC. */
	virtio__find(vm1, "virtio-net", 0)->s.status = 3;	/* ACKNOWLEDGE | DRIVER */
	fd = memfd_create("vm_device_test", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vm__save_state(vm1, fd));
	vm__destroy(vm1);

	vm2 = make_net_vm(con[1], "tdann2");
	ASSERT_NE(NULL, vm2);
	net_mac(vm2, mac2);
	ASSERT_NE(0, memcmp(mac1, mac2, 6));
	sk = sniff("tdann2");
	ASSERT_LE(0, sk);
	ASSERT_EQ(0, ioloop__start(vm2));
	ASSERT_EQ(0, (int)lseek(fd, 0, SEEK_SET));
	t0 = now_s();
	ASSERT_EQ(0, vm__load_state(vm2, fd, NULL, 0));
	net_mac(vm2, mac2);
	EXPECT_EQ(0, memcmp(mac1, mac2, 6));

	while (n < 8 && now_s() - t0 < 3) {
		struct pollfd p = { .fd = sk, .events = POLLIN };

		if (poll(&p, 1, 100) <= 0)
			continue;
		fromlen = sizeof(from);
		len = recvfrom(sk, frame, sizeof(frame), 0, (struct sockaddr *)&from, &fromlen);
		if (len < 14 + 28 || from.sll_pkttype == PACKET_OUTGOING ||
		    frame[12] != 0x80 || frame[13] != 0x35)
			continue;
		EXPECT_EQ(0, memcmp(frame + 6, mac1, 6));	/* from the guest's MAC */
		EXPECT_EQ(0, memcmp(frame + 14 + 8, mac1, 6));	/* RARP sender */
		EXPECT_EQ(3, frame[14 + 7]);			/* reverse request */
		t[n++] = now_s() - t0;
	}
	EXPECT_EQ(5, n);
	for (i = 0; i < n; i++)
		TH_LOG("announce %d at %.0f ms", i, t[i] * 1000);
	if (n == 5)	/* backing off: 150 ms apart first, 450 ms last */
		EXPECT_LT(t[1] - t[0], t[4] - t[3]);
	close(sk);
	close(fd);
	ioloop__stop(vm2);
	vm__destroy(vm2);
	for (i = 0; i < 2; i++)
		unlink(con[i]);
	rcu_unregister_thread();
}

TEST_HARNESS_MAIN
