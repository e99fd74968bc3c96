// SPDX-License-Identifier: GPL-2.0
/*
 * tern-unix-hold PATH SECONDS: connect to a unix stream socket and hold
 * the connection for SECONDS without reading a byte: a console client that
 * stopped reading.  Prints "connected" once it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s;

	if (argc != 3 || strlen(argv[1]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "usage: tern-unix-hold PATH SECONDS\n");
		return 2;
	}
	strcpy(a.sun_path, argv[1]);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
		perror(argv[1]);
		return 1;
	}
	printf("connected\n");
	fflush(stdout);
	sleep(atoi(argv[2]));
	return 0;
}
