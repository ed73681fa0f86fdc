// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_mdma: an emulated DMA engine on the mdev bus, for tests and demos
 * of VFIO's emulated-IOMMU interface. Each mdev is a vfio-pci-like device
 * with a config space and one register BAR (kernel/mdma/mdma_regs.h). A
 * transfer copies up to MDMA_MAX_LEN bytes between two IOVAs of the
 * container the device is in, through whatever IOMMU backend serves it:
 *
 * - by default with vfio_dma_rw(), a page at a time through a bounce page;
 * - with MDMA_CTRL_PIN, by pinning the source and destination pages with
 *   vfio_pin_pages() and copying through kmap_local_page(). The pins are
 *   kept after the transfer until MDMA_CTRL_RELEASE, the next pinned
 *   transfer, a reset, the close of the device, or the backend's
 *   dma_unmap callback for a range they are in, so that the order
 *   "callback, then unpin, then unmap" can be watched from user space.
 *
 * A transfer runs in the write() to MDMA_REG_CTRL, in the writer's
 * context (the backend reads the memory of the process that mapped it).
 * While it runs, the status reads BUSY and writes to the registers fail
 * with EBUSY; a failure ends it with status ERROR and the errno in
 * MDMA_REG_ERROR. The parent is a platform device the module registers;
 * its mdev type is "ioasid_mdma-dma".
 *
 * Locks: reg_lock guards the registers and is never held across a
 * transfer; dma_lock guards the pins and serialises transfers with the
 * dma_unmap callback. The backend calls dma_unmap without its own lock
 * (type1 drops iommu->lock), so dma_lock -> backend lock is the only
 * nesting; reg_lock -> dma_lock for MDMA_CTRL_RELEASE and reset.
 */
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/mdev.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pci_regs.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "mdma_regs.h"

#define MDMA_NAME		"ioasid_mdma"
#define MDMA_MAX_INSTANCES	4
/* Where region N starts in the device file, as vfio-pci lays it out. */
#define MDMA_REGION_SHIFT	40
#define MDMA_REGION_OFF(i)	((u64)(i) << MDMA_REGION_SHIFT)
#define MDMA_OFF_MASK		(MDMA_REGION_OFF(1) - 1)

/*
 * Tests only: at close, forget the pins instead of unpinning them, as a
 * broken driver would, so that a backend's cleanup of pins left at the
 * group's detach can be watched (tests/kernel/test_mdev_shim.c).
 */
static bool leak_pins;
module_param(leak_pins, bool, 0644);
MODULE_PARM_DESC(leak_pins, "tests: forget, not unpin, the pins held at close");

/* One contiguous run of pinned pages: the source or the destination. */
struct mdma_pin {
	u64 iova;		/* page aligned */
	unsigned int npage;	/* 0: nothing pinned */
	unsigned int first;	/* index of its first page in mdma.pages */
};

/*
 * Lock order: reg_lock, then dma_lock, then the backend's locks (taken by
 * vfio_pin_pages, vfio_unpin_pages and vfio_dma_rw). A transfer holds
 * dma_lock alone; the dma_unmap callback takes dma_lock alone.
 */
struct mdma {
	struct vfio_device vdev;

	struct mutex reg_lock;
	u64 src, dst;
	u32 len, status, error, done;
	u16 pci_command;
	u32 pci_bar0;

	struct mutex dma_lock;
	struct mdma_pin pin[2];
	struct page *pages[MDMA_MAX_PINS];
	void *bounce;		/* one page, for vfio_dma_rw transfers */
	/* Written under dma_lock, read locklessly by register reads. */
	u32 npinned, unmaps, unmap_pages;

	u8 config[MDMA_CONFIG_SIZE];
};

static struct mdma *to_mdma(struct vfio_device *vdev)
{
	return container_of(vdev, struct mdma, vdev);
}

static void mdma_put_le(u8 *p, unsigned int off, u32 v, unsigned int size)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		p[off + i] = v >> (8 * i);
}

