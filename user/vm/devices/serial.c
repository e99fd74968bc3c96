// SPDX-License-Identifier: GPL-2.0
/*
 * 16550A UART at 0x3f8, IRQ 4: the guest console.  Transmit is
 * immediate (THR always empty), receive has a 64-byte FIFO filled from
 * the console backend; the IRQ line follows IER/IIR like the real part,
 * including loopback mode, which Linux's 8250 probe uses.
 */
#include <errno.h>
#include <stdio.h>
#include <linux/serial_reg.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "vm/console.h"
#include "vm/device.h"
#include "vm/init.h"
#include "vm/iotrap.h"
#include "vm/irq.h"
#include "vm/vm.h"
#include "vmstate/vmstate.h"

#define SERIAL_BASE	0x3f8
#define SERIAL_IRQ	4
#define FIFO_LEN	64

struct serial {
	struct device_header dev;
	struct vm *vm;
	struct console *con;
	pthread_mutex_t lock;
	/* Guest-visible state: what a save must capture. */
	struct serial_regs {
		uint8_t dll, dlm, ier, iir, fcr, lcr, mcr, lsr, msr, scr;
		uint8_t thri_pending;
		uint8_t irq_level;
		uint8_t rx_len;
		uint8_t rx_head;
		uint8_t rx[FIFO_LEN];
	} r;
};

static void update_irq(struct serial *s)
{
	struct serial_regs *r = &s->r;
	uint8_t iir = UART_IIR_NO_INT;
	int level;

	if ((r->ier & UART_IER_RLSI) && (r->lsr & (UART_LSR_OE | UART_LSR_BI)))
		iir = UART_IIR_RLSI;
	else if ((r->ier & UART_IER_RDI) && r->rx_len)
		iir = UART_IIR_RDI;
	else if ((r->ier & UART_IER_THRI) && r->thri_pending)
		iir = UART_IIR_THRI;
	else if ((r->ier & UART_IER_MSI) && (r->msr & UART_MSR_ANY_DELTA))
		iir = UART_IIR_MSI;
	r->iir = iir | (r->fcr & UART_FCR_ENABLE_FIFO ? 0xc0 : 0);
	level = !(iir & UART_IIR_NO_INT) && (r->mcr & UART_MCR_OUT2);
	if (level != r->irq_level) {
		r->irq_level = level;
		irq__line(s->vm, SERIAL_IRQ, level);
	}
}

static void rx_push(struct serial *s, uint8_t c)
{
	struct serial_regs *r = &s->r;

	if (r->rx_len == FIFO_LEN) {
		r->lsr |= UART_LSR_OE;
		return;
	}
	r->rx[(r->rx_head + r->rx_len) % FIFO_LEN] = c;
	r->rx_len++;
	r->lsr |= UART_LSR_DR;
}

static uint8_t rx_pop(struct serial *s)
{
	struct serial_regs *r = &s->r;
	uint8_t c;

	if (!r->rx_len)
		return 0;
	c = r->rx[r->rx_head];
	r->rx_head = (r->rx_head + 1) % FIFO_LEN;
	if (!--r->rx_len)
		r->lsr &= ~UART_LSR_DR;
	return c;
}

/* Modem status as loopback wires it: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
static uint8_t loop_msr(uint8_t mcr)
{
	return (mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
	       (mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
	       (mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
	       (mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
}

static void serial_write(struct serial *s, int off, uint8_t v)
{
	struct serial_regs *r = &s->r;
	bool dlab = r->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_TX:
		if (dlab) {
			r->dll = v;
			break;
		}
		if (r->mcr & UART_MCR_LOOP)
			rx_push(s, v);
		else
			console__write(s->con, &v, 1);
		r->thri_pending = 1;	/* sent at once: THR empty again */
		break;
	case UART_IER:
		if (dlab) {
			r->dlm = v;
			break;
		}
		if (!(r->ier & UART_IER_THRI) && (v & UART_IER_THRI))
			r->thri_pending = 1;
		r->ier = v & 0x0f;
		break;
	case UART_FCR:
		if (v & UART_FCR_CLEAR_RCVR) {
			r->rx_len = 0;
			r->lsr &= ~UART_LSR_DR;
		}
		r->fcr = v & (UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_MASK);
		break;
	case UART_LCR:
		r->lcr = v;
		break;
	case UART_MCR:
		r->mcr = v & 0x1f;
		if (r->mcr & UART_MCR_LOOP)
			r->msr = (r->msr & 0x0f) | loop_msr(r->mcr);
		else
			r->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
		break;
	case UART_SCR:
		r->scr = v;
		break;
	}
}

static uint8_t serial_read(struct serial *s, int off)
{
	struct serial_regs *r = &s->r;
	bool dlab = r->lcr & UART_LCR_DLAB;
	uint8_t v = 0;

	switch (off) {
	case UART_RX:
		v = dlab ? r->dll : rx_pop(s);
		break;
	case UART_IER:
		v = dlab ? r->dlm : r->ier;
		break;
	case UART_IIR:
		v = r->iir;
		if ((v & 0x0f) == UART_IIR_THRI)
			r->thri_pending = 0;
		break;
	case UART_LCR:
		v = r->lcr;
		break;
	case UART_MCR:
		v = r->mcr;
		break;
	case UART_LSR:
		v = r->lsr | UART_LSR_TEMT | UART_LSR_THRE;
		r->lsr &= ~(UART_LSR_OE | UART_LSR_BI);
		break;
	case UART_MSR:
		v = r->msr;
		r->msr &= ~UART_MSR_ANY_DELTA;
		break;
	case UART_SCR:
		v = r->scr;
		break;
	}
	return v;
}

