// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty tracking misses no writer.  Deterministic cases pin the ioctl
 * contract; the stamp campaign (the oracle of the kernel's KVM
 * dirty_log_test) runs two writer threads, a forked process mapping the fd,
 * a kernel writer (read(2) from a pipe into the mapping), vhost-net's
 * kernel thread receiving frames into the mapping (as into a guest's RAM),
 * a thread writing through a map-only fd's mapping and one writing
 * through a KVM view (the
 * module does not see it: it logs its pages as KVM's dirty log would, and
 * the harvester hands them in with TERN_TRACK_MARK) while rounds are
 * harvested, and proves: a page reported dirty holds this or the last
 * round's stamp (a tracker that reports everything fails), a page whose
 * value changed is reported in this round or the next, and a copy that
 * applies each round's pages equals the region at the end.  (A page may be
 * reported with an old stamp when a store's fault preceded the harvest and
 * the store itself followed it; it must then be reported again, changed.)
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "tern_util.h"
#include "test_util.h"
#include "vhost_util.h"


TEST(contract)
{
	const size_t npages = 100;
	struct tern_track_stats st;
	struct tern_harvest h;
	uint64_t map[2], round;
	char *mem, *mem2;
	size_t i;
	int fd;

	REQUIRE_TERN();
	fd = region_create(npages * PAGE, "contract");
	mem = region_map(fd, npages * PAGE);
	ASSERT_EQ(-ENODATA, __track_harvest(fd, map, sizeof(map), &h));
	track_start(fd);
	ASSERT_EQ(-EBUSY, __region_ioctl(fd, TERN_TRACK_START, NULL));
	ASSERT_EQ(-EINVAL, __track_harvest(fd, map, 8, &h));
	/* Round 1 is the whole region. */
	ASSERT_EQ(npages, track_harvest(fd, map, npages, &round));
	ASSERT_EQ(1, round);
	for (i = 0; i < npages; i++)
		ASSERT_TRUE(bit_test(map, i));
	ASSERT_EQ(0, map[1] >> (npages - 64));
	ASSERT_EQ(0, track_harvest(fd, map, npages, &round));
	ASSERT_EQ(2, round);

	mem[3 * PAGE] = 1;
	mem[7 * PAGE + 100] = 1;
	mem[99 * PAGE + 4095] = 1;
	(void)*(volatile char *)(mem + 50 * PAGE);	/* a read is not a write */
	ASSERT_EQ(3, track_harvest(fd, map, npages, NULL));
	ASSERT_TRUE(bit_test(map, 3) && bit_test(map, 7) && bit_test(map, 99));
	ASSERT_EQ(0, track_harvest(fd, map, npages, NULL));

	/* The same page written again after a harvest is reported again. */
	mem[3 * PAGE] = 2;
	ASSERT_EQ(1, track_harvest(fd, map, npages, NULL));
	ASSERT_TRUE(bit_test(map, 3));

	/* A second mapping of the fd is tracked too. */
	mem2 = region_map(fd, npages * PAGE);
	mem2[42 * PAGE] = 1;
	ASSERT_EQ(1, track_harvest(fd, map, npages, NULL));
	ASSERT_TRUE(bit_test(map, 42));

	track_stats(fd, &st);
	ASSERT_EQ(6, st.rounds);
	ASSERT_EQ(1, st.last_pages);
	ASSERT_EQ(npages + 5, st.dirtied);
	ASSERT_LE(5, st.write_faults);

	track_stop(fd);
	ASSERT_EQ(-ENODATA, __track_harvest(fd, map, sizeof(map), &h));
	munmap(mem, npages * PAGE);
	munmap(mem2, npages * PAGE);
	close(fd);
}

/* ---- the stamp campaign ---- */

enum { W_THREAD0, W_THREAD1, W_CHILD, W_KERNEL, W_MAPONLY, W_KVMVIEW,
       W_VHOST, NR_WRITERS };

struct shared {				/* MAP_SHARED anon: seen by the child */
	_Atomic uint64_t iter;
	_Atomic uint64_t ack[NR_WRITERS];	/* iteration a writer writes now */
	_Atomic bool stop;
	_Atomic uint64_t writes;
};

