// SPDX-License-Identifier: GPL-2.0
/*
 * The version string, compiled from the header the build writes into
 * $(BUILD)/gen only when scripts/version.sh's answer changes, so a commit
 * relinks the programs and nothing else.
 */
#include <stdio.h>

#include "lib/version.h"
#include "tern_version.h"

const char tern_version[] = TERN_VERSION;

void version__print(const char *prog)
{
	printf("%s %s\n", prog, tern_version);
}
