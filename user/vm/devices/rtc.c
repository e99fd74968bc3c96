// SPDX-License-Identifier: GPL-2.0
/*
 * MC146818 CMOS RTC at 0x70/0x71: the clock reads host time plus an
 * offset the guest sets by writing the time registers under SET; the rest
 * is 128 bytes of CMOS.  No periodic or alarm interrupts.
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm/device.h"
#include "vm/init.h"
#include "vm/iotrap.h"
#include "vm/vm.h"
#include "vmstate/vmstate.h"

#define RTC_PORT_BASE	0x70

/* MC146818 registers and bits, by their datasheet names. */
enum {
	RTC_SECONDS = 0, RTC_MINUTES = 2, RTC_HOURS = 4, RTC_DAY_OF_WEEK = 6,
	RTC_DAY_OF_MONTH = 7, RTC_MONTH = 8, RTC_YEAR = 9,
	RTC_REG_A = 10, RTC_REG_B = 11, RTC_REG_C = 12, RTC_REG_D = 13,
};
#define RTC_UIP		0x80	/* A: update in progress */
#define RTC_SET		0x80	/* B: stop updates, guest sets time */
#define RTC_DM_BINARY	0x04	/* B: binary, not BCD */
#define RTC_24H		0x02	/* B: 24-hour mode */
#define RTC_VRT		0x80	/* D: valid RAM and time */
#define CMOS_CENTURY	0x32
/*
 * Past any time a guest can set (century byte 0..99: years -1900..9999,
 * about 3.2e11 s from now), short of where now + offset could wrap or
 * gmtime_r() fail.
 */
#define RTC_OFFSET_MAX	(1LL << 40)

struct rtc {
	struct device_header dev;
	pthread_mutex_t lock;
	struct rtc_state {
		uint8_t index;
		uint8_t cmos[128];
		int64_t offset;		/* guest time - host time, seconds */
	} r;
};

static uint8_t to_bcd(int v) { return ((v / 10) << 4) | (v % 10); }
static int from_bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0xf); }

static bool is_bcd(struct rtc *rtc)
{
	return !(rtc->r.cmos[RTC_REG_B] & RTC_DM_BINARY);
}

static uint8_t enc(struct rtc *rtc, int v)
{
	return is_bcd(rtc) ? to_bcd(v) : v;
}

static int dec(struct rtc *rtc, uint8_t v)
{
	return is_bcd(rtc) ? from_bcd(v) : v;
}

static void fill_time(struct rtc *rtc)
{
	time_t t = time(NULL) + rtc->r.offset;
	struct tm tm;
	uint8_t *c = rtc->r.cmos;

	if (!gmtime_r(&t, &tm))
		return;			/* the registers keep the last time */
	c[RTC_SECONDS] = enc(rtc, tm.tm_sec);
	c[RTC_MINUTES] = enc(rtc, tm.tm_min);
	c[RTC_HOURS] = enc(rtc, tm.tm_hour);
	c[RTC_DAY_OF_WEEK] = enc(rtc, tm.tm_wday + 1);
	c[RTC_DAY_OF_MONTH] = enc(rtc, tm.tm_mday);
	c[RTC_MONTH] = enc(rtc, tm.tm_mon + 1);
	c[RTC_YEAR] = enc(rtc, tm.tm_year % 100);
	c[CMOS_CENTURY] = enc(rtc, 19 + tm.tm_year / 100);
}

/* The guest wrote a new time under SET: keep it as an offset. */
static void take_time(struct rtc *rtc)
{
	uint8_t *c = rtc->r.cmos;
	struct tm tm = {
		.tm_sec = dec(rtc, c[RTC_SECONDS]),
		.tm_min = dec(rtc, c[RTC_MINUTES]),
		.tm_hour = dec(rtc, c[RTC_HOURS]),
		.tm_mday = dec(rtc, c[RTC_DAY_OF_MONTH]),
		.tm_mon = dec(rtc, c[RTC_MONTH]) - 1,
		.tm_year = dec(rtc, c[RTC_YEAR]) + (dec(rtc, c[CMOS_CENTURY]) - 19) * 100,
	};

	int64_t offset = (int64_t)timegm(&tm) - time(NULL);

	if (offset >= -RTC_OFFSET_MAX && offset <= RTC_OFFSET_MAX)
		rtc->r.offset = offset;
}

