// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl migrate URI [--detach]: start a live migration to URI and wait
 * for its MIGRATION event (the final state and statistics); exit 0 only
 * if it completed.  --detach returns once it started.
 */
#include <stdio.h>
#include <string.h>

#include "ctl/ipc.h"
#include "ctl/subcommands.h"
#include "lib/log.h"

int migrate_main(int argc, char **argv)
{
	struct json_object *args, *ret, *ev, *name, *data, *status;
	bool detach = argc == 3 && !strcmp(argv[2], "--detach");
	struct ipc *ipc;
	const char *err;
	int r;

	if (argc != 2 && !detach) {
		pr_err("usage: ternctl migrate URI [--detach]");
		return 1;
	}
	ipc = ctl__connect();
	if (!ipc)
		return 1;
	args = json_object_new_object();
	json_object_object_add(args, "uri", json_object_new_string(argv[1]));
	r = ipc__command(ipc, "migrate", args, &ret, &err);
	json_object_put(ret);
	if (r) {
		pr_err("migrate: %s", err ?: "no reply");
		ipc__close(ipc);
		return 1;
	}
	r = 0;
	while (!detach) {
		ev = ipc__next_event(ipc, -1);
		if (!ev) {
			pr_err("migrate: connection lost before the end");
			r = 1;
			break;
		}
		json_object_object_get_ex(ev, "event", &name);
		if (strcmp(json_object_get_string(name), "MIGRATION")) {
			json_object_put(ev);
			continue;
		}
		json_object_object_get_ex(ev, "data", &data);
		json_object_object_get_ex(data, "status", &status);
		if (ctl_json)
			printf("%s\n", json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN));
		else
			printf("%s\n", json_object_get_string(status));
		r = strcmp(json_object_get_string(status), "completed") ? 1 : 0;
		json_object_put(ev);
		break;
	}
	ipc__close(ipc);
	return r;
}
