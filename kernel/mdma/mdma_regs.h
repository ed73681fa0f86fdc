/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Register layout of ioasid_mdma, the emulated DMA engine on the mdev bus
 * (kernel/mdma/mdma.c), shared by the driver and its tests. Only
 * preprocessor constants: the file is included by kernel and user code.
 *
 * The device is vfio-pci-like: region VFIO_PCI_CONFIG_REGION_INDEX is a
 * 256-byte PCI config space, region VFIO_PCI_BAR0_REGION_INDEX holds the
 * registers below. Where each region starts in the device file is what
 * VFIO_DEVICE_GET_REGION_INFO reports.
 */
#ifndef IOASID_MDMA_REGS_H
#define IOASID_MDMA_REGS_H

#define MDMA_VENDOR_ID		0x1234	/* as QEMU's test devices; unregistered */
#define MDMA_DEVICE_ID		0x6d64
#define MDMA_CLASS		0x088000	/* system peripheral, other */

#define MDMA_CONFIG_SIZE	256
#define MDMA_BAR0_SIZE		256

/* BAR0. 64-bit registers: one 8-byte access or two 4-byte ones. */
#define MDMA_REG_ID		0x00	/* RO: MDMA_ID */
#define MDMA_REG_SRC		0x08	/* RW 64: source IOVA */
#define MDMA_REG_DST		0x10	/* RW 64: destination IOVA */
#define MDMA_REG_LEN		0x18	/* RW 32: bytes to copy */
#define MDMA_REG_CTRL		0x1c	/* WO 32: MDMA_CTRL_*; reads 0 */
#define MDMA_REG_STATUS		0x20	/* RO: MDMA_STATUS_* */
#define MDMA_REG_ERROR		0x24	/* RO: errno of the last failure */
#define MDMA_REG_DONE		0x28	/* RO: bytes copied by the last transfer */
#define MDMA_REG_PINNED		0x2c	/* RO: pages pinned now */
#define MDMA_REG_UNMAPS		0x30	/* RO: dma_unmap callbacks since open */
#define MDMA_REG_UNMAP_PAGES	0x34	/* RO: pages unpinned by those */
#define MDMA_REG_MAX_LEN	0x38	/* RO: MDMA_MAX_LEN */
#define MDMA_REG_MAX_PINS	0x3c	/* RO: MDMA_MAX_PINS */

#define MDMA_ID			0x6d646d61	/* "amdm" in memory order */

#define MDMA_CTRL_START		0x1	/* copy LEN bytes from SRC to DST */
#define MDMA_CTRL_PIN		0x2	/* with START: pin, copy, keep pins */
#define MDMA_CTRL_RELEASE	0x4	/* alone: unpin what the engine holds */

#define MDMA_STATUS_IDLE	0
#define MDMA_STATUS_BUSY	1
#define MDMA_STATUS_DONE	2
#define MDMA_STATUS_ERROR	3

#define MDMA_MAX_LEN		0x100000	/* 1 MiB a transfer */
#define MDMA_MAX_PINS		256		/* pages, source and destination */

#endif /* IOASID_MDMA_REGS_H */
