// SPDX-License-Identifier: GPL-2.0
/*
 * Two views of a region: a KVM view fd maps the pages untracked and no
 * harvest zaps it (its ptes stay present, read from /proc/self/pagemap),
 * while every tracked view (owner mapping, map-only mapping, a split, a
 * moved or an inherited mapping) is still re-armed page by page.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "tern_util.h"
#include "test_util.h"

#define PM_PRESENT	(1ULL << 63)

static int kvm_view_fd(int fd)
{
	int kfd = ioctl(fd, TERN_REGION_KVM_FD, 0);

	TEST_ASSERT(kfd >= 0, "TERN_REGION_KVM_FD");
	return kfd;
}

/* Pages of [mem, mem + npages * PAGE) with a present pte. */
static size_t present_pages(const void *mem, size_t npages)
{
	uint64_t *pm = calloc(npages, sizeof(*pm));
	size_t i, n = 0;
	ssize_t len;
	int fd;

	TEST_ASSERT(pm, "calloc");
	fd = open("/proc/self/pagemap", O_RDONLY);
	TEST_ASSERT(fd >= 0, "open(/proc/self/pagemap)");
	len = pread(fd, pm, npages * sizeof(*pm),
		    (uintptr_t)mem / PAGE * sizeof(*pm));
	TEST_ASSERT(len == (ssize_t)(npages * sizeof(*pm)), "pread(pagemap)");
	close(fd);
	for (i = 0; i < npages; i++)
		n += !!(pm[i] & PM_PRESENT);
	free(pm);
	return n;
}

static void touch_all(char *mem, size_t npages, char v)
{
	size_t i;

	for (i = 0; i < npages; i++)
		mem[i * PAGE] = v;
}

TEST(kvm_view_fd_contract)
{
	const size_t npages = 16;
	struct tern_region_info info;
	struct ternnl_region nr;
	struct tern_harvest h;
	struct ternnl *nl;
	int fd, kfd, mfd;
	uint64_t map[1];
	char *mem;

	REQUIRE_TERN();
	fd = region_create(npages * PAGE, "kvm-view");
	ASSERT_EQ(-EINVAL, __region_ioctl(fd, TERN_REGION_KVM_FD, (void *)1));
	kfd = kvm_view_fd(fd);
	ASSERT_EQ(FD_CLOEXEC, fcntl(kfd, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, ioctl(kfd, TERN_REGION_INFO, &info));
	ASSERT_EQ(npages * PAGE, info.size);

	/* Only the owner makes one; the view's fd itself only maps. */
	mfd = ioctl(fd, TERN_REGION_MAP_FD, 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(-EPERM, __region_ioctl(mfd, TERN_REGION_KVM_FD, NULL));
	ASSERT_EQ(-EPERM, __region_ioctl(kfd, TERN_REGION_KVM_FD, NULL));
	ASSERT_EQ(-EPERM, __region_ioctl(kfd, TERN_REGION_MAP_FD, NULL));
	ASSERT_EQ(-EPERM, __region_ioctl(kfd, TERN_TRACK_START, NULL));
	ASSERT_EQ(-EPERM, __region_ioctl(kfd, TERN_TRACK_MARK, map));
	ASSERT_EQ(-EPERM, __region_ioctl(kfd, TERN_STREAM_OPEN, NULL));
	ASSERT_EQ(-EPERM, __track_harvest(kfd, map, sizeof(map), &h));
	nl = nl_open();
	ASSERT_EQ(-EPERM, ternnl__get_region(nl, kfd, &nr));
	ASSERT_EQ(-EPERM, ternnl__stream_open(nl, kfd));
	ternnl__close(nl);

	/* mmap: shared, inside the region, as the owner fd's. */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, kfd, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				   MAP_SHARED, kfd, (npages - 1) * PAGE));
	ASSERT_EQ(EINVAL, errno);

	/* It holds the region as the owner fd does. */
	mem = region_map(kfd, npages * PAGE);
	close(fd);
	close(mfd);
	mem[5 * PAGE] = 9;
	close(kfd);
	ASSERT_EQ(9, mem[5 * PAGE]);
	munmap(mem, npages * PAGE);
}

