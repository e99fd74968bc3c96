// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl: the command-line client for a running ternvm (control socket)
 * and for tern.ko (netlink).  Global options, then a command from the
 * table below (one file each); parsing, usage and `help` come from it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ipc.h"
#include "ctl/subcommands.h"
#include "lib/log.h"
#include "lib/version.h"

const char *ctl_socket;
bool ctl_json;

static const struct ctl_opt cont_opts[] = {
	{ "revert", NULL, "also resume a source whose migration sent commit "
	  "(completed or postcommit-unknown): only once the destination is "
	  "paused or gone" },
	{ 0 },
};

static const struct ctl_opt events_opts[] = {
	{ "count", "N", "end after N events" },
	{ "timeout", "SECONDS", "end after SECONDS without an event" },
	{ 0 },
};

static int help_main(const struct ctl_call *c);

static const struct ctl_cmd commands[] = {
	{ "help", "[COMMAND]", 0, 1, "this list, or a command's usage and options",
	  NULL, help_main },
	{ "status", "", 0, 0, "show whether the VM runs, is paused or is shutting down",
	  NULL, status_main },
	{ "stop", "", 0, 0, "pause the VM's vCPUs", NULL, stop_main },
	{ "cont", "", 0, 0, "resume a VM paused by stop", cont_opts, cont_main },
	{ "quit", "", 0, 0, "end the VM", NULL, quit_main },
	{ "save-state", "FILE", 1, 1, "save vCPU and device state (no RAM) to FILE",
	  NULL, save_state_main },
	{ "load-state", "FILE", 1, 1, "load a saved state into a stopped VM",
	  NULL, load_state_main },
	{ "events", "", 0, 0, "print events as they come, until SHUTDOWN",
	  events_opts, events_main },
	{ "migrate", "URI", 1, 1, "live-migrate to URI (tcp:HOST:PORT or unix:PATH) "
	  "and wait for the end", ctl_migrate_opts, migrate_main },
	{ "query-migrate", "", 0, 0, "migration state and statistics", NULL,
	  migrate_status_main },
	{ "migrate-status", "", 0, 0, "the same as query-migrate", NULL,
	  migrate_status_main },
	{ "migrate-cancel", "", 0, 0, "cancel the running migration", NULL,
	  migrate_cancel_main },
	{ "migrate-set-parameters", "", 0, 0, "set migration parameters, also "
	  "while a migration runs (taken at its next round)", ctl_set_param_opts,
	  migrate_set_params_main },
	{ "query-migrate-parameters", "", 0, 0, "every migration parameter's value",
	  NULL, migrate_params_main },
	{ "query-commands", "", 0, 0, "ternvm's control commands with their help "
	  "and arguments", NULL, query_commands_main },
	{ "regions", "", 0, 0, "tern.ko's memory regions and totals (netlink; no ternvm)",
	  NULL, regions_main },
	{ "send", "JSON-LINE", 1, 1, "send one raw request line and print the reply",
	  NULL, send_main },
	{ 0 },
};

static void usage(FILE *f)
{
	const struct ctl_cmd *c;

	fprintf(f, "usage: ternctl [--socket PATH] [--json] COMMAND [OPTIONS] [OPERANDS]\n"
		   "  --socket PATH  ternvm's --control socket (default $TERN_CONTROL)\n"
		   "  --json         print the machine-readable JSON result\n"
		   "  --help         this text\n"
		   "  --version      print ternctl's version\n"
		   "commands:\n");
	for (c = commands; c->name; c++)
		fprintf(f, "  %-24s %s\n", c->name, c->help);
}

static void cmd_usage(FILE *f, const struct ctl_cmd *c)
{
	const struct ctl_opt *o;
	char left[64];

	fprintf(f, "usage: ternctl %s%s%s%s\n  %s\n", c->name, c->opts ? " [OPTIONS]" : "",
		c->operands[0] ? " " : "", c->operands, c->help);
	for (o = c->opts; o && o->name; o++) {
		snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ?: "");
		fprintf(f, "  %-28s %s\n", left, o->help);
	}
}