static void mdma_build_config(struct mdma *m)
{
	memset(m->config, 0, sizeof(m->config));
	mdma_put_le(m->config, PCI_VENDOR_ID, MDMA_VENDOR_ID, 2);
	mdma_put_le(m->config, PCI_DEVICE_ID, MDMA_DEVICE_ID, 2);
	mdma_put_le(m->config, PCI_CLASS_REVISION, MDMA_CLASS << 8 | 1, 4);
	mdma_put_le(m->config, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL, 1);
	mdma_put_le(m->config, PCI_SUBSYSTEM_VENDOR_ID, MDMA_VENDOR_ID, 2);
	mdma_put_le(m->config, PCI_SUBSYSTEM_ID, MDMA_DEVICE_ID, 2);
}

static void mdma_unpin(struct mdma *m, struct mdma_pin *p)
{
	lockdep_assert_held(&m->dma_lock);
	if (!p->npage)
		return;
	vfio_unpin_pages(&m->vdev, p->iova, p->npage);
	WRITE_ONCE(m->npinned, m->npinned - p->npage);
	p->npage = 0;
}

static void mdma_unpin_all(struct mdma *m)
{
	mdma_unpin(m, &m->pin[0]);
	mdma_unpin(m, &m->pin[1]);
}

/* Pages spanned by [iova, iova + len), len > 0 and no overflow checked. */
static unsigned int mdma_npages(u64 iova, u32 len)
{
	return ((iova + len - 1) >> PAGE_SHIFT) - (iova >> PAGE_SHIFT) + 1;
}

/* pin[which] empty. Pins the pages of [iova, iova + len). */
static int mdma_pin_range(struct mdma *m, int which, u64 iova, u32 len,
			  unsigned int first, int prot)
{
	struct mdma_pin *p = &m->pin[which];
	unsigned int n = mdma_npages(iova, len);
	int ret;

	lockdep_assert_held(&m->dma_lock);

	ret = vfio_pin_pages(&m->vdev, iova & PAGE_MASK, n, prot,
			     &m->pages[first]);
	if (ret < 0)
		return ret;
	p->iova = iova & PAGE_MASK;
	p->first = first;
	p->npage = ret;
	WRITE_ONCE(m->npinned, m->npinned + ret);
	if (ret != n) {		/* not expected of any backend */
		mdma_unpin(m, p);
		return -EFAULT;
	}
	return 0;
}

/* Copy through pinned pages; the pins stay. */
static int mdma_copy_pinned(struct mdma *m, u64 src, u64 dst, u32 len,
			    u32 *done)
{
	unsigned int ns = mdma_npages(src, len);
	u64 s_base = src & PAGE_MASK, d_base = dst & PAGE_MASK;
	int ret;

	lockdep_assert_held(&m->dma_lock);

	mdma_unpin_all(m);
	ret = mdma_pin_range(m, 0, src, len, 0, IOMMU_READ);
	if (ret)
		return ret;
	ret = mdma_pin_range(m, 1, dst, len, ns, IOMMU_WRITE);
	if (ret) {
		mdma_unpin(m, &m->pin[0]);
		return ret;
	}
	while (*done < len) {
		u64 s = src + *done, d = dst + *done;
		size_t n = min3((size_t)(len - *done),
				(size_t)(PAGE_SIZE - offset_in_page(s)),
				(size_t)(PAGE_SIZE - offset_in_page(d)));
		struct page *sp = m->pages[(s - s_base) >> PAGE_SHIFT];
		struct page *dp = m->pages[ns + ((d - d_base) >> PAGE_SHIFT)];
		u8 *from = kmap_local_page(sp);
		u8 *to = kmap_local_page(dp);

		memcpy(to + offset_in_page(d), from + offset_in_page(s), n);
		kunmap_local(to);
		kunmap_local(from);
		*done += n;
	}
	return 0;
}

/* Copy a page at a time with vfio_dma_rw. */
static int mdma_copy_rw(struct mdma *m, u64 src, u64 dst, u32 len, u32 *done)
{
	int ret;

	lockdep_assert_held(&m->dma_lock);

	while (*done < len) {
		size_t n = min_t(size_t, len - *done, PAGE_SIZE);

		ret = vfio_dma_rw(&m->vdev, src + *done, m->bounce, n, false);
		if (ret)
			return ret;
		ret = vfio_dma_rw(&m->vdev, dst + *done, m->bounce, n, true);
		if (ret)
			return ret;
		*done += n;
		cond_resched();
	}
	return 0;
}

