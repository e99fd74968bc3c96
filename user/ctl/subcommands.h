/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ternctl subcommands, one file each, and what they share: the socket
 * path and output mode from the global options, and how a result prints.
 */
#ifndef TERN_CTL_SUBCOMMANDS_H
#define TERN_CTL_SUBCOMMANDS_H

#include <stdbool.h>

struct ipc;
struct json_object;

extern const char *ctl_socket;	/* --socket */
extern bool ctl_json;		/* --json: machine output */

/* Connect or print why not; NULL then. */
struct ipc *ctl__connect(void);
/*
 * Run a command and print its outcome: with --json the return object, else
 * `human` (if non-NULL) on success.  Returns the process exit status.
 */
int ctl__simple(const char *cmd, struct json_object *args, const char *human);

int status_main(int argc, char **argv);
int stop_main(int argc, char **argv);
int cont_main(int argc, char **argv);
int quit_main(int argc, char **argv);
int save_state_main(int argc, char **argv);
int load_state_main(int argc, char **argv);
int events_main(int argc, char **argv);
int send_main(int argc, char **argv);
int migrate_main(int argc, char **argv);
int migrate_status_main(int argc, char **argv);
int migrate_cancel_main(int argc, char **argv);
int regions_main(int argc, char **argv);

#endif /* TERN_CTL_SUBCOMMANDS_H */
