/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A vhost-net receive queue as a writer of a memory range, for the
 * tracking oracles: the kernel's vhost thread copies each frame into the
 * range (as it does into a guest's RAM), through the caller's mapping.
 */
#ifndef TERN_SELFTEST_VHOST_UTIL_H
#define TERN_SELFTEST_VHOST_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct vhost_rx;

/*
 * vhost-net on a tap of its own, [mem, mem + len) its "guest memory".
 * NULL with errno set when the host has no vhost-net or tun (ENOENT) or
 * refuses one (EPERM).
 */
struct vhost_rx *vhost_rx_open(void *mem, size_t len);
/* vhost writes 8 bytes holding v at mem + off (within a page); 0 or -errno. */
int vhost_rx_write(struct vhost_rx *r, size_t off, uint64_t v);
void vhost_rx_close(struct vhost_rx *r);

#endif /* TERN_SELFTEST_VHOST_UTIL_H */
