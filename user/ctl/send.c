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

int send_main(int argc, char **argv)
{
	struct json_object *reply;
	struct ipc *ipc;
	int r;

	if (argc != 2) {
		pr_err("usage: ternctl send JSON-LINE");
		return 1;
	}
	ipc = ctl__connect();
	if (!ipc)
		return 1;
	r = ipc__raw(ipc, argv[1], &reply);
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
