// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the destination's receive path with extra channels
 * (mig__incoming_fds): the channels' hellos, their page records in
 * threads of their own, and the rounds that end only when every channel
 * has ended them.  An input is
 *
 *	u8 k (channels beside the main one: k % 4)
 *	k x { le32 length, that many bytes }	a channel's stream
 *	the rest				the main stream
 *
 * A wait for more than an input holds ends by the 50 ms timeout.  Seeds
 * are two- and three-channel migrations of the fuzz machine
 * recorded by migration_stream_test.  The fuzz build takes any channel
 * token (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION): a recording carries
 * the token of the destination that made it.
 */
#include <endian.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../migration/mig_fakevm.h"
#include "migration/migration.h"

#define MAX_EXTRA	3

struct feed {
	int fd;
	const uint8_t *p;
	size_t len;
	pthread_t thread;
};

static struct fakevm *vm;
static struct mig *mig;
static int in_fd, out_fd;

/*
 * A channel's source: its bytes, then silence until the destination is
 * done (a source closes its channels only after the commit; an early EOF
 * is a failure the destination rightly reports); what comes back is
 * dropped.
 */
static void *feed_main(void *arg)
{
	struct feed *f = arg;
	char sink[4096];
	ssize_t n;

	while (f->len) {
		n = send(f->fd, f->p, f->len, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		f->p += n;
		f->len -= n;
	}
	while (read(f->fd, sink, sizeof(sink)) > 0)
		;
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct mig_params p;

	vm = fakevm_new(&fakevm_fuzz_cfg);
	mig__default_params(&p);
	p.timeout_ms = 50;
	p.quiet = !getenv("TERN_DEBUG");	/* TERN_DEBUG: why a seed fails */
	p.channels = MAX_EXTRA + 1;
	mig = mig__new(&fakevm_ops, vm, &p);
	in_fd = memfd_create("mig-fuzz-in", MFD_CLOEXEC);
	out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!vm || !mig || in_fd < 0 || out_fd < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed feeds[MAX_EXTRA];
	int ours[MAX_EXTRA], theirs[MAX_EXTRA], sv[2];
	unsigned int k, i;
	uint32_t len;

	if (!size)
		return 0;
	k = data[0] % (MAX_EXTRA + 1);
	data++;
	size--;
	for (i = 0; i < k; i++) {
		len = 0;
		if (size >= 4) {
			memcpy(&len, data, 4);
			len = le32toh(len);
			data += 4;
			size -= 4;
		}
		if (len > size)
			len = size;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			abort();
		ours[i] = sv[0];
		theirs[i] = sv[1];
		feeds[i] = (struct feed){ .fd = sv[0], .p = data, .len = len };
		if (pthread_create(&feeds[i].thread, NULL, feed_main, &feeds[i]))
			abort();
		data += len;
		size -= len;
	}
	if (ftruncate(in_fd, 0) ||
	    pwrite(in_fd, data, size, 0) != (ssize_t)size)
		abort();
	lseek(in_fd, 0, SEEK_SET);
	mig__incoming_fds(mig, in_fd, out_fd, theirs, k);
	for (i = 0; i < k; i++) {
		close(theirs[i]);	/* the feeder's read sees EOF */
		pthread_join(feeds[i].thread, NULL);
		close(ours[i]);
	}
	return 0;
}
