/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lock that says which ternvm runs the guest of a disk image: an OFD
 * write lock on the whole file (F_OFD_SETLK), owned by the open file
 * description, so it passes at a migration's `commit` between two
 * processes on one host or two hosts sharing the file, and goes away
 * with the process however it ends.
 */
#ifndef TERN_VM_IMAGE_LOCK_H
#define TERN_VM_IMAGE_LOCK_H

#include <stddef.h>

/*
 * Take it on fd (opened read-write on `path`): 0, or -errno with `why`
 * naming the image and, where it can be found, the holder's pid.  Taking
 * a lock this fd already holds is a no-op.
 */
int image_lock__take(int fd, const char *path, char *why, size_t len);
/* As take, retried for up to `ms` milliseconds while another holds it. */
int image_lock__take_wait(int fd, const char *path, unsigned int ms,
			  char *why, size_t len);
void image_lock__drop(int fd);

#endif /* TERN_VM_IMAGE_LOCK_H */
