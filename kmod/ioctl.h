/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Size-versioned ioctl structs.  A struct of the ABI may grow at its end in
 * a later release, and its size is part of the command number, so a
 * command is matched on its type, number and direction, and any size from
 * its first release's (the uapi's *_SIZE_VER0) up is taken: an older caller
 * keeps working on a newer module, and a newer caller on an older one as
 * far as it asks for nothing new.  In: a longer struct's unknown tail must
 * be zero (-E2BIG), a shorter one reads as zeros.  Out: the caller gets its
 * size's worth, zeros past what the module knows.
 */
#ifndef TERN_IOCTL_H
#define TERN_IOCTL_H

#include <linux/ioctl.h>
#include <linux/kernel.h>
#include <linux/uaccess.h>

struct tern_ioc {
	unsigned int cmd;	/* as the module's header spells it */
	size_t ver0;		/* the struct's size in its first release */
};

/*
 * The command of @table that @cmd is a size variant of, with the caller's
 * size in *@usize; @cmd itself when it is none (struct-less commands,
 * unknown ones, sizes below VER0: the caller's switch refuses those).
 */
static inline unsigned int tern_ioc_canon(unsigned int cmd,
					  const struct tern_ioc *table,
					  size_t n, size_t *usize)
{
	size_t i;

	*usize = _IOC_SIZE(cmd);
	for (i = 0; i < n; i++)
		if (_IOC_TYPE(cmd) == _IOC_TYPE(table[i].cmd) &&
		    _IOC_NR(cmd) == _IOC_NR(table[i].cmd) &&
		    _IOC_DIR(cmd) == _IOC_DIR(table[i].cmd) &&
		    *usize >= table[i].ver0)
			return table[i].cmd;
	return cmd;
}

static inline int tern_ioc_in(void *karg, size_t ksize,
			      const void __user *uarg, size_t usize)
{
	return copy_struct_from_user(karg, ksize, uarg, usize);
}

static inline int tern_ioc_out(void __user *uarg, size_t usize,
			       const void *karg, size_t ksize)
{
	if (copy_to_user(uarg, karg, min(usize, ksize)))
		return -EFAULT;
	if (usize > ksize && clear_user(uarg + ksize, usize - ksize))
		return -EFAULT;
	return 0;
}

#endif /* TERN_IOCTL_H */