/* What a start with these registers would fail with. */
static int mdma_check(struct mdma *m, bool pin)
{
	u64 last;

	lockdep_assert_held(&m->reg_lock);

	if (!m->len)
		return -EINVAL;
	if (m->len > MDMA_MAX_LEN)
		return -E2BIG;
	if (check_add_overflow(m->src, (u64)m->len - 1, &last) ||
	    check_add_overflow(m->dst, (u64)m->len - 1, &last))
		return -EOVERFLOW;
	if (pin && mdma_npages(m->src, m->len) + mdma_npages(m->dst, m->len) >
		   MDMA_MAX_PINS)
		return -E2BIG;
	return 0;
}

static int mdma_ctrl(struct mdma *m, u32 val)
{
	bool pin = val & MDMA_CTRL_PIN;
	u64 src, dst;
	u32 len, done = 0;
	int ret;

	if (val & ~(MDMA_CTRL_START | MDMA_CTRL_PIN | MDMA_CTRL_RELEASE))
		return -EINVAL;
	if ((val & MDMA_CTRL_RELEASE) && val != MDMA_CTRL_RELEASE)
		return -EINVAL;

	mutex_lock(&m->reg_lock);
	if (m->status == MDMA_STATUS_BUSY) {
		mutex_unlock(&m->reg_lock);
		return -EBUSY;
	}
	if (val & MDMA_CTRL_RELEASE) {
		mutex_lock(&m->dma_lock);
		mdma_unpin_all(m);
		mutex_unlock(&m->dma_lock);
	}
	if (!(val & MDMA_CTRL_START)) {
		mutex_unlock(&m->reg_lock);
		return 0;
	}
	m->done = 0;
	ret = mdma_check(m, pin);
	if (ret) {
		m->status = MDMA_STATUS_ERROR;
		m->error = -ret;
		mutex_unlock(&m->reg_lock);
		return 0;
	}
	src = m->src;
	dst = m->dst;
	len = m->len;
	m->status = MDMA_STATUS_BUSY;
	m->error = 0;
	mutex_unlock(&m->reg_lock);

	mutex_lock(&m->dma_lock);
	if (pin)
		ret = mdma_copy_pinned(m, src, dst, len, &done);
	else
		ret = mdma_copy_rw(m, src, dst, len, &done);
	mutex_unlock(&m->dma_lock);

	mutex_lock(&m->reg_lock);
	m->status = ret ? MDMA_STATUS_ERROR : MDMA_STATUS_DONE;
	m->error = -ret;
	m->done = done;
	mutex_unlock(&m->reg_lock);
	return 0;
}

static u32 mdma_reg_read(struct mdma *m, unsigned int off)
{
	lockdep_assert_held(&m->reg_lock);
	switch (off) {
	case MDMA_REG_ID:
		return MDMA_ID;
	case MDMA_REG_SRC:
		return lower_32_bits(m->src);
	case MDMA_REG_SRC + 4:
		return upper_32_bits(m->src);
	case MDMA_REG_DST:
		return lower_32_bits(m->dst);
	case MDMA_REG_DST + 4:
		return upper_32_bits(m->dst);
	case MDMA_REG_LEN:
		return m->len;
	case MDMA_REG_STATUS:
		return m->status;
	case MDMA_REG_ERROR:
		return m->error;
	case MDMA_REG_DONE:
		return m->done;
	case MDMA_REG_PINNED:
		return READ_ONCE(m->npinned);
	case MDMA_REG_UNMAPS:
		return READ_ONCE(m->unmaps);
	case MDMA_REG_UNMAP_PAGES:
		return READ_ONCE(m->unmap_pages);
	case MDMA_REG_MAX_LEN:
		return MDMA_MAX_LEN;
	case MDMA_REG_MAX_PINS:
		return MDMA_MAX_PINS;
	default:		/* MDMA_REG_CTRL and holes */
		return 0;
	}
}

static bool mdma_reg_is64(unsigned int off)
{
	return off == MDMA_REG_SRC || off == MDMA_REG_DST;
}

