// SPDX-License-Identifier: GPL-2.0
/*
 * A listening unix socket at a path given on the command line.  A
 * mistyped path must not delete a file, and a second ternvm must not take
 * a live VM's socket: only a socket nobody answers on is replaced.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/unix_listen.h"

/* 0 if a listener answers at @sa, else a negative errno. */
static int probe(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (fd < 0)
		return -errno;
	/* EAGAIN: a live listener whose backlog is full. */
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) && errno != EAGAIN)
		ret = -errno;
	close(fd);
	return ret;
}

/* Clear @sa's path if it holds a stale socket; refuse anything else. */
static int clear_stale(const struct sockaddr_un *sa, const char **why)
{
	struct stat st;
	int ret;

	if (lstat(sa->sun_path, &st)) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		*why = strerror(errno);
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		*why = "exists and is not a socket (left as it is)";
		return -EEXIST;
	}
	ret = probe(sa);
	if (!ret) {
		*why = "in use by another ternvm";
		return -EADDRINUSE;
	}
	if (ret != -ECONNREFUSED) {	/* cannot tell: leave it be */
		*why = strerror(-ret);
		return ret;
	}
	if (unlink(sa->sun_path) && errno != ENOENT) {
		ret = -errno;
		*why = strerror(errno);
		return ret;
	}
	return 0;
}

/*
 * Returns a listening socket bound at @path with mode 0600, or a negative
 * errno with *@why saying what is wrong with the path.  The mode is set
 * between bind() and listen(): no client can connect before listen(), and
 * the process-wide umask stays untouched for other threads.
 */
int unix_listen(const char *path, int backlog, const char **why)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		*why = "path too long";
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	ret = clear_stale(&sa, why);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto err;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		goto err_close;
	}
	if (chmod(path, 0600) || listen(fd, backlog)) {
		ret = -errno;
		goto err_unlink;
	}
	return fd;

err_unlink:
	unlink(path);
err_close:
	close(fd);
err:
	*why = strerror(-ret);
	return ret;
}
