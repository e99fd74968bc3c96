// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl: the command-line client for a running ternvm (control socket)
 * and for tern.ko (netlink).  Global options, then a subcommand from the
 * table below (one file each); usage is made from the table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ipc.h"
#include "ctl/subcommands.h"
#include "lib/log.h"
#include "lib/version.h"

const char *ctl_socket;
bool ctl_json;

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *description;
} subcommands[] = {
	{ "status", status_main, "show whether the VM runs, is paused or is shutting down" },
	{ "stop", stop_main, "pause the VM's vCPUs" },
	{ "cont", cont_main, "resume a VM paused by stop; --revert: a source whose migration committed, once the destination is paused or gone" },
	{ "quit", quit_main, "end the VM" },
	{ "save-state", save_state_main, "save vCPU and device state: save-state FILE" },
	{ "load-state", load_state_main, "load a saved state into a stopped VM: load-state FILE" },
	{ "events", events_main, "print events: events [--count N] [--timeout SECONDS]" },
	{ "migrate", migrate_main, "live-migrate and wait for the end: migrate URI [--progress] "
	  "[--exit] [--detach] [--downtime-limit MS] [--max-bandwidth B/S] [--max-rounds N] "
	  "[--auto-converge 0|1] [--timeout MS]" },
	{ "query-migrate", migrate_status_main, "migration state and statistics" },
	{ "migrate-status", migrate_status_main, "the same as query-migrate" },
	{ "migrate-cancel", migrate_cancel_main, "cancel the running migration" },
	{ "regions", regions_main, "tern.ko's memory regions and totals (netlink; no ternvm)" },
	{ "send", send_main, "send one raw JSON request line and print the reply" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: ternctl [--socket PATH] [--json] COMMAND [ARGS]\n"
		   "  --socket PATH  ternvm's --control socket (default $TERN_CONTROL)\n"
		   "  --json         print the machine-readable JSON result\n"
		   "  --help         this text\n"
		   "  --version      print ternctl's version\n"
		   "commands:\n");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-15s %s\n", subcommands[i].name, subcommands[i].description);
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
	struct json_object *ret;
	struct ipc *ipc = ctl__connect();
	const char *err;
	int r;

	if (!ipc) {
		json_object_put(args);
		return 1;
	}
	r = ipc__command(ipc, cmd, args, &ret, &err);
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

int main(int argc, char **argv)
{
	size_t i;

	log__init("ternctl");
	ctl_socket = getenv("TERN_CONTROL");
	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "--json")) {
			ctl_json = true;
			argv++, argc--;
		} else if ((!strcmp(argv[1], "--socket") || !strcmp(argv[1], "-s")) && argc > 2) {
			ctl_socket = argv[2];
			argv += 2, argc -= 2;
		} else if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[1], "--version")) {
			version__print("ternctl");
			return 0;
		} else {
			pr_err("unknown option %s (see --help)", argv[1]);
			return 1;
		}
	}
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1);
	pr_err("unknown command '%s' (see --help)", argv[1]);
	return 1;
}
