/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging for Tern's userspace: pr_err/pr_warn/pr_info/pr_debug, printf
 * checked, one line each on stderr with the program's name.  die() is for
 * startup paths in main() only, never for save, load or migration code.
 */
#ifndef TERN_LIB_LOG_H
#define TERN_LIB_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped; "debug" when TERN_DEBUG is set. */
extern enum log_level log__level;

void log__init(const char *prog);
void log__printf(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#define pr_err(fmt, ...)	log__printf(LOG_ERR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)	log__printf(LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)	log__printf(LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...)						\
	log__printf(LOG_DEBUG, "%s:%s:%d: " fmt, __FILE__, __func__,	\
		    __LINE__, ##__VA_ARGS__)

#endif /* TERN_LIB_LOG_H */