struct camp {
	struct shared *sh;
	uint64_t *mem;			/* the region, as u64 words */
	size_t npages;
	int fd;
	_Atomic uint64_t *kvm_log;	/* pages written through the KVM view */
	struct vhost_rx *vhost;		/* W_VHOST's queue */
};

/*
 * The VMM's step before each harvest: take the KVM view's log, as
 * KVM_GET_DIRTY_LOG + KVM_CLEAR_DIRTY_LOG would, and hand it to the module.
 */
static void hand_in_kvm_log(struct camp *c, uint64_t *buf)
{
	size_t i, words = bitmap_bytes(c->npages) / 8;
	struct tern_track_mark m = {
		.bitmap = (uintptr_t)buf,
		.bitmap_size = words * 8,
	};

	for (i = 0; i < words; i++)
		buf[i] = atomic_exchange(&c->kvm_log[i], 0);
	TEST_ASSERT(!ioctl(c->fd, TERN_TRACK_MARK, &m), "TERN_TRACK_MARK");
}

/* Writes per writer per iteration: keeps rounds sparse, so a tracker that
 * over-reports is caught by the stamp check. */
#define QUOTA	24

static void writer_step(struct camp *c, uint64_t *mem, int w, uint64_t *seed,
			int pipefd[2], unsigned int *done)
{
	uint64_t v = atomic_load(&c->sh->iter);
	size_t p = xorshift64(seed) % c->npages;
	uint64_t *dst = mem + p * (PAGE / 8);

	if (atomic_load(&c->sh->ack[w]) != v) {
		atomic_store(&c->sh->ack[w], v);
		*done = 0;
	}
	if (*done >= QUOTA) {
		sched_yield();
		return;
	}
	(*done)++;
	if (w == W_KERNEL) {
		/* the kernel copies into the mapping, as vhost would */
		TEST_ASSERT(write(pipefd[1], &v, sizeof(v)) == sizeof(v),
			    "write(pipe)");
		TEST_ASSERT(read(pipefd[0], dst, sizeof(v)) == sizeof(v),
			    "read(pipe -> region)");
	} else if (w == W_VHOST) {
		/* vhost's thread, in this process's mm, copies a frame in */
		TEST_ASSERT(!vhost_rx_write(c->vhost, p * PAGE, v), "vhost-net receive");
	} else {
		atomic_store_explicit((_Atomic uint64_t *)dst, v,
				      memory_order_relaxed);
	}
	/*
	 * As KVM's dirty log, seen from the page's reader: the page is
	 * logged no earlier than written, so a log taken before the write
	 * leaves it for the next.
	 */
	if (w == W_KVMVIEW)
		atomic_fetch_or(&c->kvm_log[p / 64], 1ULL << (p % 64));
	atomic_fetch_add_explicit(&c->sh->writes, 1, memory_order_relaxed);
}

struct writer_arg {
	struct camp *c;
	uint64_t *mem;			/* the mapping it writes through */
	int w;
};

static void *writer_thread(void *arg)
{
	struct writer_arg *a = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (a->w + 1);
	int pipefd[2] = { -1, -1 };
	unsigned int done = 0;

	if (a->w == W_KERNEL)
		TEST_ASSERT(!pipe(pipefd), "pipe");
	while (!atomic_load(&a->c->sh->stop))
		writer_step(a->c, a->mem, a->w, &seed, pipefd, &done);
	return NULL;
}

static void child_writer(struct camp *c)
{
	struct camp mine = *c;
	uint64_t seed = 0xdeadbeefcafeULL;
	unsigned int done = 0;

	/* Never outlive a failed test: it would hold the TAP pipe open. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(3);
	/* The child maps the fd itself: a process other than the VMM. */
	mine.mem = mmap(NULL, c->npages * PAGE, PROT_READ | PROT_WRITE,
			MAP_SHARED, c->fd, 0);
	if (mine.mem == MAP_FAILED)
		_exit(2);
	while (!atomic_load(&c->sh->stop))
		writer_step(&mine, mine.mem, W_CHILD, &seed, NULL, &done);
	_exit(0);
}

static void wait_acks(struct shared *sh, uint64_t k, unsigned int mask)
{
	int w;

	for (w = 0; w < NR_WRITERS; w++)
		while ((mask & 1U << w) && atomic_load(&sh->ack[w]) != k)
			sched_yield();
}

