// SPDX-License-Identifier: GPL-2.0
/*
 * The test build's fault hooks (test_hooks.h): linked only into
 * ternvm-test, never into the shipped ternvm.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/test_hooks.h"

bool test_hook__refuse(const char *call, int id)
{
	const char *env = getenv("TERN_TEST_REFUSE");
	size_t n = strlen(call);
	int want;

	if (!env || strncmp(env, call, n))
		return false;
	if (!env[n])
		return true;
	return env[n] == '@' && sscanf(env + n + 1, "%d", &want) == 1 && want == id;
}

int test_hook__one_request(const char *model)
{
	const char *env = getenv("TERN_TEST_ONE_REQUEST");
	size_t n = strlen(model);

	if (!env || strncmp(env, model, n) || (env[n] && env[n] != ':'))
		return -1;
	return env[n] ? atoi(env + n + 1) : 0;
}

const char *test_hook__env(const char *name)
{
	return getenv(name);
}
