// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's transport (see control.h): a unix stream socket
 * served by the I/O thread, clients with bounded line buffers, events
 * broadcast to all, and SHUTDOWN with the exit reason when the VM ends.
 * A slow or gone client is dropped; it never blocks the VM.  Only the
 * I/O thread frees a client: another thread (an event from migration)
 * that fails to write marks it gone and shuts its socket, and the I/O
 * thread drops it on the hang-up.  Writes hold the lock, so a reply and
 * an event never interleave on one socket.
 *
 * A blocking command (control.h) runs on a job thread of its own: its
 * client's socket leaves the I/O loop until the reply is out, and lines
 * already read behind it are refused after that reply, in order.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/json_line.h"
#include "lib/log.h"
#include "lib/unix_listen.h"
#include "vm/control.h"
#include "vm/init.h"
#include "vm/ioloop.h"
#include "vm/vm.h"

#define MAX_CLIENTS	8
#define MAX_REFUSED	16	/* lines behind a blocking command */

struct client {
	struct control *ctl;
	int fd;
	int passed_fd;			/* SCM_RIGHTS, for the next request; or -1 */
	struct json_line_buf lb;
	bool gone;			/* a write failed: drop at next input */
	bool busy;			/* a job runs its request */
	struct json_object *refused[MAX_REFUSED];	/* their ids (or NULL) */
	int nr_refused;
	const char *busy_with;		/* the job's command, for the refusals */
	struct client *next;
};

struct control {
	struct vm *vm;
	int listen_fd;
	char *path;
	pthread_mutex_t lock;		/* the client list, writes, jobs */
	pthread_cond_t jobs_done;
	struct client *clients;
	int nr_clients;
	int nr_jobs;
};

struct job {
	struct client *c;
	char *line;
	size_t len;
	int passed_fd;
};