FIXTURE(campaign) {};
FIXTURE_SETUP(campaign) {}
FIXTURE_TEARDOWN(campaign) {}

/* The strategy table: each writer kind alone, then all of them at once. */
FIXTURE_VARIANT(campaign) {
	unsigned int writers;		/* 1 << W_* */
	bool always_full;		/* the 200 rounds on 64 MiB, even in make check */
};
FIXTURE_VARIANT_ADD(campaign, threads) {
	.writers = 1 << W_THREAD0 | 1 << W_THREAD1,
};
FIXTURE_VARIANT_ADD(campaign, second_process) {
	.writers = 1 << W_CHILD,
};
FIXTURE_VARIANT_ADD(campaign, kernel_writer) {
	.writers = 1 << W_KERNEL,
};
FIXTURE_VARIANT_ADD(campaign, map_only_fd) {
	.writers = 1 << W_MAPONLY,
};
FIXTURE_VARIANT_ADD(campaign, vhost_net) {
	.writers = 1 << W_VHOST,
};
FIXTURE_VARIANT_ADD(campaign, kvm_view_and_tracked) {
	.writers = 1 << W_KVMVIEW | 1 << W_THREAD0,
};
FIXTURE_VARIANT_ADD(campaign, all_writers) {
	.writers = (1 << NR_WRITERS) - 1,
	.always_full = true,
};

