// SPDX-License-Identifier: GPL-2.0
/*
 * Machine state (vm.h): the vmstate registry every device and vCPU
 * registers in, the in-kernel irqchip, PIT and kvmclock as the first
 * section, save/load to a file descriptor, and the save-state and
 * load-state control commands.  Failures are logged and returned; a
 * failed save never harms the guest, a failed load changes nothing
 * unless KVM refused a SET of state already committed (then it says so).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/control.h"
#include "vm/init.h"
#include "vm/kvm.h"
#include "vmstate/vmstate.h"

#define STATE_MAX	(64 << 20)

struct machine_state {
	struct vm *vm;
	struct kvm_irqchip pic_master;
	struct kvm_irqchip pic_slave;
	struct kvm_irqchip ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	bool reset_pending;	/* the guest asked for a reset (reset.c) */
	/* kvmclock when the VM stopped, set again when it runs (see below) */
	struct kvm_clock_data stopped_clock;
	bool clock_stopped;
};

/*
 * The guest's clock stands still while the VM is paused, as QEMU's
 * kvmclock does: a guest stopped for 25 s (a stop, a switchover that
 * failed after its timeout) otherwise wakes to every timer expired at
 * once and a 25 s jump, and in the harness its sleeping tasks did not
 * run for over 10 s after `cont`.  The migration stream carries the
 * clock of the stop, so the downtime is not a jump either.
 */
void vm__clock_stop(struct vm *vm)
{
	struct machine_state *m = vm->machine;

	if (!m || m->clock_stopped)
		return;
	if (vm_ioctl(vm, KVM_GET_CLOCK, &m->stopped_clock))
		return;		/* logged; the clock just runs on */
	m->clock_stopped = true;
}

void vm__clock_run(struct vm *vm)
{
	struct machine_state *m = vm->machine;

	if (!m || !m->clock_stopped)
		return;
	m->clock_stopped = false;
	m->stopped_clock.flags = 0;
	kvm__vm_ioctl(vm, KVM_SET_CLOCK, &m->stopped_clock, "kvmclock: KVM_SET_CLOCK");
}

int vm__register_state(struct vm *vm, const struct vmsd *vmsd, void *opaque,
		       const char *path)
{
	int ret;

	/* Undeclared, it would escape the snapshot check of make check. */
	if (!vmstate__catalog_has(vmsd)) {
		pr_err("state of %s: table %s is not declared with VMSTATE_DEVICE_TABLE",
		       path, vmsd->name);
		return -EINVAL;
	}
	ret = vmstate__register(vm->vmstate, vmsd, opaque, path);
	if (ret)
		pr_err("state of %s: %s", path, strerror(-ret));
	return ret;
}

void vm__unregister_state(struct vm *vm, const char *path)
{
	if (vm->vmstate)
		vmstate__unregister(vm->vmstate, path);
}

static int get_chip(struct vm *vm, struct kvm_irqchip *c, int id)
{
	c->chip_id = id;
	return vm_ioctl(vm, KVM_GET_IRQCHIP, c);
}

static int machine_pre_save(void *opaque)
{
	struct machine_state *m = opaque;
	struct vm *vm = m->vm;

	m->reset_pending = atomic_load(&vm->reset_pending);
	if (m->clock_stopped)
		m->clock = m->stopped_clock;
	return get_chip(vm, &m->pic_master, KVM_IRQCHIP_PIC_MASTER) ?:
	       get_chip(vm, &m->pic_slave, KVM_IRQCHIP_PIC_SLAVE) ?:
	       get_chip(vm, &m->ioapic, KVM_IRQCHIP_IOAPIC) ?:
	       vm_ioctl(vm, KVM_GET_PIT2, &m->pit) ?:
	       (m->clock_stopped ? 0 : vm_ioctl(vm, KVM_GET_CLOCK, &m->clock));
}

static int machine_post_load(void *staging, uint32_t version)
{
	struct machine_state *m = staging;

	if (m->pic_master.chip_id != KVM_IRQCHIP_PIC_MASTER ||
	    m->pic_slave.chip_id != KVM_IRQCHIP_PIC_SLAVE ||
	    m->ioapic.chip_id != KVM_IRQCHIP_IOAPIC)
		return -EINVAL;
	return 0;
}

