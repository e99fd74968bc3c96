// SPDX-License-Identifier: GPL-2.0
/*
 * The fake VM behind struct mig_vm_ops for migration tests: see
 * mig_fakevm.h.  Its page-stream rounds (tern path) are encoded here,
 * independently of user/migration, so the test also checks that both
 * produce the one agreed record format.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mig_fakevm.h"
#include "migration/stream.h"

#define PAGE		4096u
#define MAX_BLOCKS	3
#define BITS		(8 * sizeof(unsigned long))

const struct fakevm_cfg fakevm_fuzz_cfg = {
	.ram_size = 64 << 10,
	.vga_size = 16 << 10,
	.rom_size = 8 << 10,
	.state_size = 600,
};

struct fakevm {
	struct fakevm_cfg cfg;
	struct mig_ram_block blocks[MAX_BLOCKS];
	unsigned int nr_blocks;
	unsigned long *dirty[MAX_BLOCKS];
	unsigned int kround[MAX_BLOCKS];	/* stream rounds handed out */
	unsigned int defer_refused;		/* cfg.no_defer's refusals */
	int kstream_fd;				/* tern.ko stream of ram0 */
	struct mig_device devices[3];
	uint8_t cpuid[8];
	uint8_t *state;
	size_t state_len;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int pauses;
	bool paused_once;
	bool in_write;
	bool tracking;
	bool started;
	unsigned int throttle;
	unsigned int load_delay_ms, start_delay_ms, machine_delay_ms;
	int load_error;

	pthread_t writer;
	bool writer_on;
	atomic_bool stop;
	atomic_uint_fast64_t writes;
};

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int add_block(struct fakevm *vm, const char *path, const char *name,
		     uint64_t size, uint32_t flags, int fd)
{
	struct mig_ram_block *b = &vm->blocks[vm->nr_blocks];

	b->host = fd > 0 ?
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) :
		mmap(NULL, size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->host == MAP_FAILED)
		return -ENOMEM;
	vm->dirty[vm->nr_blocks] = calloc((size / PAGE + BITS - 1) / BITS,
					  sizeof(unsigned long));
	if (!vm->dirty[vm->nr_blocks])
		return -ENOMEM;
	b->path = path;
	b->name = name;
	b->size = size;
	b->fd = fd > 0 ? fd : -1;
	b->flags = flags;
	vm->nr_blocks++;
	return 0;
}

struct fakevm *fakevm_new(const struct fakevm_cfg *cfg)
{
	struct fakevm *vm = calloc(1, sizeof(*vm));
	unsigned int i, n = 0;

	if (!vm)
		return NULL;
	vm->cfg = *cfg;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->kstream_fd = -1;
	if (add_block(vm, "/machine", cfg->ram_name ? cfg->ram_name : "ram0",
		      cfg->ram_size, cfg->ram_zeroed ? MIG_BLK_F_ZEROED : 0,
		      cfg->ram_fd))
		goto err;
	if (cfg->vga_size &&
	    add_block(vm, "/machine/pci0/00:02.0/vga", "vram", cfg->vga_size,
		      0, -1))
		goto err;
	if (cfg->rom_size &&
	    add_block(vm, "/machine", "bios.rom", cfg->rom_size,
		      MIG_BLK_F_NOMIGRATE, -1))
		goto err;
	vm->devices[n++] = (struct mig_device){
		.path = "/machine/cpu0", .version = 3, .min_version = 1,
		.type = cfg->no_types ? NULL : "cpu" };
	vm->devices[n++] = (struct mig_device){
		.path = cfg->blk_path ? cfg->blk_path : "/machine/pci0/00:03.0/virtio-blk",
		.version = cfg->blk_version ? cfg->blk_version : 2,
		.min_version = cfg->blk_min_version ? cfg->blk_min_version : 1,
		.type = cfg->no_types ? NULL : cfg->blk_type ? cfg->blk_type : "virtio-blk",
		.subs = { { .name = cfg->blk_sub,
			    .version = cfg->blk_sub_version ? cfg->blk_sub_version : 1,
			    .min_version = 1 } },
		.nr_subs = cfg->blk_sub ? 1 : 0,
	};
	if (cfg->extra_device)
		vm->devices[n++] = (struct mig_device){
			.path = "/machine/pci0/00:05.0/virtio-rng", .version = 1,
			.min_version = 1, .type = cfg->no_types ? NULL : "virtio-rng" };
	vm->cpuid[0] = 0x5f;
	vm->cpuid[1] = 0x21 | cfg->cpuid_extra;
	vm->state_len = cfg->state_size ? cfg->state_size : 9000;
	vm->state = malloc(vm->state_len);
	if (!vm->state)
		goto err;
	for (i = 0; i < vm->state_len; i++)
		vm->state[i] = (uint8_t)(i * 131 + cfg->seed);
	return vm;
err:
	fakevm_free(vm);
	return NULL;
}