/* Caller holds ctl->lock and is the I/O thread (or the VM is ending). */
static void drop_client(struct control *ctl, struct client *c)
{
	struct client **p;

	for (p = &ctl->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	ioloop__del(ctl->vm, c->fd);
	close(c->fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	while (c->nr_refused)
		json_object_put(c->refused[--c->nr_refused]);
	json_line__release(&c->lb);
	free(c);
	ctl->nr_clients--;
}

/* Caller holds ctl->lock; false once the client is gone. */
static bool write_to(struct client *c, struct json_object *obj)
{
	if (!c->gone && json_line__write(c->fd, obj, MSG_DONTWAIT)) {
		c->gone = true;
		shutdown(c->fd, SHUT_RDWR);	/* the I/O thread sees the hang-up */
	}
	return !c->gone;
}

struct line_ctx {
	struct client *c;
	bool dropped;
};

static void client_input(int fd, uint32_t events, void *opaque);

/* The job's reply, the refusals behind it, the socket back in the loop. */
static void *job_thread(void *opaque)
{
	struct job *j = opaque;
	struct client *c = j->c;
	struct control *ctl = c->ctl;
	struct json_object *reply, *e;
	char why[128];
	int i;

	pthread_setname_np(pthread_self(), "control-job");
	reply = control__execute(ctl->vm, j->line, j->len, &j->passed_fd);
	if (j->passed_fd >= 0)
		close(j->passed_fd);
	pthread_mutex_lock(&ctl->lock);
	write_to(c, reply);
	snprintf(why, sizeof(why), "%s was running on this connection: "
		 "send one request at a time", c->busy_with);
	for (i = 0; i < c->nr_refused; i++) {
		e = control__error("GenericError", why);
		if (c->refused[i])
			json_object_object_add(e, "id", c->refused[i]);
		write_to(c, e);
		json_object_put(e);
	}
	c->nr_refused = 0;
	c->busy = false;
	/* Back in the loop, also when gone: the hang-up drops it there. */
	if (ioloop__add(ctl->vm, c->fd, EPOLLIN, client_input, c) && !c->gone) {
		c->gone = true;
		shutdown(c->fd, SHUT_RDWR);
	}
	ctl->nr_jobs--;
	pthread_cond_broadcast(&ctl->jobs_done);
	pthread_mutex_unlock(&ctl->lock);
	json_object_put(reply);
	free(j->line);
	free(j);
	return NULL;
}

/* Start request `line` (command `cmd`) on a job thread; false: run it here. */
static bool start_job(struct client *c, const char *cmd, const char *line, size_t len)
{
	struct control *ctl = c->ctl;
	pthread_attr_t attr;
	pthread_t t;
	struct job *j;
	bool ok;

	j = calloc(1, sizeof(*j));
	if (!j || !(j->line = malloc(len))) {
		free(j);
		return false;
	}
	memcpy(j->line, line, len);
	j->len = len;
	j->c = c;
	j->passed_fd = c->passed_fd;
	c->passed_fd = -1;	/* the job's now */
	pthread_mutex_lock(&ctl->lock);
	c->busy = true;
	c->busy_with = cmd;
	ioloop__del(ctl->vm, c->fd);
	ctl->nr_jobs++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ok = !pthread_create(&t, &attr, job_thread, j);
	pthread_attr_destroy(&attr);
	if (!ok) {
		c->busy = false;
		ctl->nr_jobs--;
		ioloop__add(ctl->vm, c->fd, EPOLLIN, client_input, c);
		c->passed_fd = j->passed_fd;	/* back, for the request run here */
	}
	pthread_mutex_unlock(&ctl->lock);
	if (!ok) {
		free(j->line);
		free(j);
	}
	return ok;
}

/* A line read behind a blocking command: refused after its reply (lock held). */
static bool refuse_later(struct client *c, const char *line, size_t len)
{
	struct json_object *req, *id = NULL;
	const char *perr;

	if (c->nr_refused == MAX_REFUSED)
		return false;
	req = line ? json_line__parse(line, len, &perr) : NULL;
	if (req && json_object_is_type(req, json_type_object) &&
	    json_object_object_get_ex(req, "id", &id))
		json_object_get(id);
	json_object_put(req);
	c->refused[c->nr_refused++] = id;
	return true;
}

static void on_line(const char *line, size_t len, void *opaque)
{
	struct line_ctx *lc = opaque;
	struct control *ctl = lc->c->ctl;
	struct json_object *reply;
	const char *cmd;
	bool busy;

	if (lc->dropped || (line && !len))
		return;				/* blank lines are allowed */
	pthread_mutex_lock(&ctl->lock);
	busy = lc->c->busy;
	if (busy && !refuse_later(lc->c, line, len))
		lc->dropped = true;
	pthread_mutex_unlock(&ctl->lock);
	if (busy)
		return;
	if (!line)
		reply = control__error("GenericError", "line too long");
	else if ((cmd = control__blocking(line, len)) && start_job(lc->c, cmd, line, len))
		return;
	else
		reply = control__execute(ctl->vm, line, len, &lc->c->passed_fd);
	/* A passed file is for the request it came with, taken or not. */
	if (lc->c->passed_fd >= 0) {
		close(lc->c->passed_fd);
		lc->c->passed_fd = -1;
	}
	pthread_mutex_lock(&ctl->lock);
	if (!write_to(lc->c, reply))
		lc->dropped = true;
	pthread_mutex_unlock(&ctl->lock);
	json_object_put(reply);
}

/*
 * read(), also taking a file passed with SCM_RIGHTS (ternctl's save-state
 * and load-state): it replaces one not yet used; any extra is closed.
 */
static ssize_t recv_with_fd(int fd, char *buf, size_t len, int *passed)
{
	union {
		char b[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.b, .msg_controllen = sizeof(u.b),
	};
	struct cmsghdr *cm;
	ssize_t n;
	size_t i, nfd;
	int f;

	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	for (cm = n < 0 ? NULL : CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*passed >= 0)
				close(*passed);
			*passed = f;
		}
	}
	return n;
}

static void client_input(int fd, uint32_t events, void *opaque)
{
	struct client *c = opaque;
	struct control *ctl = c->ctl;
	struct line_ctx lc = { c, false };
	char buf[4096];
	ssize_t n;

	n = recv_with_fd(fd, buf, sizeof(buf), &c->passed_fd);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0 && !c->gone &&
	    json_line__feed(&c->lb, buf, n, on_line, &lc) == 0 && !lc.dropped)
		return;
	pthread_mutex_lock(&ctl->lock);
	if (c->busy) {		/* its job re-adds it; the hang-up drops it then */
		c->gone = true;
		shutdown(c->fd, SHUT_RDWR);
	} else {
		drop_client(ctl, c);
	}
	pthread_mutex_unlock(&ctl->lock);
}

/*
 * The socket's mode already keeps others out; the peer's credentials are
 * checked too, as the socket's directory or a --control-group may let
 * more processes reach it than should drive the VM: root, ternvm's own
 * user, or a member (by effective gid) of --control-group.
 */
static bool peer_allowed(struct control *ctl, int cfd)
{
	struct json_object *e;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	char why[128];

	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return false;
	if (cr.uid == 0 || cr.uid == geteuid() ||
	    (ctl->vm->cfg.control_gid >= 0 && cr.gid == (gid_t)ctl->vm->cfg.control_gid))
		return true;
	snprintf(why, sizeof(why), "uid %u gid %u may not use this VM's control socket",
		 cr.uid, cr.gid);
	pr_warn("control: refused pid %d: %s", cr.pid, why);
	e = control__error("PermissionDenied", why);
	json_line__write(cfd, e, MSG_DONTWAIT);
	json_object_put(e);
	return false;
}

