// SPDX-License-Identifier: GPL-2.0
/*
 * Machine state save/load (vm.h) and the save-state/load-state control
 * commands.  Until the vmstate library lands these refuse cleanly: a
 * failed save never harms the guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/control.h"
#include "vm/kvm.h"

int vm__save_state(struct vm *vm, int fd)
{
	pr_err("save-state: vmstate support is not built yet");
	return -EOPNOTSUPP;
}

int vm__load_state(struct vm *vm, int fd)
{
	pr_err("load-state: vmstate support is not built yet");
	return -EOPNOTSUPP;
}

/* save-state/load-state: the machine state (no RAM) to/from a file. */
static int state_file(struct vm *vm, struct json_object *args, bool save,
		      char *err, size_t errlen)
{
	struct json_object *p;
	const char *path;
	int fd, r;

	json_object_object_get_ex(args, "path", &p);
	path = json_object_get_string(p);
	if (!save && !vm->user_stopped) {
		snprintf(err, errlen, "load-state: stop the VM first");
		return -EBUSY;
	}
	fd = save ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
		  : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	r = vm__pause(vm);
	if (!r) {
		r = save ? vm__save_state(vm, fd) : vm__load_state(vm, fd);
		vm__resume(vm);
	}
	if (!r && save && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r)
		snprintf(err, errlen, "%s %s: %s", save ? "save-state" : "load-state",
			 path, strerror(-r));
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
	{ "path", json_type_string, true },
	{ .name = NULL },
};

static struct control_cmd cmd_save_state = {
	.name = "save-state",
	.help = "write vCPU, irqchip and device state to path",
	.args = path_arg,
	.fn = do_save_state,
};
static struct control_cmd cmd_load_state = {
	.name = "load-state",
	.help = "load a saved state from path (VM stopped)",
	.args = path_arg,
	.fn = do_load_state,
};
control_cmd(cmd_save_state);
control_cmd(cmd_load_state);
