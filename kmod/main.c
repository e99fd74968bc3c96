// SPDX-License-Identifier: GPL-2.0
/*
 * tern.ko: guest memory regions with exact dirty tracking and a zero-copy
 * page stream, for live migration.  This file only sequences the
 * subsystems' init and exit, the latter in reverse.
 */
#include <linux/module.h>

#include "dev.h"
#include "netlink.h"
#include "region.h"
#include "stream.h"
#include "selftest/selftest.h"

static int __init tern_mod_init(void)
{
	int ret;

	if (!tern_selftest_run())
		return -ENOTRECOVERABLE;

	ret = tern_region_init();
	if (ret)
		goto err_region;
	ret = tern_stream_init();
	if (ret)
		goto err_stream;
	ret = tern_nl_init();
	if (ret)
		goto err_nl;
	/* Last: once /dev/tern exists, regions can be made. */
	ret = tern_dev_init();
	if (ret)
		goto err_dev;

	pr_info("loaded\n");
	return 0;

err_dev:
	tern_nl_exit();
err_nl:
	tern_stream_exit();
err_stream:
	tern_region_exit();
err_region:
	return ret;
}

static void __exit tern_mod_exit(void)
{
	tern_dev_exit();
	tern_nl_exit();
	tern_stream_exit();
	tern_region_exit();
	pr_info("unloaded\n");
}

module_init(tern_mod_init);
module_exit(tern_mod_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION(TERN_RELEASE);
MODULE_DESCRIPTION("Tern: dirty-tracked guest memory regions and page streams for live migration");
MODULE_AUTHOR("The Tern developers");