/* Each SET checked; the first refusal names the device and the call. */
static int machine_post_commit(void *opaque, char *why, size_t len)
{
	struct machine_state *m = opaque;
	struct vm *vm = m->vm;
	const char *what;
	int ret;

	/* The guest's clock goes on from where it was saved. */
	m->clock.flags = 0;
#define SET(name, req, arg) (what = name, kvm__vm_ioctl(vm, req, arg, name))
	ret = SET("PIC master: KVM_SET_IRQCHIP", KVM_SET_IRQCHIP, &m->pic_master) ?:
	      SET("PIC slave: KVM_SET_IRQCHIP", KVM_SET_IRQCHIP, &m->pic_slave) ?:
	      SET("IOAPIC: KVM_SET_IRQCHIP", KVM_SET_IRQCHIP, &m->ioapic) ?:
	      SET("PIT: KVM_SET_PIT2", KVM_SET_PIT2, &m->pit) ?:
	      SET("kvmclock: KVM_SET_CLOCK", KVM_SET_CLOCK, &m->clock);
#undef SET
	if (ret) {
		snprintf(why, len, "%s: %s", what, strerror(-ret));
		return ret;
	}
	/* Paused, the loaded clock stands until the guest runs again. */
	if (m->clock_stopped)
		m->stopped_clock = m->clock;
	if (m->reset_pending) {
		pr_info("a reset pending at the source: done here once the guest runs");
		vm__request_reset(vm);
	}
	return 0;
}

static const struct vmstate_field machine_fields[] = {
	VMSTATE_BUFFER(pic_master, struct machine_state, 0),
	VMSTATE_BUFFER(pic_slave, struct machine_state, 0),
	VMSTATE_BUFFER(ioapic, struct machine_state, 0),
	VMSTATE_BUFFER(pit, struct machine_state, 0),
	VMSTATE_BUFFER(clock, struct machine_state, 0),
	VMSTATE_END,
};

/* A reset the source's guest asked for while it was paused to migrate. */
static bool reset_needed(void *opaque)
{
	return ((struct machine_state *)opaque)->reset_pending;
}

static const struct vmstate_field reset_fields[] = {
	VMSTATE_BOOL(reset_pending, struct machine_state, 0),
	VMSTATE_END,
};

static const struct vmsd reset_vmsd = {
	.name = "reset-pending",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct machine_state),
	.fields = reset_fields,
	.needed = reset_needed,
};

static const struct vmsd *const machine_subsections[] = { &reset_vmsd, NULL };

static const struct vmsd machine_vmsd = {
	.name = "kvm-machine",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct machine_state),
	.fields = machine_fields,
	.subsections = machine_subsections,
	.pre_save = machine_pre_save,
	.post_load = machine_post_load,
	.post_commit = machine_post_commit,
};
VMSTATE_DEVICE_TABLE(machine_vmsd);

static int state__init(struct vm *vm)
{
	int ret;

	vm->vmstate = vmstate__registry_new();
	vm->machine = calloc(1, sizeof(*vm->machine));
	if (!vm->vmstate || !vm->machine) {
		ret = -ENOMEM;
		goto err;
	}
	vm->machine->vm = vm;
	ret = vm__register_state(vm, &machine_vmsd, vm->machine, "/machine/kvm");
	if (ret)
		goto err;
	return 0;
err:
	free(vm->machine);
	vm->machine = NULL;
	vmstate__registry_free(vm->vmstate);
	vm->vmstate = NULL;
	return ret;
}

static int state__exit(struct vm *vm)
{
	vmstate__registry_free(vm->vmstate);
	vm->vmstate = NULL;
	free(vm->machine);
	vm->machine = NULL;
	return 0;
}
core_init(state__init);
core_exit(state__exit);

