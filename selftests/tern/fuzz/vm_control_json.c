// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzes ternvm's control-socket request path as the socket feeds it:
 * bytes -> bounded line splitter -> depth-limited JSON parser -> request
 * and argument validation -> run-state commands, on a stub VM.  Every
 * reply must be an object with exactly one of "return" or "error".
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json_line.h"
#include "vm/control.h"
#include "vm/vm.h"

/* The VM side the commands reach, reduced to its run-state bookkeeping. */
int vm__pause(struct vm *vm) { vm->pause_depth++; return 0; }
void vm__resume(struct vm *vm) { if (vm->pause_depth) vm->pause_depth--; }
bool vm__paused(struct vm *vm) { return vm->pause_depth > 0; }
void vm__request_exit(struct vm *vm, enum vm_exit_reason r) { vm->exit_reason = r; }
void control__event(struct vm *vm, const char *name, struct json_object *data)
{
	json_object_put(data);
}

static struct vm fuzz_vm;

static void on_line(const char *line, size_t len, void *opaque)
{
	struct json_object *reply;
	int has_ret, has_err;

	reply = line ? control__execute(&fuzz_vm, line, len, NULL)
		     : control__error("GenericError", "line too long");
	has_ret = json_object_object_get_ex(reply, "return", NULL);
	has_err = json_object_object_get_ex(reply, "error", NULL);
	if (has_ret == has_err)
		abort();
	json_object_put(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_line_buf lb = { 0 };

	memset(&fuzz_vm, 0, sizeof(fuzz_vm));
	fuzz_vm.nr_vcpus = 1;
	json_line__feed(&lb, (const char *)data, size, on_line, NULL);
	json_line__release(&lb);
	return 0;
}
