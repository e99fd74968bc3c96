// SPDX-License-Identifier: GPL-2.0
/*
 * ternvm's side of live migration: struct mig_vm_ops over vm.h (pause,
 * RAM blocks, the memfd or tern.ko tracker, machine state), the control
 * commands migrate, migrate-cancel, query-migrate and
 * migrate-set-parameters with a MIGRATION event on each state change, and
 * --incoming URI for a destination that waits paused until the source
 * commits.  The protocol is libtern-migration.
 */
#include <errno.h>
#include <json-c/json.h>
#include <linux/kvm.h>
#include <linux/tern.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "migration/migration.h"
#include "migration/params.h"
#include "vm/control.h"
#include "vm/device.h"
#include "vm/init.h"
#include "vm/kvm.h"
#include "vmstate/registry.h"

#define MAX_DEVICES	128
#define CPUID_BYTES	32

struct vm_mig {
	struct vm *vm;
	struct mig *mig;
	pthread_mutex_t lock;
	pthread_t thread;
	bool thread_live;		/* a migrate/incoming thread to join */
	bool busy;			/* it has not finished yet */
	bool incoming;
	int lfd;			/* incoming: listening since start-up */
	bool exit_after;		/* source: quit once `running` came */
	atomic_bool start_paused;	/* incoming: stay paused after commit */
	char uri[256];
	struct mig_ram_block block;
	struct mig_device devices[MAX_DEVICES];
	unsigned int nr_devices;
	uint8_t cpuid[CPUID_BYTES];
	/* auto-converge: hold the vCPUs back pct % of each 100 ms */
	pthread_t throttler;
	bool throttler_live;		/* its loop runs */
	bool throttler_joinable;	/* created, not yet joined */
	unsigned int throttle_pct;
	bool stopping;
};

static struct vm_mig *mig_of(void *opaque)
{
	return opaque;
}

#define POWERED_OFF	"guest powered off"

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
			 unsigned int nr, char *why, size_t len)
{
	struct vm_mig *m = arg;
	struct vmstate_dev_desc d[MAX_DEVICES];
	unsigned int i;

	if (nr > MAX_DEVICES) {
		snprintf(why, len, "%u devices on the source, at most %d here",
			 nr, MAX_DEVICES);
		return -E2BIG;
	}
	for (i = 0; i < nr; i++)
		d[i] = (struct vmstate_dev_desc){
			.path = src[i].path, .type = src[i].type,
			.version = src[i].version,
		};
	return vmstate__admit(m->vm->vmstate, d, nr, why, len);
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
	if (!getenv("TERN_MIG_TEST_DEVICE")) {
		m->admit = admit_devices;
		m->admit_arg = vm_mig;
	}
	return 0;
}

static int op_dirty_start(void *opaque)
{
	struct vm *vm = mig_of(opaque)->vm;

	int ret;

	if (vm->ram.backend != RAM_BACKEND_TERN)
		return vm__dirty_log_start(vm);
	/* The vCPUs' log first: a write between the two is in both. */
	ret = vm__kvm_log_start(vm);
	if (ret)
		return ret;
	if (ioctl(vm->ram.fd, TERN_TRACK_START, 0) < 0) {
		ret = -errno;
		vm__kvm_log_stop(vm);
	}
	return ret;
}

static int op_dirty_stop(void *opaque)
{
	struct vm *vm = mig_of(opaque)->vm;

	int ret;

	if (vm->ram.backend != RAM_BACKEND_TERN)
		return vm__dirty_log_stop(vm);
	ret = ioctl(vm->ram.fd, TERN_TRACK_STOP, 0) < 0 ? -errno : 0;
	vm__kvm_log_stop(vm);
	return ret;
}

static int op_dirty_sync(void *opaque, unsigned int block, unsigned long *bitmap)
{
	struct vm *vm = mig_of(opaque)->vm;
	struct tern_harvest h;
	unsigned long *bm;
	uint64_t words = (vm->ram.size / 4096 + 63) / 64, w;
	int ret;

	if (block != 0)
		return -EINVAL;
	if (vm->ram.backend != RAM_BACKEND_TERN)
		return vm__dirty_log_sync(vm, 0, bitmap);
	ret = vm__kvm_log_mark(vm);
	if (ret)
		return ret;
	bm = calloc(words, 8);
	if (!bm)
		return -ENOMEM;
	h = (struct tern_harvest){ .bitmap = (uintptr_t)bm, .bitmap_size = words * 8 };
	if (ioctl(vm->ram.fd, TERN_TRACK_HARVEST, &h) < 0) {
		free(bm);
		return -errno;
	}
	for (w = 0; w < words; w++)
		bitmap[w] |= bm[w];
	free(bm);
	return 0;
}

