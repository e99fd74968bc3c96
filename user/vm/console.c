// SPDX-License-Identifier: GPL-2.0
/*
 * Console backends (see console.h).  Output is written from the vCPU that
 * stores to the UART; input arrives on the I/O thread and is handed to the
 * device's receive callback.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/unix_listen.h"
#include "vm/console.h"
#include "vm/ioloop.h"
#include "vm/vm.h"

struct console {
	struct vm *vm;
	int in_fd;		/* -1: no input */
	int out_fd;
	int listen_fd;		/* unix: the listening socket */
	char *sock_path;
	console_rx_fn rx;
	void *opaque;
};

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
		close(fd);
		__atomic_store_n(&con->out_fd, -1, __ATOMIC_RELEASE);
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
	__atomic_store_n(&con->out_fd, c, __ATOMIC_RELEASE);
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
	*con = (struct console){ vm, -1, -1, -1, NULL, rx, opaque };
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
	if (ret) {
		pr_err("console %s: %s", spec, why ? why : strerror(-ret));
		console__close(vm, con);
		errno = -ret;
		return NULL;
	}
	return con;
}

void console__write(struct console *con, const uint8_t *buf, size_t len)
{
	int fd = __atomic_load_n(&con->out_fd, __ATOMIC_ACQUIRE);
	ssize_t n;

	while (fd >= 0 && len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* a gone reader never stalls the guest */
		buf += n;
		len -= n;
	}
}

void console__close(struct vm *vm, struct console *con)
{
	if (!con)
		return;
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
	free(con);
}