TEST_F_TIMEOUT(campaign, stamp_oracle, 1800)
{
	const unsigned int mask = variant->writers;
	const unsigned int nw = __builtin_popcount(mask);
	const bool full = check_full() || variant->always_full;
	size_t npages = full ? (64 << 20) / PAGE : (8 << 20) / PAGE;
	unsigned int rounds = full ? 200 : 40;
	uint64_t *map, *shadow, *copy, *pending, *suspect, *logbuf, v, k;
	uint64_t *views[NR_WRITERS] = { NULL }, writes0;
	int map_fd, kvm_fd;
	size_t least = QUOTA < nw * QUOTA / 2 ? QUOTA : nw * QUOTA / 2;
	size_t i, words, missed = 0, spurious = 0, reported = 0;
	struct writer_arg wa[NR_WRITERS];
	struct tern_track_stats st;
	pthread_t th[NR_WRITERS];
	struct camp c;
	int status;
	pid_t pid;

	REQUIRE_TERN();
	c.npages = npages;
	c.fd = region_create(npages * PAGE, "stamp");
	c.mem = region_map(c.fd, npages * PAGE);
	c.sh = mmap(NULL, sizeof(*c.sh), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c.sh);
	words = bitmap_bytes(npages) / 8;
	map = calloc(words, 8);
	pending = calloc(words, 8);
	suspect = calloc(words, 8);	/* old stamp, dirty: a write in flight? */
	shadow = calloc(npages, 8);	/* stamps read after the last harvest */
	copy = calloc(npages, 8);	/* the "destination" */
	c.kvm_log = calloc(words, 8);
	logbuf = calloc(words, 8);
	ASSERT_TRUE(map && pending && suspect && shadow && copy);
	ASSERT_TRUE(c.kvm_log && logbuf);
	for (i = 0; i < NR_WRITERS; i++)
		views[i] = c.mem;
	/* A helper's map-only fd, and the memslot's KVM view. */
	map_fd = ioctl(c.fd, TERN_REGION_MAP_FD, 0);
	kvm_fd = ioctl(c.fd, TERN_REGION_KVM_FD, 0);
	ASSERT_LE(0, map_fd);
	ASSERT_LE(0, kvm_fd);
	views[W_MAPONLY] = region_map(map_fd, npages * PAGE);
	views[W_KVMVIEW] = region_map(kvm_fd, npages * PAGE);
	c.vhost = NULL;
	if (mask & 1 << W_VHOST) {
		c.vhost = vhost_rx_open(c.mem, npages * PAGE);
		if (!c.vhost && (errno == ENOENT || errno == ENODEV))
			SKIP(return, "no vhost-net or tun here: %s", strerror(errno));
		ASSERT_NE(NULL, c.vhost) TH_LOG("vhost-net: %s", strerror(errno));
	}

	track_start(c.fd);
	atomic_store(&c.sh->iter, 1);
	pid = -1;
	if (mask & 1 << W_CHILD) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			child_writer(&c);
	}
	for (i = 0; i < NR_WRITERS; i++) {
		if (i == W_CHILD || !(mask & 1U << i))
			continue;
		wa[i].c = &c;
		wa[i].mem = views[i];
		wa[i].w = i;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, writer_thread, &wa[i]));
	}

	for (k = 1; k <= rounds; k++) {
		writes0 = atomic_load(&c.sh->writes);
		atomic_store(&c.sh->iter, k);
		wait_acks(c.sh, k, mask);
		/* harvest while the writers are still writing this iteration */
		while (atomic_load(&c.sh->writes) - writes0 < least)
			sched_yield();
		hand_in_kvm_log(&c, logbuf);
		track_harvest(c.fd, map, npages, NULL);
		for (i = 0; i < npages; i++) {
			bool dirty = bit_test(map, i);

			v = atomic_load_explicit((_Atomic uint64_t *)
						 (c.mem + i * (PAGE / 8)),
						 memory_order_relaxed);
			if (suspect[i / 64] >> (i % 64) & 1) {
				if (!dirty || v == shadow[i])
					spurious++;
				suspect[i / 64] &= ~(1ULL << (i % 64));
			}
			if (dirty) {
				reported++;
				copy[i] = v;	/* the data sent */
				pending[i / 64] &= ~(1ULL << (i % 64));
				/* round 1 carries everything */
				/*
				 * An old stamp is allowed only for a write in
				 * flight: its fault came before this harvest,
				 * its store after, so the page must come back
				 * next round with a new stamp.
				 */
				if (k > 1 && v + 1 < k)
					suspect[i / 64] |= 1ULL << (i % 64);
			} else if (pending[i / 64] >> (i % 64) & 1) {
				/* changed last round but not reported since */
				missed++;
				pending[i / 64] &= ~(1ULL << (i % 64));
			}
			if (v != shadow[i] && !dirty)
				pending[i / 64] |= 1ULL << (i % 64);
			ASSERT_LE(v, k);
			shadow[i] = v;
		}
	}
	atomic_store(&c.sh->stop, true);
	for (i = 0; i < NR_WRITERS; i++)
		if (i != W_CHILD && (mask & 1U << i))
			pthread_join(th[i], NULL);
	if (pid > 0) {
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_EQ(0, status);
	}

	/* The final round with every writer stopped: the copy is exact. */
	hand_in_kvm_log(&c, logbuf);
	track_harvest(c.fd, map, npages, NULL);
	for (i = 0; i < npages; i++) {
		v = c.mem[i * (PAGE / 8)];
		if ((suspect[i / 64] >> (i % 64) & 1) &&
		    (!bit_test(map, i) || v == shadow[i]))
			spurious++;
		if (bit_test(map, i))
			copy[i] = v;
		else if (pending[i / 64] >> (i % 64) & 1)
			missed++;
	}
	for (i = 0; i < npages; i++)
		if (copy[i] != c.mem[i * (PAGE / 8)])
			missed++;
	track_stats(c.fd, &st);
	TH_LOG("%u rounds, %zu pages, %llu writes, %zu reported, %zu unwritten, %llu kept for a holder",
	       rounds, npages, (unsigned long long)atomic_load(&c.sh->writes),
	       reported, spurious, (unsigned long long)st.held);
	ASSERT_EQ(0, missed);
	/*
	 * A page reported again with no new write is one the module kept
	 * dirty because someone still held it (a fault in flight, an LRU
	 * batch): never more of them than it kept.
	 */
	ASSERT_LE(spurious, st.held);
	/* The oracle must have had something to check. */
	ASSERT_LT(npages + rounds, reported);
	ASSERT_GT(npages + rounds * nw * QUOTA + st.held, reported);

	vhost_rx_close(c.vhost);
	munmap(c.mem, npages * PAGE);
	munmap(views[W_MAPONLY], npages * PAGE);
	munmap(views[W_KVMVIEW], npages * PAGE);
	close(map_fd);
	close(kvm_fd);
	close(c.fd);
	free(c.kvm_log);
	free(logbuf);
	free(map);
	free(pending);
	free(suspect);
	free(shadow);
	free(copy);
}

TEST_HARNESS_MAIN