TEST(kvm_view_writes_are_not_tracked)
{
	const size_t npages = 64;
	struct tern_track_stats st0, st1;
	char *mem, *kvm;
	uint64_t map[1];
	int fd, kfd;

	REQUIRE_TERN();
	fd = region_create(npages * PAGE, "kvm-untracked");
	kfd = kvm_view_fd(fd);
	mem = region_map(fd, npages * PAGE);
	kvm = region_map(kfd, npages * PAGE);
	track_start(fd);
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));

	track_stats(fd, &st0);
	kvm[3 * PAGE] = 1;
	kvm[17 * PAGE + 9] = 2;
	touch_all(kvm, npages, 3);
	ASSERT_EQ(0, track_harvest(fd, map, npages, NULL));
	track_stats(fd, &st1);
	ASSERT_EQ(st0.write_faults, st1.write_faults);
	/* One set of pages: the tracked view reads what the KVM view wrote. */
	ASSERT_EQ(3, mem[3 * PAGE]);
	ASSERT_EQ(2, mem[17 * PAGE + 9]);

	/* The tracked view is still tracked, the KVM view still not. */
	mem[5 * PAGE] = 4;
	kvm[6 * PAGE] = 4;
	ASSERT_EQ(1, track_harvest(fd, map, npages, NULL));
	ASSERT_TRUE(bit_test(map, 5));
	ASSERT_EQ(4, kvm[5 * PAGE]);

	munmap(kvm, npages * PAGE);
	munmap(mem, npages * PAGE);
	close(kfd);
	close(fd);
}

/*
 * The point of the KVM view: KVM's sptes follow its ptes (the MMU
 * notifier), so a harvest must leave them present, whether the round's
 * pages were written through a tracked view or handed in from KVM's log.
 */
TEST(harvest_leaves_kvm_view_ptes)
{
	const size_t npages = 256;
	struct tern_track_mark m;
	uint64_t map[4], marks[4];
	char *mem, *kvm;
	int fd, kfd;

	REQUIRE_TERN();
	fd = region_create(npages * PAGE, "kvm-ptes");
	kfd = kvm_view_fd(fd);
	mem = region_map(fd, npages * PAGE);
	kvm = region_map(kfd, npages * PAGE);
	track_start(fd);
	touch_all(kvm, npages, 1);
	touch_all(mem, npages, 2);
	ASSERT_EQ(npages, present_pages(kvm, npages));
	ASSERT_EQ(npages, present_pages(mem, npages));

	/* Round 1 is every page: the tracked view is zapped, not the KVM one. */
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));
	ASSERT_EQ(npages, present_pages(kvm, npages));
	ASSERT_EQ(0, present_pages(mem, npages));

	/* Pages from KVM's log, and pages written through the tracked view. */
	memset(marks, 0xff, sizeof(marks));
	m = (struct tern_track_mark){
		.bitmap = (uintptr_t)marks,
		.bitmap_size = sizeof(marks),
	};
	touch_all(kvm, npages, 3);
	ASSERT_EQ(0, ioctl(fd, TERN_TRACK_MARK, &m));
	touch_all(mem + 128 * PAGE, 64, 4);
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));
	ASSERT_EQ(npages, present_pages(kvm, npages));
	ASSERT_EQ(0, present_pages(mem, npages));

	/* Still the same pages everywhere. */
	ASSERT_EQ(4, kvm[130 * PAGE]);
	ASSERT_EQ(3, mem[3 * PAGE]);
	munmap(kvm, npages * PAGE);
	munmap(mem, npages * PAGE);
	close(kfd);
	close(fd);
}

/*
 * Only a write fault through a tracked view makes a writable pte there, so
 * only faulted pages are re-armed: a page the VMM marks (KVM's log) keeps
 * its read-only pte in the tracked view, and a write to it still faults.
 */
TEST(marked_pages_are_not_rearmed)
{
	const size_t npages = 128;
	uint64_t map[2], marks[2] = { ~0ULL, ~0ULL };
	struct tern_track_mark m = {
		.bitmap = (uintptr_t)marks,
		.bitmap_size = sizeof(marks),
	};
	struct tern_track_stats st0, st1;
	size_t i;
	char *mem;
	int fd;

	REQUIRE_TERN();
	fd = region_create(npages * PAGE, "marked");
	mem = region_map(fd, npages * PAGE);
	track_start(fd);
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));
	for (i = 0; i < npages; i++)
		(void)*(volatile char *)(mem + i * PAGE);	/* read-only ptes */
	touch_all(mem, 32, 1);			/* 32 faulted pages */
	ASSERT_EQ(npages, present_pages(mem, npages));
	ASSERT_EQ(0, ioctl(fd, TERN_TRACK_MARK, &m));
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));
	ASSERT_EQ(npages - 32, present_pages(mem, npages));
	ASSERT_EQ(0, present_pages(mem, 32));

	/* A marked page's pte stayed read-only: writing it is seen. */
	track_stats(fd, &st0);
	mem[100 * PAGE] = 2;
	track_stats(fd, &st1);
	ASSERT_EQ(st0.write_faults + 1, st1.write_faults);
	ASSERT_EQ(1, track_harvest(fd, map, npages, NULL));
	ASSERT_TRUE(bit_test(map, 100));
	munmap(mem, npages * PAGE);
	close(fd);
}

/*
 * Write page p through @view (mapping region page @pgoff at @view),
 * harvest: reported?  Twice, to see the re-arm.
 */
