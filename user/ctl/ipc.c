// SPDX-License-Identifier: GPL-2.0
/* ternctl's control-socket client: see ipc.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/ipc.h"
#include "lib/json_line.h"
#include "lib/log.h"

#define QUEUE_MAX	64

struct ipc {
	int fd;
	struct json_line_buf lb;
	struct json_object *greeting;
	struct json_object *queue[QUEUE_MAX];	/* parsed, not yet consumed */
	int nq;
	char err[256];
	int next_id;
};

static void on_line(const char *line, size_t len, void *opaque)
{
	struct ipc *ipc = opaque;
	struct json_object *obj;
	const char *err;

	if (!line || !len || ipc->nq == QUEUE_MAX)
		return;
	obj = json_line__parse(line, len, &err);
	if (obj)
		ipc->queue[ipc->nq++] = obj;
}

static struct json_object *pop(struct ipc *ipc, int i)
{
	struct json_object *o = ipc->queue[i];

	memmove(&ipc->queue[i], &ipc->queue[i + 1], (ipc->nq - i - 1) * sizeof(o));
	ipc->nq--;
	return o;
}

/* Read more input; 0, -ETIMEDOUT or -errno (-EPIPE on EOF). */
static int fill(struct ipc *ipc, int timeout_ms)
{
	struct pollfd p = { .fd = ipc->fd, .events = POLLIN };
	char buf[4096];
	ssize_t n;
	int r;

	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return -errno;
	if (!r)
		return -ETIMEDOUT;
	n = read(ipc->fd, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if (!n)
		return -EPIPE;
	return json_line__feed(&ipc->lb, buf, n, on_line, ipc);
}

static bool is_event(struct json_object *o)
{
	return json_object_object_get_ex(o, "event", NULL);
}

/* The first queued object that is not an event. */
static int wait_reply(struct ipc *ipc, struct json_object **reply)
{
	int i, r;

	for (;;) {
		for (i = 0; i < ipc->nq; i++) {
			if (!is_event(ipc->queue[i])) {
				*reply = pop(ipc, i);
				return 0;
			}
		}
		r = fill(ipc, 30000);
		if (r)
			return r;
	}
}

struct ipc *ipc__connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct json_object *e, *desc;
	struct ipc *ipc;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, path);
	ipc = calloc(1, sizeof(*ipc));
	if (!ipc)
		return NULL;
	ipc->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ipc->fd < 0 || connect(ipc->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto err;
	r = wait_reply(ipc, &ipc->greeting);
	if (!r && json_object_object_get_ex(ipc->greeting, "error", &e) &&
	    json_object_object_get_ex(e, "desc", &desc)) {
		/* Refused at the door (not allowed, too many clients): say why. */
		pr_err("%s: ternvm refused the connection: %s", path,
		       json_object_get_string(desc));
		errno = EACCES;
		goto err;
	}
	if (r || !json_object_object_get_ex(ipc->greeting, "tern", NULL)) {
		errno = r ? -r : EPROTO;
		goto err;
	}
	return ipc;
err:
	r = errno;
	ipc__close(ipc);
	errno = r;
	return NULL;
}

void ipc__close(struct ipc *ipc)
{
	if (!ipc)
		return;
	if (ipc->fd >= 0)
		close(ipc->fd);
	while (ipc->nq)
		json_object_put(pop(ipc, 0));
	json_object_put(ipc->greeting);
	json_line__release(&ipc->lb);
	free(ipc);
}

struct json_object *ipc__greeting(struct ipc *ipc)
{
	return ipc->greeting;
}

/* s (len bytes), then a newline. */
static int write_line(int fd, const char *s, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off <= len) {
		n = off < len ? write(fd, s + off, len - off) : write(fd, "\n", 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += off < len ? (size_t)n : 1;
	}
	return 0;
}

/* The fd rides on the line's first byte (SCM_RIGHTS); the rest follows. */
static int send_fd_then_line(int sock, struct json_object *req, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = { 0 };
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	struct iovec iov = { .iov_base = (void *)s, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return n < 0 ? -errno : -EPIPE;
	return write_line(sock, s + 1, strlen(s + 1));
}

int ipc__command(struct ipc *ipc, const char *name, struct json_object *args,
		 struct json_object **ret, const char **err)
{
	return ipc__command_fd(ipc, name, args, -1, ret, err);
}

int ipc__command_fd(struct ipc *ipc, const char *name, struct json_object *args,
		    int fd, struct json_object **ret, const char **err)
{
	struct json_object *req = json_object_new_object(), *reply, *v, *e;
	int id = ++ipc->next_id, r;

	*ret = NULL;
	*err = NULL;
	json_object_object_add(req, "execute", json_object_new_string(name));
	if (args)
		json_object_object_add(req, "arguments", args);
	json_object_object_add(req, "id", json_object_new_int(id));
	r = fd < 0 ? json_line__write(ipc->fd, req, 0) : send_fd_then_line(ipc->fd, req, fd);
	json_object_put(req);
	if (r)
		return r;
	r = wait_reply(ipc, &reply);
	if (r)
		return r;
	if (json_object_object_get_ex(reply, "return", &v)) {
		*ret = json_object_get(v);
	} else if (json_object_object_get_ex(reply, "error", &e) &&
		   json_object_object_get_ex(e, "desc", &v)) {
		snprintf(ipc->err, sizeof(ipc->err), "%s", json_object_get_string(v));
		*err = ipc->err;
		r = -EREMOTEIO;
	} else {
		r = -EPROTO;
	}
	json_object_put(reply);
	return r;
}

int ipc__raw(struct ipc *ipc, const char *line, struct json_object **reply)
{
	int r = write_line(ipc->fd, line, strlen(line));

	return r ? r : wait_reply(ipc, reply);
}

struct json_object *ipc__next_event(struct ipc *ipc, int timeout_ms)
{
	int i;

	for (;;) {
		for (i = 0; i < ipc->nq; i++)
			if (is_event(ipc->queue[i]))
				return pop(ipc, i);
		if (fill(ipc, timeout_ms))
			return NULL;
	}
}
