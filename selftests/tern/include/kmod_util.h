/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading and unloading tern.ko from a test.  tern_module_load() asserts
 * success; __tern_module_load() returns 0 or -errno for negative tests.
 * The module file is $TERN_KO, else kmod/tern.ko.
 */
#ifndef TERN_SELFTEST_KMOD_UTIL_H
#define TERN_SELFTEST_KMOD_UTIL_H

#include <stdbool.h>

#define TERN_DEV_PATH	"/dev/tern"

bool tern_module_loaded(void);
int __tern_module_load(void);
int __tern_module_unload(void);
void tern_module_load(void);
void tern_module_unload(void);

#endif /* TERN_SELFTEST_KMOD_UTIL_H */
