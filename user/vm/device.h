/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device registry: every device instance embeds a device_header that
 * names it by its canonical path in the machine tree and carries its
 * pause/resume hooks; its state is described to vmstate
 * (vm__register_state).  No device keeps state outside its instance.
 */
#ifndef TERN_VM_DEVICE_H
#define TERN_VM_DEVICE_H

#include <stddef.h>
#include <stdint.h>

struct vm;

#define DEVICE_PATH_MAX	64

struct device_header {
	const char *name;		/* model: "serial", "virtio-blk" */
	char path[DEVICE_PATH_MAX];	/* "/machine/isa/serial@3f8" */
	void *opaque;			/* the instance */
	/*
	 * The VM stops or runs again (vm__pause/vm__resume, outermost only).
	 * After pause returns the device touches neither guest memory nor
	 * its state until resume: saves and the last RAM round see it still.
	 */
	void (*pause)(struct device_header *dev);
	void (*resume)(struct device_header *dev);
	/*
	 * Power-on reset in place (the guest rebooted), with the VM paused:
	 * guest-visible state as at start; backends (files, taps, console)
	 * stay.  NULL: nothing to reset (an RTC keeps its time).
	 */
	void (*reset)(struct device_header *dev);
	/*
	 * Migration (each optional; 0 or -errno with `why` filled).  sync:
	 * with the VM paused, before the device state leaves, make durable
	 * what the guest was told is written.  claim: this side is about to
	 * run the guest (take the backend's lock); release: the other side
	 * may run it now (a source after `commit`).
	 */
	int (*sync)(struct device_header *dev, char *why, size_t len);
	int (*claim)(struct device_header *dev, char *why, size_t len);
	void (*release)(struct device_header *dev);
	/*
	 * The memfd backend's dirty log starts (log: one bit per
	 * guest-physical page, which a kernel writer the device drives sets
	 * as it writes guest memory) or stops (NULL).  A device whose
	 * writers are the VMM's own marks them with vm__mark_dirty instead.
	 */
	int (*dirty_log)(struct device_header *dev, unsigned long *log);
	struct device_header *next;
};

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

void device__register(struct vm *vm, struct device_header *dev);
void device__unregister(struct vm *vm, struct device_header *dev);
/* The n-th (from 0) registered device of a model, or NULL. */
struct device_header *device__find(struct vm *vm, const char *name, int n);
void device__pause_all(struct vm *vm);
void device__resume_all(struct vm *vm);
void device__reset_all(struct vm *vm);
/* Every device's sync (claim); the first failure ends it, `why` says so. */
int device__sync_all(struct vm *vm, char *why, size_t len);
int device__claim_all(struct vm *vm, char *why, size_t len);
void device__release_all(struct vm *vm);
/* Every device's dirty_log; stopping (NULL) goes on past a failure. */
int device__dirty_log_all(struct vm *vm, unsigned long *log);

#endif /* TERN_VM_DEVICE_H */
