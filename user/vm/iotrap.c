// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O and MMIO range dispatcher (see iotrap.h).  Readers: vCPU
 * threads, under rcu_read_lock() only.  Updaters: device setup and PCI BAR
 * moves, serialised by vm->update_lock: copy, rcu_assign_pointer, and the
 * old table freed by call_rcu (a BAR move runs inside a handler, that is
 * inside a read-side section, where synchronize_rcu would deadlock).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "lib/log.h"
#include "vm/init.h"
#include "vm/iotrap.h"
#include "vm/vm.h"

struct iotrap {
	enum iotrap_bus bus;
	uint64_t base;
	uint64_t len;
	iotrap_fn fn;
	void *opaque;
};

struct iotrap_table {
	struct rcu_head rcu;
	int nr;
	struct iotrap e[];
};

static int cmp_trap(const struct iotrap *a, enum iotrap_bus bus, uint64_t addr)
{
	if (a->bus != bus)
		return a->bus < bus ? -1 : 1;
	if (addr < a->base)
		return 1;
	if (addr >= a->base + a->len)
		return -1;
	return 0;
}

static const struct iotrap *find(const struct iotrap_table *t,
				 enum iotrap_bus bus, uint64_t addr)
{
	int lo = 0, hi = t->nr - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int c = cmp_trap(&t->e[mid], bus, addr);

		if (!c)
			return &t->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

static bool before(const struct iotrap *a, const struct iotrap *b)
{
	return a->bus < b->bus || (a->bus == b->bus && a->base < b->base);
}

static bool overlaps(const struct iotrap *a, const struct iotrap *b)
{
	return a->bus == b->bus && a->base < b->base + b->len &&
	       b->base < a->base + a->len;
}

static void free_table(struct rcu_head *head)
{
	free(caa_container_of(head, struct iotrap_table, rcu));
}

/*
 * Publish a copy of the table with `add` inserted (if non-NULL) and the
 * entry at `del_base` removed (if del_bus >= 0).  Caller holds update_lock.
 */
static int publish(struct vm *vm, const struct iotrap *add, int del_bus,
		   uint64_t del_base)
{
	struct iotrap_table *old = vm->iotraps, *new;
	int i, n = 0, found = del_bus < 0;

	new = malloc(sizeof(*new) + (old->nr + 1) * sizeof(new->e[0]));
	if (!new)
		return -ENOMEM;
	for (i = 0; i < old->nr; i++) {
		const struct iotrap *e = &old->e[i];

		if (del_bus >= 0 && (int)e->bus == del_bus &&
		    e->base == del_base) {
			found = 1;
			continue;
		}
		if (add && overlaps(add, e)) {
			free(new);
			return -EEXIST;
		}
		new->e[n++] = *e;
	}
	if (!found) {
		free(new);
		return -ENOENT;
	}
	if (add) {
		for (i = n; i > 0 && before(add, &new->e[i - 1]); i--)
			new->e[i] = new->e[i - 1];
		new->e[i] = *add;
		n++;
	}
	new->nr = n;
	rcu_assign_pointer(vm->iotraps, new);
	call_rcu(&old->rcu, free_table);
	return 0;
}

int vm__register_iotrap(struct vm *vm, uint64_t base, uint64_t len,
			iotrap_fn fn, void *opaque, enum iotrap_bus bus)
{
	struct iotrap t = { bus, base, len, fn, opaque };
	int ret;

	if (!len || base + len < base)
		return -EINVAL;
	pthread_mutex_lock(&vm->update_lock);
	ret = publish(vm, &t, -1, 0);
	pthread_mutex_unlock(&vm->update_lock);
	if (ret)
		pr_err("%s range 0x%llx+0x%llx: %s",
		       bus == IOTRAP_PIO ? "port" : "MMIO",
		       (unsigned long long)base, (unsigned long long)len,
		       strerror(-ret));
	return ret;
}

int vm__unregister_iotrap(struct vm *vm, uint64_t base, enum iotrap_bus bus)
{
	int ret;

	pthread_mutex_lock(&vm->update_lock);
	ret = publish(vm, NULL, bus, base);
	pthread_mutex_unlock(&vm->update_lock);
	return ret;
}

int vm__move_iotrap(struct vm *vm, uint64_t old_base, uint64_t new_base,
		    enum iotrap_bus bus)
{
	const struct iotrap *cur;
	struct iotrap t;
	int ret;

	pthread_mutex_lock(&vm->update_lock);
	cur = find(vm->iotraps, bus, old_base);
	if (!cur || cur->base != old_base) {
		ret = -ENOENT;
	} else {
		t = *cur;
		t.base = new_base;
		ret = publish(vm, &t, bus, old_base);
	}
	pthread_mutex_unlock(&vm->update_lock);
	return ret;
}

bool iotrap__dispatch(struct vm *vm, struct vcpu *vcpu, enum iotrap_bus bus,
		      uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	const struct iotrap_table *t;
	const struct iotrap *e;
	bool hit = false;

	rcu_read_lock();
	t = rcu_dereference(vm->iotraps);
	e = find(t, bus, addr);
	if (e && addr + len <= e->base + e->len) {
		e->fn(vcpu, addr, data, len, is_write, e->opaque);
		hit = true;
	}
	rcu_read_unlock();
	return hit;
}

int iotrap__init(struct vm *vm)
{
	vm->iotraps = calloc(1, sizeof(*vm->iotraps));
	return vm->iotraps ? 0 : -ENOMEM;
}

int iotrap__exit(struct vm *vm)
{
	rcu_barrier();		/* tables still queued by call_rcu */
	free(vm->iotraps);
	vm->iotraps = NULL;
	return 0;
}
core_init(iotrap__init);
core_exit(iotrap__exit);