static void rtc_io(struct vcpu *vcpu, uint64_t addr, uint8_t *data,
		   uint32_t len, bool is_write, void *opaque)
{
	struct rtc *rtc = opaque;
	uint8_t *c = rtc->r.cmos;
	uint8_t idx;

	pthread_mutex_lock(&rtc->lock);
	if (addr == RTC_PORT_BASE) {
		if (is_write)
			rtc->r.index = data[0] & 0x7f;	/* bit 7: NMI mask */
		else
			data[0] = 0xff;
		goto out;
	}
	idx = rtc->r.index;
	if (!is_write) {
		if (idx <= RTC_YEAR || idx == CMOS_CENTURY) {
			if (!(c[RTC_REG_B] & RTC_SET))
				fill_time(rtc);
		}
		data[0] = c[idx];
		if (idx == RTC_REG_C)
			c[RTC_REG_C] = 0;
		goto out;
	}
	switch (idx) {
	case RTC_REG_A:
		c[idx] = data[0] & ~RTC_UIP;
		break;
	case RTC_REG_B:
		if ((c[idx] & RTC_SET) && !(data[0] & RTC_SET))
			take_time(rtc);
		else if (!(c[idx] & RTC_SET) && (data[0] & RTC_SET))
			fill_time(rtc);
		c[idx] = data[0];
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;				/* read-only */
	default:
		c[idx] = data[0];
		break;
	}
out:
	pthread_mutex_unlock(&rtc->lock);
}

static const struct vmstate_field rtc_state_fields[] = {
	VMSTATE_U8(index, struct rtc_state, 0),
	VMSTATE_U8_ARRAY(cmos, struct rtc_state, 0),
	VMSTATE_S64(offset, struct rtc_state, 0),
	VMSTATE_END,
};

static const struct vmsd rtc_state_vmsd = {
	.name = "mc146818-regs",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct rtc_state),
	.fields = rtc_state_fields,
};

static int rtc_post_load(void *staging, uint32_t version)
{
	struct rtc *rtc = staging;

	if (rtc->r.index >= 128)
		return -EINVAL;
	/* From the stream: the clock offset no guest could have set. */
	if (rtc->r.offset < -RTC_OFFSET_MAX || rtc->r.offset > RTC_OFFSET_MAX)
		return -ERANGE;
	return 0;
}

static const struct vmstate_field rtc_fields[] = {
	VMSTATE_STRUCT(r, struct rtc, 0, rtc_state_vmsd, struct rtc_state),
	VMSTATE_END,
};

static const struct vmsd rtc_vmsd = {
	.name = "rtc",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct rtc),
	.fields = rtc_fields,
	.post_load = rtc_post_load,
};
VMSTATE_DEVICE_TABLE(rtc_vmsd);

static int rtc__init(struct vm *vm)
{
	struct rtc *rtc;
	int ret;

	/*
	 * glibc reads the time zone (/etc/localtime) at its first gmtime_r
	 * or timegm: here, not on a vCPU thread, which may not open files
	 * (sandbox.h).
	 */
	tzset();
	rtc = calloc(1, sizeof(*rtc));
	if (!rtc)
		return -ENOMEM;
	rtc->dev.name = "rtc";
	rtc->dev.opaque = rtc;
	snprintf(rtc->dev.path, sizeof(rtc->dev.path), "/machine/isa/rtc@%x", RTC_PORT_BASE);
	pthread_mutex_init(&rtc->lock, NULL);
	rtc->r.cmos[RTC_REG_A] = 0x26;			/* 32.768 kHz, 1024 Hz */
	rtc->r.cmos[RTC_REG_B] = RTC_24H;
	rtc->r.cmos[RTC_REG_D] = RTC_VRT;		/* battery good */
	ret = vm__register_iotrap(vm, RTC_PORT_BASE, 2, rtc_io, rtc, IOTRAP_PIO);
	if (!ret) {
		ret = vm__register_state(vm, &rtc_vmsd, rtc, rtc->dev.path);
		if (ret)
			vm__unregister_iotrap(vm, RTC_PORT_BASE, IOTRAP_PIO);
	}
	if (ret) {
		free(rtc);
		return ret;
	}
	device__register(vm, &rtc->dev);
	return 0;
}

static int rtc__exit(struct vm *vm)
{
	struct device_header *dev = device__find(vm, "rtc", 0);
	struct rtc *rtc;

	if (!dev)
		return 0;
	rtc = container_of(dev, struct rtc, dev);
	device__unregister(vm, dev);
	vm__unregister_state(vm, dev->path);
	vm__unregister_iotrap(vm, RTC_PORT_BASE, IOTRAP_PIO);
	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
	return 0;
}
dev_init(rtc__init);
dev_exit(rtc__exit);
