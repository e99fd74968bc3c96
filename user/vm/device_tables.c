// SPDX-License-Identifier: GPL-2.0
/*
 * tern-device-tables: print every device state table of this build, as
 * declared with VMSTATE_DEVICE_TABLE, without making a VM (no KVM).  A
 * build tool, never installed: its output is the committed snapshot
 * Documentation/vmstate-devices.txt (make vmstate-devices) that
 * vmstate_devices_test holds the build to.
 */
#include <stdio.h>
#include <string.h>

#include "vmstate/vmstate.h"

int main(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "usage: %s (no arguments): print the device tables\n",
			argv[0]);
		return strcmp(argv[1], "--help") ? 1 : 0;
	}
	if (vmstate__catalog_dump(stdout) || fflush(stdout))
		return 1;
	return 0;
}
