// SPDX-License-Identifier: GPL-2.0
/*
 * Control socket requests: validation of the request object and of each
 * command's arguments against its table, dispatch, and the run-state
 * commands.  Knows nothing of sockets or files, so the fuzzer runs it as
 * is (save-state and load-state live in state.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/json_line.h"
#include "lib/log.h"
#include "lib/version.h"
#include "vm/control.h"
#include "vm/device.h"
#include "vm/vm.h"

static struct control_cmd *cmds;

void control__add_cmd(struct control_cmd *cmd)
{
	cmd->next = cmds;
	cmds = cmd;
}

struct json_object *control__error(const char *cls, const char *desc)
{
	struct json_object *e = json_object_new_object();
	struct json_object *r = json_object_new_object();

	json_object_object_add(e, "class", json_object_new_string(cls));
	json_object_object_add(e, "desc", json_object_new_string(desc));
	json_object_object_add(r, "error", e);
	return r;
}

struct json_object *control__greeting(void)
{
	struct json_object *g = json_object_new_object();
	struct json_object *t = json_object_new_object();
	struct json_object *v = json_object_new_object();
	struct json_object *caps = json_object_new_array();
	struct json_object *list = json_object_new_array();
	struct control_cmd *c;

	json_object_object_add(v, "major", json_object_new_int(CONTROL_VERSION_MAJOR));
	json_object_object_add(v, "minor", json_object_new_int(CONTROL_VERSION_MINOR));
	json_object_object_add(v, "package", json_object_new_string("ternvm"));
	json_object_array_add(caps, json_object_new_string("events"));
	json_object_array_add(caps, json_object_new_string("save-state"));
	for (c = cmds; c; c = c->next)
		json_object_array_add(list, json_object_new_string(c->name));
	json_object_object_add(t, "version", v);
	json_object_object_add(t, "capabilities", caps);
	json_object_object_add(t, "commands", list);
	json_object_object_add(g, "tern", t);
	return g;
}

static const char *type_name(json_type t)
{
	switch (t) {
	case json_type_boolean: return "a boolean";
	case json_type_int: return "an integer";
	case json_type_double: return "a number";
	case json_type_string: return "a string";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	default: return "null";
	}
}

static int check_args(const struct control_cmd *c, struct json_object *args,
		      char *err, size_t errlen)
{
	const struct control_arg *a;

	if (!args)
		goto required;
	json_object_object_foreach(args, key, val) {
		for (a = c->args; a && a->name; a++)
			if (!strcmp(a->name, key))
				break;
		if (!a || !a->name) {
			snprintf(err, errlen, "%s: unexpected argument '%s'", c->name, key);
			return -EINVAL;
		}
		if (!json_object_is_type(val, a->type)) {
			snprintf(err, errlen, "%s: argument '%s' must be %s", c->name,
				 key, type_name(a->type));
			return -EINVAL;
		}
	}
required:
	for (a = c->args; a && a->name; a++) {
		if (a->required && (!args || !json_object_object_get_ex(args, a->name, NULL))) {
			snprintf(err, errlen, "%s: missing argument '%s'", c->name, a->name);
			return -EINVAL;
		}
	}
	return 0;
}

static struct json_object *dispatch(struct vm *vm, struct json_object *req)
{
	struct json_object *exec, *args = NULL, *ret = NULL, *reply;
	struct control_cmd *c;
	char err[256] = "";
	const char *name;
	int r;

	if (!json_object_is_type(req, json_type_object))
		return control__error("GenericError", "request must be a JSON object");
	if (!json_object_object_get_ex(req, "execute", &exec) ||
	    !json_object_is_type(exec, json_type_string))
		return control__error("GenericError", "missing \"execute\" string");
	json_object_object_foreach(req, key, val) {
		(void)val;
		if (strcmp(key, "execute") && strcmp(key, "arguments") && strcmp(key, "id")) {
			snprintf(err, sizeof(err), "unexpected member '%s' in request", key);
			return control__error("GenericError", err);
		}
	}
	if (json_object_object_get_ex(req, "arguments", &args) &&
	    !json_object_is_type(args, json_type_object))
		return control__error("GenericError", "\"arguments\" must be an object");
	name = json_object_get_string(exec);
	for (c = cmds; c; c = c->next)
		if (!strcmp(c->name, name))
			break;
	if (!c) {
		snprintf(err, sizeof(err), "the command %.64s has not been found", name);
		return control__error("CommandNotFound", err);
	}
	if (check_args(c, args, err, sizeof(err)))
		return control__error("GenericError", err);

	r = c->fn(vm, args, &ret, err, sizeof(err));
	if (r < 0) {
		json_object_put(ret);
		if (!err[0])
			snprintf(err, sizeof(err), "%s: %s", c->name, strerror(-r));
		return control__error("GenericError", err);
	}
	reply = json_object_new_object();
	json_object_object_add(reply, "return", ret ?: json_object_new_object());
	return reply;
}

/*
 * The file passed with the request this thread executes (the I/O thread,
 * or a blocking command's own thread): a command that takes it owns it.
 */
