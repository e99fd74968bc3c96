// SPDX-License-Identifier: GPL-2.0
/* Load and unload tern.ko through finit_module(2) and delete_module(2). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kmod_util.h"
#include "test_util.h"

static const char *tern_ko_path(void)
{
	const char *p = getenv("TERN_KO");

	return p ? p : "kmod/tern.ko";
}

bool tern_module_loaded(void)
{
	struct stat st;

	return stat("/sys/module/tern", &st) == 0;
}

int __tern_module_load(void)
{
	int fd, ret;

	fd = open(tern_ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0);
	if (ret < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int __tern_module_unload(void)
{
	if (syscall(SYS_delete_module, "tern", O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

void tern_module_load(void)
{
	int ret = __tern_module_load();

	errno = -ret;
	TEST_ASSERT(ret == 0, "finit_module(%s) failed", tern_ko_path());
}

void tern_module_unload(void)
{
	int ret = __tern_module_unload();

	errno = -ret;
	TEST_ASSERT(ret == 0, "delete_module(tern) failed");
}
