/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A listening unix socket for ternvm's control and console paths that
 * never removes what is not a stale socket and is open to its owner only.
 */
#ifndef TERN_LIB_UNIX_LISTEN_H
#define TERN_LIB_UNIX_LISTEN_H

int unix_listen(const char *path, int backlog, const char **why);

#endif
