/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The I/O thread: one epoll loop for virtio queue notifications
 * (ioeventfds), tap and console input, and the control socket.
 * Callbacks run on that thread, one at a time.
 */
#ifndef TERN_VM_IOLOOP_H
#define TERN_VM_IOLOOP_H

#include <stdint.h>

struct vm;

typedef void (*ioloop_fn)(int fd, uint32_t events, void *opaque);

int ioloop__add(struct vm *vm, int fd, uint32_t events, ioloop_fn fn, void *opaque);
void ioloop__del(struct vm *vm, int fd);
int ioloop__start(struct vm *vm);
/* Join the thread: no callback runs after this returns. */
void ioloop__stop(struct vm *vm);

int ioloop__init(struct vm *vm);
int ioloop__exit(struct vm *vm);

#endif /* TERN_VM_IOLOOP_H */
