// SPDX-License-Identifier: GPL-2.0
/*
 * The first of the VMM's C device tests: a VM built in this process by
 * vm__create() with no kernel (serial, i8042, PCI host and virtio-rng
 * among its devices), driven through the same port/MMIO dispatch a vCPU
 * exit takes; set state, save it, load it into a second VM in the same
 * process, and read the same registers back there.  Needs /dev/kvm (the
 * harness).
 */
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <linux/serial_reg.h>
#include <linux/virtio_pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <urcu.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "vm/iotrap.h"
#include "vm/vm.h"

#define COM1		0x3f8
#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc
#define VIRTIO_RNG_ID	(0x1040 + 4)	/* modern virtio-pci, device type 4 */

static uint8_t pio_read(struct vm *vm, uint16_t port)
{
	uint8_t v = 0;

	if (!iotrap__dispatch(vm, NULL, IOTRAP_PIO, port, &v, 1, false))
		return 0xff;
	return v;
}

static void pio_write(struct vm *vm, uint16_t port, uint8_t v)
{
	iotrap__dispatch(vm, NULL, IOTRAP_PIO, port, &v, 1, true);
}

static uint32_t pci_read32(struct vm *vm, int slot, int off)
{
	uint32_t a = 0x80000000u | slot << 11 | off, v = ~0u;

	iotrap__dispatch(vm, NULL, IOTRAP_PIO, PCI_ADDR, (uint8_t *)&a, 4, true);
	iotrap__dispatch(vm, NULL, IOTRAP_PIO, PCI_DATA, (uint8_t *)&v, 4, false);
	return v;
}

/* A VM with no kernel whose serial console is the file `console`. */
static struct vm *make_vm(const char *console)
{
	char spec[96];
	struct vm_config cfg = {
		.ram_size = 64ULL << 20,
		.nr_cpus = 1,
		.console = spec,
		.rng = true,
	};

	snprintf(spec, sizeof(spec), "file:%s", console);
	return vm__create(&cfg);
}

FIXTURE(vm) {
	struct vm *vm;
	char console[64];	/* the VM's serial output */
	char console2[64];	/* a second VM's */
};

FIXTURE_SETUP(vm)
{
	TEST_REQUIRE(access("/dev/kvm", R_OK | W_OK) == 0);
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
	int fd;

	EXPECT_EQ(UART_LSR_TEMT | UART_LSR_THRE, pio_read(self->vm, COM1 + UART_LSR));
	pio_write(self->vm, COM1 + UART_SCR, 0x5a);
	EXPECT_EQ(0x5a, pio_read(self->vm, COM1 + UART_SCR));
	pio_write(self->vm, COM1 + UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	pio_write(self->vm, COM1 + UART_DLL, 0x0c);
	pio_write(self->vm, COM1 + UART_LCR, UART_LCR_WLEN8);
	EXPECT_EQ(UART_LCR_WLEN8, pio_read(self->vm, COM1 + UART_LCR));
	pio_write(self->vm, COM1 + UART_TX, 'T');
	pio_write(self->vm, COM1 + UART_TX, '!');
	fd = open(self->console, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(2, read(fd, buf, sizeof(buf)));
	EXPECT_STREQ("T!", buf);
	close(fd);
}

/* Set registers in one VM, save, load into another, read them there. */
TEST_F(vm, serial_state_moves_to_a_second_vm)
{
	struct vm *vm2;
	int fd;

	pio_write(self->vm, COM1 + UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN7);
	pio_write(self->vm, COM1 + UART_DLL, 0x30);
	pio_write(self->vm, COM1 + UART_LCR, UART_LCR_WLEN7 | UART_LCR_PARITY);
	pio_write(self->vm, COM1 + UART_SCR, 0xa5);
	pio_write(self->vm, COM1 + UART_IER, UART_IER_RDI);

	fd = memfd_create("vm_device_test", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vm__save_state(self->vm, fd));
	vm2 = make_vm(self->console2);
	ASSERT_NE(NULL, vm2);
	EXPECT_EQ(0, pio_read(vm2, COM1 + UART_SCR));	/* a fresh one first */
	ASSERT_EQ(0, (int)lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(0, vm__load_state(vm2, fd, NULL, 0));
	EXPECT_EQ(0xa5, pio_read(vm2, COM1 + UART_SCR));
	EXPECT_EQ(UART_IER_RDI, pio_read(vm2, COM1 + UART_IER));
	EXPECT_EQ(UART_LCR_WLEN7 | UART_LCR_PARITY, pio_read(vm2, COM1 + UART_LCR));
	pio_write(vm2, COM1 + UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN7);
	EXPECT_EQ(0x30, pio_read(vm2, COM1 + UART_DLL));
	close(fd);
	vm__destroy(vm2);
}

/* virtio-rng is on the PCI bus and its BAR answers as a modern device. */
TEST_F(vm, virtio_rng_through_pci_and_its_bar)
{
	uint32_t id, bar = 0, numq = 0;
	int slot;

	for (slot = 1; slot < 32; slot++) {
		id = pci_read32(self->vm, slot, PCI_VENDOR_ID);
		if (id == (0x1af4u | VIRTIO_RNG_ID << 16))
			break;
	}
	ASSERT_GT(32, slot);
	EXPECT_EQ(0xffffffffu, pci_read32(self->vm, 31, PCI_VENDOR_ID));	/* empty */
	bar = pci_read32(self->vm, slot, PCI_BASE_ADDRESS_0) & PCI_BASE_ADDRESS_MEM_MASK;
	ASSERT_NE(0, bar);
	ASSERT_TRUE(iotrap__dispatch(self->vm, NULL, IOTRAP_MMIO,
				     bar + VIRTIO_PCI_COMMON_NUMQ, (uint8_t *)&numq, 2, false));
	EXPECT_EQ(1, numq);
}

TEST_HARNESS_MAIN
