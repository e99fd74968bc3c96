// SPDX-License-Identifier: GPL-2.0
/*
 * tern-udp-flow: a steady flow of self-checking datagrams to a guest's
 * netcheck (selftests/tern/guest/netcheck.c): each carries its sequence
 * number, its length, bytes drawn from the number and an FNV-1a checksum
 * of all of them.  Until killed, or SECONDS.  Without a UDP checksum
 * (SO_NO_CHECK): a guest's stack would drop a datagram whose buffer a
 * migration left stale, and it would look lost, not wrong; now it
 * reaches netcheck.
 *
 *   tern-udp-flow ADDR PORT PER-SECOND BYTES [SECONDS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR	16
#define SUM	8

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	uint8_t buf[9000];
	long rate, secs, i;
	uint64_t seq, x, sum;
	struct timespec t0, t;
	uint32_t len;
	int fd, one = 1;

	if (argc < 5 || argc > 6 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1 ||
	    !(a.sin_port = htons(atoi(argv[2]))) || (rate = atol(argv[3])) <= 0 ||
	    (len = atoi(argv[4])) < HDR + SUM || len > sizeof(buf)) {
		fprintf(stderr, "usage: tern-udp-flow ADDR PORT PER-SECOND BYTES(%d-%zu) [SECONDS]\n",
			HDR + SUM, sizeof(buf));
		return 2;
	}
	secs = argc == 6 ? atol(argv[5]) : 0;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one)) < 0) {
		perror("tern-udp-flow: socket");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (seq = 1; !secs || seq <= (uint64_t)(secs * rate); seq++) {
		memset(buf + 8, 0, HDR - 8);
		memcpy(buf, &seq, 8);
		memcpy(buf + 8, &len, 4);
		for (i = HDR, x = seq * 0x9e3779b97f4a7c15ULL; i < len - SUM; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = x;
		}
		sum = fnv1a(buf, len - SUM);
		memcpy(buf + len - SUM, &sum, SUM);
		/* No route yet (the guest's address unresolved): try on. */
		if (sendto(fd, buf, len, 0, (struct sockaddr *)&a, sizeof(a)) < 0 &&
		    errno != EHOSTUNREACH && errno != ENOBUFS && errno != EAGAIN &&
		    errno != ECONNREFUSED) {
			perror("tern-udp-flow: sendto");
			return 1;
		}
		/* Paced: datagram seq leaves at seq / rate seconds. */
		t.tv_sec = t0.tv_sec + seq / rate;
		t.tv_nsec = t0.tv_nsec + (long)(seq % rate) * (1000000000L / rate);
		if (t.tv_nsec >= 1000000000L)
			t.tv_sec++, t.tv_nsec -= 1000000000L;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
	}
	return 0;
}