static const struct ctl_cmd *find(const char *name)
{
	const struct ctl_cmd *c;

	for (c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int help_main(const struct ctl_call *call)
{
	const struct ctl_cmd *c;

	if (!call->nr_operands) {
		usage(stdout);
		return 0;
	}
	c = find(call->operands[0]);
	if (!c) {
		pr_err("help: unknown command '%s' (see --help)", call->operands[0]);
		return 1;
	}
	cmd_usage(stdout, c);
	return 0;
}

const char *ctl__opt(const struct ctl_call *call, const char *name)
{
	const struct ctl_opt *o;
	int i;

	for (i = 0, o = call->cmd->opts; o && o->name; o++, i++)
		if (!strcmp(o->name, name))
			return call->val[i];
	return NULL;
}

int ctl__opt_u64(const struct ctl_call *call, const char *name, uint64_t *v)
{
	const char *s = ctl__opt(call, name);
	unsigned long long x;
	char *end;

	if (!s)
		return 1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-') {
		pr_err("%s: --%s wants an unsigned number, not '%s'", call->cmd->name, name, s);
		return -1;
	}
	*v = x;
	return 0;
}

/*
 * getopt_long over the command's table, options anywhere among the
 * operands (migrate URI --exit); -1 to go on, else an exit status.
 */
static int parse(const struct ctl_cmd *c, int argc, char **argv, struct ctl_call *call)
{
	struct option lo[CTL_MAX_OPTS + 2] = { { 0 } };
	const struct ctl_opt *o;
	int n = 0, ch;

	for (o = c->opts; o && o->name && n < CTL_MAX_OPTS; o++, n++)
		lo[n] = (struct option){ o->name, o->arg ? required_argument : no_argument,
					 NULL, n };
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	memset(call, 0, sizeof(*call));
	call->cmd = c;
	optind = 0;	/* 0: glibc starts a new scan, not the global one's */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (ch == 'h') {
			cmd_usage(stdout, c);
			return 0;
		}
		if (ch == ':' && optopt >= 0 && optopt < n) {
			pr_err("%s: --%s needs a value (%s)", c->name,
			       lo[optopt].name, c->opts[optopt].arg);
			return 1;
		}
		if (ch == '?' || ch == ':') {
			pr_err("%s: unknown option '%s' (see ternctl help %s)",
			       c->name, argv[optind - 1], c->name);
			return 1;
		}
		call->val[ch] = optarg ?: "";
	}
	call->operands = argv + optind;
	call->nr_operands = argc - optind;
	if (call->nr_operands < c->min_operands || call->nr_operands > c->max_operands) {
		pr_err("%s: %s%s expected, %d given (see ternctl help %s)", c->name,
		       c->max_operands ? "operand " : "no operand",
		       c->operands, call->nr_operands, c->name);
		return 1;
	}
	return -1;
}

struct ipc *ctl__connect(void)
{
	struct ipc *ipc;

	if (!ctl_socket) {
		pr_err("no control socket: give --socket PATH or set TERN_CONTROL");
		return NULL;
	}
	ipc = ipc__connect(ctl_socket);
	if (!ipc)
		pr_err("%s: %s", ctl_socket, strerror(errno));
	return ipc;
}

int ctl__simple(const char *cmd, struct json_object *args, const char *human)
{
	return ctl__simple_fd(cmd, args, -1, human);
}

int ctl__simple_fd(const char *cmd, struct json_object *args, int fd, const char *human)
{
	struct json_object *ret;
	struct ipc *ipc = ctl__connect();
	const char *err;
	int r;

	if (!ipc) {
		json_object_put(args);
		return 1;
	}
	r = ipc__command_fd(ipc, cmd, args, fd, &ret, &err);
	if (r) {
		pr_err("%s: %s", cmd, err ?: strerror(-r));
	} else if (ctl_json) {
		printf("%s\n", json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN));
	} else if (human) {
		printf("%s\n", human);
	}
	json_object_put(ret);
	ipc__close(ipc);
	return r ? 1 : 0;
}

int ctl__print_query(const char *cmd)
{
	struct json_object *ret;
	struct ipc *ipc = ctl__connect();
	const char *err;
	int r;

	if (!ipc)
		return 1;
	r = ipc__command(ipc, cmd, NULL, &ret, &err);
	if (r) {
		pr_err("%s: %s", cmd, err ?: "no reply");
	} else if (ctl_json) {
		printf("%s\n", json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN));
	} else {
		json_object_object_foreach(ret, key, val)
			printf("%-18s %s\n", key, json_object_get_string(val));
	}
	json_object_put(ret);
	ipc__close(ipc);
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option global[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const struct ctl_cmd *c;
	struct ctl_call call;
	int ch, r;

	log__init("ternctl");
	ctl_socket = getenv("TERN_CONTROL");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+s:jhV", global, NULL)) != -1) {
		switch (ch) {
		case 's':
			ctl_socket = optarg;
			break;
		case 'j':
			ctl_json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			version__print("ternctl");
			return 0;
		default:
			pr_err("unknown option or missing value: %s (see --help)", argv[optind - 1]);
			return 1;
		}
	}
	if (optind == argc) {
		pr_err("no command given (see --help)");
		return 1;
	}
	c = find(argv[optind]);
	if (!c) {
		pr_err("unknown command '%s' (see --help)", argv[optind]);
		return 1;
	}
	r = parse(c, argc - optind, argv + optind, &call);
	return r >= 0 ? r : c->fn(&call);
}
