/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Boot-time self-tests of the module's pure logic, built only with DEBUG
 * (make module CONFIG_TERN_DEBUG=y); the module refuses to load if one fails.
 */
#ifndef _TERN_SELFTEST_H
#define _TERN_SELFTEST_H

#include <linux/types.h>

#ifdef DEBUG
bool tern_selftest_records(void);
bool tern_selftest_runs(void);

static inline bool tern_selftest_run(void)
{
	return tern_selftest_records() && tern_selftest_runs();
}
#else
static inline bool tern_selftest_run(void)
{
	return true;
}
#endif

#endif /* _TERN_SELFTEST_H */
