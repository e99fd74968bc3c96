/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ternctl subcommands, one file each, and what they share: one table of
 * commands (ternctl.c) with their operands, options and help, from which
 * the option parser (getopt_long), `--help`, `ternctl help COMMAND` and the
 * bash completion's word lists are made; the socket path and output mode
 * from the global options; and how a result prints.
 */
#ifndef TERN_CTL_SUBCOMMANDS_H
#define TERN_CTL_SUBCOMMANDS_H

#include <stdbool.h>
#include <stdint.h>

struct ipc;
struct json_object;

extern const char *ctl_socket;	/* --socket */
extern bool ctl_json;		/* --json: machine output */

#define CTL_MAX_OPTS	24

struct ctl_opt {
	const char *name;	/* long option, without "--" */
	const char *arg;	/* its value's placeholder; NULL: a flag */
	const char *help;
};

struct ctl_call;

struct ctl_cmd {
	const char *name;
	const char *operands;	/* synopsis of the operands: "URI", "FILE" */
	int min_operands, max_operands;
	const char *help;
	const struct ctl_opt *opts;	/* ends with { NULL }; NULL: none */
	int (*fn)(const struct ctl_call *call);
};

/* A parsed command line: operands, and each option's value in opts order. */
struct ctl_call {
	const struct ctl_cmd *cmd;
	int nr_operands;
	char **operands;
	const char *val[CTL_MAX_OPTS];	/* NULL: not given; "" for a flag */
};

/* The value of option `name` as given, or NULL. */
const char *ctl__opt(const struct ctl_call *call, const char *name);
/*
 * Option `name` as an unsigned integer: 0 with *v set, 1 if not given
 * (*v untouched), -1 (after saying why) if not a number.
 */
int ctl__opt_u64(const struct ctl_call *call, const char *name, uint64_t *v);

/* Connect or print why not; NULL then. */
struct ipc *ctl__connect(void);
/*
 * Run a command and print its outcome: with --json the return object, else
 * `human` (if non-NULL) on success.  Returns the process exit status.
 */
int ctl__simple(const char *cmd, struct json_object *args, const char *human);
/* The same, passing fd with the request (save-state, load-state). */
int ctl__simple_fd(const char *cmd, struct json_object *args, int fd, const char *human);
/* Run a command and print its return object: JSON, or "key value" lines. */
int ctl__print_query(const char *cmd);

int status_main(const struct ctl_call *c);
int stop_main(const struct ctl_call *c);
int cont_main(const struct ctl_call *c);
int quit_main(const struct ctl_call *c);
int save_state_main(const struct ctl_call *c);
int load_state_main(const struct ctl_call *c);
int events_main(const struct ctl_call *c);
int send_main(const struct ctl_call *c);
int migrate_main(const struct ctl_call *c);
int migrate_status_main(const struct ctl_call *c);
int migrate_cancel_main(const struct ctl_call *c);
int migrate_params_main(const struct ctl_call *c);
int migrate_set_params_main(const struct ctl_call *c);
int query_commands_main(const struct ctl_call *c);
int regions_main(const struct ctl_call *c);

/*
 * The table's parameters given as options into args, each checked against
 * its range (migrate.c): 0, or 1 after saying which is wrong.
 */
int ctl_params_to_json(const struct ctl_call *c, struct json_object *args);

/* Options made from mig_param_table (migrate, migrate-set-parameters). */
extern struct ctl_opt ctl_migrate_opts[];
extern struct ctl_opt ctl_set_param_opts[];

#endif /* TERN_CTL_SUBCOMMANDS_H */
