// SPDX-License-Identifier: GPL-2.0
/*
 * Init/exit levels (see init.h).  The lists are filled by constructors
 * before main() and never change after; which levels ran lives in the vm.
 */
#include <stddef.h>
#include <string.h>

#include "lib/log.h"
#include "vm/init.h"
#include "vm/vm.h"

static struct init_item *init_lists[INIT_NR_LEVELS];
static struct init_item *exit_lists[INIT_NR_LEVELS];

static const char *const level_names[INIT_NR_LEVELS] = {
	"core", "base", "dev_base", "dev", "virtio_dev", "late",
};

/*
 * Inits are appended, so files run in link order within a level (as
 * build.mk lists them); exits are prepended, so they run in the reverse
 * order: what started last (the migration thread) ends before what it
 * uses (the control socket).
 */
void init__add(struct init_item *item, enum init_level level, int is_exit)
{
	struct init_item **p = is_exit ? &exit_lists[level] : &init_lists[level];

	if (is_exit) {
		item->next = *p;
		*p = item;
		return;
	}
	while (*p)
		p = &(*p)->next;
	item->next = NULL;
	*p = item;
}

static void exit_level(struct vm *vm, int level)
{
	struct init_item *item;

	for (item = exit_lists[level]; item; item = item->next)
		item->fn(vm);
}

int init__run(struct vm *vm)
{
	struct init_item *item;
	int level, ret;

	for (level = 0; level < INIT_NR_LEVELS; level++) {
		for (item = init_lists[level]; item; item = item->next) {
			ret = item->fn(vm);
			if (ret < 0) {
				pr_err("init %s (%s level): %s", item->name,
				       level_names[level], strerror(-ret));
				/* This level's exits cope with partial init. */
				vm->init_levels_done = level + 1;
				init__exit(vm);
				return ret;
			}
		}
		vm->init_levels_done = level + 1;
	}
	return 0;
}

void init__exit(struct vm *vm)
{
	int level;

	for (level = vm->init_levels_done - 1; level >= 0; level--)
		exit_level(vm, level);
	vm->init_levels_done = 0;
}
