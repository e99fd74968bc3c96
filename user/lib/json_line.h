/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JSON lines over a stream socket, shared by ternvm's control socket and
 * ternctl: a bounded line splitter (an overlong line is reported once and
 * skipped, never buffered whole), a depth-limited parser, and a writer.
 */
#ifndef TERN_LIB_JSON_LINE_H
#define TERN_LIB_JSON_LINE_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

#define JSON_LINE_MAX	(64 * 1024)	/* longest accepted line, bytes */
#define JSON_DEPTH_MAX	16		/* deepest accepted nesting */

struct json_line_buf {
	char *buf;
	size_t len;
	size_t cap;		/* == JSON_LINE_MAX once allocated */
	bool discarding;	/* inside an overlong line */
};

/*
 * Split data into lines; call fn(line, len, opaque) for each complete one
 * (NUL-terminated, without the newline), or fn(NULL, 0, opaque) once for
 * each overlong line.  Returns 0, or -ENOMEM.
 */
int json_line__feed(struct json_line_buf *b, const char *data, size_t n,
		    void (*fn)(const char *line, size_t len, void *opaque),
		    void *opaque);
void json_line__release(struct json_line_buf *b);

/* Parse one line; NULL with *err set on malformed or too deep input. */
struct json_object *json_line__parse(const char *line, size_t len,
				     const char **err);
/* Write obj and a newline; 0 or -errno. */
int json_line__write(int fd, struct json_object *obj, int flags);

#endif /* TERN_LIB_JSON_LINE_H */
