/* SPDX-License-Identifier: GPL-2.0 */
/* The 16550 UART's state, for its vmstate description. */
#ifndef TERN_VM_DEVICES_SERIAL_H
#define TERN_VM_DEVICES_SERIAL_H

#include <stddef.h>

struct device_header;
struct serial_regs;

struct serial_regs *serial__regs(struct device_header *dev, size_t *len);
void serial__post_load(struct device_header *dev);

#endif /* TERN_VM_DEVICES_SERIAL_H */
