// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl send LINE: send LINE as is (any bytes, valid JSON or not) and
 * print the reply object; exit 0 for a "return", 2 for an "error".  For
 * scripts and tests that speak the protocol directly.
 */
#include <stdio.h>

#include "ctl/ipc.h"
#include "ctl/subcommands.h"
#include "lib/log.h"

int send_main(const struct ctl_call *c)
{
	struct json_object *reply;
	struct ipc *ipc;
	int r;

	ipc = ctl__connect();
	if (!ipc)
		return 1;
	r = ipc__raw(ipc, c->operands[0], &reply);
	if (r) {
		pr_err("send: no reply");
		ipc__close(ipc);
		return 1;
	}
	printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN));
	r = json_object_object_get_ex(reply, "error", NULL) ? 2 : 0;
	json_object_put(reply);
	ipc__close(ipc);
	return r;
}
