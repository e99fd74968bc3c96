// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl events [--count N] [--timeout S]: print events as they come, one
 * a line ("STOP", or the JSON object with --json); ends after N events,
 * after S seconds without one, or at SHUTDOWN.  Exit 1 if none arrived.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ipc.h"
#include "ctl/subcommands.h"
#include "lib/log.h"

int events_main(const struct ctl_call *c)
{
	struct json_object *ev, *name;
	uint64_t count = UINT64_MAX, timeout = UINT64_MAX;
	struct ipc *ipc;
	uint64_t seen = 0;
	bool shutdown = false;

	if (ctl__opt_u64(c, "count", &count) < 0 ||
	    ctl__opt_u64(c, "timeout", &timeout) < 0)
		return 1;
	if (timeout != UINT64_MAX && timeout > INT_MAX / 1000) {
		pr_err("events: --timeout %llu is too long", (unsigned long long)timeout);
		return 1;
	}
	ipc = ctl__connect();
	if (!ipc)
		return 1;
	if (!ctl_json)
		printf("connected\n");
	fflush(stdout);
	while (!shutdown && seen < count) {
		ev = ipc__next_event(ipc, timeout == UINT64_MAX ? -1 : (int)timeout * 1000);
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
