// SPDX-License-Identifier: GPL-2.0
/*
 * The first of the VMM's C device tests: a VM built in this process by
 * vm__create() with no kernel (serial, i8042, PCI host and virtio-rng
 * among its devices), driven through the same port/MMIO dispatch a vCPU
 * exit takes; set state, save it, load it into a second VM in the same
 * process, and read the same registers back there.  Needs /dev/kvm (the
 * harness); the virtio-net cases make taps (/dev/net/tun, root).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/pci_regs.h>
#include <linux/serial_reg.h>
#include <linux/virtio_pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "vm/ioloop.h"
#include "vm/iotrap.h"
#include "vm/virtio.h"
#include "vm/vm.h"
#include "vmstate/testdev.h"

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

/* A VM with no kernel and a virtio-net on tap `tap`. */
static struct vm *make_net_vm(const char *console, const char *tap)
{
	char spec[96];
	struct vm_config cfg = {
		.ram_size = 64ULL << 20,
		.nr_cpus = 1,
		.console = spec,
		.net_tap = tap,
	};

	snprintf(spec, sizeof(spec), "file:%s", console);
	return vm__create(&cfg);
}

/* The MAC the guest reads: the first 6 bytes of the device config. */
static void net_mac(struct vm *vm, uint8_t mac[6])
{
	struct virtio_dev *v = virtio__find(vm, "virtio-net", 0);

	memset(mac, 0, 6);
	if (v)
		memcpy(mac, v->config, 6);
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
	ssize_t r, n;
	int fd, i;

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

#define CMOS_INDEX	0x70
#define CMOS_DATA	0x71

static void cmos_write(struct vm *vm, uint8_t idx, uint8_t v)
{
	pio_write(vm, CMOS_INDEX, idx);
	pio_write(vm, CMOS_DATA, v);
}

static uint8_t cmos_read(struct vm *vm, uint8_t idx)
{
	pio_write(vm, CMOS_INDEX, idx);
	return pio_read(vm, CMOS_DATA);
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

	TEST_REQUIRE(access("/dev/kvm", R_OK | W_OK) == 0 && access("/dev/net/tun", R_OK) == 0);
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

	TEST_REQUIRE(access("/dev/kvm", R_OK | W_OK) == 0 && access("/dev/net/tun", R_OK) == 0);
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