static __thread int *request_fd;

int control__take_fd(void)
{
	int fd = request_fd ? *request_fd : -1;

	if (request_fd)
		*request_fd = -1;
	return fd;
}

struct json_object *control__execute(struct vm *vm, const char *line, size_t len,
				     int *passed_fd)
{
	struct json_object *req, *reply, *id;
	const char *perr = NULL;
	char err[160];

	req = json_line__parse(line, len, &perr);
	if (!req) {
		snprintf(err, sizeof(err), "malformed JSON: %s", perr);
		return control__error("GenericError", err);
	}
	request_fd = passed_fd;
	reply = dispatch(vm, req);
	request_fd = NULL;
	if (json_object_is_type(req, json_type_object) &&
	    json_object_object_get_ex(req, "id", &id))
		json_object_object_add(reply, "id", json_object_get(id));
	json_object_put(req);
	return reply;
}

const char *control__blocking(const char *line, size_t len)
{
	struct json_object *req, *exec;
	const char *perr, *ret = NULL;
	struct control_cmd *c;

	req = json_line__parse(line, len, &perr);
	if (req && json_object_is_type(req, json_type_object) &&
	    json_object_object_get_ex(req, "execute", &exec) &&
	    json_object_is_type(exec, json_type_string)) {
		for (c = cmds; c; c = c->next)
			if (!strcmp(c->name, json_object_get_string(exec)) && c->blocking)
				ret = c->name;
	}
	json_object_put(req);
	return ret;
}

/* ---- built-in commands ---- */

static int by_name(const void *a, const void *b)
{
	struct json_object *const *x = a, *const *y = b;
	struct json_object *nx, *ny;

	json_object_object_get_ex(*x, "name", &nx);
	json_object_object_get_ex(*y, "name", &ny);
	return strcmp(json_object_get_string(nx), json_object_get_string(ny));
}

static const char *status_name(struct vm *vm)
{
	if (__atomic_load_n(&vm->exit_reason, __ATOMIC_ACQUIRE) != VM_EXIT_NONE)
		return "shutdown";
	return vm__paused(vm) ? "paused" : "running";
}

static int do_capabilities(struct vm *vm, struct json_object *args,
			   struct json_object **ret, char *err, size_t errlen)
{
	return 0;
}

/* Every command with its help and argument schema, sorted by name. */
struct json_object *control__commands(void)
{
	struct json_object *list = json_object_new_array();
	const struct control_arg *a;
	struct control_cmd *c;

	for (c = cmds; c; c = c->next) {
		struct json_object *o = json_object_new_object();
		struct json_object *args = json_object_new_array();

		for (a = c->args; a && a->name; a++) {
			struct json_object *ao = json_object_new_object();

			json_object_object_add(ao, "name", json_object_new_string(a->name));
			json_object_object_add(ao, "type",
					       json_object_new_string(json_type_to_name(a->type)));
			json_object_object_add(ao, "required", json_object_new_boolean(a->required));
			json_object_array_add(args, ao);
		}
		json_object_object_add(o, "name", json_object_new_string(c->name));
		json_object_object_add(o, "help", json_object_new_string(c->help));
		json_object_object_add(o, "arguments", args);
		json_object_array_add(list, o);
	}
	json_object_array_sort(list, by_name);
	return list;
}

static int do_query_commands(struct vm *vm, struct json_object *args,
			     struct json_object **ret, char *err, size_t errlen)
{
	*ret = json_object_new_object();
	json_object_object_add(*ret, "commands", control__commands());
	return 0;
}

static int do_query_status(struct vm *vm, struct json_object *args,
			   struct json_object **ret, char *err, size_t errlen)
{
	const char *s = status_name(vm);

