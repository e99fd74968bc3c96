// SPDX-License-Identifier: GPL-2.0
/*
 * The migration's worker thread: one migration out (migrate) or in
 * (--incoming), its final MIGRATION event, and what its end means for
 * this VM (quit, stay paused, or wait for the operator after a commit
 * whose outcome is not known).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/log.h"
#include "migration/params.h"
#include "vm/control.h"
#include "vm/migrate.h"
#include "vm/sandbox.h"
#include "vm/vm.h"

static void *mig_thread(void *arg)
{
	struct vm_mig *m = arg;
	struct json_object *data;
	struct mig_stats st;
	int ret;

	pthread_setname_np(pthread_self(), "migration");
	sandbox__enter(SANDBOX_MIGRATION);
	ret = m->incoming ? mig__incoming_listener(m->mig, m->lfd) :
			    mig__migrate(m->mig, m->uri);
	if (m->incoming && m->lfd >= 0) {
		close(m->lfd);
		m->lfd = -1;
	}
	vm_throttle__set(&m->throttle, 0);
	mig__query(m->mig, &st);
	data = mig__stats_json(&st);
	control__event(m->vm, "MIGRATION", data);
	pthread_mutex_lock(&m->lock);
	m->busy = false;
	pthread_mutex_unlock(&m->lock);
	if (ret && m->incoming) {
		pr_err("incoming migration from %s failed: %s", m->uri, st.error);
		vm__request_exit(m->vm, VM_EXIT_ERROR);
	} else if (!ret && !m->incoming) {
		atomic_store(&m->vm->away_confirmed, true);
		atomic_store(&m->vm->migrated_away, true);
		if (m->exit_after) {
			pr_info("migrated to %s; the guest runs there, exiting", m->uri);
			vm__request_exit(m->vm, VM_EXIT_QUIT);
		} else {
			pr_info("migrated to %s; the guest runs there, this one stays paused", m->uri);
		}
	} else if (st.state == MIG_S_POSTCOMMIT_UNKNOWN) {
		/*
		 * The destination may run the guest: the switchover's pause
		 * stays, and only `cont --revert` lifts it (a plain cont
		 * here would be one word away from two running copies).
		 */
		atomic_store(&m->vm->away_confirmed, false);
		atomic_store(&m->vm->migrated_away, true);
	}
	return NULL;
}

/*
 * args: a migrate command's (checked) optional arguments, applied only
 * once it is sure this migration starts: a refused migrate changes
 * nothing of the one running.
 */
int vm_mig__start(struct vm_mig *m, const char *uri, bool incoming,
		  struct json_object *args, char *err, size_t errlen)
{
	const struct mig_param *d;
	struct json_object *v;
	int ret;

	pthread_mutex_lock(&m->lock);
	if (m->busy) {
		pthread_mutex_unlock(&m->lock);
		snprintf(err, errlen, "a migration is already running");
		return -EBUSY;
	}
	for (d = mig_param_table; args && d->name; d++)
		if (json_object_object_get_ex(args, d->name, &v))
			mig__set_param(m->mig, d->name, json_object_get_int64(v));
	if (args)
		m->exit_after = json_object_object_get_ex(args, "exit", &v) &&
				json_object_get_boolean(v);
	vm_mig__join(m);
	snprintf(m->uri, sizeof(m->uri), "%s", uri);
	m->incoming = incoming;
	/* No migration ran: a cancel since was for none (see do_migrate_cancel). */
	mig__cancel_reset(m->mig);
	m->busy = true;
	ret = -pthread_create(&m->thread, NULL, mig_thread, m);
	if (ret)
		m->busy = false;
	else
		m->thread_live = true;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

void vm_mig__join(struct vm_mig *m)
{
	if (m->thread_live)
		pthread_join(m->thread, NULL);
	m->thread_live = false;
}
