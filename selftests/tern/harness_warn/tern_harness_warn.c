// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test: a module that WARNs when loaded, so that
 * harness_selftest.sh can prove the harness fails a run on a kernel warning.
 */
#include <linux/module.h>

static int __init tern_harness_warn_init(void)
{
	WARN(1, "tern harness selftest: deliberate warning\n");
	return 0;
}

static void __exit tern_harness_warn_exit(void)
{
}

module_init(tern_harness_warn_init);
module_exit(tern_harness_warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Tern harness self-test: WARN at load");
