// SPDX-License-Identifier: GPL-2.0
/* Logging for Tern's userspace programs: see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/log.h"

enum log_level log__level = LOG_INFO;
static const char *log_prog = "tern";

void log__init(const char *prog)
{
	log_prog = prog;
	if (getenv("TERN_DEBUG"))
		log__level = LOG_DEBUG;
}

static __attribute__((format(printf, 2, 0))) void
log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const prefix[] = {
		[LOG_ERR] = "error: ",
		[LOG_WARN] = "warning: ",
		[LOG_INFO] = "",
		[LOG_DEBUG] = "debug: ",
	};
	char line[1024];

	/* One write per message so lines from threads do not interleave. */
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%s: %s%s\n", log_prog, prefix[level], line);
}

void log__printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log__level)
		return;
	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
