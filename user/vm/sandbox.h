/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The seccomp sandbox (libseccomp), per thread class, on unless
 * --sandbox off.  Each thread enters its class when it starts; a thread
 * it creates inherits the filter, so classes only ever narrow.  Every
 * class is an allow-list (what the class's threads call; the lists in
 * sandbox.c say what for), and no class may fork or exec:
 *
 *  - vCPU: the threads a guest drives directly (KVM_RUN and the device
 *    emulation its exits reach).  KVM and eventfd I/O, memory, futexes,
 *    signals, time, logging; no open, no socket, no thread.
 *  - migration: the migration thread and its channel threads, which
 *    parse the incoming stream: sockets, pipes and splice, tern.ko and
 *    KVM ioctls; files only as a name lookup and TLS read them.
 *  - I/O: the I/O loop and what it starts (control jobs, which open
 *    state files), device workers, the console writer, the throttler;
 *    the migration's calls too, since it starts the migration thread.
 *
 * A call outside its class stops the process with SIGSYS; the handler
 * names the thread and the call before ternvm exits with status 1.
 */
#ifndef TERN_VM_SANDBOX_H
#define TERN_VM_SANDBOX_H

enum sandbox_class {
	SANDBOX_VCPU,
	SANDBOX_IO,
	SANDBOX_MIGRATION,
};

/* --sandbox off: every later sandbox__enter installs no filter. */
void sandbox__disable(void);
/*
 * This thread enters class c.  A filter that cannot be loaded ends
 * ternvm (status 1, naming the class): it never runs unconfined by
 * accident.
 */
void sandbox__enter(enum sandbox_class c);

#endif /* TERN_VM_SANDBOX_H */
