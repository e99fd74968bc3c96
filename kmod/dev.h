/* SPDX-License-Identifier: GPL-2.0 */
/* The /dev/tern misc device: the entry point that creates regions. */
#ifndef _TERN_DEV_H
#define _TERN_DEV_H

int tern_dev_init(void);
void tern_dev_exit(void);

#endif /* _TERN_DEV_H */
