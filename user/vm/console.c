// SPDX-License-Identifier: GPL-2.0
/*
 * Console backends (see console.h).  Output the vCPU stores to the UART
 * goes into a bounded ring that a writer thread drains to the backend, so
 * a reader that stops reading (a console client, an undrained stdout pipe)
 * blocks only that thread: once the ring is full, output is dropped and
 * counted, and the guest, stop, migrate and quit go on.  Input arrives on
 * the I/O thread and is handed to the device's receive callback.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/unix_listen.h"
#include "vm/console.h"
#include "vm/ioloop.h"
#include "vm/sandbox.h"
#include "vm/vm.h"

/* Output a stalled reader may leave behind before more is dropped. */
#define CON_RING	(64 << 10)
/* How long closing waits for the writer to flush before it cancels it. */
#define CON_FLUSH_MS	1000

struct console {
	struct vm *vm;
	int in_fd;		/* -1: no input */
	int listen_fd;		/* unix: the listening socket */
	char *sock_path;
	console_rx_fn rx;
	void *opaque;

	/* Output, under lock: the vCPU appends, the writer drains. */
	pthread_mutex_t lock;
	pthread_cond_t more;
	pthread_t writer;
	bool writer_on, stop;
	int out_fd;		/* -1: no reader, output is dropped */
	int gone_fd;		/* a client gone: the writer closes it */
	uint8_t ring[CON_RING];
	size_t head, len;	/* bytes [head, head + len) modulo CON_RING */
	uint64_t dropped;	/* bytes a full ring refused, in total */
	uint64_t stall_from;	/* `dropped` when this stall began */
	bool stalled;
};

/*
 * The writer: blocking writes with the lock dropped.  Only the bytes
 * [head, head + n) are read meanwhile, and the vCPU only appends past
 * them.  Cancellable only inside write(), where it holds nothing.
 */
static void *con_writer(void *opaque)
{
	struct console *con = opaque;
	size_t n;
	ssize_t w;
	int fd;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	sandbox__enter(SANDBOX_IO);
	pthread_mutex_lock(&con->lock);
	for (;;) {
		while (!con->stop && !con->len && con->gone_fd < 0)
			pthread_cond_wait(&con->more, &con->lock);
		if (con->gone_fd >= 0) {
			close(con->gone_fd);
			con->gone_fd = -1;
		}
		if (!con->len) {
			if (con->stalled) {
				pr_info("console: output flows again; %" PRIu64 " bytes were dropped",
					con->dropped - con->stall_from);
				con->stalled = false;
			}
			if (con->stop)
				break;
			continue;
		}
		n = con->len < CON_RING - con->head ? con->len : CON_RING - con->head;
		fd = con->out_fd;
		pthread_mutex_unlock(&con->lock);
		w = n;
		if (fd >= 0) {
			pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
			w = write(fd, con->ring + con->head, n);
			pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		}
		pthread_mutex_lock(&con->lock);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			w = n;		/* a gone reader's bytes are dropped */
		con->head = (con->head + w) % CON_RING;
		con->len -= w;
	}
	pthread_mutex_unlock(&con->lock);
	return NULL;
}

static void con_input(int fd, uint32_t events, void *opaque)
{
	struct console *con = opaque;
	uint8_t buf[256];
	ssize_t n;

	n = read(fd, buf, sizeof(buf));
	if (n > 0) {
		con->rx(con->opaque, buf, n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	ioloop__del(con->vm, fd);
	if (con->listen_fd >= 0) {		/* client gone */
		pthread_mutex_lock(&con->lock);
		con->out_fd = -1;
		con->gone_fd = fd;	/* not while the writer may use it */
		pthread_cond_signal(&con->more);
		pthread_mutex_unlock(&con->lock);
		con->in_fd = -1;
	}
}

static void con_accept(int fd, uint32_t events, void *opaque)
{
	struct console *con = opaque;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	if (c < 0)
		return;
	if (con->in_fd >= 0) {			/* one client at a time */
		close(c);
		return;
	}
	con->in_fd = c;
	pthread_mutex_lock(&con->lock);
	con->out_fd = c;
	pthread_mutex_unlock(&con->lock);
	ioloop__add(con->vm, c, EPOLLIN, con_input, con);
}

static int open_unix(struct console *con, const char *path, const char **why)
{
	con->listen_fd = unix_listen(path, 1, why);
	if (con->listen_fd < 0)
		return con->listen_fd;
	con->sock_path = strdup(path);
	if (!con->sock_path) {
		unlink(path);
		return -ENOMEM;
	}
	return ioloop__add(con->vm, con->listen_fd, EPOLLIN, con_accept, con);
}

/* epoll refuses regular files and /dev/null (EPERM): no input from those. */
static bool stdin_pollable(void)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st))
		return false;
	return !S_ISREG(st.st_mode) && (!S_ISCHR(st.st_mode) || isatty(STDIN_FILENO));
}

