// SPDX-License-Identifier: GPL-2.0
/*
 * The fake /dev/kvm of fake_kvm.h.  Each fake fd is a memfd (so a vCPU's
 * kvm_run can be mmap'd), known by its inode: a number the test closed
 * and the kernel reused is not mistaken for it.  Only the calls the VMM
 * makes are answered; any other fails with ENOTTY, named on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_kvm.h"

int __real_open(const char *path, int flags, ...);
int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_open(const char *path, int flags, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

#define FK_FDS		64
#define FK_BLOBS	16
#define FK_MSRS		64
#define FK_IRQS		24
#define FK_BINDINGS	64
#define FK_RUN_SIZE	(3 * 4096)

enum fk_kind { FK_SYSTEM, FK_VM, FK_VCPU };

struct fk_blob {
	unsigned long set;	/* the SET request that stored it */
	uint32_t id;		/* irqchip: chip_id */
	uint32_t size;
	void *data;
};

struct fk_binding {
	int fd;			/* our dup of the VMM's eventfd */
	uint64_t key;		/* irqfd: gsi; ioeventfd: guest address */
};

struct fk_fd {
	int fd;
	dev_t dev;
	ino_t ino;
	enum fk_kind kind;
	struct fk_blob blob[FK_BLOBS];
	uint32_t msr_index[FK_MSRS];
	uint64_t msr_data[FK_MSRS];
	int nr_msrs;
	/* VM only */
	int irq_level[FK_IRQS];
	unsigned int irq_raised[FK_IRQS];
	struct kvm_irq_routing *routing;
	struct fk_binding irqfd[FK_BINDINGS], ioeventfd[FK_BINDINGS];
	struct { uint32_t data; unsigned int n; } msi[FK_BINDINGS];
};

static pthread_mutex_t fk_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fk_fd *fk_table[FK_FDS];

/* GET and SET of the same state share a blob. */
static const struct { unsigned long get, set; } fk_pairs[] = {
	{ KVM_GET_REGS, KVM_SET_REGS },
	{ KVM_GET_SREGS, KVM_SET_SREGS },
	{ KVM_GET_FPU, KVM_SET_FPU },
	{ KVM_GET_LAPIC, KVM_SET_LAPIC },
	{ KVM_GET_XSAVE, KVM_SET_XSAVE },
	{ KVM_GET_XCRS, KVM_SET_XCRS },
	{ KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS },
	{ KVM_GET_MP_STATE, KVM_SET_MP_STATE },
	{ KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS },
	{ KVM_GET_PIT2, KVM_SET_PIT2 },
	{ KVM_GET_CLOCK, KVM_SET_CLOCK },
	{ KVM_GET_IRQCHIP, KVM_SET_IRQCHIP },
};

/* MSRs a host KVM lists: enough that the VMM saves some. */
static const uint32_t fk_msr_list[] = {
	0x10, 0x174, 0x175, 0x176, 0xc0000081, 0xc0000082, 0xc0000084,
	0xc0000102, 0x4b564d00, 0x4b564d01,
};

bool fake_kvm_active(void)
{
	return access("/dev/kvm", R_OK | W_OK) != 0;
}

static void fk_free(struct fk_fd *f)
{
	int i;

	for (i = 0; i < FK_BLOBS; i++)
		free(f->blob[i].data);
	for (i = 0; i < FK_BINDINGS; i++) {
		if (f->irqfd[i].fd > 0)
			close(f->irqfd[i].fd);
		if (f->ioeventfd[i].fd > 0)
			close(f->ioeventfd[i].fd);
	}
	free(f->routing);
	free(f);
}

/* The fake behind `fd`, if it is still the file we made (lock held). */
static struct fk_fd *fk_lookup(int fd)
{
	struct stat st;
	int i;

	for (i = 0; i < FK_FDS; i++) {
		struct fk_fd *f = fk_table[i];

		if (!f || f->fd != fd)
			continue;
		if (!fstat(fd, &st) && st.st_dev == f->dev && st.st_ino == f->ino)
			return f;
		fk_free(f);	/* closed, the number reused */
		fk_table[i] = NULL;
	}
	return NULL;
}

