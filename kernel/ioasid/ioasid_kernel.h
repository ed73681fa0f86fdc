/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of ioasid.ko share: the kernel host of one context
 * (main.c) and the VFIO shim (vfio_shim.c).
 */
#ifndef IOASID_KERNEL_H
#define IOASID_KERNEL_H

#include <linux/fs.h>
#include <linux/mm_types.h>
#include <linux/sched/user.h>

#include "ioasid_core.h"

/* Pinned pages of one mapping: the engine's cookie for it. */
struct ioasid_kpin {
	unsigned long npages;
	struct page *pages[];
};

/* One context with its kernel host: an open /dev/ioasid or a container. */
struct ioasid_khost {
	struct ioasid_ctx *ctx;
	struct mm_struct *mm;
	struct user_struct *user;	/* per-user accounting; NULL: per mm */
};

struct ioasid_khost *ioasid_khost_create(void);
/* Pins and charges nothing: for devices that map by virtual address. */
struct ioasid_khost *ioasid_khost_create_va(void);
void ioasid_khost_destroy(struct ioasid_khost *h);
/* The context behind an ioasid fd, with a reference on @file; or NULL. */
struct ioasid_khost *ioasid_file_khost(struct file *file);

int ioasid_vfio_shim_init(void);
void ioasid_vfio_shim_exit(void);

#endif /* IOASID_KERNEL_H */
