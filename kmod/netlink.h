/* SPDX-License-Identifier: GPL-2.0 */
/* The `tern` generic netlink family: control, statistics and events. */
#ifndef _TERN_NETLINK_H
#define _TERN_NETLINK_H

struct tern_region;

void tern_nl_notify(struct tern_region *r, int event);
int tern_nl_init(void);
void tern_nl_exit(void);

#endif /* _TERN_NETLINK_H */
