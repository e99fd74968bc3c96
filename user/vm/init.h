/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Self-registering init/exit levels.  A device file ends with one pair,
 * dev_init(serial__init); dev_exit(serial__exit);, which a constructor adds
 * to its level's list; init__run() calls the levels in order (within a
 * level, in link order) and init__exit() unwinds exactly what ran, in
 * reverse (within a level too).
 */
#ifndef TERN_VM_INIT_H
#define TERN_VM_INIT_H

struct vm;

enum init_level {
	INIT_CORE,		/* irq routing, dispatcher */
	INIT_BASE,		/* guest RAM, vCPUs */
	INIT_DEV_BASE,		/* buses: PCI host bridge */
	INIT_DEV,		/* legacy devices: serial, rtc, i8042 */
	INIT_VIRTIO_DEV,	/* virtio-pci devices */
	INIT_LATE,		/* firmware tables, boot image, control socket */
	INIT_NR_LEVELS,
};

typedef int (*init_fn_t)(struct vm *vm);

struct init_item {
	const char *name;
	init_fn_t fn;
	struct init_item *next;
};

void init__add(struct init_item *item, enum init_level level, int is_exit);
int init__run(struct vm *vm);
void init__exit(struct vm *vm);

#define __init_item(fn, level, is_exit)					\
	static struct init_item __init_item_##fn = { #fn, fn, 0 };	\
	static void __attribute__((constructor)) __init_reg_##fn(void)	\
	{								\
		init__add(&__init_item_##fn, level, is_exit);		\
	}

#define core_init(fn)		__init_item(fn, INIT_CORE, 0)
#define core_exit(fn)		__init_item(fn, INIT_CORE, 1)
#define base_init(fn)		__init_item(fn, INIT_BASE, 0)
#define base_exit(fn)		__init_item(fn, INIT_BASE, 1)
#define dev_base_init(fn)	__init_item(fn, INIT_DEV_BASE, 0)
#define dev_base_exit(fn)	__init_item(fn, INIT_DEV_BASE, 1)
#define dev_init(fn)		__init_item(fn, INIT_DEV, 0)
#define dev_exit(fn)		__init_item(fn, INIT_DEV, 1)
#define virtio_dev_init(fn)	__init_item(fn, INIT_VIRTIO_DEV, 0)
#define virtio_dev_exit(fn)	__init_item(fn, INIT_VIRTIO_DEV, 1)
#define late_init(fn)		__init_item(fn, INIT_LATE, 0)
#define late_exit(fn)		__init_item(fn, INIT_LATE, 1)

#endif /* TERN_VM_INIT_H */
