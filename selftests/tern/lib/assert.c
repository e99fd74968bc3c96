// SPDX-License-Identifier: GPL-2.0
/*
 * TEST_ASSERT: report the failed condition with file:line, the process and
 * thread it failed in (writers are threads and forked children), and
 * errno; then exit.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_util.h"

void test_assert(bool cond, const char *file, int line, const char *expr,
		 const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	if (cond)
		return;
	fprintf(stderr, "# ==== Test assertion failure ====\n");
	fprintf(stderr, "#   %s:%d: %s\n", file, line, expr);
	fprintf(stderr, "#   pid=%d tid=%d\n", (int)getpid(), (int)gettid());
	fprintf(stderr, "#   errno=%d (%s)\n#   ", err, strerror(err));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}
