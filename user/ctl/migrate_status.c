// SPDX-License-Identifier: GPL-2.0
/* ternctl query-migrate (alias migrate-status): the migration's state and statistics (query-migrate). */
#include <stdio.h>

#include "ctl/ipc.h"
#include "ctl/subcommands.h"
#include "lib/log.h"

int migrate_status_main(int argc, char **argv)
{
	struct json_object *ret, *v;
	struct ipc *ipc;
	const char *err;
	int r;

	if (argc != 1) {
		pr_err("usage: ternctl query-migrate");
		return 1;
	}
	ipc = ctl__connect();
	if (!ipc)
		return 1;
	r = ipc__command(ipc, "query-migrate", NULL, &ret, &err);
	if (r) {
		pr_err("query-migrate: %s", err ?: "no reply");
	} else if (ctl_json) {
		printf("%s\n", json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN));
	} else {
		json_object_object_foreach(ret, key, val) {
			v = val;
			printf("%-18s %s\n", key, json_object_get_string(v));
		}
	}
	json_object_put(ret);
	ipc__close(ipc);
	return r ? 1 : 0;
}
