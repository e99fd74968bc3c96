// SPDX-License-Identifier: GPL-2.0
/*
 * The VM lifecycle (vm.h): create through the init levels, run until the
 * guest, the control socket or a signal ends it, destroy in reverse.
 * main() only parses options around these; a test can build a VM the
 * same way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/init.h"
#include "vm/ioloop.h"
#include "vm/kvm.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

struct vm *vm__create(const struct vm_config *cfg)
{
	struct vm *vm;
	int ret;

	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		errno = ENOMEM;
		return NULL;
	}
	vm->cfg = *cfg;
	vm->ram.fd = -1;
	vm->kvm_fd = vm->vm_fd = -1;
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_mutex_init(&vm->run_lock, NULL);
	pthread_cond_init(&vm->run_cond, NULL);
	pthread_mutex_init(&vm->update_lock, NULL);

	vm->exit_efd = eventfd(0, EFD_CLOEXEC);
	if (vm->exit_efd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = kvm__init(vm);
	if (ret)
		goto err_close_efd;
	ret = init__run(vm);
	if (ret)
		goto err_kvm_exit;
	return vm;

err_kvm_exit:
	kvm__exit(vm);
err_close_efd:
	close(vm->exit_efd);
err_free:
	pthread_mutex_destroy(&vm->update_lock);
	pthread_cond_destroy(&vm->run_cond);
	pthread_mutex_destroy(&vm->run_lock);
	pthread_mutex_destroy(&vm->pause_lock);
	free(vm);
	errno = -ret;
	return NULL;
}

/*
 * Sleep until a device, a vCPU, the control socket or a signal ends it;
 * wake to reset the machine when the guest asks.
 */
enum vm_exit_reason vm__run(struct vm *vm)
{
	enum vm_exit_reason reason;
	uint64_t v;
	int ret;

	ret = ioloop__start(vm);
	if (!ret)
		ret = vcpu__start_all(vm);
	if (ret)
		vm__request_exit(vm, VM_EXIT_ERROR);
	for (;;) {
		while (read(vm->exit_efd, &v, sizeof(v)) < 0 && errno == EINTR)
			;
		if (atomic_load(&vm->quit_signalled))
			vm__request_exit(vm, VM_EXIT_QUIT);
		pthread_mutex_lock(&vm->run_lock);
		reason = vm->exit_reason;
		pthread_mutex_unlock(&vm->run_lock);
		if (reason != VM_EXIT_NONE)
			return reason;
		if (atomic_load(&vm->reset_pending))
			vm__reset(vm);	/* -EBUSY: the last resume wakes us */
	}
}

void vm__destroy(struct vm *vm)
{
	vcpu__stop_all(vm);
	ioloop__stop(vm);
	init__exit(vm);
	kvm__exit(vm);
	close(vm->exit_efd);
	pthread_mutex_destroy(&vm->update_lock);
	pthread_cond_destroy(&vm->run_cond);
	pthread_mutex_destroy(&vm->run_lock);
	pthread_mutex_destroy(&vm->pause_lock);
	free(vm);
}

void vm__request_exit(struct vm *vm, enum vm_exit_reason reason)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->run_lock);
	if (vm->exit_reason == VM_EXIT_NONE)
		vm->exit_reason = reason;
	pthread_cond_broadcast(&vm->run_cond);
	pthread_mutex_unlock(&vm->run_lock);
	if (write(vm->exit_efd, &one, sizeof(one)) < 0)
		pr_warn("exit eventfd: %s", strerror(errno));
}

void vm__request_reset(struct vm *vm)
{
	uint64_t one = 1;

	if (vm->cfg.no_reboot) {
		vm__request_exit(vm, VM_EXIT_RESET);
		return;
	}
	/* The vCPUs park when they see it; vm__run does the reset. */
	atomic_store(&vm->reset_pending, true);
	if (write(vm->exit_efd, &one, sizeof(one)) < 0)
		pr_warn("exit eventfd: %s", strerror(errno));
}

/* Only an atomic store and a write(2): both async-signal-safe. */
void vm__signal_quit(struct vm *vm)
{
	uint64_t one = 1;

	atomic_store(&vm->quit_signalled, true);
	if (write(vm->exit_efd, &one, sizeof(one)) < 0)
		_exit(1);
}

int vm__exit_status(enum vm_exit_reason reason)
{
	switch (reason) {
	case VM_EXIT_POWEROFF:
	case VM_EXIT_QUIT:
		return 0;
	case VM_EXIT_RESET:
		return 2;
	default:
		return 1;
	}
}

const char *vm__exit_name(enum vm_exit_reason reason)
{
	static const char *const names[] = {
		[VM_EXIT_NONE] = "running",
		[VM_EXIT_POWEROFF] = "poweroff",
		[VM_EXIT_QUIT] = "quit",
		[VM_EXIT_RESET] = "reset",
		[VM_EXIT_ERROR] = "error",
	};

	return names[reason];
}
