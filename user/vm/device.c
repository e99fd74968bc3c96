// SPDX-License-Identifier: GPL-2.0
/*
 * Device registry (see device.h).  Devices register during init, before
 * any vCPU or control thread runs, and leave during exit, after they end;
 * so the list needs no lock of its own.
 */
#include <string.h>

#include "vm/device.h"
#include "vm/vm.h"

void device__register(struct vm *vm, struct device_header *dev)
{
	struct device_header **p = &vm->devices;

	while (*p)
		p = &(*p)->next;
	dev->next = NULL;
	*p = dev;
}

void device__unregister(struct vm *vm, struct device_header *dev)
{
	struct device_header **p;

	for (p = &vm->devices; *p; p = &(*p)->next) {
		if (*p == dev) {
			*p = dev->next;
			return;
		}
	}
}

struct device_header *device__find(struct vm *vm, const char *name, int n)
{
	struct device_header *d;

	for (d = vm->devices; d; d = d->next)
		if (!strcmp(d->name, name) && n-- == 0)
			return d;
	return NULL;
}

void device__pause_all(struct vm *vm)
{
	struct device_header *d;

	for (d = vm->devices; d; d = d->next)
		if (d->pause)
			d->pause(d);
}

int device__dirty_log_all(struct vm *vm, unsigned long *log)
{
	struct device_header *d;
	int ret = 0, err;

	for (d = vm->devices; d && (!ret || !log); d = d->next) {
		err = d->dirty_log ? d->dirty_log(d, log) : 0;
		if (err && !ret)
			ret = err;
	}
	return ret;
}

void device__resume_all(struct vm *vm)
{
	struct device_header *d;

	for (d = vm->devices; d; d = d->next)
		if (d->resume)
			d->resume(d);
}

void device__reset_all(struct vm *vm)
{
	struct device_header *d;

	for (d = vm->devices; d; d = d->next)
		if (d->reset)
			d->reset(d);
}

int device__sync_all(struct vm *vm, char *why, size_t len)
{
	struct device_header *d;
	int ret;

	for (d = vm->devices; d; d = d->next)
		if (d->sync && (ret = d->sync(d, why, len)))
			return ret;
	return 0;
}

/*
 * Claims held already stay (claiming twice is a no-op): a failed claim
 * leaves the guest not running, so a partial one harms nothing.
 */
int device__claim_all(struct vm *vm, char *why, size_t len)
{
	struct device_header *d;
	int ret;

	for (d = vm->devices; d; d = d->next)
		if (d->claim && (ret = d->claim(d, why, len)))
			return ret;
	return 0;
}

void device__release_all(struct vm *vm)
{
	struct device_header *d;

	for (d = vm->devices; d; d = d->next)
		if (d->release)
			d->release(d);
}
