// SPDX-License-Identifier: GPL-2.0
/*
 * ternvm's side of live migration, the adapter: struct mig_vm_ops over
 * vm.h (pause, RAM blocks and their tracker, machine state, devices to
 * admit), and the migration object's life with the VM's, listening from
 * start-up for --incoming.  The worker thread is migrate_thread.c, the
 * control commands migrate_cmd.c, the throttle throttle.c; the protocol
 * is libtern-migration.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "migration/migration.h"
#include "vm/control.h"
#include "vm/device.h"
#include "vm/init.h"
#include "vm/kvm.h"
#include "vm/migrate.h"
#include "vm/test_hooks.h"
#include "vmstate/vmstate.h"

static struct vm_mig *mig_of(void *opaque)
{
	return opaque;
}

/*
 * A VM that is ending is not migrated: vm__pause returns at once then,
 * vCPUs parked or not.  Once it returned with no exit asked, every vCPU
 * is parked and the guest cannot power off until resumed.
 */
static int op_pause(void *opaque)
{
	struct vm_mig *m = mig_of(opaque);
	enum vm_exit_reason why;
	int ret = vm__pause(m->vm);

	why = __atomic_load_n(&m->vm->exit_reason, __ATOMIC_ACQUIRE);
	if (ret || why == VM_EXIT_NONE)
		return ret;
	vm__resume(m->vm);
	if (why == VM_EXIT_POWEROFF)
		mig__abort(m->mig, POWERED_OFF);
	return -ESHUTDOWN;
}

static void op_resume(void *opaque)
{
	vm__resume(mig_of(opaque)->vm);
}

static int op_ram_blocks(void *opaque, const struct mig_ram_block **blocks,
			 unsigned int *nr)
{
	*blocks = &mig_of(opaque)->block;
	*nr = 1;
	return 0;
}

/* The source's devices against this registry's tables and filters. */
static int admit_devices(void *arg, const struct mig_device *src,
			 unsigned int nr, uint32_t *unloadable, char *why,
			 size_t len)
{
	struct vmstate_sub_desc subs[MIG_MAX_DEVICES][MIG_MAX_SUBS];
	struct vmstate_dev_desc d[MIG_MAX_DEVICES];
	struct vm_mig *m = arg;
	unsigned int i, k;

	if (nr > MIG_MAX_DEVICES) {
		snprintf(why, len, "%u devices on the source, at most %d here",
			 nr, MIG_MAX_DEVICES);
		return -E2BIG;
	}
	for (i = 0; i < nr; i++) {
		for (k = 0; k < src[i].nr_subs && k < MIG_MAX_SUBS; k++)
			subs[i][k] = (struct vmstate_sub_desc){
				.name = src[i].subs[k].name,
				.version = src[i].subs[k].version,
			};
		d[i] = (struct vmstate_dev_desc){
			.path = src[i].path, .type = src[i].type,
			.version = src[i].version, .subs = subs[i], .nr_subs = k,
		};
	}
	return vmstate__admit(m->vm->vmstate, d, nr, unloadable, why, len);
}

static int op_sub_needed(void *opaque, const char *path, const char *name)
{
	return vmstate__sub_needed(mig_of(opaque)->vm->vmstate, path, name);
}

static int op_machine(void *opaque, struct mig_machine *m)
{
	struct vm_mig *vm_mig = mig_of(opaque);

	m->cpu_model = "ternvm-kvm-host";
	m->cpuid = vm_mig->cpuid;
	m->cpuid_len = sizeof(vm_mig->cpuid);
	m->devices = vm_mig->devices;
	m->nr_devices = vm_mig->nr_devices;
	/* The test hook's skew is a claim the registry cannot back. */
	if (!test_hook__env("TERN_MIG_TEST_DEVICE")) {
		m->admit = admit_devices;
		m->admit_arg = vm_mig;
	}
	return 0;
}

static int op_dirty_start(void *opaque)
{
	return vm__ram_track_start(mig_of(opaque)->vm);
}

static int op_dirty_stop(void *opaque)
{
	return vm__ram_track_stop(mig_of(opaque)->vm);
}

static int op_dirty_sync(void *opaque, unsigned int block, unsigned long *bitmap)
{
	if (block != 0)
		return -EINVAL;
	return vm__ram_track_sync(mig_of(opaque)->vm, bitmap);
}

static int op_stream_round(void *opaque, unsigned int block, uint64_t round, int *fd)
{
	if (block != 0)
		return -EINVAL;
	return vm__ram_stream_open(mig_of(opaque)->vm, fd);
}

/* -ENOTTY: the migration sends the pages over one channel. */
static int op_stream_set(void *opaque, unsigned int block, uint64_t round,
			 unsigned int n, bool defer, int *fds)
{
	if (block != 0)
		return -EINVAL;
	return vm__ram_stream_open_set(mig_of(opaque)->vm, n, defer, fds);
}

