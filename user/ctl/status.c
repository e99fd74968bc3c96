// SPDX-License-Identifier: GPL-2.0
/* ternctl status: the VM's run state (query-status). */
#include <stdio.h>

#include "ctl/ipc.h"
#include "ctl/subcommands.h"
#include "lib/log.h"

int status_main(const struct ctl_call *call)
{
	struct json_object *ret, *s, *c, *m, *v;
	struct ipc *ipc;
	const char *err;
	int r;

	ipc = ctl__connect();
	if (!ipc)
		return 1;
	r = ipc__command(ipc, "query-status", NULL, &ret, &err);
	if (r) {
		pr_err("query-status: %s", err ?: "no reply");
	} else if (ctl_json) {
		printf("%s\n", json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN));
	} else {
		json_object_object_get_ex(ret, "status", &s);
		json_object_object_get_ex(ret, "cpus", &c);
		json_object_object_get_ex(ret, "memory", &m);
		/* An older ternvm does not say its version. */
		if (!json_object_object_get_ex(ret, "version", &v))
			v = NULL;
		printf("%s (%d vCPUs, %lld MiB, ternvm %s)\n", json_object_get_string(s),
		       json_object_get_int(c), (long long)json_object_get_int64(m) >> 20,
		       v ? json_object_get_string(v) : "unknown");
	}
	json_object_put(ret);
	ipc__close(ipc);
	return r ? 1 : 0;
}
