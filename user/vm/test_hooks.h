/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault hooks for tests, compiled only into the test build of ternvm
 * (ternvm-test, -DTERN_TEST_HOOKS); in the shipped binary they are
 * constant false and vanish.  A test sets TERN_TEST_REFUSE=CALL[@ID] in
 * the environment to make that KVM call (on that vCPU, any if no @ID)
 * fail with EINVAL, as a KVM that rejects the state would.
 *
 * TERN_TEST_ONE_REQUEST=MODEL[:MS] (e.g. virtio-blk:20): that device
 * model takes one request per kick, MS milliseconds late (slow storage),
 * and kicks itself again for the rest, so requests a busy guest queued
 * wait in the ring; a pause for switchover then finds them there (they
 * travel in the ring to the destination), which the fast, draining
 * handler of the shipped build leaves to chance.
 *
 * TERN_TEST_PAUSE_GAP_MS=MS: a pause parks the vCPUs, then waits MS
 * before it stops the devices, widening the instant in which a device's
 * kernel writer fills guest memory that no vCPU reads until the
 * destination runs.
 *
 * TERN_TEST_VHOST_UNLOGGED=1: vhost-net is never told to log its writes
 * (the memfd backend then misses them), so a test shows its oracle sees
 * a kernel writer that nobody tracks.
 *
 * The migration's (migrate.c), each making this side differ the way
 * another build or host would: TERN_MIG_TEST_RAM_NAME=NAME, another name
 * for ram0 (a missing block); TERN_MIG_TEST_CAPS=0xN and
 * TERN_MIG_TEST_REQUIRE=0xN, the capabilities offered and required;
 * TERN_MIG_TEST_DEVICE=PATH:MIN:MAX, versions MIN..MAX claimed for the
 * device at PATH (a version skew).
 */
#ifndef TERN_VM_TEST_HOOKS_H
#define TERN_VM_TEST_HOOKS_H

#include <stdbool.h>

#ifdef TERN_TEST_HOOKS
bool test_hook__refuse(const char *call, int id);
/* The hook's delay in ms for MODEL (0 if none given), or -1: no hook. */
int test_hook__one_request(const char *model);
/* The variable NAME of the environment; NULL in the shipped build. */
const char *test_hook__env(const char *name);
#else
static inline bool test_hook__refuse(const char *call, int id)
{
	return false;
}

static inline int test_hook__one_request(const char *model)
{
	return -1;
}

static inline const char *test_hook__env(const char *name)
{
	return NULL;
}
#endif

#endif /* TERN_VM_TEST_HOOKS_H */