static void serial_io(struct vcpu *vcpu, uint64_t addr, uint8_t *data,
		      uint32_t len, bool is_write, void *opaque)
{
	struct serial *s = opaque;
	int off = addr - SERIAL_BASE;

	pthread_mutex_lock(&s->lock);
	if (is_write)
		serial_write(s, off, data[0]);
	else
		data[0] = serial_read(s, off);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_rx(void *opaque, const uint8_t *buf, size_t len)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	if (!(s->r.mcr & UART_MCR_LOOP))
		while (len--)
			rx_push(s, *buf++);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static int serial_post_load(void *staging, uint32_t version)
{
	struct serial *s = staging;

	return s->r.rx_len <= FIFO_LEN && s->r.rx_head < FIFO_LEN ? 0 : -EINVAL;
}

/* Drive the IRQ line to the loaded level: a fresh KVM has it low. */
static int serial_post_commit(void *opaque, char *why, size_t len)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	irq__line(s->vm, SERIAL_IRQ, s->r.irq_level);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static const struct vmstate_field serial_regs_fields[] = {
	VMSTATE_U8_HEX(dll, struct serial_regs, 0),
	VMSTATE_U8_HEX(dlm, struct serial_regs, 0),
	VMSTATE_U8_HEX(ier, struct serial_regs, 0),
	VMSTATE_U8_HEX(iir, struct serial_regs, 0),
	VMSTATE_U8_HEX(fcr, struct serial_regs, 0),
	VMSTATE_U8_HEX(lcr, struct serial_regs, 0),
	VMSTATE_U8_HEX(mcr, struct serial_regs, 0),
	VMSTATE_U8_HEX(lsr, struct serial_regs, 0),
	VMSTATE_U8_HEX(msr, struct serial_regs, 0),
	VMSTATE_U8_HEX(scr, struct serial_regs, 0),
	VMSTATE_U8(thri_pending, struct serial_regs, 0),
	VMSTATE_U8(irq_level, struct serial_regs, 0),
	VMSTATE_U8(rx_len, struct serial_regs, 0),
	VMSTATE_U8(rx_head, struct serial_regs, 0),
	VMSTATE_U8_ARRAY(rx, struct serial_regs, 0),
	VMSTATE_END,
};

static const struct vmsd serial_regs_vmsd = {
	.name = "16550a-regs",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct serial_regs),
	.fields = serial_regs_fields,
};

static const struct vmstate_field serial_fields[] = {
	VMSTATE_STRUCT(r, struct serial, 0, serial_regs_vmsd, struct serial_regs),
	VMSTATE_END,
};

static const struct vmsd serial_vmsd = {
	.name = "serial",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct serial),
	.fields = serial_fields,
	.post_load = serial_post_load,
	.post_commit = serial_post_commit,
};
VMSTATE_DEVICE_TABLE(serial_vmsd);

/* Registers as at power-on (irq_level tracks the line, not a register). */
static void serial_power_on(struct serial *s)
{
	uint8_t level = s->r.irq_level;

	s->r = (struct serial_regs){
		.iir = UART_IIR_NO_INT,
		.lsr = UART_LSR_TEMT | UART_LSR_THRE,
		.msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS,
		.mcr = UART_MCR_OUT2,
		.irq_level = level,
	};
}

/* Back to power-on; the line drops if it was up. */
static void serial_reset(struct device_header *dev)
{
	struct serial *s = container_of(dev, struct serial, dev);

	pthread_mutex_lock(&s->lock);
	serial_power_on(s);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static int serial__init(struct vm *vm)
{
	struct serial *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->vm = vm;
	s->dev.name = "serial";
	s->dev.opaque = s;
	s->dev.reset = serial_reset;
	snprintf(s->dev.path, sizeof(s->dev.path), "/machine/isa/serial@%x", SERIAL_BASE);
	pthread_mutex_init(&s->lock, NULL);
	serial_power_on(s);

	s->con = console__open(vm, vm->cfg.console, serial_rx, s);
	if (!s->con) {
		ret = -errno;
		goto err_free;
	}
	ret = vm__register_iotrap(vm, SERIAL_BASE, 8, serial_io, s, IOTRAP_PIO);
	if (ret)
		goto err_close;
	ret = vm__register_state(vm, &serial_vmsd, s, s->dev.path);
	if (ret)
		goto err_unregister;
	device__register(vm, &s->dev);
	return 0;

err_unregister:
	vm__unregister_iotrap(vm, SERIAL_BASE, IOTRAP_PIO);
err_close:
	console__close(vm, s->con);
err_free:
	free(s);
	return ret;
}

static int serial__exit(struct vm *vm)
{
	struct device_header *dev = device__find(vm, "serial", 0);
	struct serial *s;

	if (!dev)
		return 0;
	s = container_of(dev, struct serial, dev);
	device__unregister(vm, dev);
	vm__unregister_state(vm, dev->path);
	vm__unregister_iotrap(vm, SERIAL_BASE, IOTRAP_PIO);
	console__close(vm, s->con);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return 0;
}
dev_init(serial__init);
dev_exit(serial__exit);
