// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl save-state FILE: write the machine state (no RAM) to FILE.
 * ternctl load-state FILE: load a saved machine state into a stopped VM.
 * ternctl opens FILE with the user's own rights and passes the open file
 * to ternvm (SCM_RIGHTS), which never opens a path a client names.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ctl/subcommands.h"
#include "lib/log.h"

static int state_file(const char *cmd, const char *file, int flags)
{
	int fd = open(file, flags | O_CLOEXEC, 0600), r;

	if (fd < 0) {
		pr_err("%s: %s: %s", cmd, file, strerror(errno));
		return 1;
	}
	r = ctl__simple_fd(cmd, NULL, fd, NULL);
	close(fd);
	return r;
}

int save_state_main(const struct ctl_call *c)
{
	return state_file("save-state", c->operands[0], O_WRONLY | O_CREAT);
}

int load_state_main(const struct ctl_call *c)
{
	return state_file("load-state", c->operands[0], O_RDONLY);
}