static int fk_new(enum fk_kind kind)
{
	struct fk_fd *f;
	struct stat st;
	int fd, i;

	fd = memfd_create("fake-kvm", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	f = calloc(1, sizeof(*f));
	if (!f || ftruncate(fd, FK_RUN_SIZE) || fstat(fd, &st))
		goto err;
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->kind = kind;
	fk_lookup(fd);		/* drop a stale entry with this number */
	for (i = 0; i < FK_FDS; i++) {
		if (!fk_table[i]) {
			fk_table[i] = f;
			return fd;
		}
	}
	fprintf(stderr, "fake_kvm: more than %d fds\n", FK_FDS);
err:
	free(f);
	close(fd);
	errno = ENOMEM;
	return -1;
}

/* GET copies the last SET out (zeros if none); SET keeps a copy. */
static int fk_blob(struct fk_fd *f, unsigned long req, void *arg)
{
	uint32_t size = _IOC_SIZE(req), id = 0;
	unsigned long set = 0;
	struct fk_blob *b = NULL;
	size_t i;

	for (i = 0; i < sizeof(fk_pairs) / sizeof(fk_pairs[0]); i++)
		if (req == fk_pairs[i].get || req == fk_pairs[i].set)
			set = fk_pairs[i].set;
	if (!set)
		return 1;
	if (set == KVM_SET_IRQCHIP)
		id = ((struct kvm_irqchip *)arg)->chip_id;
	for (i = 0; i < FK_BLOBS && !b; i++)
		if (f->blob[i].set == set && f->blob[i].id == id)
			b = &f->blob[i];
	for (i = 0; i < FK_BLOBS && !b; i++)
		if (!f->blob[i].set)
			b = &f->blob[i];
	if (!b)
		return -ENOSPC;
	if (req == set) {
		if (!b->data && !(b->data = malloc(size)))
			return -ENOMEM;
		b->set = set;
		b->id = id;
		b->size = size;
		memcpy(b->data, arg, size);
	} else if (b->data) {
		memcpy(arg, b->data, size);
	} else if (set != KVM_SET_IRQCHIP) {
		memset(arg, 0, size);
	}
	return 0;
}

static int fk_msrs(struct fk_fd *f, bool set, struct kvm_msrs *m)
{
	uint32_t i;
	int j;

	for (i = 0; i < m->nmsrs; i++) {
		struct kvm_msr_entry *e = &m->entries[i];

		for (j = 0; j < f->nr_msrs && f->msr_index[j] != e->index; j++)
			;
		if (set) {
			if (j == FK_MSRS)
				break;
			f->msr_index[j] = e->index;
			f->msr_data[j] = e->data;
			if (j == f->nr_msrs)
				f->nr_msrs++;
		} else {
			e->data = j < f->nr_msrs ? f->msr_data[j] : 0;
		}
	}
	return i;
}

static int fk_bind(struct fk_binding *t, int fd, uint64_t key, bool deassign)
{
	int i;

	for (i = 0; i < FK_BINDINGS; i++) {
		if (deassign && t[i].fd > 0 && t[i].key == key) {
			close(t[i].fd);
			t[i].fd = 0;
			return 0;
		}
		if (!deassign && t[i].fd <= 0) {
			t[i].fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
			t[i].key = key;
			return t[i].fd < 0 ? -errno : 0;
		}
	}
	return deassign ? -ENOENT : -ENOSPC;
}

/* Count n MSIs with this data: in its slot, or the first free one. */
static void fk_msi_count(struct fk_fd *vm, uint32_t data, unsigned int n)
{
	int i, slot = -1;

	for (i = 0; i < FK_BINDINGS; i++) {
		if (vm->msi[i].n && vm->msi[i].data == data) {
			slot = i;
			break;
		}
		if (!vm->msi[i].n && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		fprintf(stderr, "fake_kvm: more than %d MSI data values\n", FK_BINDINGS);
		return;
	}
	vm->msi[slot].data = data;
	vm->msi[slot].n += n;
}

static int fk_system(unsigned long req, void *arg)
{
	struct kvm_cpuid2 *c = arg;
	struct kvm_msr_list *l = arg;
	uint32_t n = sizeof(fk_msr_list) / sizeof(fk_msr_list[0]);

	switch (req) {
	case KVM_GET_API_VERSION:
		return KVM_API_VERSION;
	case KVM_CHECK_EXTENSION:
		/* No manual dirty log: fake RAM is never a tern.ko region. */
		return (uintptr_t)arg == KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 ? 0 : 1;
	case KVM_GET_VCPU_MMAP_SIZE:
		return FK_RUN_SIZE;
	case KVM_CREATE_VM:
		return fk_new(FK_VM);
	case KVM_GET_SUPPORTED_CPUID:
		if (c->nent < 2)
			return -E2BIG;
		memset(c->entries, 0, 2 * sizeof(c->entries[0]));
		c->nent = 2;
		c->entries[0].eax = 1;			/* leaves 0 and 1 */
		c->entries[1].function = 1;
		return 0;
	case KVM_GET_MSR_INDEX_LIST:
		if (l->nmsrs < n) {
			l->nmsrs = n;
			return -E2BIG;
		}
		l->nmsrs = n;
		memcpy(l->indices, fk_msr_list, sizeof(fk_msr_list));
		return 0;
	}
	return -ENOTTY;
}

static int fk_vm(struct fk_fd *f, unsigned long req, void *arg)
{
	struct kvm_irq_routing *r = arg;
	struct kvm_irq_level *lv = arg;
	struct kvm_irqfd *irqfd = arg;
	struct kvm_ioeventfd *io = arg;
	struct kvm_msi *msi = arg;
	size_t sz;

	switch (req) {
	case KVM_SET_TSS_ADDR:
	case KVM_SET_IDENTITY_MAP_ADDR:
	case KVM_CREATE_IRQCHIP:
	case KVM_CREATE_PIT2:
	case KVM_SET_USER_MEMORY_REGION:
	case KVM_ENABLE_CAP:
		return 0;
	case KVM_CREATE_VCPU:
		return fk_new(FK_VCPU);
	case KVM_IRQ_LINE:
		if (lv->irq >= FK_IRQS)
			return -EINVAL;
		if (lv->level && f->irq_level[lv->irq] != 1)
			f->irq_raised[lv->irq]++;
		f->irq_level[lv->irq] = !!lv->level;
		return 0;
	case KVM_SIGNAL_MSI:
		fk_msi_count(f, msi->data, 1);
		return 1;
	case KVM_SET_GSI_ROUTING:
		sz = sizeof(*r) + r->nr * sizeof(r->entries[0]);
		free(f->routing);
		f->routing = malloc(sz);
		if (!f->routing)
			return -ENOMEM;
		memcpy(f->routing, r, sz);
		return 0;
	case KVM_IRQFD:
		return fk_bind(f->irqfd, irqfd->fd, irqfd->gsi,
			       irqfd->flags & KVM_IRQFD_FLAG_DEASSIGN);
	case KVM_IOEVENTFD:
		return fk_bind(f->ioeventfd, io->fd, io->addr,
			       io->flags & KVM_IOEVENTFD_FLAG_DEASSIGN);
	}
	return -ENOTTY;
}

static int fk_vcpu(struct fk_fd *f, unsigned long req, void *arg)
{
	switch (req) {
	case KVM_SET_CPUID2:
		return 0;
	case KVM_GET_MSRS:
	case KVM_SET_MSRS:
		return fk_msrs(f, req == KVM_SET_MSRS, arg);
	}
	return -ENOTTY;
}

static int fk_ioctl(struct fk_fd *f, unsigned long req, void *arg)
{
	static const char *const kind[] = { "/dev/kvm", "VM", "vCPU" };
	int ret = f->kind == FK_VCPU || f->kind == FK_VM ? fk_blob(f, req, arg) : 1;

	if (ret == 1)
		ret = f->kind == FK_SYSTEM ? fk_system(req, arg) :
		      f->kind == FK_VM ? fk_vm(f, req, arg) : fk_vcpu(f, req, arg);
	if (ret == -ENOTTY)
		fprintf(stderr, "fake_kvm: no ioctl 0x%lx on a %s fd\n", req, kind[f->kind]);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

int __wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;
	int fd;

	if (flags & O_CREAT || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	fd = __real_open(path, flags, mode);
	if (fd < 0 && !strcmp(path, "/dev/kvm") && (errno == ENOENT || errno == ENXIO)) {
		pthread_mutex_lock(&fk_lock);
		fd = fk_new(FK_SYSTEM);
		pthread_mutex_unlock(&fk_lock);
	}
	return fd;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	struct fk_fd *f;
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	pthread_mutex_lock(&fk_lock);
	f = fk_lookup(fd);
	ret = f ? fk_ioctl(f, req, arg) : 0;
	pthread_mutex_unlock(&fk_lock);
	return f ? ret : __real_ioctl(fd, req, arg);
}

int fake_kvm_irq_level(int vm_fd, int irq)
{
	struct fk_fd *f;
	int ret = -1;

	pthread_mutex_lock(&fk_lock);
	f = fk_lookup(vm_fd);
	if (f && irq >= 0 && irq < FK_IRQS)
		ret = f->irq_level[irq];
	pthread_mutex_unlock(&fk_lock);
	return ret;
}

unsigned int fake_kvm_irq_raised(int vm_fd, int irq)
{
	struct fk_fd *f;
	unsigned int ret = 0;

	pthread_mutex_lock(&fk_lock);
	f = fk_lookup(vm_fd);
	if (f && irq >= 0 && irq < FK_IRQS)
		ret = f->irq_raised[irq];
	pthread_mutex_unlock(&fk_lock);
	return ret;
}

/* The MSI data GSI `gsi` routes to, or -1. */
static int64_t fk_route(const struct fk_fd *f, uint32_t gsi)
{
	uint32_t i;

	for (i = 0; f->routing && i < f->routing->nr; i++)
		if (f->routing->entries[i].gsi == gsi &&
		    f->routing->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return f->routing->entries[i].u.msi.data;
	return -1;
}

static unsigned int fk_msi_take(int vm_fd, uint32_t data)
{
	struct fk_fd *f;
	unsigned int n = 0;
	uint64_t v;
	int i;

	pthread_mutex_lock(&fk_lock);
	f = fk_lookup(vm_fd);
	for (i = 0; f && i < FK_BINDINGS; i++) {
		struct pollfd p = { .fd = f->irqfd[i].fd, .events = POLLIN };
		int64_t d;

		if (p.fd <= 0 || poll(&p, 1, 0) != 1 || read(p.fd, &v, sizeof(v)) != sizeof(v))
			continue;
		d = fk_route(f, f->irqfd[i].key);
		if (d >= 0)
			fk_msi_count(f, d, v);
	}
	for (i = 0; f && i < FK_BINDINGS; i++) {
		if (f->msi[i].n && f->msi[i].data == data) {
			n += f->msi[i].n;
			f->msi[i].n = 0;
		}
	}
	pthread_mutex_unlock(&fk_lock);
	return n;
}

unsigned int fake_kvm_msi_taken(int vm_fd, uint32_t data, unsigned int want,
				int timeout_ms)
{
	unsigned int n = fk_msi_take(vm_fd, data);

	/* A device signals after it publishes the used entry, from its own thread. */
	for (; n < want && timeout_ms > 0; timeout_ms--) {
		usleep(1000);
		n += fk_msi_take(vm_fd, data);
	}
	return n;
}

int fake_kvm_ioeventfd(int vm_fd, uint64_t addr)
{
	struct fk_fd *f;
	int i, fd = -1;

	pthread_mutex_lock(&fk_lock);
	f = fk_lookup(vm_fd);
	for (i = 0; f && i < FK_BINDINGS; i++)
		if (f->ioeventfd[i].fd > 0 && f->ioeventfd[i].key == addr)
			fd = f->ioeventfd[i].fd;
	pthread_mutex_unlock(&fk_lock);
	return fd;
}