int vm__save_state(struct vm *vm, int fd)
{
	struct vmstate_buf buf = { 0 };
	size_t off = 0;
	ssize_t n;
	int ret;

	ret = vmstate__save_all(vm->vmstate, &buf);
	while (!ret && off < buf.len) {
		n = write(fd, buf.data + off, buf.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ret = n < 0 ? -errno : -EIO;
		else
			off += n;
	}
	if (ret)
		pr_err("save-state: %s", strerror(-ret));
	vmstate__buf_free(&buf);
	return ret;
}

int vm__load_state(struct vm *vm, int fd, char *why, size_t whylen)
{
	struct vmstate_err err = { 0 };
	size_t len = 0, cap = 1 << 20;
	uint8_t *data = malloc(cap), *p;
	ssize_t n;
	int ret = 0;

	while (data) {
		if (len == cap) {
			if (cap >= STATE_MAX) {
				pr_err("load-state: more than %d MiB", STATE_MAX >> 20);
				ret = -EFBIG;
				break;
			}
			p = realloc(data, cap * 2);
			if (!p)
				break;
			data = p;
			cap *= 2;
		}
		n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (!n)
			break;
		len += n;
	}
	if (!data)
		return -ENOMEM;
	if (!ret) {
		ret = vmstate__load_all(vm->vmstate, data, len, &err);
		if (ret)
			pr_err("load-state: %s", err.msg);
		if (ret && why)
			snprintf(why, whylen, "%s", err.msg);
	}
	free(data);
	return ret;
}

/* The --incoming state, loaded before the vCPUs first run. */
static int incoming__init(struct vm *vm)
{
	int fd, ret;

	if (!vm->cfg.incoming)
		return 0;
	fd = open(vm->cfg.incoming, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("--incoming %s: %s", vm->cfg.incoming, strerror(errno));
		return ret;
	}
	ret = vm__load_state(vm, fd, NULL, 0);
	close(fd);
	return ret;
}
late_init(incoming__init);

/*
 * A path from a client is opened only under --state-dir: ternvm may run
 * as root, and a client must not make it read or write any file.  The
 * directory part is resolved (symlinks and ".." included) and must be
 * the state directory itself; the file is opened with O_NOFOLLOW.
 */
static int open_in_state_dir(struct vm *vm, const char *path, bool save,
			     char *err, size_t errlen)
{
	char dir[PATH_MAX], want[PATH_MAX], *slash;
	const char *name;
	int dfd, fd;

	if (!vm->cfg.state_dir) {
		snprintf(err, errlen, "%s: a path needs ternvm --state-dir; "
			 "or pass the open file (ternctl does)",
			 save ? "save-state" : "load-state");
		return -EPERM;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	name = slash ? slash + 1 : dir;
	if (slash)
		*slash = '\0';
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") ||
	    !realpath(slash ? (dir[0] ? dir : "/") : ".", want) ||
	    !realpath(vm->cfg.state_dir, dir) || strcmp(want, dir)) {
		snprintf(err, errlen, "%s: %s is not a file in --state-dir %s",
			 save ? "save-state" : "load-state", path, vm->cfg.state_dir);
		return -EPERM;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		fd = -1;
	else
		fd = openat(dfd, name, save ? O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC
					   : O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fd = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (dfd >= 0)
		close(dfd);
	return fd;
}

/*
 * save-state/load-state: the machine state (no RAM) to/from the file the
 * client passed with the request, or a path under --state-dir.
 */
static int state_file(struct vm *vm, struct json_object *args, bool save,
		      char *err, size_t errlen)
{
	const char *cmd = save ? "save-state" : "load-state";
	const char *path = NULL;
	struct json_object *p;
	int fd, r;

	if (json_object_object_get_ex(args, "path", &p))
		path = json_object_get_string(p);
	if (!save && !atomic_load(&vm->user_stopped)) {
		snprintf(err, errlen, "load-state: stop the VM first");
		return -EBUSY;
	}
	fd = control__take_fd();
	if (fd >= 0 && path) {
		close(fd);
		snprintf(err, errlen, "%s: a path and a passed file: give one", cmd);
		return -EINVAL;
	}
	if (fd < 0 && !path) {
		snprintf(err, errlen, "%s: no file: pass the open file (ternctl %s FILE) "
			 "or give a path under --state-dir", cmd, cmd);
		return -EINVAL;
	}
	if (fd < 0) {
		fd = open_in_state_dir(vm, path, save, err, errlen);
		if (fd < 0)
			return fd;
	} else if (save && ftruncate(fd, 0) && errno != EINVAL) {
		r = -errno;
		snprintf(err, errlen, "save-state: the passed file: %s", strerror(errno));
		close(fd);
		return r;
	}
	r = vm__pause(vm);
	if (!r) {
		r = save ? vm__save_state(vm, fd) : vm__load_state(vm, fd, NULL, 0);
		vm__resume(vm);
	}
	if (!r && save && fsync(fd) < 0 && errno != EINVAL)
		r = -errno;
	close(fd);
	if (r && !err[0])
		snprintf(err, errlen, "%s %s: %s", cmd, path ?: "(passed file)", strerror(-r));
	return r;
}

static int do_save_state(struct vm *vm, struct json_object *args,
			 struct json_object **ret, char *err, size_t errlen)
{
	return state_file(vm, args, true, err, errlen);
}

static int do_load_state(struct vm *vm, struct json_object *args,
			 struct json_object **ret, char *err, size_t errlen)
{
	return state_file(vm, args, false, err, errlen);
}

static const struct control_arg path_arg[] = {
	{ "path", json_type_string, false },
	{ .name = NULL },
};

static struct control_cmd cmd_save_state = {
	.name = "save-state",
	.help = "write vCPU, irqchip and device state to the file passed with "
		"the request (SCM_RIGHTS), or to path under --state-dir",
	.args = path_arg,
	.fn = do_save_state,
	.blocking = true,
};
static struct control_cmd cmd_load_state = {
	.name = "load-state",
	.help = "load a saved state (VM stopped) from the passed file, or from "
		"path under --state-dir",
	.args = path_arg,
	.fn = do_load_state,
	.blocking = true,
};
control_cmd(cmd_save_state);
control_cmd(cmd_load_state);