void fakevm_free(struct fakevm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	fakevm_writer_stop(vm);
	for (i = 0; i < vm->nr_blocks; i++) {
		munmap(vm->blocks[i].host, vm->blocks[i].size);
		free(vm->dirty[i]);
	}
	if (vm->kstream_fd >= 0)
		close(vm->kstream_fd);
	free(vm->state);
	free(vm);
}

void fakevm_fill(struct fakevm *vm, uint8_t pattern)
{
	unsigned int i;
	uint64_t pg;

	for (i = 0; i < vm->nr_blocks; i++) {
		uint8_t *p = vm->blocks[i].host;

		memset(p, pattern, vm->blocks[i].size);
		if (pattern)
			continue;
		/* Source content: every other page stamped, the rest zero. */
		for (pg = 0; pg < vm->blocks[i].size / PAGE; pg += 2) {
			memset(p + pg * PAGE, (uint8_t)(pg + i + 1), 64);
			memcpy(p + pg * PAGE + 64, &pg, sizeof(pg));
		}
	}
}

static void mark(struct fakevm *vm, unsigned int b, uint64_t pg)
{
	vm->dirty[b][pg / BITS] |= 1ul << (pg % BITS);
}

/* The "vCPU": stamps the iteration into pseudo-random pages of ram0. */
static void *writer(void *arg)
{
	struct fakevm *vm = arg;
	uint64_t npages = vm->blocks[0].size / PAGE, it = 0, pg;
	uint32_t x = vm->cfg.seed | 1;
	uint8_t *p;

	while (!atomic_load(&vm->stop)) {
		pthread_mutex_lock(&vm->lock);
		while (vm->pauses && !atomic_load(&vm->stop))
			pthread_cond_wait(&vm->cond, &vm->lock);
		vm->in_write = true;
		pthread_mutex_unlock(&vm->lock);

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pg = x % npages;
		p = (uint8_t *)vm->blocks[0].host + pg * PAGE;
		it++;
		memcpy(p + (it % (PAGE / 8)) * 8, &it, sizeof(it));

		/* Write first, then mark: a harvest never misses a write. */
		pthread_mutex_lock(&vm->lock);
		mark(vm, 0, pg);
		vm->in_write = false;
		pthread_cond_broadcast(&vm->cond);
		pthread_mutex_unlock(&vm->lock);
		atomic_fetch_add(&vm->writes, 1);

		if (it % vm->cfg.write_rate == 0) {
			struct timespec ts = { 0, 1000000L };

			/* Throttled: the vCPU is held back pct % longer. */
			ts.tv_nsec += 1000000L * vm->throttle / (100 - vm->throttle + 1);
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

void fakevm_writer_start(struct fakevm *vm)
{
	if (!vm->cfg.write_rate || vm->writer_on)
		return;
	atomic_store(&vm->stop, false);
	pthread_create(&vm->writer, NULL, writer, vm);
	vm->writer_on = true;
}

void fakevm_writer_stop(struct fakevm *vm)
{
	if (!vm->writer_on)
		return;
	atomic_store(&vm->stop, true);
	pthread_mutex_lock(&vm->lock);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	pthread_join(vm->writer, NULL);
	vm->writer_on = false;
}

uint64_t fakevm_writes(struct fakevm *vm)
{
	return atomic_load(&vm->writes);
}

bool fakevm_writer_advances(struct fakevm *vm)
{
	uint64_t before = fakevm_writes(vm);
	unsigned int i;

	/* Generous: a loaded machine may starve the writer for a while. */
	for (i = 0; i < 200; i++) {
		sleep_ms(10);
		if (fakevm_writes(vm) > before)
			return true;
	}
	return false;
}

bool fakevm_running(struct fakevm *vm)
{
	bool r;

	pthread_mutex_lock(&vm->lock);
	r = vm->pauses == 0;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

bool fakevm_started(struct fakevm *vm)
{
	bool r;

	pthread_mutex_lock(&vm->lock);
	r = vm->started;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

unsigned int fakevm_throttle(struct fakevm *vm)
{
	return vm->throttle;
}

bool fakevm_tracking(struct fakevm *vm)
{
	return vm->tracking;
}

void fakevm_set_load_delay(struct fakevm *vm, unsigned int ms)
{
	vm->load_delay_ms = ms;
}

void fakevm_set_machine_delay(struct fakevm *vm, unsigned int ms)
{
	vm->machine_delay_ms = ms;
}

void fakevm_set_start_delay(struct fakevm *vm, unsigned int ms)
{
	vm->start_delay_ms = ms;
}

void fakevm_set_load_error(struct fakevm *vm, int err)
{
	vm->load_error = err;
}

static int op_pause(void *opaque)
{
	struct fakevm *vm = opaque;

	/*
	 * vCPUs take a while to leave KVM_RUN and keep writing meanwhile:
	 * what the last harvest, after the pause, must catch.
	 */
	if (vm->writer_on)
		sleep_ms(3);
	pthread_mutex_lock(&vm->lock);
	vm->pauses++;
	vm->paused_once = true;
	while (vm->in_write)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static void op_resume(void *opaque)
{
	struct fakevm *vm = opaque;

	pthread_mutex_lock(&vm->lock);
	if (vm->pauses)
		vm->pauses--;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

static int op_ram_blocks(void *opaque, const struct mig_ram_block **blocks,
			 unsigned int *nr)
{
	struct fakevm *vm = opaque;

	*blocks = vm->blocks;
	*nr = vm->nr_blocks;
	return 0;
}

static int op_machine(void *opaque, struct mig_machine *m)
{
	struct fakevm *vm = opaque;

	if (vm->machine_delay_ms)
		sleep_ms(vm->machine_delay_ms);

	m->cpu_model = vm->cfg.cpu_model ? vm->cfg.cpu_model : "tern-test-v1";
	m->cpuid = vm->cpuid;
	m->cpuid_len = sizeof(vm->cpuid);
	m->devices = vm->devices;
	m->nr_devices = vm->cfg.extra_device ? 3 : 2;
	m->admit = vm->cfg.admit;
	m->admit_arg = vm->cfg.admit_arg;
	return 0;
}

/* virtio-blk's subsection, as cfg.blk_sub_needed says. */
static int op_sub_needed(void *opaque, const char *path, const char *name)
{
	struct fakevm *vm = opaque;
	bool once;

	if (!vm->cfg.blk_sub || strcmp(path, vm->devices[1].path) ||
	    strcmp(name, vm->cfg.blk_sub))
		return -ENOENT;
	pthread_mutex_lock(&vm->lock);
	once = vm->paused_once;
	pthread_mutex_unlock(&vm->lock);
	return vm->cfg.blk_sub_needed == 1 || (vm->cfg.blk_sub_needed == 2 && once);
}

static int op_dirty_start(void *opaque)
{
	struct fakevm *vm = opaque;
	unsigned int i;

	pthread_mutex_lock(&vm->lock);
	vm->tracking = true;
	for (i = 0; i < vm->nr_blocks; i++) {
		memset(vm->dirty[i], 0, (vm->blocks[i].size / PAGE + BITS - 1) /
		       BITS * sizeof(unsigned long));
		vm->kround[i] = 0;
	}
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static int op_dirty_stop(void *opaque)
{
	struct fakevm *vm = opaque;

	vm->tracking = false;
	return 0;
}

static int op_dirty_sync(void *opaque, unsigned int block,
			 unsigned long *bitmap)
{
	struct fakevm *vm = opaque;
	size_t w, words;

	if (block >= vm->nr_blocks)
		return -EINVAL;
	words = (vm->blocks[block].size / PAGE + BITS - 1) / BITS;
	pthread_mutex_lock(&vm->lock);
	for (w = 0; w < words; w++) {
		bitmap[w] |= vm->dirty[block][w];
		vm->dirty[block][w] = 0;
	}
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static bool page_zero(const uint8_t *p)
{
	unsigned int i;

	for (i = 0; i < PAGE; i++)
		if (p[i])
			return false;
	return true;
}

/* Pages a share of a stream set takes at a time, round-robin. */
#define SET_RUN	64

/*
 * Share k of n of one harvested round as a memfd holding it framed as a
 * whole round: header, records of the pages in runs k, k+n, ..., end.
 */
static int emit_share(struct fakevm *vm, unsigned int block, uint64_t round,
		      const unsigned long *harvest, unsigned int k,
		      unsigned int n, int *fdp)
{
	const struct mig_ram_block *b = &vm->blocks[block];
	uint64_t npages = b->size / PAGE, pg, count = 0;
	struct tern_stream_hdr sh = { 0 };
	struct tern_page_rec rec;
	const uint8_t *page;
	int fd;

	fd = memfd_create("fake-stream", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	sh.magic = htole32(TERN_STREAM_MAGIC);
	sh.version = htole16(TERN_STREAM_VERSION);
	sh.hdr_len = htole16(sizeof(sh));
	sh.page_size = htole32(PAGE);
	sh.region_size = htole64(b->size);
	sh.round = htole64(round);
	if (write(fd, &sh, sizeof(sh)) != sizeof(sh))
		goto io;
	for (pg = 0; pg < npages; pg++) {
		if (!(harvest[pg / BITS] & (1ul << (pg % BITS))) ||
		    (pg / SET_RUN) % n != k)
			continue;
		page = (const uint8_t *)b->host + pg * PAGE;
		memset(&rec, 0, sizeof(rec));
		rec.offset = htole64(pg * PAGE);
		if (page_zero(page)) {
			rec.flags = htole16(TERN_REC_F_ZERO);
			if (write(fd, &rec, sizeof(rec)) != sizeof(rec))
				goto io;
		} else {
			rec.length = htole32(PAGE);
			if (write(fd, &rec, sizeof(rec)) != sizeof(rec) ||
			    write(fd, page, PAGE) != PAGE)
				goto io;
		}
		count++;
	}
	memset(&rec, 0, sizeof(rec));
	rec.offset = htole64(count);
	rec.flags = htole16(TERN_REC_F_END);
	if (write(fd, &rec, sizeof(rec)) != sizeof(rec))
		goto io;
	lseek(fd, 0, SEEK_SET);
	*fdp = fd;
	return 0;
io:
	close(fd);
	return -EIO;
}

/*
 * What tern.ko would do: harvest once (round 1: all), then emit the
 * round as n disjoint shares (n = 1: the whole round).
 */
static int stream_shares(struct fakevm *vm, unsigned int block,
			 uint64_t round, unsigned int n, int *fds)
{
	uint64_t npages = vm->blocks[block].size / PAGE;
	size_t words = (npages + BITS - 1) / BITS, w;
	unsigned long *harvest;
	unsigned int k;
	int ret = 0;

	harvest = calloc(words, sizeof(*harvest));
	if (!harvest)
		return -ENOMEM;
	pthread_mutex_lock(&vm->lock);
	for (w = 0; w < words; w++) {
		harvest[w] = vm->kround[block] ? vm->dirty[block][w] : ~0ul;
		vm->dirty[block][w] = 0;
	}
	vm->kround[block]++;
	pthread_mutex_unlock(&vm->lock);
	for (k = 0; !ret && k < n; k++)
		ret = emit_share(vm, block, round, harvest, k, n, &fds[k]);
	while (ret && k-- > 1)
		close(fds[k - 1]);
	free(harvest);
	return ret;
}

static int op_stream_round(void *opaque, unsigned int block, uint64_t round,
			   int *fdp)
{
	return stream_shares(opaque, block, round, 1, fdp);
}

/* The fake never defers: each of its rounds carries all it harvested. */
static int op_stream_set(void *opaque, unsigned int block, uint64_t round,
			 unsigned int n, bool defer, int *fds)
{
	return stream_shares(opaque, block, round, n, fds);
}

static int op_save_state(void *opaque, int fd)
{
	struct fakevm *vm = opaque;

	return write(fd, vm->state, vm->state_len) == (ssize_t)vm->state_len ?
		0 : -EIO;
}

static int op_load_state(void *opaque, int fd, char *why, size_t whylen)
{
	struct fakevm *vm = opaque;
	uint8_t buf[4096];
	size_t len = 0;
	ssize_t n;

	if (vm->load_delay_ms)
		sleep_ms(vm->load_delay_ms);
	if (vm->load_error) {
		snprintf(why, whylen, "vCPU 0: KVM_SET_SREGS refused (test)");
		return vm->load_error;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (len + n > vm->state_len)
			return -EINVAL;	/* "a device refuses its state" */
		memcpy(vm->state + len, buf, n);
		len += n;
	}
	return n < 0 ? -errno : 0;
}

static int op_start(void *opaque)
{
	struct fakevm *vm = opaque;

	if (vm->start_delay_ms)
		sleep_ms(vm->start_delay_ms);
	pthread_mutex_lock(&vm->lock);
	vm->started = true;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static int op_throttle(void *opaque, unsigned int pct)
{
	struct fakevm *vm = opaque;

	vm->throttle = pct;
	return 0;
}

#define FAKEVM_OPS							\
	.pause = op_pause,	\
	.resume = op_resume,	\
	.ram_blocks = op_ram_blocks,	\
	.machine = op_machine,	\
	.dirty_sync = op_dirty_sync,	\
	.save_state = op_save_state,	\
	.load_state = op_load_state,	\
	.start = op_start,						\
	.sub_needed = op_sub_needed,					\
	.throttle = op_throttle

/* tern.ko does the tracking of ram0: start/stop it, and its stream. */
static int op_tern_dirty_start(void *opaque)
{
	struct fakevm *vm = opaque;

	op_dirty_start(vm);
	return ioctl(vm->blocks[0].fd, TERN_TRACK_START, 0) ? -errno : 0;
}

static int op_tern_dirty_stop(void *opaque)
{
	struct fakevm *vm = opaque;

	op_dirty_stop(vm);
	return ioctl(vm->blocks[0].fd, TERN_TRACK_STOP, 0) ? -errno : 0;
}

static int op_tern_stream_round(void *opaque, unsigned int block,
				uint64_t round, int *fdp)
{
	struct fakevm *vm = opaque;
	int fd;

	if (block != 0)
		return op_stream_round(opaque, block, round, fdp);
	if (vm->kstream_fd < 0) {
		vm->kstream_fd = ioctl(vm->blocks[0].fd, TERN_STREAM_OPEN, 0);
		if (vm->kstream_fd < 0)
			return -errno;
	}
	fd = dup(vm->kstream_fd);
	if (fd < 0)
		return -errno;
	*fdp = fd;
	return 0;
}

/* Channels: one harvest of ram0's round shared by n streams (tern.ko). */
static int op_tern_stream_set(void *opaque, unsigned int block,
			      uint64_t round, unsigned int n, bool defer,
			      int *fds)
{
	struct fakevm *vm = opaque;
	struct tern_stream_set set = {
		.count = n, .fds = (uintptr_t)fds,
		.flags = defer ? TERN_STREAM_SET_F_DEFER : 0,
	};

	if (block != 0)
		return op_stream_set(opaque, block, round, n, defer, fds);
	if (defer && vm->cfg.no_defer) {
		vm->defer_refused++;
		return -EOPNOTSUPP;	/* what ternvm makes of an older module's -EINVAL */
	}
	return ioctl(vm->blocks[0].fd, TERN_STREAM_OPEN_SET, &set) < 0 ? -errno : 0;
}

unsigned int fakevm_defer_refused(struct fakevm *vm)
{
	return vm->defer_refused;
}

const struct mig_vm_ops fakevm_ops = {
	FAKEVM_OPS,
	.dirty_start = op_dirty_start,
	.dirty_stop = op_dirty_stop,
};
const struct mig_vm_ops fakevm_tern_ops = {
	FAKEVM_OPS,
	.dirty_start = op_tern_dirty_start,
	.dirty_stop = op_tern_dirty_stop,
	.stream_round = op_tern_stream_round,
	.stream_set = op_tern_stream_set,
};
const struct mig_vm_ops fakevm_kstream_ops = {
	FAKEVM_OPS,
	.dirty_start = op_dirty_start,
	.dirty_stop = op_dirty_stop,
	.stream_round = op_stream_round,
	.stream_set = op_stream_set,
};

int fakevm_compare(struct fakevm *src, struct fakevm *dst, uint8_t untouched,
		   char *why, unsigned int len)
{
	unsigned int i;
	uint64_t off;

	for (i = 0; i < src->nr_blocks; i++) {
		const uint8_t *a = src->blocks[i].host, *b = dst->blocks[i].host;

		for (off = 0; off < src->blocks[i].size; off++) {
			uint8_t want = src->blocks[i].flags & MIG_BLK_F_NOMIGRATE ?
				untouched : a[off];

			if (b[off] != want) {
				snprintf(why, len,
					 "block '%s': byte 0x%llx is 0x%02x, expected 0x%02x",
					 src->blocks[i].name,
					 (unsigned long long)off, b[off], want);
				return -1;
			}
		}
	}
	if (src->state_len != dst->state_len ||
	    memcmp(src->state, dst->state, src->state_len)) {
		snprintf(why, len, "device state differs");
		return -1;
	}
	return 0;
}

int fakevm_untouched(struct fakevm *vm, uint8_t pattern)
{
	unsigned int i;
	uint64_t off;

	for (i = 0; i < vm->nr_blocks; i++)
		for (off = 0; off < vm->blocks[i].size; off++)
			if (((uint8_t *)vm->blocks[i].host)[off] != pattern)
				return -1;
	return 0;
}
