// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/tern: a misc device whose ioctls create guest memory regions.  Its
 * file_operations carry THIS_MODULE, so an open /dev/tern pins the module
 * and rmmod is refused rather than raced.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/tern.h>

#include "dev.h"
#include "ioctl.h"
#include "region.h"

/*
 * Like /dev/kvm: root and a group (udev gives it `tern`) only.  Every
 * region a user creates pins memory charged to them, and a stream of it
 * is that memory's contents; opening it wider is the admin's choice.
 */
static ushort mode = 0660;
module_param(mode, ushort, 0444);
MODULE_PARM_DESC(mode, "/dev/tern's mode at load (default 0660)");

static long dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	static const struct tern_ioc iocs[] = {
		{ TERN_CREATE_REGION, TERN_REGION_CREATE_SIZE_VER0 },
	};
	struct tern_region_create req;
	size_t usize;
	int ret;

	switch (tern_ioc_canon(cmd, iocs, ARRAY_SIZE(iocs), &usize)) {
	case TERN_CREATE_REGION:
		ret = tern_ioc_in(&req, sizeof(req), (void __user *)arg, usize);
		return ret ? ret : tern_region_create(&req);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations dev_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice dev_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= TERN_DEV_NAME,
	.fops	= &dev_fops,
};

int __init tern_dev_init(void)
{
	if (mode & ~0666) {
		pr_err("mode %#o: only read and write bits\n", mode);
		return -EINVAL;
	}
	dev_misc.mode = mode;
	return misc_register(&dev_misc);
}

void tern_dev_exit(void)
{
	misc_deregister(&dev_misc);
}
