// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl query-commands: ternvm's control commands, each with its help
 * and arguments (query-commands on the socket), or the JSON with --json.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ipc.h"
#include "ctl/subcommands.h"
#include "lib/log.h"

static const char *field(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

int query_commands_main(const struct ctl_call *c)
{
	struct json_object *ret, *list, *cmd, *args, *a, *req;
	struct ipc *ipc = ctl__connect();
	const char *err;
	size_t i, j;
	int r;

	if (!ipc)
		return 1;
	r = ipc__command(ipc, "query-commands", NULL, &ret, &err);
	if (r) {
		pr_err("query-commands: %s", err ?: "no reply");
		ipc__close(ipc);
		return 1;
	}
	if (ctl_json) {
		printf("%s\n", json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN));
	} else if (json_object_object_get_ex(ret, "commands", &list)) {
		for (i = 0; i < json_object_array_length(list); i++) {
			cmd = json_object_array_get_idx(list, i);
			printf("%s", field(cmd, "name"));
			json_object_object_get_ex(cmd, "arguments", &args);
			for (j = 0; j < json_object_array_length(args); j++) {
				a = json_object_array_get_idx(args, j);
				req = json_object_object_get(a, "required");
				printf(json_object_get_boolean(req) ? " %s:%s" : " [%s:%s]",
				       field(a, "name"), field(a, "type"));
			}
			printf("\n    %s\n", field(cmd, "help"));
		}
	}
	json_object_put(ret);
	ipc__close(ipc);
	return 0;
}
