/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Tern: the ABI between tern.ko and its users (ternvm, ternctl).
 *
 * /dev/tern
 * ---------
 * A misc device.  Opening it pins the module (rmmod is refused while any
 * Tern file is open).  Its ioctls are listed below; an unknown ioctl gets
 * -ENOTTY.
 *
 * Documentation/tern.rst expands every part of this header; this header is
 * the source.
 */
#ifndef _UAPI_LINUX_TERN_H
#define _UAPI_LINUX_TERN_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define TERN_DEV_NAME	"tern"

/* ioctl type byte; shared by every /dev/tern and region ioctl. */
#define TERN_IOCTL_TYPE	0xE7

#endif /* _UAPI_LINUX_TERN_H */
