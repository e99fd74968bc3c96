/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The serial console's host side: stdio, a file (output only) or a unix
 * socket (one client at a time), chosen by --console.  Writing never waits
 * for the reader: a stalled one makes output drop, counted.
 */
#ifndef TERN_VM_CONSOLE_H
#define TERN_VM_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct console;

typedef void (*console_rx_fn)(void *opaque, const uint8_t *buf, size_t len);

struct console *console__open(struct vm *vm, const char *spec,
			      console_rx_fn rx, void *opaque);
void console__write(struct console *con, const uint8_t *buf, size_t len);
void console__close(struct vm *vm, struct console *con);

#endif /* TERN_VM_CONSOLE_H */
