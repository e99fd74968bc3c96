// SPDX-License-Identifier: GPL-2.0
/*
 * Just enough of the i8042 keyboard controller (ports 0x60/0x64) for
 * Linux to reset the machine through it: command 0xfe, or a write of the
 * output port with the reset line low.  No keyboard is attached.
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>

#include "lib/log.h"
#include "vm/device.h"
#include "vm/init.h"
#include "vm/iotrap.h"
#include "vm/vm.h"
#include "vmstate/vmstate.h"

#define I8042_DATA	0x60
#define I8042_CMD	0x64

#define I8042_CMD_READ_CTR	0x20
#define I8042_CMD_WRITE_CTR	0x60
#define I8042_CMD_AUX_DISABLE	0xa7
#define I8042_CMD_AUX_ENABLE	0xa8
#define I8042_CMD_AUX_TEST	0xa9
#define I8042_CMD_CTL_TEST	0xaa
#define I8042_CMD_KBD_TEST	0xab
#define I8042_CMD_WRITE_OUTPORT	0xd1
#define I8042_CMD_PULSE_RESET	0xfe

#define I8042_STR_OBF		0x01
#define I8042_STR_SYSFLAG	0x04
#define I8042_STR_KEYLOCK	0x10	/* 1: not locked */

struct i8042 {
	struct device_header dev;
	struct vm *vm;
	pthread_mutex_t lock;
	struct i8042_state {
		uint8_t ctr;		/* controller command byte */
		uint8_t pending_cmd;	/* a command waiting for its data byte */
		uint8_t out;		/* output buffer */
		uint8_t out_full;
	} r;
};

static void reply(struct i8042 *k, uint8_t v)
{
	k->r.out = v;
	k->r.out_full = 1;
}

static void i8042_io(struct vcpu *vcpu, uint64_t addr, uint8_t *data,
		     uint32_t len, bool is_write, void *opaque)
{
	struct i8042 *k = opaque;
	bool reset = false;

	pthread_mutex_lock(&k->lock);
	if (!is_write) {
		if (addr == I8042_CMD) {
			data[0] = I8042_STR_SYSFLAG | I8042_STR_KEYLOCK | (k->r.out_full ? I8042_STR_OBF : 0);
		} else {
			data[0] = k->r.out;
			k->r.out_full = 0;
		}
		goto out;
	}
	if (addr == I8042_DATA) {
		if (k->r.pending_cmd == I8042_CMD_WRITE_CTR)
			k->r.ctr = data[0];
		else if (k->r.pending_cmd == I8042_CMD_WRITE_OUTPORT && !(data[0] & 1))
			reset = true;
		k->r.pending_cmd = 0;
		goto out;
	}
	switch (data[0]) {
	case I8042_CMD_READ_CTR:
		reply(k, k->r.ctr);
		break;
	case I8042_CMD_WRITE_CTR:
	case I8042_CMD_WRITE_OUTPORT:
		k->r.pending_cmd = data[0];
		break;
	case I8042_CMD_CTL_TEST:
		reply(k, 0x55);
		break;
	case I8042_CMD_KBD_TEST:
	case I8042_CMD_AUX_TEST:
		reply(k, 0x00);
		break;
	case I8042_CMD_PULSE_RESET:
		reset = true;
		break;
	default:
		break;
	}
out:
	pthread_mutex_unlock(&k->lock);
	if (reset) {
		pr_info("guest reset through the i8042");
		vm__request_reset(k->vm);
	}
}

/* Power-on: both ports disabled, no interrupts, nothing to read. */
static void i8042_power_on(struct i8042 *k)
{
	k->r = (struct i8042_state){ .ctr = 0x30 };
}

static void i8042_reset(struct device_header *dev)
{
	struct i8042 *k = container_of(dev, struct i8042, dev);

	pthread_mutex_lock(&k->lock);
	i8042_power_on(k);
	pthread_mutex_unlock(&k->lock);
}

static const struct vmstate_field i8042_state_fields[] = {
	VMSTATE_U8_HEX(ctr, struct i8042_state, 0),
	VMSTATE_U8_HEX(pending_cmd, struct i8042_state, 0),
	VMSTATE_U8_HEX(out, struct i8042_state, 0),
	VMSTATE_U8(out_full, struct i8042_state, 0),
	VMSTATE_END,
};

static const struct vmsd i8042_state_vmsd = {
	.name = "i8042-regs",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct i8042_state),
	.fields = i8042_state_fields,
};

static const struct vmstate_field i8042_fields[] = {
	VMSTATE_STRUCT(r, struct i8042, 0, i8042_state_vmsd, struct i8042_state),
	VMSTATE_END,
};

static const struct vmsd i8042_vmsd = {
	.name = "i8042",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct i8042),
	.fields = i8042_fields,
};
VMSTATE_DEVICE_TABLE(i8042_vmsd);

static int i8042__init(struct vm *vm)
{
	struct i8042 *k;
	int ret;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->vm = vm;
	k->dev.name = "i8042";
	k->dev.opaque = k;
	k->dev.reset = i8042_reset;
	snprintf(k->dev.path, sizeof(k->dev.path), "/machine/isa/i8042@%x", I8042_DATA);
	pthread_mutex_init(&k->lock, NULL);
	i8042_power_on(k);
	ret = vm__register_iotrap(vm, I8042_DATA, 1, i8042_io, k, IOTRAP_PIO);
	if (!ret) {
		ret = vm__register_iotrap(vm, I8042_CMD, 1, i8042_io, k, IOTRAP_PIO);
		if (ret)
			vm__unregister_iotrap(vm, I8042_DATA, IOTRAP_PIO);
	}
	if (!ret) {
		ret = vm__register_state(vm, &i8042_vmsd, k, k->dev.path);
		if (ret) {
			vm__unregister_iotrap(vm, I8042_CMD, IOTRAP_PIO);
			vm__unregister_iotrap(vm, I8042_DATA, IOTRAP_PIO);
		}
	}
	if (ret) {
		free(k);
		return ret;
	}
	device__register(vm, &k->dev);
	return 0;
}

static int i8042__exit(struct vm *vm)
{
	struct device_header *dev = device__find(vm, "i8042", 0);
	struct i8042 *k;

	if (!dev)
		return 0;
	k = container_of(dev, struct i8042, dev);
	device__unregister(vm, dev);
	vm__unregister_state(vm, dev->path);
	vm__unregister_iotrap(vm, I8042_CMD, IOTRAP_PIO);
	vm__unregister_iotrap(vm, I8042_DATA, IOTRAP_PIO);
	pthread_mutex_destroy(&k->lock);
	free(k);
	return 0;
}
dev_init(i8042__init);
dev_exit(i8042__exit);
