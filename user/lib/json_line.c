// SPDX-License-Identifier: GPL-2.0
/* JSON lines: see json_line.h. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/json_line.h"

int json_line__feed(struct json_line_buf *b, const char *data, size_t n,
		    void (*fn)(const char *line, size_t len, void *opaque),
		    void *opaque)
{
	if (!b->buf) {
		b->buf = malloc(JSON_LINE_MAX + 1);
		if (!b->buf)
			return -ENOMEM;
		b->cap = JSON_LINE_MAX;
	}
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t chunk = nl ? (size_t)(nl - data) : n;

		if (!b->discarding) {
			if (b->len + chunk > b->cap) {
				b->discarding = true;
				b->len = 0;
				fn(NULL, 0, opaque);
			} else {
				memcpy(b->buf + b->len, data, chunk);
				b->len += chunk;
			}
		}
		if (!nl)
			break;
		if (!b->discarding) {
			if (b->len && b->buf[b->len - 1] == '\r')
				b->len--;
			b->buf[b->len] = '\0';
			fn(b->buf, b->len, opaque);
		}
		b->len = 0;
		b->discarding = false;
		data += chunk + 1;
		n -= chunk + 1;
	}
	return 0;
}

void json_line__release(struct json_line_buf *b)
{
	free(b->buf);
	*b = (struct json_line_buf){ 0 };
}

struct json_object *json_line__parse(const char *line, size_t len,
				     const char **err)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH_MAX);
	struct json_object *obj;
	enum json_tokener_error jerr;

	if (!tok) {
		*err = "out of memory";
		return NULL;
	}
	obj = json_tokener_parse_ex(tok, line, len);
	jerr = json_tokener_get_error(tok);
	if (obj && json_tokener_get_parse_end(tok) != len) {
		jerr = json_tokener_error_parse_unexpected;	/* trailing bytes */
	} else if (!obj && jerr == json_tokener_continue) {
		/* A bare number may go on: the end of the line ends it. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
	if (!obj || jerr != json_tokener_success) {
		if (jerr == json_tokener_continue)
			*err = "incomplete JSON";
		else if (jerr == json_tokener_error_depth)
			*err = "JSON nested too deeply";
		else if (obj)
			*err = "trailing characters after JSON";
		else
			*err = json_tokener_error_desc(jerr);
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

int json_line__write(int fd, struct json_object *obj, int flags)
{
	size_t len, off = 0;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
	char *line = malloc(len + 1);
	ssize_t n;
	int ret = 0;

	if (!line)
		return -ENOMEM;
	memcpy(line, s, len);
	line[len++] = '\n';
	while (off < len) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL | flags);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EPIPE;
			break;
		}
		off += n;
	}
	free(line);
	return ret;
}
