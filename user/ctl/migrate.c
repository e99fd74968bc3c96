// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl migrate [options] URI: start a live migration to URI and wait
 * for its final MIGRATION event (state and statistics); exit 0 only if it
 * completed.  --progress redraws a line of figures twice a second.  The
 * migration parameters' options come from mig_param_table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ipc.h"
#include "ctl/subcommands.h"
#include "lib/log.h"
#include "migration/params.h"

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

/* migrate's options: its own, then one per migration parameter. */
struct ctl_opt ctl_migrate_opts[CTL_MAX_OPTS + 1] = {
	{ "detach", NULL, "return once the migration started" },
	{ "progress", NULL, "redraw a line of figures twice a second" },
	{ "exit", NULL, "quit the source once the destination runs (else it stays paused)" },
};

/* migrate-set-parameters: every parameter, and ternvm's own paused. */
struct ctl_opt ctl_set_param_opts[CTL_MAX_OPTS + 1] = {
	{ "paused", "0|1", "1: an incoming guest stays paused after commit until cont" },
};

static void __attribute__((constructor)) opts_from_table(void)
{
	const struct mig_param *d;
	size_t m = 3, s = 1;

	for (d = mig_param_table; d->name && m < CTL_MAX_OPTS; d++) {
		ctl_migrate_opts[m++] = (struct ctl_opt){ d->name, d->arg, d->help };
		ctl_set_param_opts[s++] = (struct ctl_opt){ d->name, d->arg, d->help };
	}
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

int ctl_params_to_json(const struct ctl_call *c, struct json_object *args)
{
	const struct mig_param *d;
	uint64_t v;
	int r;

	for (d = mig_param_table; d->name; d++) {
		r = ctl__opt_u64(c, d->name, &v);
		if (r < 0)
			return 1;
		if (r)
			continue;
		if (v < d->min || v > d->max) {
			pr_err("%s: --%s %llu is out of range %llu..%llu", c->cmd->name,
			       d->name, (unsigned long long)v, (unsigned long long)d->min,
			       (unsigned long long)d->max);
			return 1;
		}
		json_object_object_add(args, d->name, json_object_new_uint64(v));
	}
	return 0;
}

int migrate_main(const struct ctl_call *c)
{
	struct json_object *args, *ret;
	const char *err;
	struct ipc *ipc;
	int r;

	args = json_object_new_object();
	if (!args)
		return 1;
	if (ctl_params_to_json(c, args)) {
		json_object_put(args);
		return 1;
	}
	if (ctl__opt(c, "exit"))
		json_object_object_add(args, "exit", json_object_new_boolean(1));
	ipc = ctl__connect();
	if (!ipc) {
		json_object_put(args);
		return 1;
	}
	json_object_object_add(args, "uri", json_object_new_string(c->operands[0]));
	r = ipc__command(ipc, "migrate", args, &ret, &err);
	json_object_put(ret);
	if (r) {
		pr_err("%s", err ?: "migrate: no reply");	/* ternvm names the command */
		ipc__close(ipc);
		return 1;
	}
	r = ctl__opt(c, "detach") ? 0 : wait_end(ipc, ctl__opt(c, "progress"));
	ipc__close(ipc);
	return r;
}
