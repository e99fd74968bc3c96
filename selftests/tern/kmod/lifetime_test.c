// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetime: closing the region fd, unmapping, closing the stream and
 * draining a pipe that holds spliced pages, in every order (100 runs),
 * never leaks (the module's counters return to zero) and rmmod is refused
 * exactly while a region, mapping or stream lives; a pipe may outlive the
 * module; a process that exits or is killed mid-harvest leaks nothing.
 * The harness fails the run on any kernel warning meanwhile.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "tern_util.h"
#include "test_util.h"

/* A test that unloaded the module and failed must not skip the rest. */
#define NP	8

enum { O_REGION, O_MAP, O_STREAM, O_PIPE, NR_OBJ };

struct objs {
	int region, stream, pipe[2];
	char *map;
	bool alive[NR_OBJ];
};

static void make_objs(struct objs *o)
{
	ssize_t r;

	o->region = region_create(NP * PAGE, "life");
	o->map = region_map(o->region, NP * PAGE);
	memset(o->map + PAGE, 0x42, PAGE);
	memset(o->map + 5 * PAGE, 0x43, PAGE);
	track_start(o->region);
	o->stream = stream_open(o->region);
	TEST_ASSERT(!pipe(o->pipe), "pipe");
	fcntl(o->pipe[1], F_SETPIPE_SZ, 1 << 20);
	r = splice(o->stream, NULL, o->pipe[1], NULL, 1 << 20, 0);
	TEST_ASSERT(r > (ssize_t)(2 * PAGE), "splice = %zd", r);
	memset(o->alive, 1, sizeof(o->alive));
}

static void release(struct objs *o, int which)
{
	char buf[4096];

	switch (which) {
	case O_REGION:
		close(o->region);
		break;
	case O_MAP:
		munmap(o->map, NP * PAGE);
		break;
	case O_STREAM:
		close(o->stream);
		break;
	case O_PIPE:
		/* drain it: the pages it holds must still be readable */
		fcntl(o->pipe[0], F_SETFL, O_NONBLOCK);
		while (read(o->pipe[0], buf, sizeof(buf)) > 0)
			;
		close(o->pipe[0]);
		close(o->pipe[1]);
		break;
	}
	o->alive[which] = false;
}

static bool pins_module(const struct objs *o)
{
	return o->alive[O_REGION] || o->alive[O_MAP] || o->alive[O_STREAM];
}

TEST(every_close_order_100_times)
{
	static const int perms[24][4] = {
		{0,1,2,3},{0,1,3,2},{0,2,1,3},{0,2,3,1},{0,3,1,2},{0,3,2,1},
		{1,0,2,3},{1,0,3,2},{1,2,0,3},{1,2,3,0},{1,3,0,2},{1,3,2,0},
		{2,0,1,3},{2,0,3,1},{2,1,0,3},{2,1,3,0},{2,3,0,1},{2,3,1,0},
		{3,0,1,2},{3,0,2,1},{3,1,0,2},{3,1,2,0},{3,2,0,1},{3,2,1,0},
	};
	struct ternnl_stats st;
	bool root = getuid() == 0;
	struct objs o;
	int run, i;

	REQUIRE_TERN();
	for (run = 0; run < 100; run++) {
		const int *perm = perms[run % 24];

		make_objs(&o);
		for (i = 0; i < NR_OBJ; i++) {
			release(&o, perm[i]);
			if (root && pins_module(&o))
				ASSERT_EQ(-EWOULDBLOCK, __tern_module_unload())
					TH_LOG("run %d step %d", run, i);
		}
		ASSERT_TRUE(tern_stats_settle_zero(&st)) {
			TH_LOG("run %d: regions %u pages %llu streams %u", run,
			       st.regions, (unsigned long long)st.pages,
			       st.streams);
		}
	}
}

TEST(pipe_outlives_the_module)
{
	static char buf[1 << 20], page[PAGE];
	size_t have = 0;
	struct objs o;
	ssize_t n;

	REQUIRE_TERN();
	TEST_REQUIRE(getuid() == 0);
	make_objs(&o);
	release(&o, O_STREAM);
	release(&o, O_MAP);
	release(&o, O_REGION);
	ASSERT_EQ(0, __tern_module_unload());
	/* The pipe still holds the pages and the kernel's buffer ops. */
	fcntl(o.pipe[0], F_SETFL, O_NONBLOCK);
	while ((n = read(o.pipe[0], buf + have, sizeof(buf) - have)) > 0)
		have += n;
	ASSERT_EQ(0, __tern_module_load());
	ASSERT_EQ(have, stream_round_len(buf, have));
	memset(page, 0x42, PAGE);
	ASSERT_NE(NULL, memmem(buf, have, page, PAGE));
	memset(page, 0x43, PAGE);
	ASSERT_NE(NULL, memmem(buf, have, page, PAGE));
	close(o.pipe[0]);
	close(o.pipe[1]);
}

static void child_busy(bool harvest_only)
{
	const size_t npages = 4096;
	uint64_t *map = calloc(npages / 64, 8);
	char *buf = malloc(1 << 20), *mem;
	int fd, s, p[2];
	size_t i = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = region_create(npages * PAGE, "victim");
	mem = region_map(fd, npages * PAGE);
	track_start(fd);
	s = stream_open(fd);
	TEST_ASSERT(!pipe(p), "pipe");
	for (;;) {
		for (i = 0; i < 64; i++)
			mem[((i * 2654435761u) % npages) * PAGE] = (char)i;
		if (harvest_only) {
			track_harvest(fd, map, npages, NULL);
		} else {
			if (read(s, buf, 1 << 20) < 0)
				_exit(1);
			if (splice(s, NULL, p[1], NULL, 1 << 16,
				   SPLICE_F_NONBLOCK) > 0)
				(void)!read(p[0], buf, 1 << 16);
		}
	}
}

TEST(exit_and_kill_mid_harvest_leak_nothing)
{
	struct ternnl_stats st;
	struct timespec ts;
	int run, status;
	pid_t pid;

	REQUIRE_TERN();
	for (run = 0; run < 30; run++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			child_busy(run & 1);
		ts.tv_sec = 0;
		ts.tv_nsec = (5 + (run * 7919) % 60) * 1000 * 1000;
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("run %d: %#x", run, status);
		ASSERT_TRUE(tern_stats_settle_zero(&st)) {
			TH_LOG("run %d: regions %u pages %llu streams %u", run,
			       st.regions, (unsigned long long)st.pages,
			       st.streams);
		}
	}
	/* A plain exit with everything open. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct objs o;

		make_objs(&o);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_TRUE(tern_stats_settle_zero(&st));
}

TEST(unload_reload_with_churn)
{
	struct ternnl *nl;
	int i, fd;

	REQUIRE_TERN();
	TEST_REQUIRE(getuid() == 0);
	for (i = 0; i < 10; i++) {
		fd = region_create(PAGE, "churn");
		ASSERT_EQ(-EWOULDBLOCK, __tern_module_unload());
		close(fd);
		ASSERT_EQ(0, __tern_module_unload()) TH_LOG("round %d", i);
		ASSERT_EQ(0, __tern_module_load()) TH_LOG("round %d", i);
		nl = nl_open();		/* the family is back */
		ternnl__close(nl);
	}
}

/* The DEBUG build runs its self-tests at load and refuses to load on failure. */
TEST(debug_build_self_tests_pass)
{
	const char *ko = "/tern-debug.ko";
	int fd, ret;

	REQUIRE_TERN();
	TEST_REQUIRE(getuid() == 0);
	TEST_REQUIRE(access(ko, R_OK) == 0);
	ASSERT_EQ(0, __tern_module_unload());
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", ko, strerror(errno));
	ASSERT_EQ(0, __tern_module_unload());
	ASSERT_EQ(0, __tern_module_load());
}

TEST_HARNESS_MAIN