/* A BAR0 access of @size (4 or 8) bytes at @off, aligned and in range. */
static int mdma_bar_access(struct mdma *m, unsigned int off, u64 *val,
			   unsigned int size, bool write)
{
	u64 *reg;

	if (size == 8 && !mdma_reg_is64(off))
		return -EINVAL;
	if (!write) {
		mutex_lock(&m->reg_lock);
		*val = mdma_reg_read(m, off);
		if (size == 8)
			*val |= (u64)mdma_reg_read(m, off + 4) << 32;
		mutex_unlock(&m->reg_lock);
		return 0;
	}
	if (off == MDMA_REG_CTRL)
		return mdma_ctrl(m, *val);

	switch (off & ~7U) {
	case MDMA_REG_SRC:
		reg = &m->src;
		break;
	case MDMA_REG_DST:
		reg = &m->dst;
		break;
	default:
		reg = NULL;
		if (off != MDMA_REG_LEN)
			return -EINVAL;	/* read-only or a hole */
	}
	mutex_lock(&m->reg_lock);
	if (m->status == MDMA_STATUS_BUSY) {
		mutex_unlock(&m->reg_lock);
		return -EBUSY;
	}
	if (!reg)
		m->len = *val;
	else if (size == 8)
		*reg = *val;
	else if (off & 4)
		*reg = (*reg & U32_MAX) | *val << 32;
	else
		*reg = (*reg & ~(u64)U32_MAX) | (u32)*val;
	mutex_unlock(&m->reg_lock);
	return 0;
}

/*
 * Config space: reads of 1, 2 or 4 bytes anywhere; writes change only the
 * command register (memory and bus master enable) and BAR0 (sized as
 * hardware is: the low bits read back 0), others are ignored as on real
 * hardware.
 */