static int op_dirty_report(void *opaque)
{
	return vm__ram_track_report(mig_of(opaque)->vm);
}

/* Paused: what the guest wrote is made durable before its state leaves. */
static int op_save_state(void *opaque, int fd)
{
	struct vm *vm = mig_of(opaque)->vm;
	char why[256];
	int ret;

	ret = device__sync_all(vm, why, sizeof(why));
	if (ret) {
		pr_err("migration: %s", why);
		return ret;
	}
	return vm__save_state(vm, fd);
}

static int op_load_state(void *opaque, int fd, char *why, size_t len)
{
	return vm__load_state(mig_of(opaque)->vm, fd, why, len);
}

/*
 * After commit.  A destination asked to stay paused (--paused, or the
 * parameter `paused`) hands the start-up pause to the operator: `cont`
 * runs the guest, and until then the source's operator may still revert.
 */
static int op_start(void *opaque)
{
	struct vm_mig *vm_mig = mig_of(opaque);
	struct vm *vm = vm_mig->vm;
	char why[256];
	int ret;

	if (atomic_load(&vm_mig->start_paused)) {
		if (atomic_exchange(&vm->user_stopped, true))
			vm__resume(vm);
		pr_info("migration committed: the guest stays paused here until cont");
		control__event(vm, "STOP", NULL);
		return 0;
	}
	/* The disk's lock, which the source drops on writing `commit`. */
	ret = device__claim_all(vm, why, sizeof(why));
	if (ret) {
		pr_err("migration committed, but the guest cannot run here: %s", why);
		return ret;
	}
	vm__resume(vm);		/* the pause taken at startup */
	control__event(vm, "RESUME", NULL);
	return 0;
}

static int op_throttle(void *opaque, unsigned int pct)
{
	return vm_throttle__set(&mig_of(opaque)->throttle, pct);
}

/* Each state but the last, which mig_thread sends with the final figures. */
static void op_state_changed(void *opaque, enum mig_state s)
{
	struct vm_mig *m = mig_of(opaque);
	struct mig_stats st;

	if (s >= MIG_S_COMPLETED)
		return;
	/* `commit` left: the destination may run the guest, on our disk. */
	if (s == MIG_S_COMMITTING && !m->incoming)
		device__release_all(m->vm);
	mig__query(m->mig, &st);
	st.state = s;
	control__event(m->vm, "MIGRATION", mig__stats_json(&st));
}

static const struct mig_vm_ops memfd_ops = {
	.pause = op_pause,
	.resume = op_resume,
	.ram_blocks = op_ram_blocks,
	.machine = op_machine,
	.dirty_start = op_dirty_start,
	.dirty_stop = op_dirty_stop,
	.dirty_sync = op_dirty_sync,
	.save_state = op_save_state,
	.load_state = op_load_state,
	.start = op_start,
	.sub_needed = op_sub_needed,
	.throttle = op_throttle,
	.state_changed = op_state_changed,
};

static const struct mig_vm_ops tern_ops = {
	.pause = op_pause,
	.resume = op_resume,
	.ram_blocks = op_ram_blocks,
	.machine = op_machine,
	.dirty_start = op_dirty_start,
	.dirty_stop = op_dirty_stop,
	.dirty_sync = op_dirty_sync,
	.stream_round = op_stream_round,
	.stream_set = op_stream_set,
	.dirty_report = op_dirty_report,
	.save_state = op_save_state,
	.load_state = op_load_state,
	.start = op_start,
	.sub_needed = op_sub_needed,
	.throttle = op_throttle,
	.state_changed = op_state_changed,
};

/*
 * Tests only: TERN_MIG_TEST_DEVICE=PATH:MIN:MAX makes this side claim
 * versions MIN..MAX for the device at PATH (a version skew between two
 * builds, which one binary cannot show otherwise).
 */
static void test_device_skew(struct mig_device *d)
{
	const char *env = test_hook__env("TERN_MIG_TEST_DEVICE");
	unsigned int lo, hi;
	const char *colon;

	if (!env || !(colon = strchr(env, ':')) ||
	    strncmp(env, d->path, colon - env) || d->path[colon - env] ||
	    sscanf(colon + 1, "%u:%u", &lo, &hi) != 2)
		return;
	d->min_version = lo;
	d->version = hi;
}

