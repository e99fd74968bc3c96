// SPDX-License-Identifier: GPL-2.0
/*
 * The seccomp sandbox (sandbox.h).  Each list is what its threads were
 * seen to call (scripts/sandbox-learn.sh: the harness tests under strace)
 * read against the code that makes the call.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "vm/sandbox.h"
#include "vm/test_hooks.h"

#ifndef CLONE_THREAD
#define CLONE_THREAD	0x00010000
#endif

static bool disabled;
static __thread const char *thread_class;
static pthread_once_t sigsys_once = PTHREAD_ONCE_INIT;

/*
 * Every class: reads and writes on fds it was given, memory, futexes and
 * RCU, signals, time, its own thread's life, logging, and what ASan and
 * UBSan need to report and abort.
 */
static const int any_thread[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(close), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(lseek), SCMP_SYS(ioctl), SCMP_SYS(getrandom),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(mprotect), SCMP_SYS(brk),
	SCMP_SYS(futex), SCMP_SYS(membarrier), SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(getcpu),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigaction),
	SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(tgkill), SCMP_SYS(tkill),
	SCMP_SYS(rseq), SCMP_SYS(set_robust_list), SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/*
 * Device emulation beyond fd writes and KVM's ioctls: a vector's irqfd
 * made, a NIC that starts or resets watching its tap and arming its
 * announce timer, a frame sent on the tap.  A vCPU reaches it through
 * port and MMIO exits, the migration thread by starting the guest on a
 * destination.  The vCPU class has no more than this: no open, no
 * socket, no thread.
 */
static const int device_calls[] = {
	SCMP_SYS(sendto), SCMP_SYS(eventfd2), SCMP_SYS(epoll_ctl),
	SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
};

/*
 * I/O: the event loop (the control and console sockets, a client's
 * credentials, device fds and timers), control jobs (save-state and
 * load-state files, which a client passes or --state-dir names), device
 * workers (virtio-blk's image, through an io_uring that may do nothing
 * else: see virtio-blk.c), the console writer, the throttler.  It
 * starts the migration thread, which keeps its filter: so it has the
 * migration's list as well.
 */
static const int io_allowed[] = {
	SCMP_SYS(dup), SCMP_SYS(dup3), SCMP_SYS(preadv), SCMP_SYS(pwritev),
	SCMP_SYS(fsync), SCMP_SYS(fallocate), SCMP_SYS(readlink),
	SCMP_SYS(io_uring_enter),
};

/*
 * Migration: the outgoing connection (a name lookup: resolver files and
 * sockets; connect, TLS and its kernel record layer), the incoming
 * listener, SIGPIPE taken synchronously, tern.ko's page streams spliced
 * through pipes, the KVM dirty log, the channel threads, the state blob
 * in a memfd; at switchover the disk image flushed, and on a destination
 * the guest started (device_calls); an epoll for kernel TLS's
 * whole-record wakeups (wire.c).  It parses a hostile stream: it may
 * open (a name lookup and TLS read files) but not create, change or
 * remove a file, run a program, or change a privilege.
 */
static const int migration_allowed[] = {
	SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen),
	SCMP_SYS(accept4), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(shutdown),
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(recvfrom),
	SCMP_SYS(sendmmsg), SCMP_SYS(splice), SCMP_SYS(pipe2), SCMP_SYS(fcntl),
	SCMP_SYS(memfd_create), SCMP_SYS(ftruncate), SCMP_SYS(fdatasync),
	SCMP_SYS(openat), SCMP_SYS(getdents64), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2),
	SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(rt_sigpending), SCMP_SYS(rt_sigtimedwait),
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	/* A thread it starts enters a class of its own (the throttler). */
	SCMP_SYS(prctl), SCMP_SYS(seccomp),
};

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char *call = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
	char msg[256];
	int n;

	n = snprintf(msg, sizeof(msg),
		     "ternvm: the sandbox stopped %s thread at the system call %s (%d), "
		     "which its class may not make; --sandbox off runs without it\n",
		     thread_class ?: "a ternvm", call ?: "?", si->si_syscall);
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

static int allow_class(scmp_filter_ctx ctx, enum sandbox_class c)
{
	int ret = add_all(ctx, SCMP_ACT_ALLOW, any_thread, ARRAY_LEN(any_thread));

	if (!ret)
		ret = add_all(ctx, SCMP_ACT_ALLOW, device_calls, ARRAY_LEN(device_calls));
	if (ret || c == SANDBOX_VCPU)
		return ret;
	ret = add_all(ctx, SCMP_ACT_ALLOW, migration_allowed, ARRAY_LEN(migration_allowed));
	if (!ret && c == SANDBOX_IO)
		ret = add_all(ctx, SCMP_ACT_ALLOW, io_allowed, ARRAY_LEN(io_allowed));
	/* Threads only; clone3's flags are out of a filter's reach: ENOSYS makes glibc use clone. */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return ret;
}

void sandbox__enter(enum sandbox_class c)
{
	/* key: TERN_TEST_FORBIDDEN_CALL's value; who: for messages. */
	static const struct { const char *key, *who; } class[] = {
		[SANDBOX_VCPU] = { "vcpu", "a vCPU" },
		[SANDBOX_IO] = { "io", "an I/O" },
		[SANDBOX_MIGRATION] = { "migration", "a migration" },
	};
	const char *forbidden;
	scmp_filter_ctx ctx;
	int ret;

	if (!disabled) {
		pthread_once(&sigsys_once, install_sigsys);
		ctx = seccomp_init(SCMP_ACT_TRAP);
		ret = ctx ? allow_class(ctx, c) : -ENOMEM;
		if (!ret)
			ret = seccomp_load(ctx);
		seccomp_release(ctx);
		if (ret) {
			pr_err("sandbox: %s thread: %s (--sandbox off runs without it)",
			       class[c].who, strerror(-ret));
			_exit(1);
		}
		thread_class = class[c].who;
	}
	/* The sandbox's test (ternvm-test only): a call no class makes. */
	forbidden = test_hook__env("TERN_TEST_FORBIDDEN_CALL");
	if (forbidden && !strcmp(forbidden, class[c].key))
		mknodat(AT_FDCWD, "", S_IFIFO | 0600, 0);
}
