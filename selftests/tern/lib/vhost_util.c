// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_util.h: one receive queue of 16 entries.  Each write posts a
 * chain of two buffers, the tap's vnet header and the Ethernet header
 * into a scratch page (guest-physical just past the range), the payload
 * into the range itself, then sends a frame out of the tap through a
 * packet socket: vhost reads it from the tap and writes it through the
 * chain.  The tap passes frames to vhost only for its own MAC, so the
 * host's own traffic on it (IPv6 neighbour discovery) never takes a
 * buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vhost_util.h"

#define QSIZE		16
#define VNET_HDR	12
#define SCRATCH		(VNET_HDR + ETH_HLEN)
#define PAGE		4096
#define ETH_P_TERN	0x88b5		/* local experimental */

static const uint8_t dst_mac[ETH_ALEN] = { 0x02, 0, 0, 0x7e, 0x52, 0x01 };
static const uint8_t src_mac[ETH_ALEN] = { 0x02, 0, 0, 0x7e, 0x52, 0x02 };

struct vhost_rx {
	int vhost, tap, pkt, kick, call;
	int ifindex;
	size_t len;			/* the range; scratch at gpa len */
	uint8_t *rings;			/* desc, avail, used: one page each */
	uint8_t *scratch;
	uint16_t avail_idx;
};

static struct vring_desc *desc(struct vhost_rx *r) { return (void *)r->rings; }
static struct vring_avail *avail(struct vhost_rx *r) { return (void *)(r->rings + PAGE); }
static struct vring_used *used(struct vhost_rx *r) { return (void *)(r->rings + 2 * PAGE); }

static int tap_open(struct vhost_rx *r)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	struct tun_filter *flt;
	int hdr = VNET_HDR, s, ret = 0;

	r->tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (r->tap < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "ttrk%%d");
	flt = calloc(1, sizeof(*flt) + ETH_ALEN);
	if (!flt)
		return -ENOMEM;
	flt->count = 1;
	memcpy(flt->addr, dst_mac, ETH_ALEN);
	if (ioctl(r->tap, TUNSETIFF, &ifr) < 0 || ioctl(r->tap, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(r->tap, TUNSETOFFLOAD, 0) < 0 || ioctl(r->tap, TUNSETTXFILTER, flt) < 0)
		ret = -errno;
	free(flt);
	if (ret)
		return ret;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		ret = -errno;
	close(s);
	r->ifindex = if_nametoindex(ifr.ifr_name);
	return ret ?: r->ifindex ? 0 : -ENODEV;
}

static int vhost_setup(struct vhost_rx *r, void *mem)
{
	uint64_t features = 1ULL << VIRTIO_F_VERSION_1;
	struct vhost_memory *m;
	struct vhost_vring_state num = { 0, QSIZE }, base = { 0, 0 };
	struct vhost_vring_addr addr = {
		.index = 0,
		.desc_user_addr = (uintptr_t)desc(r),
		.avail_user_addr = (uintptr_t)avail(r),
		.used_user_addr = (uintptr_t)used(r),
	};
	struct vhost_vring_file kick = { 0, r->kick }, call = { 0, r->call };
	struct vhost_vring_file backend = { 0, r->tap };
	int ret = 0;

	m = calloc(1, sizeof(*m) + 2 * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = 2;
	m->regions[0] = (struct vhost_memory_region){
		.guest_phys_addr = 0, .memory_size = r->len, .userspace_addr = (uintptr_t)mem,
	};
	m->regions[1] = (struct vhost_memory_region){
		.guest_phys_addr = r->len, .memory_size = PAGE,
		.userspace_addr = (uintptr_t)r->scratch,
	};
	if (ioctl(r->vhost, VHOST_SET_OWNER, NULL) < 0 ||
	    ioctl(r->vhost, VHOST_SET_FEATURES, &features) < 0 ||
	    ioctl(r->vhost, VHOST_SET_MEM_TABLE, m) < 0 ||
	    ioctl(r->vhost, VHOST_SET_VRING_NUM, &num) < 0 ||
	    ioctl(r->vhost, VHOST_SET_VRING_BASE, &base) < 0 ||
	    ioctl(r->vhost, VHOST_SET_VRING_ADDR, &addr) < 0 ||
	    ioctl(r->vhost, VHOST_SET_VRING_KICK, &kick) < 0 ||
	    ioctl(r->vhost, VHOST_SET_VRING_CALL, &call) < 0 ||
	    ioctl(r->vhost, VHOST_NET_SET_BACKEND, &backend) < 0)
		ret = -errno;
	free(m);
	return ret;
}

struct vhost_rx *vhost_rx_open(void *mem, size_t len)
{
	struct vhost_rx *r = calloc(1, sizeof(*r));
	int err;

	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	r->vhost = r->tap = r->pkt = r->kick = r->call = -1;
	r->len = (len + PAGE - 1) & ~(size_t)(PAGE - 1);
	r->rings = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->rings == MAP_FAILED) {
		err = -errno;
		r->rings = NULL;
		goto err;
	}
	r->scratch = r->rings + 3 * PAGE;
	r->vhost = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	r->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (r->vhost < 0 || r->kick < 0 || r->call < 0 || r->pkt < 0) {
		err = -errno;
		goto err;
	}
	err = tap_open(r);
	if (!err)
		err = vhost_setup(r, mem);
	if (!err)
		return r;
err:
	vhost_rx_close(r);
	errno = -err;
	return NULL;
}

int vhost_rx_write(struct vhost_rx *r, size_t off, uint64_t v)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET, .sll_ifindex = r->ifindex, .sll_halen = ETH_ALEN,
	};
	uint8_t frame[ETH_ZLEN] = { 0 };
	uint16_t want = r->avail_idx + 1;
	struct timespec t0, t;
	uint64_t one = 1;

	if (off >= r->len || off % 8)
		return -EINVAL;
	/* One write in flight at a time: descriptors 0 and 1 are free. */
	desc(r)[0] = (struct vring_desc){
		.addr = r->len, .len = SCRATCH,
		.flags = VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, .next = 1,
	};
	desc(r)[1] = (struct vring_desc){
		.addr = off, .len = PAGE - off % PAGE, .flags = VRING_DESC_F_WRITE,
	};
	avail(r)->ring[r->avail_idx % QSIZE] = 0;
	__atomic_store_n(&avail(r)->idx, want, __ATOMIC_RELEASE);
	r->avail_idx = want;
	if (write(r->kick, &one, sizeof(one)) != sizeof(one))
		return -errno;
	memcpy(frame, dst_mac, ETH_ALEN);
	memcpy(frame + ETH_ALEN, src_mac, ETH_ALEN);
	frame[12] = ETH_P_TERN >> 8, frame[13] = ETH_P_TERN & 0xff;
	memcpy(frame + ETH_HLEN, &v, sizeof(v));
	memcpy(to.sll_addr, dst_mac, ETH_ALEN);
	if (sendto(r->pkt, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (__atomic_load_n(&used(r)->idx, __ATOMIC_ACQUIRE) != want) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 5)
			return -ETIMEDOUT;
		sched_yield();
	}
	return 0;
}

void vhost_rx_close(struct vhost_rx *r)
{
	if (!r)
		return;
	if (r->vhost >= 0)
		close(r->vhost);
	if (r->tap >= 0)
		close(r->tap);
	if (r->pkt >= 0)
		close(r->pkt);
	if (r->kick >= 0)
		close(r->kick);
	if (r->call >= 0)
		close(r->call);
	if (r->rings)
		munmap(r->rings, 4 * PAGE);
	free(r);
}