static void on_accept(int fd, uint32_t events, void *opaque)
{
	struct control *ctl = opaque;
	struct json_object *greeting;
	struct client *c;
	int cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (!peer_allowed(ctl, cfd)) {
		close(cfd);
		return;
	}
	pthread_mutex_lock(&ctl->lock);
	if (ctl->nr_clients >= MAX_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
		pthread_mutex_unlock(&ctl->lock);
		greeting = control__error("GenericError", "too many clients");
		json_line__write(cfd, greeting, MSG_DONTWAIT);
		json_object_put(greeting);
		close(cfd);
		return;
	}
	c->ctl = ctl;
	c->fd = cfd;
	c->passed_fd = -1;
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->nr_clients++;

	/* Registered after the greeting: no input is handled before it is out. */
	greeting = control__greeting();
	if (!write_to(c, greeting) || ioloop__add(ctl->vm, cfd, EPOLLIN, client_input, c))
		drop_client(ctl, c);
	pthread_mutex_unlock(&ctl->lock);
	json_object_put(greeting);
}

void control__event(struct vm *vm, const char *name, struct json_object *data)
{
	struct control *ctl = vm->ctl;
	struct json_object *ev, *ts;
	struct client *c;
	struct timeval tv;

	if (!ctl) {
		json_object_put(data);
		return;
	}
	gettimeofday(&tv, NULL);
	ev = json_object_new_object();
	ts = json_object_new_object();
	json_object_object_add(ts, "seconds", json_object_new_int64(tv.tv_sec));
	json_object_object_add(ts, "microseconds", json_object_new_int64(tv.tv_usec));
	json_object_object_add(ev, "event", json_object_new_string(name));
	json_object_object_add(ev, "data", data ?: json_object_new_object());
	json_object_object_add(ev, "timestamp", ts);
	pthread_mutex_lock(&ctl->lock);
	for (c = ctl->clients; c; c = c->next)
		write_to(c, ev);
	pthread_mutex_unlock(&ctl->lock);
	json_object_put(ev);
}

static int control__init(struct vm *vm)
{
	struct control *ctl;
	const char *why;
	int ret;

	if (!vm->cfg.control)
		return 0;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->vm = vm;
	pthread_mutex_init(&ctl->lock, NULL);
	pthread_cond_init(&ctl->jobs_done, NULL);
	ctl->listen_fd = unix_listen(vm->cfg.control, MAX_CLIENTS, &why);
	if (ctl->listen_fd < 0) {
		ret = ctl->listen_fd;
		pr_err("--control %s: %s", vm->cfg.control, why);
		goto err_free;
	}
	if (vm->cfg.control_gid >= 0 &&
	    (chown(vm->cfg.control, -1, vm->cfg.control_gid) ||
	     chmod(vm->cfg.control, 0660))) {
		ret = -errno;
		pr_err("--control-group: %s: %s", vm->cfg.control, strerror(errno));
		close(ctl->listen_fd);
		unlink(vm->cfg.control);
		goto err_free;
	}
	ctl->path = strdup(vm->cfg.control);
	ret = ctl->path ? ioloop__add(vm, ctl->listen_fd, EPOLLIN, on_accept, ctl) : -ENOMEM;
	if (ret)
		goto err_unlink;
	vm->ctl = ctl;
	return 0;

err_unlink:
	free(ctl->path);
	unlink(vm->cfg.control);
	close(ctl->listen_fd);
err_free:
	pthread_cond_destroy(&ctl->jobs_done);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
	return ret;
}

static int control__exit(struct vm *vm)
{
	struct control *ctl = vm->ctl;
	struct json_object *data;

	if (!ctl)
		return 0;
	data = json_object_new_object();
	json_object_object_add(data, "reason",
			       json_object_new_string(vm__exit_name(vm->exit_reason)));
	control__event(vm, "SHUTDOWN", data);
	pthread_mutex_lock(&ctl->lock);
	while (ctl->clients)
		drop_client(ctl, ctl->clients);
	pthread_mutex_unlock(&ctl->lock);
	ioloop__del(vm, ctl->listen_fd);
	close(ctl->listen_fd);
	unlink(ctl->path);
	free(ctl->path);
	pthread_cond_destroy(&ctl->jobs_done);
	pthread_mutex_destroy(&ctl->lock);
	vm->ctl = NULL;
	free(ctl);
	return 0;
}
late_init(control__init);

/*
 * First of the late exits (control.c is linked after the migration's), so
 * before any device goes: a running job (save-state) uses the devices.
 */
static int control__end_jobs(struct vm *vm)
{
	struct control *ctl = vm->ctl;

	if (!ctl)
		return 0;
	pthread_mutex_lock(&ctl->lock);
	while (ctl->nr_jobs)
		pthread_cond_wait(&ctl->jobs_done, &ctl->lock);
	pthread_mutex_unlock(&ctl->lock);
	return 0;
}
late_exit(control__end_jobs);
/*
 * After every late exit, the migration's among them: its last MIGRATION
 * event still reaches the clients.  control__exit copes with a
 * control__init that never ran.
 */
virtio_dev_exit(control__exit);
