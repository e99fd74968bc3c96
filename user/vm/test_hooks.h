/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault hooks for tests, compiled only into the test build of ternvm
 * (ternvm-test, -DTERN_TEST_HOOKS); in the shipped binary they are
 * constant false and vanish.  A test sets TERN_TEST_REFUSE=CALL[@ID] in
 * the environment to make that KVM call (on that vCPU, any if no @ID)
 * fail with EINVAL, as a KVM that rejects the state would.
 */
#ifndef TERN_VM_TEST_HOOKS_H
#define TERN_VM_TEST_HOOKS_H

#include <stdbool.h>

#ifdef TERN_TEST_HOOKS
bool test_hook__refuse(const char *call, int id);
#else
static inline bool test_hook__refuse(const char *call, int id)
{
	return false;
}
#endif

#endif /* TERN_VM_TEST_HOOKS_H */
