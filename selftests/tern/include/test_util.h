/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by Tern's selftests: TEST_ASSERT for code outside a
 * kselftest TEST body (threads, forked writers), and TEST_REQUIRE to skip
 * when a prerequisite (module, /dev/kvm, root) is absent.
 */
#ifndef TERN_SELFTEST_TEST_UTIL_H
#define TERN_SELFTEST_TEST_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

void test_assert(bool cond, const char *file, int line, const char *expr,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Fails the whole process with the condition, file:line, pid, tid and
 * errno; fmt should name the call that failed ("KVM_RUN", "harvest").
 */
#define TEST_ASSERT(cond, fmt, ...)					\
	test_assert(!!(cond), __FILE__, __LINE__, #cond, fmt, ##__VA_ARGS__)

/* Inside a kselftest TEST body: skip (never pass) when cond is false. */
#define TEST_REQUIRE(cond)						\
	do {								\
		if (!(cond))						\
			SKIP(return, "requirement not met: %s", #cond);	\
	} while (0)

#endif /* TERN_SELFTEST_TEST_UTIL_H */
