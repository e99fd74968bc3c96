// SPDX-License-Identifier: GPL-2.0
/*
 * tern-json KEY: the member KEY of the JSON object on standard input, for
 * the shell tests (the harness has busybox, no jq).  The input may be a
 * command's whole output, messages on stderr and all: the last line that
 * parses as a JSON object is read.  A string prints unescaped, anything
 * else as JSON; exit 1 with nothing printed if no object or no KEY.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct json_object *obj = NULL, *o, *v;
	char *line = NULL;
	size_t cap = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: tern-json KEY < JSON\n");
		return 2;
	}
	while (getline(&line, &cap, stdin) >= 0) {
		o = json_tokener_parse(line);
		if (o && json_object_is_type(o, json_type_object)) {
			json_object_put(obj);
			obj = o;
		} else {
			json_object_put(o);
		}
	}
	free(line);
	if (!obj || !json_object_object_get_ex(obj, argv[1], &v)) {
		json_object_put(obj);
		return 1;
	}
	if (json_object_is_type(v, json_type_string))
		puts(json_object_get_string(v));
	else
		puts(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	json_object_put(obj);
	return 0;
}
