/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket: JSON lines in the spirit of QMP.  A client gets a
 * greeting {"tern": {"version": ..., "capabilities": [...]}}, sends
 * {"execute": NAME, "arguments": {...}, "id": ANY} and gets {"return":
 * {...}} or {"error": {"class": ..., "desc": ...}} with the same id, plus
 * events {"event": NAME, "data": {...}, "timestamp": {...}} at any time.
 * Commands register themselves (control_cmd()), so migration adds its own.
 */
#ifndef TERN_VM_CONTROL_H
#define TERN_VM_CONTROL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

struct vm;

#define CONTROL_VERSION_MAJOR	0
#define CONTROL_VERSION_MINOR	1

struct control_arg {
	const char *name;
	json_type type;
	bool required;
};

struct control_cmd {
	const char *name;
	const char *help;
	const struct control_arg *args;		/* ends with { NULL } */
	/*
	 * It may wait on a file (save-state, load-state): it runs on a thread
	 * of its own, so the I/O thread, the devices and the other clients go
	 * on; its client waits for the reply (one request at a time: a line
	 * sent meanwhile on that connection is refused, in order).
	 */
	bool blocking;
	/* 0 with *ret set (or NULL: empty return), or -errno with err filled. */
	int (*fn)(struct vm *vm, struct json_object *args,
		  struct json_object **ret, char *err, size_t errlen);
	struct control_cmd *next;
};

void control__add_cmd(struct control_cmd *cmd);
#define control_cmd(c)							\
	static void __attribute__((constructor)) __control_reg_##c(void)	\
	{ control__add_cmd(&c); }

/* One request line in, one reply object out (never NULL; caller puts). */
/*
 * passed_fd: a file the client passed with this request (SCM_RIGHTS), or
 * NULL; a command takes it with control__take_fd() (-1 if none).
 */
struct json_object *control__execute(struct vm *vm, const char *line, size_t len,
				     int *passed_fd);
int control__take_fd(void);
/* The blocking command the request on this line runs, or NULL. */
const char *control__blocking(const char *line, size_t len);
/* The error reply for an overlong line. */
struct json_object *control__error(const char *cls, const char *desc);
/* The greeting sent to each new client. */
struct json_object *control__greeting(void);
/* query-commands' list: [{name, help, arguments: [{name, type, required}]}]. */
struct json_object *control__commands(void);

/* Send an event to every client; takes ownership of data (may be NULL). */
void control__event(struct vm *vm, const char *name, struct json_object *data);

#endif /* TERN_VM_CONTROL_H */
