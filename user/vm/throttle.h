/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Auto-converge's throttle: a thread that holds the vCPUs back pct % of
 * each 100 ms while a migration cannot keep up with the guest's writes.
 */
#ifndef TERN_VM_THROTTLE_H
#define TERN_VM_THROTTLE_H

#include <pthread.h>
#include <stdbool.h>

struct vm;

struct vm_throttle {
	struct vm *vm;
	pthread_mutex_t lock;
	pthread_t thread;
	bool live;		/* its loop runs */
	bool joinable;		/* created, not yet joined */
	bool stopping;		/* no new thread: the VM is ending */
	unsigned int pct;
};

void vm_throttle__init(struct vm_throttle *t, struct vm *vm);
/* pct (at most 99) from now on; 0 lets the vCPUs run freely. */
int vm_throttle__set(struct vm_throttle *t, unsigned int pct);
/* Throttle off for good: set() starts no thread from now on. */
void vm_throttle__stop(struct vm_throttle *t);
/* Stopped, and its thread joined. */
void vm_throttle__exit(struct vm_throttle *t);

#endif /* TERN_VM_THROTTLE_H */
