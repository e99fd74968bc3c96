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
#include "region.h"

static long dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct tern_region_create req;

	switch (cmd) {
	case TERN_CREATE_REGION:
		if (copy_from_user(&req, (void __user *)arg, sizeof(req)))
			return -EFAULT;
		return tern_region_create(&req);
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
	.mode	= 0666,
};

int __init tern_dev_init(void)
{
	return misc_register(&dev_misc);
}

void tern_dev_exit(void)
{
	misc_deregister(&dev_misc);
}