static int op_stream_round(void *opaque, unsigned int block, uint64_t round, int *fd)
{
	struct vm *vm = mig_of(opaque)->vm;
	int s;

	if (block != 0)
		return -EINVAL;
	/* The round is harvested at the stream's first read: mark before. */
	s = vm__kvm_log_mark(vm);
	if (s)
		return s;
	s = ioctl(vm->ram.fd, TERN_STREAM_OPEN, 0);
	if (s < 0)
		return -errno;
	*fd = s;
	return 0;
}

/*
 * n stream fds sharing one harvest, one per channel (tern.ko's stream
 * sets); -ENOTTY from a module without them, and the migration sends the
 * pages over one channel.
 */
static int op_stream_set(void *opaque, unsigned int block, uint64_t round,
			 unsigned int n, int *fds)
{
#ifdef TERN_STREAM_OPEN_SET
	struct vm *vm = mig_of(opaque)->vm;
	struct tern_stream_set set = {
		.count = n,
		.fds = (uintptr_t)fds,
	};
	int ret;

	if (block != 0)
		return -EINVAL;
	/* As for one stream: the harvest is at the first read, mark before. */
	ret = vm__kvm_log_mark(vm);
	if (ret)
		return ret;
	return ioctl(vm->ram.fd, TERN_STREAM_OPEN_SET, &set) < 0 ? -errno : 0;
#else
	return -ENOTTY;
#endif
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

static void *throttler(void *arg)
{
	struct vm_mig *m = arg;
	struct timespec on, off;
	unsigned int pct;

	pthread_setname_np(pthread_self(), "throttle");
	for (;;) {
		pthread_mutex_lock(&m->lock);
		pct = m->throttle_pct;
		if (!pct || m->stopping) {
			m->throttler_live = false;
			pthread_mutex_unlock(&m->lock);
			return NULL;
		}
		pthread_mutex_unlock(&m->lock);
		on = (struct timespec){ 0, (long)(100 - pct) * 1000000 };
		off = (struct timespec){ 0, (long)pct * 1000000 };
		nanosleep(&on, NULL);
		vm__throttle_pause(m->vm);
		nanosleep(&off, NULL);
		vm__throttle_resume(m->vm);
	}
}

static int op_throttle(void *opaque, unsigned int pct)
{
	struct vm_mig *m = mig_of(opaque);
	int ret = 0;

	if (pct > 99)
		pct = 99;
	pthread_mutex_lock(&m->lock);
	m->throttle_pct = pct;
	if (pct && !m->throttler_live) {
		/* A throttler that saw pct 0 has left its loop: reap it. */
		if (m->throttler_joinable)
			pthread_join(m->throttler, NULL);
		m->throttler_joinable = false;
		ret = -pthread_create(&m->throttler, NULL, throttler, m);
		if (!ret)
			m->throttler_live = m->throttler_joinable = true;
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
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
	.save_state = op_save_state,
	.load_state = op_load_state,
	.start = op_start,
	.throttle = op_throttle,
	.state_changed = op_state_changed,
};

static struct vm_mig *the_mig(struct vm *vm)
{
	struct device_header *d = device__find(vm, "migration", 0);

	return d ? d->opaque : NULL;
}

static void *mig_thread(void *arg)
{
	struct vm_mig *m = arg;
	struct json_object *data;
	struct mig_stats st;
	int ret;

	pthread_setname_np(pthread_self(), "migration");
	ret = m->incoming ? mig__incoming_listener(m->mig, m->lfd) :
			    mig__migrate(m->mig, m->uri);
	if (m->incoming && m->lfd >= 0) {
		close(m->lfd);
		m->lfd = -1;
	}
	op_throttle(m, 0);
	mig__query(m->mig, &st);
	data = mig__stats_json(&st);
	control__event(m->vm, "MIGRATION", data);
	pthread_mutex_lock(&m->lock);
	m->busy = false;
	pthread_mutex_unlock(&m->lock);
	if (ret && m->incoming) {
		pr_err("incoming migration from %s failed: %s", m->uri, st.error);
		vm__request_exit(m->vm, VM_EXIT_ERROR);
	} else if (!ret && !m->incoming) {
		atomic_store(&m->vm->away_confirmed, true);
		atomic_store(&m->vm->migrated_away, true);
		if (m->exit_after) {
			pr_info("migrated to %s; the guest runs there, exiting", m->uri);
			vm__request_exit(m->vm, VM_EXIT_QUIT);
		} else {
			pr_info("migrated to %s; the guest runs there, this one stays paused", m->uri);
		}
	} else if (st.state == MIG_S_POSTCOMMIT_UNKNOWN) {
		/*
		 * The destination may run the guest: the switchover's pause
		 * stays, and only `cont --revert` lifts it (a plain cont
		 * here would be one word away from two running copies).
		 */
		atomic_store(&m->vm->away_confirmed, false);
		atomic_store(&m->vm->migrated_away, true);
	}
	return NULL;
}

/*
 * args: a migrate command's (checked) optional arguments, applied only
 * once it is sure this migration starts: a refused migrate changes
 * nothing of the one running.
 */
static int start_thread(struct vm_mig *m, const char *uri, bool incoming,
			struct json_object *args, char *err, size_t errlen)
{
	const struct mig_param *d;
	struct json_object *v;
	int ret;

	pthread_mutex_lock(&m->lock);
	if (m->busy) {
		pthread_mutex_unlock(&m->lock);
		snprintf(err, errlen, "a migration is already running");
		return -EBUSY;
	}
	for (d = mig_param_table; args && d->name; d++)
		if (json_object_object_get_ex(args, d->name, &v))
			mig__set_param(m->mig, d->name, json_object_get_int64(v));
	if (args)
		m->exit_after = json_object_object_get_ex(args, "exit", &v) &&
				json_object_get_boolean(v);
	if (m->thread_live)
		pthread_join(m->thread, NULL);
	m->thread_live = false;
	snprintf(m->uri, sizeof(m->uri), "%s", uri);
	m->incoming = incoming;
	/* No migration ran: a cancel since was for none (see do_migrate_cancel). */
	mig__cancel_reset(m->mig);
	m->busy = true;
	ret = -pthread_create(&m->thread, NULL, mig_thread, m);
	if (ret)
		m->busy = false;
	else
		m->thread_live = true;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int do_migrate(struct vm *vm, struct json_object *args,
		      struct json_object **ret, char *err, size_t errlen)
{
	const struct mig_param *d;
	struct json_object *uri, *v;
	struct vm_mig *m = the_mig(vm);
	struct mig_stats st;
	int64_t x;

	json_object_object_get_ex(args, "uri", &uri);
	if (strncmp(json_object_get_string(uri), "tcp:", 4) &&
	    strncmp(json_object_get_string(uri), "unix:", 5)) {
		snprintf(err, errlen, "migrate: uri must be tcp:HOST:PORT or unix:PATH");
		return -EINVAL;
	}
	if (atomic_load(&vm->migrated_away)) {
		snprintf(err, errlen, "migrate: %s", vm__away_msg(vm));
		return -EBUSY;
	}
	/* Once its incoming migration completed, the guest may move on. */
	mig__query(m->mig, &st);
	if (m->incoming && st.state != MIG_S_COMPLETED) {
		snprintf(err, errlen, "migrate: this VM is an incoming migration");
		return -EBUSY;
	}
	/* Optional parameters: all checked here, set as the migration starts. */
	for (d = mig_param_table; d->name; d++) {
		if (!json_object_object_get_ex(args, d->name, &v))
			continue;
		x = json_object_get_int64(v);
		if (x < 0 || (uint64_t)x < d->min || (uint64_t)x > d->max) {
			snprintf(err, errlen, "migrate: %s = %lld refused (%llu..%llu)",
				 d->name, (long long)x, (unsigned long long)d->min,
				 (unsigned long long)d->max);
			return -EINVAL;
		}
	}
	return start_thread(m, json_object_get_string(uri), false, args, err, errlen);
}

/*
 * Under m->lock, so a cancel reaches only a migration this VM started
 * (its thread may not have begun: the cancel then waits for it) and never
 * the next one.
 */
static int do_migrate_cancel(struct vm *vm, struct json_object *args,
			     struct json_object **ret, char *err, size_t errlen)
{
	struct vm_mig *m = the_mig(vm);

	pthread_mutex_lock(&m->lock);
	if (m->busy)
		mig__cancel(m->mig);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static int do_query_migrate(struct vm *vm, struct json_object *args,
			    struct json_object **ret, char *err, size_t errlen)
{
	struct mig_stats st;

	mig__query(the_mig(vm)->mig, &st);
	*ret = mig__stats_json(&st);
	return *ret ? 0 : -ENOMEM;
}

static int do_set_param(struct vm *vm, struct json_object *args,
			struct json_object **ret, char *err, size_t errlen)
{
	struct json_object *name, *value;
	const struct mig_param *d;
	int64_t v;
	int r;

	json_object_object_get_ex(args, "name", &name);
	json_object_object_get_ex(args, "value", &value);
	v = json_object_get_int64(value);
	if (v < 0) {
		snprintf(err, errlen, "migrate-set-parameters: value must be >= 0");
		return -EINVAL;
	}
	/* ternvm's own: an incoming guest stays paused after commit (--paused). */
	if (!strcmp(json_object_get_string(name), "paused")) {
		if (v > 1) {
			snprintf(err, errlen, "migrate-set-parameters: paused is 0 or 1");
			return -EINVAL;
		}
		atomic_store(&the_mig(vm)->start_paused, v == 1);
		return 0;
	}
	r = mig__set_param(the_mig(vm)->mig, json_object_get_string(name), v);
	d = mig_param_find(json_object_get_string(name));
	if (r && d)
		snprintf(err, errlen, "migrate-set-parameters: %s = %lld out of range %llu..%llu",
			 d->name, (long long)v, (unsigned long long)d->min,
			 (unsigned long long)d->max);
	else if (r)
		snprintf(err, errlen, "migrate-set-parameters: no parameter '%.64s'",
			 json_object_get_string(name));
	return r;
}

static int do_query_params(struct vm *vm, struct json_object *args,
			   struct json_object **ret, char *err, size_t errlen)
{
	*ret = mig__params_json(the_mig(vm)->mig);
	if (!*ret)
		return -ENOMEM;
	json_object_object_add(*ret, "paused",
			       json_object_new_uint64(atomic_load(&the_mig(vm)->start_paused)));
	return 0;
}

/* uri, exit, and every parameter of mig_param_table (filled at start). */
static struct control_arg uri_arg[3 + MIG_PARAM_MAX] = {
	{ .name = "uri", .type = json_type_string, .required = true },
	{ .name = "exit", .type = json_type_boolean },
};

static void __attribute__((constructor)) uri_arg_fill(void)
{
	const struct mig_param *d;
	size_t i = 2;

	for (d = mig_param_table; d->name && i < MIG_PARAM_MAX + 2; d++, i++)
		uri_arg[i] = (struct control_arg){ .name = d->name, .type = json_type_int };
}

static const struct control_arg param_args[] = {
	{ .name = "name", .type = json_type_string, .required = true },
	{ .name = "value", .type = json_type_int, .required = true },
	{ .name = NULL },
};

static struct control_cmd cmd_migrate = {
	.name = "migrate",
	.help = "live-migrate to uri (tcp:HOST:PORT or unix:PATH), optionally with "
		"any migration parameter (see query-migrate-parameters) and exit "
		"(quit once the destination runs; else stay paused); event MIGRATION "
		"on each state change",
	.args = uri_arg,
	.fn = do_migrate,
};
static struct control_cmd cmd_migrate_cancel = {
	.name = "migrate-cancel",
	.help = "cancel the running migration",
	.fn = do_migrate_cancel,
};
static struct control_cmd cmd_query_migrate = {
	.name = "query-migrate",
	.help = "migration state and statistics",
	.fn = do_query_migrate,
};
static struct control_cmd cmd_set_param = {
	.name = "migrate-set-parameters",
	.help = "set one migration parameter: name, value (paused: 1 keeps an "
		"incoming guest paused after commit until cont, as --paused)",
	.args = param_args,
	.fn = do_set_param,
};
control_cmd(cmd_migrate);
control_cmd(cmd_migrate_cancel);
control_cmd(cmd_query_migrate);
static struct control_cmd cmd_query_params = {
	.name = "query-migrate-parameters",
	.help = "every migration parameter's value, and paused",
	.fn = do_query_params,
};
control_cmd(cmd_set_param);
control_cmd(cmd_query_params);

/*
 * Tests only: TERN_MIG_TEST_DEVICE=PATH:MIN:MAX makes this side claim
 * versions MIN..MAX for the device at PATH (a version skew between two
 * builds, which one binary cannot show otherwise).
 */
static void test_device_skew(struct mig_device *d)
{
	const char *env = getenv("TERN_MIG_TEST_DEVICE");
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
	struct vmstate_registry *reg = vm->vmstate;
	uint32_t i;
	int n = 0;

	pthread_mutex_lock(&reg->lock);
	for (i = 0; i < reg->nr_inst && m->nr_devices < MAX_DEVICES; i++) {
		struct mig_device *d = &m->devices[m->nr_devices++];

		*d = (struct mig_device){
			.path = reg->inst[i].path,
			.version = reg->inst[i].vmsd->version_id,
			.min_version = reg->inst[i].vmsd->minimum_version_id,
			.type = reg->inst[i].vmsd->name,
		};
		test_device_skew(d);
	}
	pthread_mutex_unlock(&reg->lock);
	/* Feature words a guest may depend on: leaves 1, 7.0, 0x80000001. */
	for (i = 0; i < vm->cpuid->nent && n + 8 <= CPUID_BYTES; i++) {
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

	m = calloc(1, sizeof(*m) + sizeof(struct device_header));
	if (!m)
		return -ENOMEM;
	m->vm = vm;
	m->lfd = -1;
	atomic_store(&m->start_paused, vm->cfg.paused);
	pthread_mutex_init(&m->lock, NULL);
	m->block = (struct mig_ram_block){
		.path = vm->ram.path, .name = vm->ram.name, .size = vm->ram.size,
		.host = vm->ram.host, .fd = vm->ram.fd,
		/* A destination's RAM is new and untouched: nothing booted. */
		.flags = vm->cfg.incoming_uri && (vm->ram.flags & RAM_BLOCK_F_ZEROED) ?
			 MIG_BLK_F_ZEROED : 0,
	};
	/* Tests only: another name for this side's block (a missing block). */
	if (getenv("TERN_MIG_TEST_RAM_NAME"))
		m->block.name = getenv("TERN_MIG_TEST_RAM_NAME");
	describe_machine(vm, m);
	mig__default_params(&p);
	/* Tests only: TERN_MIG_TEST_CAPS=0xN, the capabilities this side offers. */
	if (getenv("TERN_MIG_TEST_CAPS"))
		p.caps = strtoul(getenv("TERN_MIG_TEST_CAPS"), NULL, 0);
	if (getenv("TERN_MIG_TEST_REQUIRE"))
		p.caps_required = strtoul(getenv("TERN_MIG_TEST_REQUIRE"), NULL, 0);
	if (vm->cfg.incoming_uri && vm->cfg.incoming_timeout_ms >= 0)
		p.incoming_timeout_ms = vm->cfg.incoming_timeout_ms;
	m->mig = mig__new(vm->ram.backend == RAM_BACKEND_TERN ? &tern_ops : &memfd_ops,
			  m, &p);
	if (!m->mig) {
		free(m);
		return -ENOMEM;
	}
	mig__set_tls(m->mig, vm->cfg.tls);
	vm->cfg.tls = NULL;
	{
		struct device_header *d = (struct device_header *)(m + 1);

		d->name = "migration";
		d->opaque = m;
		snprintf(d->path, sizeof(d->path), "/machine/migration");
		device__register(vm, d);
	}
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
		ret = start_thread(m, vm->cfg.incoming_uri, true, NULL, err, sizeof(err));
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
	struct vm_mig *m = the_mig(vm);

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
	pthread_mutex_lock(&m->lock);
	m->stopping = true;
	m->throttle_pct = 0;
	pthread_mutex_unlock(&m->lock);
	if (m->thread_live)
		pthread_join(m->thread, NULL);
	/* The throttler sleeps up to 100 ms between looks at m: wait it out. */
	if (m->throttler_joinable)
		pthread_join(m->throttler, NULL);
	device__unregister(vm, (struct device_header *)(m + 1));
	mig__free(m->mig);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return 0;
}
late_init(migration__init);
late_exit(migration__exit);
