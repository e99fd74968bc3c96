// SPDX-License-Identifier: GPL-2.0
/*
 * The seccomp sandbox (sandbox.h).  The vCPU list is what KVM_RUN's exits
 * reach: port and MMIO dispatch into the devices (eventfd writes, KVM's
 * irq and ioeventfd ioctls, a tap or console write, getrandom, a
 * vector's irqfd made, a tap watched), RCU's grace periods when a BAR
 * moves, malloc, logging, and what ASan and UBSan need to report and
 * abort.
 */
#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/sandbox.h"

#ifndef CLONE_THREAD
#define CLONE_THREAD	0x00010000
#endif

static bool disabled;
static __thread const char *thread_class;
static pthread_once_t sigsys_once = PTHREAD_ONCE_INIT;

static const int vcpu_allowed[] = {
	SCMP_SYS(ioctl), SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv),
	SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(close),
	SCMP_SYS(sendto), SCMP_SYS(getrandom), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(lseek),
	/* A vector's first interrupt makes its irqfd; a NIC's DRIVER_OK and
	 * reset watch or unwatch its tap and its announce timer. */
	SCMP_SYS(eventfd2), SCMP_SYS(epoll_ctl), SCMP_SYS(timerfd_create),
	SCMP_SYS(timerfd_settime),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(mprotect), SCMP_SYS(brk),
	SCMP_SYS(futex), SCMP_SYS(membarrier), SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(getcpu),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigaction),
	SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(tgkill), SCMP_SYS(tkill),
	SCMP_SYS(rseq), SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* What ternvm never does, from any thread. */
static const int never[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(fork), SCMP_SYS(vfork),
	SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
	SCMP_SYS(kcmp), SCMP_SYS(pidfd_getfd),
	SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
	SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(fsopen), SCMP_SYS(fsmount),
	SCMP_SYS(move_mount), SCMP_SYS(open_tree),
	SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module),
	SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load), SCMP_SYS(reboot),
	SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd),
	SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(keyctl),
	SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(setreuid), SCMP_SYS(setregid),
	SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setfsuid), SCMP_SYS(setfsgid),
	SCMP_SYS(setgroups), SCMP_SYS(capset),
	SCMP_SYS(settimeofday), SCMP_SYS(clock_settime), SCMP_SYS(adjtimex),
	SCMP_SYS(clock_adjtime), SCMP_SYS(swapon), SCMP_SYS(swapoff),
	SCMP_SYS(syslog), SCMP_SYS(acct), SCMP_SYS(quotactl), SCMP_SYS(iopl),
	SCMP_SYS(ioperm), SCMP_SYS(personality), SCMP_SYS(name_to_handle_at),
	SCMP_SYS(open_by_handle_at), SCMP_SYS(lookup_dcookie),
};

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char *call = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
	char msg[256];
	int n;

	n = snprintf(msg, sizeof(msg),
		     "ternvm: the sandbox stopped a %s thread at the system call %s (%d), "
		     "which its class may not make; --sandbox off runs without it\n",
		     thread_class ?: "ternvm", call ?: "?", si->si_syscall);
	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? n : sizeof(msg) - 1) < 0)
		n = 0;
	_exit(1);
}

static void install_sigsys(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
}

void sandbox__disable(void)
{
	disabled = true;
}

bool sandbox__enabled(void)
{
	return !disabled;
}

static int add_all(scmp_filter_ctx ctx, uint32_t action, const int *nr, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		/* A call this libseccomp or arch does not know is left out. */
		if (nr[i] < 0)
			continue;
		ret = seccomp_rule_add(ctx, action, nr[i], 0);
		if (ret && ret != -EDOM)
			return ret;
	}
	return 0;
}

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

void sandbox__enter(enum sandbox_class c)
{
	static const char *const names[] = {
		[SANDBOX_VCPU] = "vCPU", [SANDBOX_IO] = "I/O",
		[SANDBOX_MIGRATION] = "migration",
	};
	scmp_filter_ctx ctx;
	int ret;

	if (disabled)
		return;
	pthread_once(&sigsys_once, install_sigsys);
	ctx = seccomp_init(c == SANDBOX_VCPU ? SCMP_ACT_TRAP : SCMP_ACT_ALLOW);
	ret = ctx ? 0 : -ENOMEM;
	if (!ctx) {
	} else if (c == SANDBOX_VCPU) {
		ret = add_all(ctx, SCMP_ACT_ALLOW, vcpu_allowed, ARRAY_LEN(vcpu_allowed));
	} else {
		ret = add_all(ctx, SCMP_ACT_TRAP, never, ARRAY_LEN(never));
		/* Threads only; clone3's flags are out of a filter's reach: ENOSYS makes glibc use clone. */
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(clone), 1,
					       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	}
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret) {
		pr_err("sandbox: %s thread: %s (--sandbox off runs without it)",
		       names[c], strerror(-ret));
		_exit(1);
	}
	thread_class = names[c];
}
