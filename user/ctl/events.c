// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl events [--count N] [--timeout S]: print events as they come, one
 * a line ("STOP", or the JSON object with --json); ends after N events,
 * after S seconds without one, or at SHUTDOWN.  Exit 1 if none arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ipc.h"
#include "ctl/subcommands.h"
#include "lib/log.h"

int events_main(int argc, char **argv)
{
	struct json_object *ev, *name;
	long count = -1, timeout = -1;
	struct ipc *ipc;
	int i, seen = 0;
	bool shutdown = false;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			timeout = strtol(argv[++i], NULL, 10);
		} else {
			pr_err("usage: ternctl events [--count N] [--timeout SECONDS]");
			return 1;
		}
	}
	ipc = ctl__connect();
	if (!ipc)
		return 1;
	if (!ctl_json)
		printf("connected\n");
	fflush(stdout);
	while (!shutdown && (count < 0 || seen < count)) {
		ev = ipc__next_event(ipc, timeout < 0 ? -1 : (int)timeout * 1000);
		if (!ev)
			break;
		json_object_object_get_ex(ev, "event", &name);
		shutdown = !strcmp(json_object_get_string(name), "SHUTDOWN");
		if (ctl_json)
			printf("%s\n", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
		else
			printf("%s\n", json_object_get_string(name));
		fflush(stdout);
		json_object_put(ev);
		seen++;
	}
	ipc__close(ipc);
	return seen ? 0 : 1;
}