	*ret = json_object_new_object();
	json_object_object_add(*ret, "status", json_object_new_string(s));
	json_object_object_add(*ret, "running", json_object_new_boolean(!strcmp(s, "running")));
	json_object_object_add(*ret, "stopped-by-user", json_object_new_boolean(atomic_load(&vm->user_stopped)));
	json_object_object_add(*ret, "cpus", json_object_new_int(vm->nr_vcpus));
	json_object_object_add(*ret, "memory", json_object_new_int64(vm->ram.size));
	json_object_object_add(*ret, "memory-backend", json_object_new_string(
		vm->ram.backend == RAM_BACKEND_TERN ? "tern" : "memfd"));
	json_object_object_add(*ret, "version", json_object_new_string(tern_version));
	return 0;
}

static int do_stop(struct vm *vm, struct json_object *args,
		   struct json_object **ret, char *err, size_t errlen)
{
	int r;

	if (atomic_load(&vm->user_stopped))
		return 0;
	r = vm__pause(vm);
	if (r)
		return r;
	/* A migration may have handed its pause over meanwhile. */
	if (atomic_exchange(&vm->user_stopped, true)) {
		vm__resume(vm);
		return 0;
	}
	control__event(vm, "STOP", NULL);
	return 0;
}

/*
 * Two copies of one guest must never run: once a migration sent `commit`
 * only `cont --revert` resumes the source, the operator's statement that
 * the destination is paused or gone.  It lifts the switchover's pause
 * (and a stop of the operator's, as a plain cont does).
 */
static int do_cont(struct vm *vm, struct json_object *args,
		   struct json_object **ret, char *err, size_t errlen)
{
	struct json_object *v;
	bool revert = json_object_object_get_ex(args, "revert", &v) &&
		      json_object_get_boolean(v);
	char why[256];
	int r;

	if (atomic_load(&vm->migrated_away)) {
		if (!revert) {
			snprintf(err, errlen, "%s", vm__away_msg(vm));
			return -EBUSY;
		}
		/* The disk's lock again: refused while the destination runs. */
		r = device__claim_all(vm, why, sizeof(why));
		if (r) {
			snprintf(err, errlen, "cont --revert refused: %s", why);
			return r;
		}
		if (atomic_exchange(&vm->migrated_away, false)) {
			atomic_store(&vm->away_confirmed, false);
			vm__resume(vm);
			control__event(vm, "RESUME", NULL);
		}
	}
	if (!atomic_load(&vm->user_stopped))
		return 0;
	/* A destination kept paused after commit takes the disk's lock now. */
	r = device__claim_all(vm, why, sizeof(why));
	if (r) {
		snprintf(err, errlen, "cont refused: %s", why);
		return r;
	}
	if (!atomic_exchange(&vm->user_stopped, false))
		return 0;
	vm__resume(vm);
	control__event(vm, "RESUME", NULL);
	return 0;
}

static int do_quit(struct vm *vm, struct json_object *args,
		   struct json_object **ret, char *err, size_t errlen)
{
	vm__request_exit(vm, VM_EXIT_QUIT);
	return 0;
}

static struct control_cmd cmd_capabilities = {
	.name = "qmp_capabilities",
	.help = "accepted for QMP clients; does nothing",
	.args = NULL,
	.fn = do_capabilities,
};
static struct control_cmd cmd_query_status = {
	.name = "query-status",
	.help = "run state: running, paused or shutdown",
	.args = NULL,
	.fn = do_query_status,
};
static struct control_cmd cmd_stop = {
	.name = "stop",
	.help = "pause every vCPU (event STOP)",
	.args = NULL,
	.fn = do_stop,
};
static const struct control_arg cont_args[] = {
	{ .name = "revert", .type = json_type_boolean },
	{ .name = NULL },
};

static struct control_cmd cmd_cont = {
	.name = "cont",
	.help = "resume after stop (event RESUME); once a migration sent commit "
		"(completed, postcommit-unknown) only with revert: true, when the "
		"destination is paused or gone",
	.args = cont_args,
	.fn = do_cont,
};
static struct control_cmd cmd_quit = {
	.name = "quit",
	.help = "end the VM (event SHUTDOWN)",
	.args = NULL,
	.fn = do_quit,
};
static struct control_cmd cmd_query_commands = {
	.name = "query-commands",
	.help = "every command: name, help and arguments (name, type, required)",
	.fn = do_query_commands,
};
control_cmd(cmd_capabilities);
control_cmd(cmd_query_commands);
control_cmd(cmd_query_status);
control_cmd(cmd_stop);
control_cmd(cmd_cont);
control_cmd(cmd_quit);
