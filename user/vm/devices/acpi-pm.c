// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI registers the FADT points at: PM1a status/enable (no events
 * are ever raised), PM1a control (SCI_EN always set; SLP_TYP|SLP_EN with
 * the _S5 type powers off) and the reset register.  Stateless.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "vm/acpi.h"
#include "vm/device.h"
#include "vm/init.h"
#include "vm/iotrap.h"
#include "vm/vm.h"
#include "vm/mem.h"

#define SCI_EN		0x0001
#define SLP_TYP_SHIFT	10
#define SLP_TYP_MASK	0x1c00
#define SLP_EN		0x2000

struct acpi_pm {
	struct device_header dev;
	struct vm *vm;
};

static void pm_io(struct vcpu *vcpu, uint64_t addr, uint8_t *data,
		  uint32_t len, bool is_write, void *opaque)
{
	struct acpi_pm *pm = opaque;
	uint16_t v = 0;

	if (!is_write) {
		memset(data, 0, len);
		if (addr == ACPI_PM1A_CNT)
			data[0] = SCI_EN;
		return;
	}
	memcpy(&v, data, len > 2 ? 2 : len);
	switch (addr) {
	case ACPI_PM1A_CNT:
		if ((v & SLP_EN) && ((v & SLP_TYP_MASK) >> SLP_TYP_SHIFT) == ACPI_S5_TYPE) {
			pr_info("guest powered off");
			vm__request_exit(pm->vm, VM_EXIT_POWEROFF);
		}
		break;
	case ACPI_RESET_REG:
		if (data[0] == ACPI_RESET_VALUE) {
			pr_info("guest reset through ACPI");
			vm__request_reset(pm->vm);
		}
		break;
	}
}

static int acpi_pm__init(struct vm *vm)
{
	struct acpi_pm *pm;
	int ret;

	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	pm->vm = vm;
	pm->dev.name = "acpi-pm";
	pm->dev.opaque = pm;
	snprintf(pm->dev.path, sizeof(pm->dev.path), "/machine/acpi-pm@%x", ACPI_PM_PORT);
	ret = vm__register_iotrap(vm, ACPI_PM_PORT, ACPI_PM_LEN, pm_io, pm, IOTRAP_PIO);
	if (ret) {
		free(pm);
		return ret;
	}
	device__register(vm, &pm->dev);
	return 0;
}

static int acpi_pm__exit(struct vm *vm)
{
	struct device_header *dev = device__find(vm, "acpi-pm", 0);

	if (!dev)
		return 0;
	device__unregister(vm, dev);
	vm__unregister_iotrap(vm, ACPI_PM_PORT, IOTRAP_PIO);
	free(container_of(dev, struct acpi_pm, dev));
	return 0;
}
dev_init(acpi_pm__init);
dev_exit(acpi_pm__exit);