static void mdma_config_access(struct mdma *m, unsigned int off, u64 *val,
			       unsigned int size, bool write)
{
	u8 bytes[MDMA_CONFIG_SIZE];
	unsigned int i;

	mutex_lock(&m->reg_lock);
	memcpy(bytes, m->config, sizeof(bytes));
	mdma_put_le(bytes, PCI_COMMAND, m->pci_command, 2);
	mdma_put_le(bytes, PCI_BASE_ADDRESS_0, m->pci_bar0, 4);
	if (!write) {
		*val = 0;
		for (i = 0; i < size; i++)
			*val |= (u64)bytes[off + i] << (8 * i);
	} else {
		for (i = 0; i < size; i++)
			bytes[off + i] = *val >> (8 * i);
		m->pci_command = (bytes[PCI_COMMAND] | bytes[PCI_COMMAND + 1] << 8) &
				 (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		m->pci_bar0 = 0;
		for (i = 0; i < 4; i++)
			m->pci_bar0 |= (u32)bytes[PCI_BASE_ADDRESS_0 + i] << (8 * i);
		m->pci_bar0 &= ~(u32)(MDMA_BAR0_SIZE - 1);
	}
	mutex_unlock(&m->reg_lock);
}

static ssize_t mdma_rw(struct vfio_device *vdev, char __user *ubuf,
		       size_t count, loff_t *ppos, bool write)
{
	struct mdma *m = to_mdma(vdev);
	u64 pos = *ppos, off = pos & MDMA_OFF_MASK, val = 0;
	u64 index = pos >> MDMA_REGION_SHIFT;
	int ret = 0;

	if (*ppos < 0 || (count != 1 && count != 2 && count != 4 && count != 8))
		return -EINVAL;
	if (off & (count - 1))
		return -EINVAL;
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (count == 8 || off + count > MDMA_CONFIG_SIZE)
			return -EINVAL;
	} else if (index == VFIO_PCI_BAR0_REGION_INDEX) {
		if (count < 4 || off + count > MDMA_BAR0_SIZE)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (write && copy_from_user(&val, ubuf, count))
		return -EFAULT;
	if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		mdma_config_access(m, off, &val, count, write);
	else
		ret = mdma_bar_access(m, off, &val, count, write);
	if (ret)
		return ret;
	if (!write && copy_to_user(ubuf, &val, count))
		return -EFAULT;
	*ppos += count;
	return count;
}

static ssize_t mdma_read(struct vfio_device *vdev, char __user *buf,
			 size_t count, loff_t *ppos)
{
	return mdma_rw(vdev, buf, count, ppos, false);
}

static ssize_t mdma_write(struct vfio_device *vdev, const char __user *buf,
			  size_t count, loff_t *ppos)
{
	return mdma_rw(vdev, (char __user *)buf, count, ppos, true);
}

/* Registers, pins and counters as after a power-up; -EBUSY mid-transfer. */
static int mdma_reset(struct mdma *m, bool counters)
{
	mutex_lock(&m->reg_lock);
	if (m->status == MDMA_STATUS_BUSY) {
		mutex_unlock(&m->reg_lock);
		return -EBUSY;
	}
	mutex_lock(&m->dma_lock);
	mdma_unpin_all(m);
	if (counters) {
		WRITE_ONCE(m->unmaps, 0);
		WRITE_ONCE(m->unmap_pages, 0);
	}
	mutex_unlock(&m->dma_lock);
	m->src = 0;
	m->dst = 0;
	m->len = 0;
	m->status = MDMA_STATUS_IDLE;
	m->error = 0;
	m->done = 0;
	m->pci_command = 0;
	m->pci_bar0 = 0;
	mutex_unlock(&m->reg_lock);
	return 0;
}

static long mdma_ioctl_info(void __user *arg)
{
	struct vfio_device_info info;
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long mdma_ioctl_region(void __user *arg)
{
	struct vfio_region_info info;
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	info.offset = MDMA_REGION_OFF(info.index);
	info.cap_offset = 0;
	switch (info.index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.size = MDMA_CONFIG_SIZE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		info.size = MDMA_BAR0_SIZE;
		break;
	default:
		info.size = 0;
	}
	info.flags = info.size ? VFIO_REGION_INFO_FLAG_READ |
				 VFIO_REGION_INFO_FLAG_WRITE : 0;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long mdma_ioctl_irq(void __user *arg)
{
	struct vfio_irq_info info;
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info.flags = 0;		/* the engine raises no interrupt */
	info.count = 0;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long mdma_ioctl(struct vfio_device *vdev, unsigned int cmd,
		       unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return mdma_ioctl_info(uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return mdma_ioctl_region(uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return mdma_ioctl_irq(uarg);
	case VFIO_DEVICE_RESET:
		return mdma_reset(to_mdma(vdev), false);
	default:
		return -ENOTTY;
	}
}

/*
 * The backend is about to unmap [iova, iova + length): let go of every
 * pinned run that meets it. Called without the backend's lock, possibly
 * while a transfer runs in another thread (then after it).
 */
static void mdma_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	struct mdma *m = to_mdma(vdev);
	u64 last;
	int i;

	if (!length)
		return;
	if (check_add_overflow(iova, length - 1, &last))
		last = U64_MAX;
	mutex_lock(&m->dma_lock);
	WRITE_ONCE(m->unmaps, m->unmaps + 1);
	for (i = 0; i < ARRAY_SIZE(m->pin); i++) {
		struct mdma_pin *p = &m->pin[i];
		u64 p_last = p->iova + ((u64)p->npage << PAGE_SHIFT) - 1;

		if (!p->npage || p->iova > last || p_last < iova)
			continue;
		WRITE_ONCE(m->unmap_pages, m->unmap_pages + p->npage);
		mdma_unpin(m, p);
	}
	mutex_unlock(&m->dma_lock);
}

static int mdma_open_device(struct vfio_device *vdev)
{
	return mdma_reset(to_mdma(vdev), true);
}

static void mdma_close_device(struct vfio_device *vdev)
{
	struct mdma *m = to_mdma(vdev);

	mutex_lock(&m->dma_lock);
	if (READ_ONCE(leak_pins)) {
		/* A broken driver: the pins are forgotten, not unpinned. */
		m->pin[0].npage = 0;
		m->pin[1].npage = 0;
		WRITE_ONCE(m->npinned, 0);
	} else {
		mdma_unpin_all(m);
	}
	mutex_unlock(&m->dma_lock);
}

static int mdma_init_dev(struct vfio_device *vdev)
{
	struct mdma *m = to_mdma(vdev);

	m->bounce = (void *)__get_free_page(GFP_KERNEL);
	if (!m->bounce)
		return -ENOMEM;
	mutex_init(&m->reg_lock);
	mutex_init(&m->dma_lock);
	mdma_build_config(m);
	return 0;
}

static void mdma_release_dev(struct vfio_device *vdev)
{
	struct mdma *m = to_mdma(vdev);

	mutex_destroy(&m->dma_lock);
	mutex_destroy(&m->reg_lock);
	free_page((unsigned long)m->bounce);
}

static const struct vfio_device_ops mdma_dev_ops = {
	.name		= MDMA_NAME,
	.init		= mdma_init_dev,
	.release	= mdma_release_dev,
	.open_device	= mdma_open_device,
	.close_device	= mdma_close_device,
	.read		= mdma_read,
	.write		= mdma_write,
	.ioctl		= mdma_ioctl,
	.dma_unmap	= mdma_dma_unmap,
	/* NULL without CONFIG_IOMMUFD, as in Debian's 6.12 */
	.bind_iommufd	= vfio_iommufd_emulated_bind,
	.unbind_iommufd	= vfio_iommufd_emulated_unbind,
	.attach_ioas	= vfio_iommufd_emulated_attach_ioas,
	.detach_ioas	= vfio_iommufd_emulated_detach_ioas,
};

static int mdma_probe(struct mdev_device *mdev)
{
	struct mdma *m;
	int ret;

	m = vfio_alloc_device(mdma, vdev, &mdev->dev, &mdma_dev_ops);
	if (IS_ERR(m))
		return PTR_ERR(m);
	ret = vfio_register_emulated_iommu_dev(&m->vdev);
	if (ret) {
		vfio_put_device(&m->vdev);
		return ret;
	}
	dev_set_drvdata(&mdev->dev, m);
	return 0;
}

static void mdma_remove(struct mdev_device *mdev)
{
	struct mdma *m = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&m->vdev);
	vfio_put_device(&m->vdev);
}

static ssize_t mdma_show_description(struct mdev_type *mtype, char *buf)
{
	return sysfs_emit(buf, "emulated DMA engine, %u bytes a transfer, %u pins\n",
			  MDMA_MAX_LEN, MDMA_MAX_PINS);
}

static struct mdev_driver mdma_mdev_driver = {
	.device_api	= VFIO_DEVICE_API_PCI_STRING,
	.max_instances	= MDMA_MAX_INSTANCES,
	.probe		= mdma_probe,
	.remove		= mdma_remove,
	.show_description = mdma_show_description,
	.driver = {
		.name		= MDMA_NAME,
		.owner		= THIS_MODULE,
		.mod_name	= KBUILD_MODNAME,
	},
};

static struct mdev_type mdma_type = {
	.sysfs_name	= "dma",
	.pretty_name	= "emulated DMA engine",
};

static struct mdev_type *mdma_types[] = { &mdma_type };
static struct mdev_parent mdma_parent;
static struct platform_device *mdma_pdev;

static int mdma_parent_probe(struct platform_device *pdev)
{
	return mdev_register_parent(&mdma_parent, &pdev->dev, &mdma_mdev_driver,
				    mdma_types, ARRAY_SIZE(mdma_types));
}

static void mdma_parent_remove(struct platform_device *pdev)
{
	mdev_unregister_parent(&mdma_parent);
}

static struct platform_driver mdma_parent_driver = {
	.probe	= mdma_parent_probe,
	.remove	= mdma_parent_remove,
	.driver	= {
		.name	= MDMA_NAME,
	},
};

static int __init mdma_init(void)
{
	int ret;

	ret = mdev_register_driver(&mdma_mdev_driver);
	if (ret)
		return ret;
	ret = platform_driver_register(&mdma_parent_driver);
	if (ret)
		goto err_mdev;
	mdma_pdev = platform_device_register_simple(MDMA_NAME,
						    PLATFORM_DEVID_NONE,
						    NULL, 0);
	if (IS_ERR(mdma_pdev)) {
		ret = PTR_ERR(mdma_pdev);
		goto err_pdrv;
	}
	if (!mdma_pdev->dev.driver) {
		/* The parent driver's probe failed: nothing to serve. */
		ret = -ENODEV;
		goto err_pdev;
	}
	return 0;

err_pdev:
	platform_device_unregister(mdma_pdev);
err_pdrv:
	platform_driver_unregister(&mdma_parent_driver);
err_mdev:
	mdev_unregister_driver(&mdma_mdev_driver);
	return ret;
}

static void __exit mdma_exit(void)
{
	platform_device_unregister(mdma_pdev);
	platform_driver_unregister(&mdma_parent_driver);
	mdev_unregister_driver(&mdma_mdev_driver);
}

module_init(mdma_init);
module_exit(mdma_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("An emulated DMA engine on the mdev bus, for VFIO tests");
