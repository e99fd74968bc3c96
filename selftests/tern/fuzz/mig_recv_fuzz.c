// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the destination's whole receive path (handshake, RAM
 * block list, rounds of page records, machine state, commit) fed from an
 * in-memory stream into the fuzz machine of mig_fakevm.c.  Seeds are
 * streams recorded from real fake-VM migrations (migration_stream_test).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../migration/mig_fakevm.h"
#include "migration/migration.h"

static struct fakevm *vm;
static struct mig *mig;
static int in_fd, out_fd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct mig_params p;

	vm = fakevm_new(&fakevm_fuzz_cfg);
	mig__default_params(&p);
	p.timeout_ms = 50;	/* a file never blocks; belt and braces */
	p.quiet = true;
	mig = mig__new(&fakevm_ops, vm, &p);
	in_fd = memfd_create("mig-fuzz-in", MFD_CLOEXEC);
	out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!vm || !mig || in_fd < 0 || out_fd < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ftruncate(in_fd, 0) ||
	    pwrite(in_fd, data, size, 0) != (ssize_t)size)
		abort();
	lseek(in_fd, 0, SEEK_SET);
	mig__incoming_fd(mig, in_fd, out_fd);
	return 0;
}
