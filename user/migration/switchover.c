// SPDX-License-Identifier: GPL-2.0
/*
 * Switchover, two-phase: the source stops the vCPUs, sends the last round
 * and the machine state blob, waits for `ready`, writes `commit` and waits
 * for `running`.  From the first byte of `commit` on it never resumes the
 * guest by itself (postcommit-unknown).  The destination's side of the
 * state blob is here too.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "migration/internal.h"

static int send_state(struct mig *mig)
{
	struct nl_msg *msg;
	off_t size, done = 0;
	ssize_t n;
	int fd, ret;

	ret = mig_subs_check(mig);
	if (ret)
		return ret;
	fd = memfd_create("tern-mig-state", MFD_CLOEXEC);
	if (fd < 0)
		return mig_fail(mig, -errno, "memfd for the machine state");
	ret = mig->ops->save_state(mig->vm, fd);
	if (ret) {
		ret = mig_fail(mig, ret, "saving the machine state");
		goto out;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size < 0 || size > MIG_STATE_MAX) {
		ret = mig_fail(mig, -EFBIG, "machine state of %lld bytes (limit %u)",
			       (long long)size, MIG_STATE_MAX);
		goto out;
	}
	while (done < size) {
		n = pread(fd, mig->chunk, MIG_STATE_PART_MAX, done);
		if (n <= 0) {
			ret = mig_fail(mig, n ? -errno : -EIO,
				       "reading back the machine state");
			goto out;
		}
		ret = mig_send(&mig->conn, MIG_MSG_STATE, mig->chunk, n);
		if (ret) {
			ret = mig_fail(mig, ret, "sending state: %s", mig->conn.err);
			goto out;
		}
		mig_stat_add(mig, sizeof(struct mig_hdr) + n, 0, 0);
		done += n;
	}
	msg = mig_attrs_new();
	if (!msg) {
		ret = -ENOMEM;
		goto out;
	}
	if (nla_put_u64(msg, MIG_A_STATE_LEN, size)) {
		nlmsg_free(msg);
		ret = -EMSGSIZE;
		goto out;
	}
	ret = mig_send_attrs(&mig->conn, MIG_MSG_STATE_END, msg);
	if (ret)
		ret = mig_fail(mig, ret, "sending state-end: %s", mig->conn.err);
out:
	close(fd);
	return ret;
}

/* Milliseconds from *t to now; *t becomes now. */
static uint64_t lap_ms(uint64_t *t)
{
	uint64_t now = mig_now_ns(), ms = (now - *t) / 1000000;

	*t = now;
	return ms;
}

static void postcommit(struct mig *mig, const struct mig_switchover_stat *sw)
{
	pthread_mutex_lock(&mig->lock);
	mig->st.downtime_ms = (mig_now_ns() - mig->pause_ns) / 1000000;
	mig->st.sw = *sw;
	pthread_mutex_unlock(&mig->lock);
}

/*
 * 0: completed; -EINPROGRESS: postcommit-unknown (guest paused here);
 * other -errno: failed before commit (the caller resumes the guest).
 */
int mig_switchover(struct mig *mig)
{
	struct mig_switchover_stat sw;
	uint64_t pending, tx0, t = mig_now_ns();
	int ret;

	mig->phase = "switchover";
	mig_set_state(mig, MIG_S_DEVICE);
	ret = mig->ops->pause(mig->vm);
	if (ret)
		return mig_fail(mig, ret, "cannot stop the vCPUs");
	mig->paused = true;
	sw.stop_ms = lap_ms(&t);
	mig->pause_ns = t;
	ret = mig_send(&mig->conn, MIG_MSG_SWITCHOVER, NULL, 0);
	if (ret)
		return mig_fail(mig, ret, "sending switchover: %s",
				mig->conn.err);
	if (mig->tracker != MIG_TRACKER_TERN) {
		ret = mig_sync(mig, &pending);
		if (ret)
			return ret;
	}
	ret = mig_send_round(mig, false);
	if (ret)
		return ret;
	mig->ops->dirty_stop(mig->vm);
	mig->tracking = false;
	sw.last_round_ms = lap_ms(&t);
	ret = send_state(mig);
	if (ret)
		return ret;
	sw.state_ms = lap_ms(&t);

	mig->phase = "ready";
	ret = mig_expect(mig, MIG_MSG_READY);
	if (ret)
		return ret;
	sw.load_ms = lap_ms(&t);

	mig->phase = "commit";
	tx0 = mig->conn.tx_off;
	ret = mig_send(&mig->conn, MIG_MSG_COMMIT, NULL, 0);
	if (ret && mig->conn.tx_off == tx0)
		return mig_fail(mig, ret, "sending commit: %s", mig->conn.err);
	/* Some of `commit` left: the destination may run the guest now. */
	mig->committed = true;
	mig_set_state(mig, MIG_S_COMMITTING);
	if (ret) {
		mig_fail(mig, ret, "sending commit: %s", mig->conn.err);
		return -EINPROGRESS;
	}
	mig->phase = "running";
	ret = mig_expect(mig, MIG_MSG_RUNNING);
	sw.start_ms = lap_ms(&t);
	postcommit(mig, &sw);
	return ret ? -EINPROGRESS : 0;
}

/* Destination: state parts until state-end, into a memfd at offset 0. */
int mig_recv_state(struct mig *mig, const struct mig_hdr *first, int *fdp)
{
	struct nlattr *tb[MIG_A_MAX + 1];
	uint64_t total = 0, len;
	struct mig_hdr h = *first;
	int fd, ret;

	fd = memfd_create("tern-mig-state", MFD_CLOEXEC);
	if (fd < 0)
		return mig_fail(mig, -errno, "memfd for the machine state");
	for (;;) {
		if (h.type == MIG_MSG_STATE_END)
			break;
		if (h.type != MIG_MSG_STATE) {
			ret = mig_fail(mig, -EPROTO, "%s inside the machine state",
				       mig_msg_name(h.type));
			goto err;
		}
		if (total + h.len > MIG_STATE_MAX) {
			ret = mig_fail(mig, -EFBIG,
				       "machine state beyond %u bytes", MIG_STATE_MAX);
			goto err;
		}
		ret = mig_conn_read(&mig->conn, mig->chunk, h.len);
		if (ret) {
			ret = mig_fail(mig, ret, "%s", mig->conn.err);
			goto err;
		}
		if (pwrite(fd, mig->chunk, h.len, total) != (ssize_t)h.len) {
			ret = mig_fail(mig, -EIO, "buffering the machine state");
			goto err;
		}
		total += h.len;
		mig_stat_add(mig, sizeof(h) + h.len, 0, 0);
		ret = mig_recv_hdr(&mig->conn, &h);
		if (ret) {
			ret = mig_fail(mig, ret, "%s", mig->conn.err);
			goto err;
		}
	}
	ret = mig_recv_attrs(&mig->conn, &h, tb);
	if (ret) {
		ret = mig_fail(mig, ret, "state-end: %s", mig->conn.err);
		goto err;
	}
	if (mig_attr_u64(tb, MIG_A_STATE_LEN, &len) || len != total) {
		ret = mig_fail(mig, -EBADMSG,
			       "machine state: %" PRIu64 " bytes received, state-end says otherwise",
			       total);
		goto err;
	}
	lseek(fd, 0, SEEK_SET);
	*fdp = fd;
	return 0;
err:
	close(fd);
	return ret;
}
