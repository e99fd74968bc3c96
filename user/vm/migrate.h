/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal to user/vm: ternvm's migration object (vm->mig), shared by
 * the adapter (migrate.c), its worker thread (migrate_thread.c) and the
 * control commands (migrate_cmd.c).
 */
#ifndef TERN_VM_MIGRATE_H
#define TERN_VM_MIGRATE_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "migration/migration.h"
#include "vm/throttle.h"

#define MIG_MAX_DEVICES		128
#define MIG_CPUID_BYTES		32
#define POWERED_OFF		"guest powered off"

struct vm;

struct vm_mig {
	struct vm *vm;
	struct mig *mig;
	pthread_mutex_t lock;
	pthread_t thread;
	bool thread_live;		/* a migrate/incoming thread to join */
	bool busy;			/* it has not finished yet */
	bool incoming;
	int lfd;			/* incoming: listening since start-up */
	bool exit_after;		/* source: quit once `running` came */
	atomic_bool start_paused;	/* incoming: stay paused after commit */
	char uri[256];
	struct mig_ram_block block;
	struct mig_device devices[MIG_MAX_DEVICES];
	unsigned int nr_devices;
	uint8_t cpuid[MIG_CPUID_BYTES];
	struct vm_throttle throttle;	/* auto-converge */
};

/*
 * Start the worker thread: a migration to uri, or (incoming) one taken
 * on m->lfd.  args: a migrate command's checked parameters, applied only
 * once it is sure this migration starts (a refused migrate changes
 * nothing of the one running).  -EBUSY with err filled while one runs.
 */
int vm_mig__start(struct vm_mig *m, const char *uri, bool incoming,
		  struct json_object *args, char *err, size_t errlen);
/* Join the last migration's thread, if any. */
void vm_mig__join(struct vm_mig *m);

#endif /* TERN_VM_MIGRATE_H */
