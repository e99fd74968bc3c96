/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-net's rings served by the kernel (--net tap=IFNAME,vhost=on):
 * /dev/vhost-net moves frames between the tap and guest memory in its
 * own kernel thread, which writes through the devices' view of guest RAM
 * (tracked by tern.ko like any writer) and, on the memfd backend, logs
 * its writes by guest-physical page into the dirty log's gpa_log.
 */
#ifndef TERN_VM_VHOST_NET_H
#define TERN_VM_VHOST_NET_H

#include <stdbool.h>

struct vm;
struct virtio_dev;
struct vhost_net;

/*
 * vdev's queues bound to the tap, guest RAM in the memory table; after
 * virtio__register (it takes the queues' kicks).  NULL with *err set.
 */
struct vhost_net *vhost_net__open(struct vm *vm, struct virtio_dev *vdev,
				  int tap, int *err);
/* Stopped first (vhost_net__stop). */
void vhost_net__close(struct vhost_net *vh);
/*
 * The driver is ready (or the VM runs again): hand the queues over from
 * their saved state.  Running already: nothing.  Lock held.
 */
int vhost_net__start(struct vhost_net *vh);
/*
 * Take the queues back: after it returns the kernel writes no guest
 * memory; save: the device state holds where each ring stands and the
 * interrupts the kernel raised are delivered (else: a reset, which
 * forgets them).  Lock held.
 */
void vhost_net__stop(struct vhost_net *vh, bool save);
/*
 * A queue's vector or mask changed: each running queue's interrupts go
 * to its vector's irqfd, or to the relay while masked.  Lock held.
 */
void vhost_net__vectors_changed(struct vhost_net *vh);
/* Log writes into log (NULL: stop logging).  Lock held. */
int vhost_net__set_log(struct vhost_net *vh, unsigned long *log);

#endif /* TERN_VM_VHOST_NET_H */
