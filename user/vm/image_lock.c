// SPDX-License-Identifier: GPL-2.0
/*
 * Disk image locks (see image_lock.h).  F_OFD_GETLK names no holder for
 * an OFD lock (l_pid is -1), so the holder is looked for the way lslocks
 * does: /proc/PID/fdinfo of every process lists the locks of each fd,
 * with the file's device and inode.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "vm/image_lock.h"

static struct flock whole(short type)
{
	return (struct flock){ .l_type = type, .l_whence = SEEK_SET };
}

/* Does fdinfo file `path` list a lock on dev:ino? */
static int fdinfo_locks(const char *path, dev_t dev, ino_t ino)
{
	char line[256], want[64];
	int found = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	/* "lock:\t1: OFDLCK  ADVISORY  WRITE -1 fd:01:1234 0 EOF" */
	snprintf(want, sizeof(want), " %02x:%02x:%llu ", major(dev), minor(dev),
		 (unsigned long long)ino);
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "lock:", 5) && strstr(line, want);
	fclose(f);
	return found;
}

/* A pid (not ours) with a lock on the file fd names, or -1. */
static long find_holder(int fd)
{
	char path[300];
	struct dirent *p, *e;
	struct stat st;
	DIR *proc, *fds;
	long pid, found = -1;

	if (fstat(fd, &st) || !(proc = opendir("/proc")))
		return -1;
	while (found < 0 && (p = readdir(proc))) {
		pid = strtol(p->d_name, NULL, 10);
		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fdinfo", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (found < 0 && (e = readdir(fds))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%s", pid, e->d_name);
			if (fdinfo_locks(path, st.st_dev, st.st_ino))
				found = pid;
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

/* 0, -EBUSY (held by another), or -errno with why filled. */
static int try_lock(int fd, const char *path, char *why, size_t len)
{
	struct flock fl = whole(F_WRLCK);
	int err;

	if (!fcntl(fd, F_OFD_SETLK, &fl))
		return 0;
	err = errno;
	if (err == EAGAIN || err == EACCES)
		return -EBUSY;
	snprintf(why, len, "%s: cannot lock it: %s", path, strerror(err));
	return -err;
}

static int held(int fd, const char *path, char *why, size_t len)
{
	struct flock fl = whole(F_WRLCK);
	long pid;

	pid = !fcntl(fd, F_OFD_GETLK, &fl) && fl.l_type != F_UNLCK ? fl.l_pid : -1;
	if (pid <= 0)
		pid = find_holder(fd);
	if (pid > 0)
		snprintf(why, len, "%s is locked: another VM runs on it (pid %ld)", path, pid);
	else
		snprintf(why, len, "%s is locked: another VM runs on it (its pid not "
			 "found: the kernel names no holder of an OFD lock, and no process "
			 "here lists it; another host?)", path);
	return -EBUSY;
}

int image_lock__take(int fd, const char *path, char *why, size_t len)
{
	int ret = try_lock(fd, path, why, len);

	return ret == -EBUSY ? held(fd, path, why, len) : ret;
}

int image_lock__take_wait(int fd, const char *path, unsigned int ms,
			  char *why, size_t len)
{
	struct timespec tick = { 0, 10 * 1000000 };
	unsigned int waited = 0;
	int ret;

	for (;;) {
		ret = try_lock(fd, path, why, len);
		if (ret != -EBUSY)
			return ret;
		if (waited >= ms)
			return held(fd, path, why, len);
		nanosleep(&tick, NULL);
		waited += 10;
	}
}

void image_lock__drop(int fd)
{
	struct flock fl = whole(F_UNLCK);

	fcntl(fd, F_OFD_SETLK, &fl);
}
