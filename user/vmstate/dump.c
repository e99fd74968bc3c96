// SPDX-License-Identifier: GPL-2.0
/*
 * tern-state-dump: print any vmstate stream as JSON without knowing its
 * devices, or (--encode) turn such JSON back into a stream on stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/version.h"
#include "vmstate/json.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-state-dump [--no-crc] FILE       stream -> JSON on stdout\n"
		"       tern-state-dump --encode FILE.json    JSON -> stream on stdout\n"
		"FILE may be - for stdin.\n"
		"  --no-crc   skip the CRC32C checks (to read a damaged stream)\n"
		"  --encode   turn JSON (as printed) back into a stream\n"
		"  --help     this text\n"
		"  --version  print tern-state-dump's version\n");
}

/* The whole file (or stdin) in memory, NUL-terminated. */
static int slurp(const char *path, struct vmstate_buf *buf)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t n;
	int ret = 0;

	if (!f)
		return -errno;
	do {
		ret = vmstate__buf_reserve(buf, 65536);
		if (ret)
			break;
		n = fread(buf->data + buf->len, 1, 65536 - 1, f);
		buf->len += n;
	} while (n > 0);
	if (!ret && ferror(f))
		ret = -EIO;
	if (!ret)
		buf->data[buf->len] = '\0';
	if (f != stdin)
		fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	struct vmstate_buf in = { 0 }, out = { 0 };
	struct vmstate_err err = { 0 };
	unsigned int flags = 0;
	bool encode = false;
	char *json = NULL;
	int i, ret;

	log__init("tern-state-dump");
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		version__print("tern-state-dump");
		return 0;
	}
	for (i = 1; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--no-crc"))
			flags |= VMSTATE_LOAD_NO_CRC;
		else if (!strcmp(argv[i], "--encode"))
			encode = true;
		else
			break;
	}
	if (i != argc - 1 || argv[i][0] == '\0' ||
	    (argv[i][0] == '-' && argv[i][1])) {
		usage(stderr);
		return 2;
	}
	ret = slurp(argv[i], &in);
	if (ret) {
		pr_err("%s: %s", argv[i], strerror(-ret));
		return 1;
	}
	if (encode) {
		ret = vmstate__json_to_stream((const char *)in.data, &out, &err);
		if (!ret && fwrite(out.data, 1, out.len, stdout) != out.len)
			ret = -EIO;
	} else {
		ret = vmstate__stream_to_json(in.data, in.len, flags, &json,
					      &err);
		if (!ret)
			printf("%s\n", json);
	}
	if (ret)
		pr_err("%s: %s", argv[i], err.msg[0] ? err.msg : strerror(-ret));
	free(json);
	vmstate__buf_free(&in);
	vmstate__buf_free(&out);
	return ret ? 1 : 0;
}
