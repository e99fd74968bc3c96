// SPDX-License-Identifier: GPL-2.0
/*
 * PCI configuration mechanism #1 and the host bridge (see pci.h).  The
 * bus's own state (the 0xcf8 address latch) is per instance; each
 * device's config space lives in its pci_device.  BAR decoding follows
 * the command register's memory-space bit.
 */
#include <errno.h>
#include <stdio.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "vm/acpi.h"
#include "vm/device.h"
#include "vm/init.h"
#include "vm/iotrap.h"
#include "vm/vm.h"
#include "vm/mem.h"
#include "vm/devices/pci.h"
#include "vmstate/vmstate.h"

#define PCI_CONF_ADDR	0xcf8
#define PCI_CONF_DATA	0xcfc
#define PCI_MAX_SLOTS	32

struct pci_bus {
	struct device_header dev;
	struct pci_device bridge;
	pthread_mutex_t lock;
	uint32_t conf_addr;
	uint32_t next_mmio;
	struct pci_device *slots[PCI_MAX_SLOTS];
};

static struct pci_bus *bus_of(struct vm *vm)
{
	struct device_header *d = device__find(vm, "pci-host", 0);

	return d ? container_of(d, struct pci_bus, dev) : NULL;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

void pci__slot_name(const struct pci_device *pdev, char *buf, int len)
{
	snprintf(buf, len, "00:%02x.0", pdev->slot);
}

static void update_bars(struct pci_device *pdev)
{
	bool mem_on = pdev->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY;
	int i;

	for (i = 0; i < PCI_NR_BARS; i++) {
		uint32_t addr, want;

		if (!pdev->bar_size[i])
			continue;
		addr = get32(pdev->cfg + PCI_BASE_ADDRESS_0 + 4 * i) &
		       PCI_BASE_ADDRESS_MEM_MASK;
		/* Decode only a sane address: not while the guest sizes it. */
		want = mem_on && addr >= PCI_MMIO_START &&
		       addr + pdev->bar_size[i] - 1 <= PCI_MMIO_END ? addr : 0;
		if (want == pdev->bar_mapped[i])
			continue;
		if (pdev->bar_map && pdev->bar_map(pdev, i, pdev->bar_mapped[i], want))
			want = 0;
		pdev->bar_mapped[i] = want;
	}
}

/*
 * There is no firmware to assign BARs again after a reset: the guest
 * finds them where they were at start, as it did at its first boot.
 */
void pci__reset(struct pci_device *pdev)
{
	memcpy(pdev->cfg, pdev->cfg_boot, PCI_CFG_SIZE);
	update_bars(pdev);
}

void pci__remap(struct pci_device *pdev)
{
	update_bars(pdev);
}

static void cfg_write(struct pci_device *pdev, int off, const uint8_t *data, int len)
{
	int i;

	for (i = 0; i < len; i++) {
		int o = off + i;

		if (o >= PCI_BASE_ADDRESS_0 && o < PCI_BASE_ADDRESS_0 + 4 * PCI_NR_BARS) {
			int bar = (o - PCI_BASE_ADDRESS_0) / 4;
			uint32_t v = get32(pdev->cfg + PCI_BASE_ADDRESS_0 + 4 * bar);
			int shift = 8 * ((o - PCI_BASE_ADDRESS_0) % 4);

			v = (v & ~(0xffu << shift)) | ((uint32_t)data[i] << shift);
			v &= ~(pdev->bar_size[bar] - 1);	/* size bits read 0 */
			if (!pdev->bar_size[bar])
				v = 0;
			put32(pdev->cfg + PCI_BASE_ADDRESS_0 + 4 * bar, v);
			continue;
		}
		switch (o) {
		case PCI_COMMAND:
		case PCI_COMMAND + 1:
		case PCI_CACHE_LINE_SIZE:
		case PCI_LATENCY_TIMER:
		case PCI_INTERRUPT_LINE:
			pdev->cfg[o] = data[i];
			break;
		case PCI_STATUS:
		case PCI_STATUS + 1:
			pdev->cfg[o] &= ~data[i];	/* write 1 to clear */
			break;
		default:
			if (o >= 0x40)		/* capabilities: the device decides */
				pdev->cfg[o] = data[i];
			break;
		}
	}
	update_bars(pdev);
	if (pdev->cfg_written)
		pdev->cfg_written(pdev, off, len);
}

static void conf_io(struct vcpu *vcpu, uint64_t port, uint8_t *data,
		    uint32_t len, bool is_write, void *opaque)
{
	struct pci_bus *bus = opaque;
	struct pci_device *pdev = NULL;
	uint32_t a;
	int off;

	pthread_mutex_lock(&bus->lock);
	if (port >= PCI_CONF_ADDR && port < PCI_CONF_ADDR + 4) {
		if (len == 4 && port == PCI_CONF_ADDR) {
			if (is_write)
				memcpy(&bus->conf_addr, data, 4);
			else
				memcpy(data, &bus->conf_addr, 4);
		} else if (!is_write) {
			memset(data, 0xff, len);
		}
		goto out;
	}
	a = bus->conf_addr;
	off = (a & 0xfc) + (port - PCI_CONF_DATA);
	if ((a & 0x80000000) && !((a >> 16) & 0xff) && !((a >> 8) & 7))
		pdev = bus->slots[(a >> 11) & 0x1f];
	if (!pdev || off + len > PCI_CFG_SIZE) {
		if (!is_write)
			memset(data, 0xff, len);
		goto out;
	}
	if (is_write)
		cfg_write(pdev, off, data, len);
	else
		memcpy(data, pdev->cfg + off, len);
out:
	pthread_mutex_unlock(&bus->lock);
}

int pci__register(struct vm *vm, struct pci_device *pdev)
{
	struct pci_bus *bus = bus_of(vm);
	int slot, i;

	if (!bus)
		return -ENODEV;
	pthread_mutex_lock(&bus->lock);
	for (slot = 1; slot < PCI_MAX_SLOTS && bus->slots[slot]; slot++)
		;
	if (slot == PCI_MAX_SLOTS) {
		pthread_mutex_unlock(&bus->lock);
		return -ENOSPC;
	}
	pdev->vm = vm;
	pdev->slot = slot;
	for (i = 0; i < PCI_NR_BARS; i++) {
		uint32_t sz = pdev->bar_size[i];

		if (!sz)
			continue;
		bus->next_mmio = (bus->next_mmio + sz - 1) & ~(sz - 1);
		put32(pdev->cfg + PCI_BASE_ADDRESS_0 + 4 * i, bus->next_mmio);
		bus->next_mmio += sz;
	}
	pdev->cfg[PCI_COMMAND] |= PCI_COMMAND_MEMORY;
	memcpy(pdev->cfg_boot, pdev->cfg, PCI_CFG_SIZE);
	bus->slots[slot] = pdev;
	update_bars(pdev);
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

void pci__unregister(struct vm *vm, struct pci_device *pdev)
{
	struct pci_bus *bus = bus_of(vm);

	if (!bus)
		return;
	pthread_mutex_lock(&bus->lock);
	pdev->cfg[PCI_COMMAND] &= ~PCI_COMMAND_MEMORY;
	update_bars(pdev);
	bus->slots[pdev->slot] = NULL;
	pthread_mutex_unlock(&bus->lock);
}

static const struct vmstate_field pci_device_fields[] = {
	VMSTATE_BUFFER(cfg, struct pci_device, 0),
	VMSTATE_END,
};

const struct vmsd pci_device_vmsd = {
	.name = "pci-device",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct pci_device),
	.fields = pci_device_fields,
};

static const struct vmstate_field pci_bus_fields[] = {
	VMSTATE_U32_HEX(conf_addr, struct pci_bus, 0),
	VMSTATE_STRUCT(bridge, struct pci_bus, 0, pci_device_vmsd, struct pci_device),
	VMSTATE_END,
};

/*
 * Version 2 is version 1 renamed: release 0.1.0 called this table
 * pci-host, a name its path (.../host-bridge) never used.  Its streams
 * load through the filter below; the bump makes a 0.1.0 destination
 * refuse this build's stream in the handshake, before any page, instead
 * of at the device state.
 */
static const struct vmsd pci_bus_vmsd = {
	.name = "host-bridge",
	.version_id = 2,
	.minimum_version_id = 1,
	.size = sizeof(struct pci_bus),
	.fields = pci_bus_fields,
};
VMSTATE_DEVICE_TABLE(pci_bus_vmsd);

static const struct vmstate_filter pci_host_renamed = {
	.kind = VMSTATE_FILTER_RENAME_TABLE, .table = "pci-host",
	.max_version = 1, .to = "host-bridge",
};
VMSTATE_DEVICE_FILTER(pci_host_renamed);

static void pci_bus_reset(struct device_header *dev)
{
	struct pci_bus *bus = container_of(dev, struct pci_bus, dev);

	pthread_mutex_lock(&bus->lock);
	bus->conf_addr = 0;
	pthread_mutex_unlock(&bus->lock);
}

static int pci__init(struct vm *vm)
{
	struct pci_bus *bus;
	int ret;

	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return -ENOMEM;
	bus->dev.name = "pci-host";
	bus->dev.opaque = bus;
	bus->dev.reset = pci_bus_reset;
	snprintf(bus->dev.path, sizeof(bus->dev.path), "/machine/pci0/00:00.0/host-bridge");
	pthread_mutex_init(&bus->lock, NULL);
	bus->next_mmio = PCI_MMIO_START;
	put16(bus->bridge.cfg + PCI_VENDOR_ID, 0x1b36);		/* Red Hat */
	put16(bus->bridge.cfg + PCI_DEVICE_ID, 0x0008);		/* host bridge */
	put16(bus->bridge.cfg + PCI_CLASS_DEVICE, 0x0600);	/* bridge, host */
	bus->bridge.vm = vm;
	bus->slots[0] = &bus->bridge;

	ret = vmstate__filter_register(vm->vmstate, &pci_host_renamed);
	if (ret) {
		free(bus);
		return ret;
	}
	ret = vm__register_iotrap(vm, PCI_CONF_ADDR, 8, conf_io, bus, IOTRAP_PIO);
	if (!ret) {
		ret = vm__register_state(vm, &pci_bus_vmsd, bus, bus->dev.path);
		if (ret)
			vm__unregister_iotrap(vm, PCI_CONF_ADDR, IOTRAP_PIO);
	}
	if (ret) {
		free(bus);
		return ret;
	}
	device__register(vm, &bus->dev);
	return 0;
}

static int pci__exit(struct vm *vm)
{
	struct pci_bus *bus = bus_of(vm);

	if (!bus)
		return 0;
	device__unregister(vm, &bus->dev);
	vm__unregister_state(vm, bus->dev.path);
	vm__unregister_iotrap(vm, PCI_CONF_ADDR, IOTRAP_PIO);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
	return 0;
}
dev_base_init(pci__init);
dev_base_exit(pci__exit);
