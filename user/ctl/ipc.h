/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ternctl's one door to ternvm: connect to the control socket, read the
 * greeting, run a command and wait for its reply (events that arrive
 * meanwhile are kept for ipc__next_event), or follow events.
 */
#ifndef TERN_CTL_IPC_H
#define TERN_CTL_IPC_H

#include <json-c/json.h>

struct ipc;

struct ipc *ipc__connect(const char *path);
void ipc__close(struct ipc *ipc);
struct json_object *ipc__greeting(struct ipc *ipc);

/*
 * Run `name` with args (may be NULL; ownership taken).  0 with *ret the
 * "return" value (caller puts), -EREMOTEIO with *err the server's
 * description, or another -errno for transport errors.
 */
int ipc__command(struct ipc *ipc, const char *name, struct json_object *args,
		 struct json_object **ret, const char **err);
/* The same, passing fd (ours stays open) with the request, SCM_RIGHTS. */
int ipc__command_fd(struct ipc *ipc, const char *name, struct json_object *args,
		    int fd, struct json_object **ret, const char **err);
/* Send one raw line; the next non-event object is the reply. */
int ipc__raw(struct ipc *ipc, const char *line, struct json_object **reply);
/* Next event, waiting up to timeout_ms (-1: forever); NULL on timeout/EOF. */
struct json_object *ipc__next_event(struct ipc *ipc, int timeout_ms);

#endif /* TERN_CTL_IPC_H */
