/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The release every Tern program reports (--version, query-status, the
 * migration hello), made by scripts/version.sh from VERSION and git.
 */
#ifndef TERN_LIB_VERSION_H
#define TERN_LIB_VERSION_H

extern const char tern_version[];

/* "PROG VERSION" on stdout, for --version. */
void version__print(const char *prog);

#endif /* TERN_LIB_VERSION_H */