static bool reported_twice(int fd, char *view, size_t pgoff, size_t p,
			   size_t npages)
{
	char *mem = view - pgoff * PAGE;
	uint64_t map[2];
	int i;

	uint64_t n;

	for (i = 0; i < 2; i++) {
		mem[p * PAGE] += 1;
		n = track_harvest(fd, map, npages, NULL);
		if (n != 1 || !bit_test(map, p)) {
			fprintf(stderr, "# page %zu, write %d: %llu pages, %s\n",
				p, i, (unsigned long long)n,
				bit_test(map, p) ? "its own" : "not its own");
			return false;
		}
	}
	return true;
}

/*
 * Each tracked vma is re-armed on its own, so every way the core makes a
 * new vma of a tracked view (split, move, fork) must list it.
 */
TEST(changed_views_stay_tracked)
{
	const size_t npages = 100;
	char *mem, *moved, *mapped, *kvm;
	uint64_t map[2];
	void *dest;
	int fd, mfd, kfd;

	REQUIRE_TERN();
	fd = region_create(npages * PAGE, "views-change");
	mfd = ioctl(fd, TERN_REGION_MAP_FD, 0);
	ASSERT_LE(0, mfd);
	kfd = kvm_view_fd(fd);
	kvm = region_map(kfd, npages * PAGE);
	mem = region_map(fd, npages * PAGE);
	mapped = region_map(mfd, npages * PAGE);
	track_start(fd);
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));

	ASSERT_TRUE(reported_twice(fd, mem, 0, 1, npages));
	ASSERT_TRUE(reported_twice(fd, mapped, 0, 2, npages));

	/* mprotect splits the vma in three. */
	ASSERT_EQ(0, mprotect(mem + 40 * PAGE, 20 * PAGE, PROT_READ));
	ASSERT_EQ(0, mprotect(mem + 40 * PAGE, 20 * PAGE,
			      PROT_READ | PROT_WRITE));
	ASSERT_TRUE(reported_twice(fd, mem, 0, 10, npages));
	ASSERT_TRUE(reported_twice(fd, mem, 0, 45, npages));
	ASSERT_TRUE(reported_twice(fd, mem, 0, 80, npages));

	/* A partial munmap leaves two vmas. */
	ASSERT_EQ(0, munmap(mapped + 30 * PAGE, 10 * PAGE));
	ASSERT_TRUE(reported_twice(fd, mapped, 0, 29, npages));
	ASSERT_TRUE(reported_twice(fd, mapped, 0, 40, npages));

	/* mremap moves the top of the vma, ptes and all. */
	mem[90 * PAGE] = 1;
	ASSERT_EQ(1, track_harvest(fd, map, npages, NULL));
	mem[90 * PAGE] = 2;		/* a writable pte, to be moved */
	dest = mmap(NULL, 20 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, dest);
	moved = mremap(mem + 80 * PAGE, 20 * PAGE, 20 * PAGE,
		       MREMAP_MAYMOVE | MREMAP_FIXED, dest);
	ASSERT_NE(MAP_FAILED, moved);
	ASSERT_EQ(1, track_harvest(fd, map, npages, NULL));
	ASSERT_TRUE(bit_test(map, 90));
	ASSERT_TRUE(reported_twice(fd, moved, 80, 90, npages));

	munmap(moved, 20 * PAGE);
	munmap(mem, 80 * PAGE);
	munmap(mapped, 30 * PAGE);
	munmap(mapped + 40 * PAGE, (npages - 40) * PAGE);
	munmap(kvm, npages * PAGE);
	close(kfd);
	close(mfd);
	close(fd);
}

/*
 * A child that inherits the mapping (fork duplicates the vma: no mmap of
 * its own) writes a page after each harvest: each write is reported.
 */
TEST(inherited_view_stays_tracked)
{
	const size_t npages = 64, rounds = 20;
	int to_child[2], to_parent[2], fd, status;
	uint64_t map[1];
	char *mem, c;
	size_t k;
	pid_t pid;

	REQUIRE_TERN();
	fd = region_create(npages * PAGE, "views-fork");
	mem = region_map(fd, npages * PAGE);
	track_start(fd);
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(to_child[1]);
		while (read(to_child[0], &c, 1) == 1) {
			mem[7 * PAGE] += 1;
			if (write(to_parent[1], &c, 1) != 1)
				_exit(2);
		}
		_exit(0);
	}
	for (k = 0; k < rounds; k++) {
		c = k;
		ASSERT_EQ(1, write(to_child[1], &c, 1));
		ASSERT_EQ(1, read(to_parent[0], &c, 1));
		ASSERT_EQ(1, track_harvest(fd, map, npages, NULL));
		ASSERT_TRUE(bit_test(map, 7));
	}
	close(to_child[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ((char)rounds, mem[7 * PAGE]);
	close(to_child[0]);
	close(to_parent[0]);
	close(to_parent[1]);
	munmap(mem, npages * PAGE);
	close(fd);
}

TEST_HARNESS_MAIN
