/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading and unloading tern.ko from a test.  tern_module_load() asserts
 * success; __tern_module_load() returns 0 or -errno for negative tests.
 * The module file is $TERN_KO, else kmod/tern.ko.
 */
#ifndef TERN_SELFTEST_KMOD_UTIL_H
#define TERN_SELFTEST_KMOD_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#define TERN_DEV_PATH	"/dev/tern"

/*
 * In a kselftest TEST: tern.ko is there, loaded here if a test before
 * unloaded it, or the test fails.  Never a skip: the harness loads the
 * module at boot, so a missing /dev/tern is a bug to see, not to pass.
 */
#define REQUIRE_TERN()							\
	do {								\
		if (getuid() == 0 && !tern_module_loaded())		\
			__tern_module_load();				\
		ASSERT_EQ(0, access(TERN_DEV_PATH, F_OK))		\
			TH_LOG("%s: %s (is tern.ko loaded?)",		\
			       TERN_DEV_PATH, strerror(errno));		\
	} while (0)

bool tern_module_loaded(void);
int __tern_module_load(void);
int __tern_module_unload(void);
void tern_module_load(void);
void tern_module_unload(void);

#endif /* TERN_SELFTEST_KMOD_UTIL_H */
