// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl migrate URI [options]: start a live migration to URI and wait
 * for its final MIGRATION event (state and statistics); exit 0 only if it
 * completed.  --progress redraws a line of figures twice a second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ipc.h"
#include "ctl/subcommands.h"
#include "lib/log.h"

static const char usage_text[] =
	"usage: ternctl migrate URI [--detach] [--progress] [--exit]\n"
	"       [--downtime-limit MS] [--max-bandwidth BYTES/S] [--max-rounds N]\n"
	"       [--auto-converge 0|1] [--timeout MS]";

static const char *const int_opts[] = {
	"downtime-limit", "max-bandwidth", "max-rounds", "auto-converge",
	"timeout", NULL,
};

static bool terminal(const char *state)
{
	return !strcmp(state, "completed") || !strcmp(state, "failed") ||
	       !strcmp(state, "cancelled") || !strcmp(state, "postcommit-unknown");
}

static uint64_t u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "?";
}

static void progress_line(struct json_object *q, bool final)
{
	fprintf(stderr, "\r%-12s %7.1f MiB  %8llu pages  round %-3llu %6.1f MiB/s  "
		"dirty %7llu p/s  exp. downtime %4llu ms  %5.1f s%s",
		str(q, "status"), u64(q, "bytes") / 1048576.0,
		(unsigned long long)u64(q, "pages"), (unsigned long long)u64(q, "rounds"),
		u64(q, "bandwidth") / 1048576.0, (unsigned long long)u64(q, "dirty-rate"),
		(unsigned long long)u64(q, "expected-downtime"),
		u64(q, "elapsed") / 1000.0, final ? "\n" : "\033[K");
}

static void print_final(struct json_object *data)
{
	if (ctl_json) {
		printf("%s\n", json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN));
		return;
	}
	printf("%s: %llu bytes, %llu pages (+%llu zero), %llu rounds, total %llu ms, "
	       "downtime %llu ms, tracker %s\n", str(data, "status"),
	       (unsigned long long)u64(data, "bytes"), (unsigned long long)u64(data, "pages"),
	       (unsigned long long)u64(data, "zero-pages"),
	       (unsigned long long)u64(data, "rounds"), (unsigned long long)u64(data, "elapsed"),
	       (unsigned long long)u64(data, "downtime"), str(data, "tracker"));
	if (strcmp(str(data, "error"), "?"))
		printf("error: %s\n", str(data, "error"));
}

/* The final MIGRATION event; with progress, a line per query meanwhile. */
static int wait_end(struct ipc *ipc, bool progress)
{
	struct json_object *ev, *name, *data, *q;
	const char *err;
	int r;

	for (;;) {
		ev = ipc__next_event(ipc, progress ? 500 : -1);
		if (!ev) {
			if (ipc__command(ipc, "query-migrate", NULL, &q, &err)) {
				pr_err("migrate: connection lost before the end");
				return 1;
			}
			if (progress)
				progress_line(q, false);
			json_object_put(q);
			continue;
		}
		json_object_object_get_ex(ev, "event", &name);
		if (strcmp(json_object_get_string(name), "MIGRATION") ||
		    !json_object_object_get_ex(ev, "data", &data) ||
		    !terminal(str(data, "status"))) {
			json_object_put(ev);
			continue;
		}
		if (progress)
			progress_line(data, true);
		print_final(data);
		r = strcmp(str(data, "status"), "completed") ? 1 : 0;
		json_object_put(ev);
		return r;
	}
}

int migrate_main(int argc, char **argv)
{
	bool detach = false, progress = false;
	struct json_object *args, *ret;
	const char *uri = NULL, *err;
	struct ipc *ipc;
	int i, j, r;
	char *end;
	long long v;

	args = json_object_new_object();
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--detach")) {
			detach = true;
		} else if (!strcmp(argv[i], "--progress")) {
			progress = true;
		} else if (!strcmp(argv[i], "--exit")) {
			json_object_object_add(args, "exit", json_object_new_boolean(1));
		} else if (!strncmp(argv[i], "--", 2)) {
			for (j = 0; int_opts[j] && strcmp(argv[i] + 2, int_opts[j]); j++)
				;
			if (!int_opts[j] || i + 1 == argc)
				goto usage;
			v = strtoll(argv[++i], &end, 0);
			if (*end || end == argv[i] || v < 0)
				goto usage;
			json_object_object_add(args, int_opts[j], json_object_new_int64(v));
		} else if (!uri) {
			uri = argv[i];
		} else {
			goto usage;
		}
	}
	if (!uri)
		goto usage;
	ipc = ctl__connect();
	if (!ipc) {
		json_object_put(args);
		return 1;
	}
	json_object_object_add(args, "uri", json_object_new_string(uri));
	r = ipc__command(ipc, "migrate", args, &ret, &err);
	json_object_put(ret);
	if (r) {
		pr_err("%s", err ?: "migrate: no reply");	/* ternvm names the command */
		ipc__close(ipc);
		return 1;
	}
	r = detach ? 0 : wait_end(ipc, progress);
	ipc__close(ipc);
	return r;
usage:
	json_object_put(args);
	pr_err("%s", usage_text);
	return 1;
}
