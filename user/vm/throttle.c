// SPDX-License-Identifier: GPL-2.0
/*
 * Auto-converge's throttle (throttle.h).  Its pauses park the vCPUs but
 * leave the guest's clock running: they are the guest's own time going
 * by, unlike a stop (vm__throttle_pause).
 */
#include <time.h>

#include "vm/sandbox.h"
#include "vm/throttle.h"
#include "vm/vm.h"

static void *throttler(void *arg)
{
	struct vm_throttle *t = arg;
	struct timespec on, off;
	unsigned int pct;

	pthread_setname_np(pthread_self(), "throttle");
	sandbox__enter(SANDBOX_IO);
	for (;;) {
		pthread_mutex_lock(&t->lock);
		pct = t->pct;
		if (!pct || t->stopping) {
			t->live = false;
			pthread_mutex_unlock(&t->lock);
			return NULL;
		}
		pthread_mutex_unlock(&t->lock);
		on = (struct timespec){ 0, (long)(100 - pct) * 1000000 };
		off = (struct timespec){ 0, (long)pct * 1000000 };
		nanosleep(&on, NULL);
		vm__throttle_pause(t->vm);
		nanosleep(&off, NULL);
		vm__throttle_resume(t->vm);
	}
}

void vm_throttle__init(struct vm_throttle *t, struct vm *vm)
{
	*t = (struct vm_throttle){ .vm = vm };
	pthread_mutex_init(&t->lock, NULL);
}

int vm_throttle__set(struct vm_throttle *t, unsigned int pct)
{
	int ret = 0;

	if (pct > 99)
		pct = 99;
	pthread_mutex_lock(&t->lock);
	t->pct = pct;
	if (pct && !t->live && !t->stopping) {
		/* A throttler that saw pct 0 has left its loop: reap it. */
		if (t->joinable)
			pthread_join(t->thread, NULL);
		t->joinable = false;
		ret = -pthread_create(&t->thread, NULL, throttler, t);
		if (!ret)
			t->live = t->joinable = true;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

void vm_throttle__stop(struct vm_throttle *t)
{
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	t->pct = 0;
	pthread_mutex_unlock(&t->lock);
}

void vm_throttle__exit(struct vm_throttle *t)
{
	vm_throttle__stop(t);
	/* The throttler sleeps up to 100 ms between looks at t: wait it out. */
	if (t->joinable)
		pthread_join(t->thread, NULL);
	t->joinable = false;
	pthread_mutex_destroy(&t->lock);
}
