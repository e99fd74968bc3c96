// SPDX-License-Identifier: GPL-2.0
/*
 * tern-tap-sniff: what a switch port would see.  Counts the frames of
 * one ethertype that arrive on an interface (a tap's host side: what
 * the VMM writes to the tap) for a while, and prints each one's source
 * MAC and arrival time, so a harness test can assert a migrated guest's
 * announce (issue 15) without tcpdump.
 *
 *   tern-tap-sniff IFNAME ETHERTYPE SECONDS	(ETHERTYPE as 0x8035)
 *
 * Prints "listening" once bound, then "frame MS aa:bb:cc:dd:ee:ff" per
 * frame, then "frames N".
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	unsigned char f[2048];
	unsigned long type;
	double t0, end;
	int fd, n = 0;
	ssize_t len;

	if (argc != 4) {
		fprintf(stderr, "usage: tern-tap-sniff IFNAME ETHERTYPE SECONDS\n");
		return 2;
	}
	type = strtoul(argv[2], NULL, 0);
	sll.sll_ifindex = if_nametoindex(argv[1]);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (!sll.sll_ifindex || fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("tern-tap-sniff: packet socket");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("listening\n");
	t0 = now_ms();
	end = t0 + atof(argv[3]) * 1e3;
	while (now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);

		if (poll(&p, 1, 100) <= 0)
			continue;
		len = recvfrom(fd, f, sizeof(f), 0, (struct sockaddr *)&from, &fl);
		if (len < 14 || from.sll_pkttype == PACKET_OUTGOING ||
		    (unsigned long)(f[12] << 8 | f[13]) != type)
			continue;
		n++;
		printf("frame %.0f %02x:%02x:%02x:%02x:%02x:%02x\n", now_ms() - t0,
		       f[6], f[7], f[8], f[9], f[10], f[11]);
	}
	printf("frames %d\n", n);
	return 0;
}
