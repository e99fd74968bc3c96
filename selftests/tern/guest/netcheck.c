// SPDX-License-Identifier: GPL-2.0
/*
 * netcheck: the guest-side oracle of received data (migrate_vhost_test).
 * tern-udp-flow on the host sends datagrams of a sequence number, a
 * length, bytes drawn from the number, and an FNV-1a checksum of all of
 * it, without a UDP checksum.  netcheck reads every frame the NIC hands
 * the stack (a packet socket, so the stack's own checks drop nothing
 * first).  A receive buffer the kernel wrote whose page a migration lost
 * shows up as a frame that is no frame (garbage where the headers
 * belong, or an error the driver counts), a datagram half old and half
 * new (a bad checksum), or the datagram the buffer held before (a number
 * seen already).  Loss is allowed (a paused guest's tap overflows) and
 * so is a datagram later than its successors (a bridge floods a port
 * whose guest moved): both are counted, not failed.  Once a second:
 * "netcheck: N ok, seq S, lost L, late E"; on a bad frame "netcheck:
 * FAIL ..." and it goes on.
 *
 *   netcheck PORT [IFNAME]	(default eth0)
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR	16		/* seq (8), length (4), reserved (4) */
#define SUM	8
#define MAX	65536
#define SEEN	(1u << 24)	/* numbers remembered: over two hours' worth */

static uint64_t ok, lost, late, last;
static uint8_t seen[SEEN / 8];

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The driver's count of frames it could not make sense of. */
static unsigned long driver_errors(const char *ifname)
{
	static const char *const names[] = { "rx_length_errors", "rx_frame_errors" };
	unsigned long sum = 0, v;
	char path[128];
	unsigned int i;
	FILE *f;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, names[i]);
		f = fopen(path, "r");
		if (f && fscanf(f, "%lu", &v) == 1)
			sum += v;
		if (f)
			fclose(f);
	}
	return sum;
}

static uint16_t ip_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

static void datagram(const uint8_t *buf, size_t n)
{
	uint64_t seq, sum;
	uint32_t len;

	memcpy(&seq, buf, 8);
	memcpy(&len, buf + 8, 4);
	if (n < HDR + SUM || len != n) {
		printf("netcheck: FAIL datagram of %zu bytes says %u\n", n, len);
		return;
	}
	memcpy(&sum, buf + n - SUM, SUM);
	if (sum != fnv1a(buf, n - SUM)) {
		printf("netcheck: FAIL seq %llu: checksum\n", (unsigned long long)seq);
		return;
	}
	if (seq < SEEN && (seen[seq / 8] & (1u << (seq % 8)))) {
		printf("netcheck: FAIL seq %llu again (after %llu)\n",
		       (unsigned long long)seq, (unsigned long long)last);
		return;
	}
	if (seq < SEEN)
		seen[seq / 8] |= 1u << (seq % 8);
	if (ok && seq < last) {
		late++;
		lost -= lost > 0;
	} else {
		if (ok)
			lost += seq - last - 1;
		last = seq;
	}
	ok++;
}

/* An Ethernet frame: the flow's datagrams checked, the rest must parse. */
static void frame(const uint8_t *f, size_t n, uint16_t port)
{
	uint16_t type, ulen;
	size_t ihl;

	if (n < ETH_HLEN) {
		printf("netcheck: FAIL frame of %zu bytes\n", n);
		return;
	}
	type = f[12] << 8 | f[13];
	if (type == ETH_P_ARP || type == ETH_P_RARP || type == ETH_P_IPV6)
		return;
	if (type != ETH_P_IP) {
		printf("netcheck: FAIL frame of type 0x%04x, %zu bytes\n", type, n);
		return;
	}
	f += ETH_HLEN, n -= ETH_HLEN;
	ihl = n ? (f[0] & 15) * 4u : 0;
	if (n < 20 || f[0] >> 4 != 4 || ihl < 20 || ihl > n || ip_sum(f, ihl)) {
		printf("netcheck: FAIL IPv4 header of %zu bytes\n", n);
		return;
	}
	if (f[9] != IPPROTO_UDP || n < ihl + 8 || (f[ihl + 2] << 8 | f[ihl + 3]) != port)
		return;		/* ICMP, another port */
	ulen = f[ihl + 4] << 8 | f[ihl + 5];
	if (ulen < 8 || ulen > n - ihl) {
		printf("netcheck: FAIL UDP length %u in %zu bytes\n", ulen, n - ihl);
		return;
	}
	datagram(f + ihl + 8, ulen - 8);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr_ll ll = { .sll_family = AF_PACKET };
	const char *ifname = argc > 2 ? argv[2] : "eth0";
	static uint8_t buf[MAX];
	unsigned long errors;
	int fd, udp;
	double t;
	ssize_t n;

	if (argc < 2 || argc > 3 || !(a.sin_port = htons(atoi(argv[1])))) {
		fprintf(stderr, "usage: netcheck PORT [IFNAME]\n");
		return 2;
	}
	/* Someone has the port, or the guest answers each datagram with an ICMP error. */
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	ll.sll_protocol = htons(ETH_P_ALL);
	ll.sll_ifindex = if_nametoindex(ifname);
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (udp < 0 || bind(udp, (struct sockaddr *)&a, sizeof(a)) < 0 || fd < 0 ||
	    !ll.sll_ifindex || bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		perror("netcheck: socket");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	errors = driver_errors(ifname);
	printf("netcheck: listening on udp port %s of %s\n", argv[1], ifname);
	for (t = now();;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);

		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n >= 0 && from.sll_pkttype != PACKET_OUTGOING)
			frame(buf, n, ntohs(a.sin_port));
		while (recv(udp, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
		if (now() - t >= 1) {
			unsigned long e = driver_errors(ifname);

			if (e != errors)
				printf("netcheck: FAIL the driver counted %lu bad frames\n", e - errors);
			errors = e;
			t = now();
			printf("netcheck: %llu ok, seq %llu, lost %llu, late %llu\n",
			       (unsigned long long)ok, (unsigned long long)last,
			       (unsigned long long)lost, (unsigned long long)late);
		}
	}
}