struct console *console__open(struct vm *vm, const char *spec,
			      console_rx_fn rx, void *opaque)
{
	struct console *con;
	const char *why = NULL;
	int ret = 0;

	con = calloc(1, sizeof(*con));
	if (!con)
		return NULL;
	con->vm = vm;
	con->in_fd = con->listen_fd = con->out_fd = con->gone_fd = -1;
	con->rx = rx;
	con->opaque = opaque;
	pthread_mutex_init(&con->lock, NULL);
	pthread_cond_init(&con->more, NULL);
	if (!spec || !strcmp(spec, "stdio")) {
		con->in_fd = stdin_pollable() ? dup(STDIN_FILENO) : -1;
		con->out_fd = STDOUT_FILENO;
		if (con->in_fd >= 0 && ioloop__add(vm, con->in_fd, EPOLLIN, con_input, con)) {
			close(con->in_fd);
			con->in_fd = -1;
		}
	} else if (!strncmp(spec, "file:", 5)) {
		con->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (con->out_fd < 0)
			ret = -errno;
	} else if (!strncmp(spec, "unix:", 5)) {
		ret = open_unix(con, spec + 5, &why);
	} else {
		ret = -EINVAL;
	}
	if (!ret) {
		ret = -pthread_create(&con->writer, NULL, con_writer, con);
		con->writer_on = !ret;
	}
	if (ret) {
		pr_err("console %s: %s", spec, why ? why : strerror(-ret));
		console__close(vm, con);
		errno = -ret;
		return NULL;
	}
	return con;
}

/* From a vCPU: never waits for the reader. */
void console__write(struct console *con, const uint8_t *buf, size_t len)
{
	size_t room, tail, n;

	pthread_mutex_lock(&con->lock);
	room = CON_RING - con->len;
	n = len < room ? len : room;
	tail = (con->head + con->len) % CON_RING;
	if (n > CON_RING - tail) {
		memcpy(con->ring + tail, buf, CON_RING - tail);
		memcpy(con->ring, buf + (CON_RING - tail), n - (CON_RING - tail));
	} else {
		memcpy(con->ring + tail, buf, n);
	}
	con->len += n;
	if (n < len) {
		if (!con->stalled) {
			pr_warn("console: the reader stopped reading; dropping output");
			con->stalled = true;
			con->stall_from = con->dropped;
		}
		con->dropped += len - n;
	}
	pthread_cond_signal(&con->more);
	pthread_mutex_unlock(&con->lock);
}

/*
 * Let the writer flush what is left for a while (a guest's last words
 * before it powered off), then cancel a write that a stalled reader
 * keeps blocked.
 */
static void stop_writer(struct console *con)
{
	struct timespec ts;

	pthread_mutex_lock(&con->lock);
	con->stop = true;
	pthread_cond_signal(&con->more);
	pthread_mutex_unlock(&con->lock);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += CON_FLUSH_MS / 1000;
	if (pthread_timedjoin_np(con->writer, NULL, &ts)) {
		pthread_cancel(con->writer);
		pthread_join(con->writer, NULL);
	}
	con->writer_on = false;
}

void console__close(struct vm *vm, struct console *con)
{
	if (!con)
		return;
	if (con->writer_on)
		stop_writer(con);
	if (con->gone_fd >= 0)
		close(con->gone_fd);
	if (con->in_fd >= 0) {
		ioloop__del(vm, con->in_fd);
		close(con->in_fd);
	}
	if (con->out_fd >= 0 && con->out_fd != STDOUT_FILENO && con->out_fd != con->in_fd)
		close(con->out_fd);
	if (con->listen_fd >= 0) {
		ioloop__del(vm, con->listen_fd);
		close(con->listen_fd);
	}
	if (con->sock_path) {
		unlink(con->sock_path);
		free(con->sock_path);
	}
	pthread_cond_destroy(&con->more);
	pthread_mutex_destroy(&con->lock);
	free(con);
}
