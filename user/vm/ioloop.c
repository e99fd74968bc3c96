// SPDX-License-Identifier: GPL-2.0
/*
 * epoll I/O thread (see ioloop.h).  Watches are kept in a small table
 * under a mutex; the thread stops through an eventfd so exit never waits
 * on a blocked epoll_wait.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/log.h"
#include "vm/init.h"
#include "vm/ioloop.h"
#include "vm/sandbox.h"
#include "vm/vm.h"

#define MAX_WATCHES	64

struct watch {
	int fd;
	ioloop_fn fn;
	void *opaque;
};

struct ioloop {
	int epfd;
	int stop_efd;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	struct watch w[MAX_WATCHES];
};

int ioloop__add(struct vm *vm, int fd, uint32_t events, ioloop_fn fn, void *opaque)
{
	struct ioloop *l = vm->loop;
	struct epoll_event ev = { .events = events };
	int i, ret = -ENOSPC;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < MAX_WATCHES; i++) {
		if (l->w[i].fn)
			continue;
		l->w[i] = (struct watch){ fd, fn, opaque };
		ev.data.u32 = i;
		ret = epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
		if (ret)
			l->w[i].fn = NULL;
		break;
	}
	pthread_mutex_unlock(&l->lock);
	if (ret)
		pr_err("ioloop: watch fd %d: %s", fd, strerror(-ret));
	return ret;
}

void ioloop__del(struct vm *vm, int fd)
{
	struct ioloop *l = vm->loop;
	int i;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	for (i = 0; i < MAX_WATCHES; i++) {
		if (l->w[i].fn && l->w[i].fd == fd) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			l->w[i].fn = NULL;
		}
	}
	pthread_mutex_unlock(&l->lock);
}

static void *ioloop_thread(void *arg)
{
	struct ioloop *l = arg;
	struct epoll_event ev[16];
	int n, i;

	pthread_setname_np(pthread_self(), "io");
	rcu_register_thread();
	sandbox__enter(SANDBOX_IO);
	for (;;) {
		n = epoll_wait(l->epfd, ev, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			struct watch w;
			uint32_t idx = ev[i].data.u32;

			if (idx == MAX_WATCHES)
				goto out;
			pthread_mutex_lock(&l->lock);
			w = l->w[idx];
			pthread_mutex_unlock(&l->lock);
			if (w.fn)
				w.fn(w.fd, ev[i].events, w.opaque);
		}
	}
out:
	rcu_unregister_thread();
	return NULL;
}

int ioloop__start(struct vm *vm)
{
	struct ioloop *l = vm->loop;
	int ret;

	ret = pthread_create(&l->thread, NULL, ioloop_thread, l);
	if (ret)
		return -ret;
	l->started = true;
	return 0;
}

int ioloop__init(struct vm *vm)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = MAX_WATCHES };
	struct ioloop *l;
	int ret;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		ret = -errno;
		goto err_free;
	}
	l->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (l->stop_efd < 0) {
		ret = -errno;
		goto err_close_ep;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stop_efd, &ev) < 0) {
		ret = -errno;
		goto err_close_efd;
	}
	vm->loop = l;
	return 0;

err_close_efd:
	close(l->stop_efd);
err_close_ep:
	close(l->epfd);
err_free:
	free(l);
	return ret;
}

void ioloop__stop(struct vm *vm)
{
	struct ioloop *l = vm->loop;
	uint64_t one = 1;

	if (!l || !l->started)
		return;
	if (write(l->stop_efd, &one, sizeof(one)) < 0)
		pr_warn("ioloop stop: %s", strerror(errno));
	pthread_join(l->thread, NULL);
	l->started = false;
}

int ioloop__exit(struct vm *vm)
{
	struct ioloop *l = vm->loop;

	if (!l)
		return 0;
	ioloop__stop(vm);
	close(l->stop_efd);
	close(l->epfd);
	pthread_mutex_destroy(&l->lock);
	free(l);
	vm->loop = NULL;
	return 0;
}
core_init(ioloop__init);
core_exit(ioloop__exit);