/* Every section of the vmstate registry with the versions its table loads. */
static void describe_machine(struct vm *vm, struct vm_mig *m)
{
	struct vmstate_inst_desc inst[MIG_MAX_DEVICES];
	unsigned int i, nr;
	int n = 0;

	nr = vmstate__describe(vm->vmstate, inst, MIG_MAX_DEVICES);
	if (nr > MIG_MAX_DEVICES) {
		pr_warn("migration: %u devices, only %d described", nr, MIG_MAX_DEVICES);
		nr = MIG_MAX_DEVICES;
	}
	for (i = 0; i < nr; i++) {
		struct mig_device *d = &m->devices[i];

		const struct vmsd *const *sub = inst[i].subsections;

		*d = (struct mig_device){
			.path = inst[i].path, .type = inst[i].type,
			.version = inst[i].version, .min_version = inst[i].min_version,
		};
		for (; sub && *sub && d->nr_subs < MIG_MAX_SUBS; sub++)
			d->subs[d->nr_subs++] = (struct mig_sub){
				.name = (*sub)->name, .version = (*sub)->version_id,
				.min_version = (*sub)->minimum_version_id,
			};
		test_device_skew(d);
	}
	m->nr_devices = nr;
	/* Feature words a guest may depend on: leaves 1, 7.0, 0x80000001. */
	for (i = 0; i < vm->cpuid->nent && n + 8 <= MIG_CPUID_BYTES; i++) {
		struct kvm_cpuid_entry2 *e = &vm->cpuid->entries[i];

		if ((e->function == 1 || e->function == 0x80000001 ||
		     (e->function == 7 && e->index == 0))) {
			memcpy(m->cpuid + n, &e->ecx, 4);
			memcpy(m->cpuid + n + 4, &e->edx, 4);
			n += 8;
		}
	}
}

static int migration__init(struct vm *vm)
{
	struct vm_mig *m;
	struct mig_params p;
	int ret;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->vm = vm;
	m->lfd = -1;
	atomic_store(&m->start_paused, vm->cfg.paused);
	pthread_mutex_init(&m->lock, NULL);
	vm_throttle__init(&m->throttle, vm);
	m->block = (struct mig_ram_block){
		.path = vm->ram.path, .name = vm->ram.name, .size = vm->ram.size,
		.host = vm->ram.host, .fd = vm->ram.fd,
		/* A destination's RAM is new and untouched: nothing booted. */
		.flags = vm->cfg.incoming_uri && (vm->ram.flags & RAM_BLOCK_F_ZEROED) ?
			 MIG_BLK_F_ZEROED : 0,
	};
	if (test_hook__env("TERN_MIG_TEST_RAM_NAME"))
		m->block.name = test_hook__env("TERN_MIG_TEST_RAM_NAME");
	describe_machine(vm, m);
	mig__default_params(&p);
	if (test_hook__env("TERN_MIG_TEST_CAPS"))
		p.caps = strtoul(test_hook__env("TERN_MIG_TEST_CAPS"), NULL, 0);
	if (test_hook__env("TERN_MIG_TEST_REQUIRE"))
		p.caps_required = strtoul(test_hook__env("TERN_MIG_TEST_REQUIRE"), NULL, 0);
	if (vm->cfg.incoming_uri && vm->cfg.incoming_timeout_ms >= 0)
		p.incoming_timeout_ms = vm->cfg.incoming_timeout_ms;
	m->mig = mig__new(vm->ram.backend == RAM_BACKEND_TERN ? &tern_ops : &memfd_ops,
			  m, &p);
	if (!m->mig) {
		vm_throttle__exit(&m->throttle);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return -ENOMEM;
	}
	mig__set_tls(m->mig, vm->cfg.tls);
	vm->cfg.tls = NULL;
	vm->mig = m;
	if (vm->cfg.incoming_uri) {
		char err[128];

		/* Listen before the control socket says we are up: a source
		 * told so may connect at once. */
		ret = mig__listen(vm->cfg.incoming_uri, &m->lfd);
		if (ret) {
			pr_err("--incoming-migration %s: cannot listen: %s",
			       vm->cfg.incoming_uri, strerror(-ret));
			return ret;
		}
		vm__pause(vm);		/* undone by op_start after commit */
		ret = vm_mig__start(m, vm->cfg.incoming_uri, true, NULL, err, sizeof(err));
		if (ret) {
			close(m->lfd);
			m->lfd = -1;
			pr_err("--incoming-migration: %s", err);
			return ret;
		}
	}
	return 0;
}

static int migration__exit(struct vm *vm)
{
	struct vm_mig *m = vm->mig;

	if (!m)
		return 0;
	/*
	 * Power-off before commit: the migration fails saying so (the
	 * destination discards its staged VM) and this ternvm exits 0.
	 */
	if (__atomic_load_n(&vm->exit_reason, __ATOMIC_ACQUIRE) == VM_EXIT_POWEROFF)
		mig__abort(m->mig, POWERED_OFF);
	else
		mig__cancel(m->mig);
	vm_throttle__stop(&m->throttle);
	vm_mig__join(m);
	vm_throttle__exit(&m->throttle);
	vm->mig = NULL;
	mig__free(m->mig);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return 0;
}
late_init(migration__init);
late_exit(migration__exit);
