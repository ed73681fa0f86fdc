/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ioasid: one I/O address space object shared by VFIO and vDPA devices.
 *
 * This header is the only definition of the uAPI. The kernel module, the
 * userspace library (both backends) and the tests all include it.
 *
 * Objects. One open() of /dev/ioasid (or one embedded context) is an
 * "ioasid fd". It owns ioasids and devices, both named by small integer ids
 * local to the fd; id 0 is never handed out. An ioasid names one I/O page
 * table. A device is bound to the fd by its subsystem (VFIO, vDPA) or created
 * here as a software device, and is attached to one ioasid at a time.
 *
 * Argument structs. Every command takes a pointer to a struct that starts
 * with "__u32 size" (the size the caller knows) and carries "__u32 flags".
 * The kernel accepts any size from the struct's first version up to the
 * current one; a larger size is accepted only if the unknown trailing bytes
 * are zero. Unknown flags and non-zero reserved fields are rejected.
 * Fields named out_* are written by the call.
 *
 * Errnos, fixed for every command:
 *  ENOTTY      unknown command
 *  E2BIG       size larger than known and the unknown tail is not zero
 *  EINVAL      size smaller than the first version; a rule on a field is
 *              broken (alignment, wrap, range, flags, reserved not zero);
 *              attach of a device whose IOMMU attributes are incompatible
 *  EOPNOTSUPP  a known flag or field value that this build does not support
 *  ENOENT      no ioasid or device with that id
 *  ENODEV      the ioasid has no device attached: only attach, info, free
 *              and list are allowed before the first attach
 *  EPERM       map/unmap while an IOMMU group is only partly attached to the
 *              ioasid (the group is not "viable", as VFIO calls it)
 *  EBUSY       free of an ioasid that has devices or nested children;
 *              attach of a device that is already attached; bind on an
 *              ioasid that has a table bound; map or unmap on a nested
 *              ioasid while a table is bound (its translations belong to
 *              the table); destroy of a software device whose access
 *              waits for a fault's answer; a fault queue attach to an
 *              ioasid that has one
 *  EEXIST      map overlaps an existing mapping
 *  ENOSPC      the ioasid's mapping-count limit, or the fd's id space, is
 *              full; an invalidation whose shadow would pass the limit or
 *              whose walk passed its per-call work limit
 *  ENOMEM      out of memory, or pinning past RLIMIT_MEMLOCK
 *  EFAULT      a user pointer or a vaddr that is not mapped in the caller
 *  EMSGSIZE    an output array is too short; the needed count is written
 *  EOVERFLOW   a count or length does not fit the field that reports it
 *  EBADF       an fd argument that is not an fd of the kind asked for
 *  ETIMEDOUT   a device access whose I/O page fault was not answered in
 *              its fault queue's timeout
 *
 * This header is out of tree: the ioctl magic below is not registered in
 * Documentation/userspace-api/ioctl/ioctl-number.rst.
 */
#ifndef _UAPI_LINUX_IOASID_H
#define _UAPI_LINUX_IOASID_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define IOASID_API_VERSION	1

#define IOASID_TYPE		('i')
#define IOASID_CMD_BASE		0xa0

/*
 * Command numbers. Every value is written out, never left to the enum's
 * counting (iommufd numbers its IOMMUFD_CMD_* the same way): a number is
 * uAPI and must not change once released. Two series that each add a
 * command then both write down the same next number and the clash shows
 * in review, where counting would quietly give one of them another number
 * than the one it was tested with (and an entry inserted in the middle
 * would renumber every command after it).
 */
enum {
	IOASID_CMD_GET_API_VERSION = IOASID_CMD_BASE,
	IOASID_CMD_CHECK_EXTENSION = IOASID_CMD_BASE + 1,
	IOASID_CMD_ALLOC = IOASID_CMD_BASE + 2,
	IOASID_CMD_FREE = IOASID_CMD_BASE + 3,
	IOASID_CMD_GET_INFO = IOASID_CMD_BASE + 4,
	IOASID_CMD_MAP_DMA = IOASID_CMD_BASE + 5,
	IOASID_CMD_UNMAP_DMA = IOASID_CMD_BASE + 6,
	IOASID_CMD_MAP_BATCH = IOASID_CMD_BASE + 7,
	IOASID_CMD_UNMAP_BATCH = IOASID_CMD_BASE + 8,
	IOASID_CMD_QUERY_PGSIZE = IOASID_CMD_BASE + 9,
	IOASID_CMD_LIST_MAPPINGS = IOASID_CMD_BASE + 10,
	IOASID_CMD_SWDEV_CREATE = IOASID_CMD_BASE + 11,
	IOASID_CMD_SWDEV_DESTROY = IOASID_CMD_BASE + 12,
	IOASID_CMD_DEVICE_ATTACH = IOASID_CMD_BASE + 13,
	IOASID_CMD_DEVICE_DETACH = IOASID_CMD_BASE + 14,
	IOASID_CMD_SWDEV_ACCESS = IOASID_CMD_BASE + 15,
	IOASID_CMD_SWDEV_STATS = IOASID_CMD_BASE + 16,
	IOASID_CMD_DIRTY_TRACKING = IOASID_CMD_BASE + 17,
	IOASID_CMD_DIRTY_READ = IOASID_CMD_BASE + 18,
	IOASID_CMD_PGTBL_BIND = IOASID_CMD_BASE + 19,
	IOASID_CMD_PGTBL_UNBIND = IOASID_CMD_BASE + 20,
	IOASID_CMD_INVALIDATE = IOASID_CMD_BASE + 21,
	IOASID_CMD_FAULTQ_ALLOC = IOASID_CMD_BASE + 22,
	IOASID_CMD_FAULTQ_ATTACH = IOASID_CMD_BASE + 23,
	/* One past the last command of /dev/ioasid (the decoder's table). */
	IOASID_CMD_LAST = IOASID_CMD_BASE + 24,

	/*
	 * Ioctls on other files, not on /dev/ioasid (ENOTTY there): a VFIO
	 * container, /dev/ioasid-vdpa-N.
	 */
	IOASID_CMD_VFIO_BIND = 0xe0,
	IOASID_CMD_VDPA_ATTACH = 0xe1,
	IOASID_CMD_VDPA_DETACH = 0xe2,
	IOASID_CMD_VDPA_STATS = 0xe3,
};

/* Extensions reported by IOASID_CHECK_EXTENSION (returns 1 or 0). */
enum ioasid_extension {
	IOASID_EXT_TYPE1V2 = 1,		/* map/unmap follow VFIO type1v2 rules */
	IOASID_EXT_BATCH = 2,		/* IOASID_MAP_BATCH, IOASID_UNMAP_BATCH */
	IOASID_EXT_PGSIZE_QUERY = 3,	/* IOASID_QUERY_PGSIZE, max_pgshift */
	IOASID_EXT_SWDEV = 4,		/* software devices */
	IOASID_EXT_LIST = 5,		/* IOASID_LIST_MAPPINGS */
	IOASID_EXT_DIRTY = 6,		/* dirty page tracking (software) */
	IOASID_EXT_NEST = 7,		/* nesting, bound tables, invalidation */
	IOASID_EXT_FAULTQ = 8,		/* I/O page fault queues */
};

/*
 * IOASID_GET_API_VERSION - _IO(IOASID_TYPE, ...), no argument.
 * Returns IOASID_API_VERSION.
 */
#define IOASID_GET_API_VERSION	_IO(IOASID_TYPE, IOASID_CMD_GET_API_VERSION)

/*
 * IOASID_CHECK_EXTENSION - _IO(IOASID_TYPE, ...), argument is an
 * enum ioasid_extension by value. Returns 1 if supported, 0 if not.
 */
#define IOASID_CHECK_EXTENSION	_IO(IOASID_TYPE, IOASID_CMD_CHECK_EXTENSION)

/* ioasid_alloc.flags: at most one */
#define IOASID_ALLOC_NEST_PARENT (1U << 0)	/* may have nested children */
#define IOASID_ALLOC_NESTED	(1U << 1)	/* nested on @parent */

/**
 * struct ioasid_alloc - IOASID_ALLOC
 * @size: sizeof(struct ioasid_alloc)
 * @flags: 0, IOASID_ALLOC_NEST_PARENT or IOASID_ALLOC_NESTED
 * @out_ioasid: the new ioasid, never 0
 * @parent: with IOASID_ALLOC_NESTED, the parent ioasid; else must be 0
 *	(this was the first version's reserved field: old callers pass 0)
 *
 * Allocates an ioasid with no device and no attributes. Until a device is
 * attached, only IOASID_GET_INFO, IOASID_LIST_MAPPINGS, IOASID_DEVICE_ATTACH
 * and IOASID_FREE are accepted on it (ENODEV otherwise).
 *
 * Nesting (Phase 2). A nesting parent is an ordinary ioasid (map, unmap,
 * devices) that may also be the second stage of nested ioasids. A nested
 * ioasid (a child) translates through a page table bound to it
 * (IOASID_PGTBL_BIND), whose output addresses, and whose table pages, are
 * IOVAs of the parent; its mappings are the composition of the two stages
 * and are kept by the engine (a software shadow), never by MAP_DMA. ENOENT:
 * no such parent. EINVAL: @parent is not a nesting parent, both flags, or
 * @parent non-zero without IOASID_ALLOC_NESTED. The parent cannot be freed
 * while it has children (EBUSY).
 */
struct ioasid_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioasid;
	__u32 parent;
};
#define IOASID_ALLOC		_IO(IOASID_TYPE, IOASID_CMD_ALLOC)

/**
 * struct ioasid_free - IOASID_FREE
 * @size: sizeof(struct ioasid_free)
 * @flags: must be 0
 * @ioasid: the ioasid to free
 *
 * EBUSY while a device is attached. Mappings left on an ioasid with no
 * device are removed and unpinned.
 */
struct ioasid_free {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
};
#define IOASID_FREE		_IO(IOASID_TYPE, IOASID_CMD_FREE)

/**
 * struct ioasid_iova_range - one usable, inclusive IOVA range
 * @start: first usable IOVA
 * @last: last usable IOVA (inclusive)
 */
struct ioasid_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/* ioasid_info.out_flags */
#define IOASID_INFO_ATTACHED	(1U << 0)	/* at least one device attached */
#define IOASID_INFO_COHERENT	(1U << 1)	/* DMA is cache coherent */
#define IOASID_INFO_VIABLE	(1U << 2)	/* every attached group complete */
#define IOASID_INFO_HAS_ATTRS	(1U << 3)	/* attributes fixed by a device */
#define IOASID_INFO_NEST_PARENT	(1U << 4)	/* allocated as a nesting parent */
#define IOASID_INFO_NESTED	(1U << 5)	/* nested on out_parent */
#define IOASID_INFO_NESTED_SW	(1U << 6)	/* nested in software (a shadow) */
#define IOASID_INFO_NESTED_HW	(1U << 7)	/* nested in hardware (never yet) */
#define IOASID_INFO_PGTBL_BOUND	(1U << 8)	/* a page table is bound */
/*
 * A nested ioasid whose every attached device's IOMMU could translate the
 * bound table itself (the hardware nesting probe at device bind: VT-d with
 * first-stage translation and nesting). Hardware nesting is not built yet:
 * such an ioasid is still nested in software (IOASID_INFO_NESTED_SW).
 */
#define IOASID_INFO_NESTED_HW_CAPABLE	(1U << 9)

/**
 * struct ioasid_info - IOASID_GET_INFO
 * @size: sizeof(struct ioasid_info)
 * @flags: must be 0
 * @ioasid: the ioasid
 * @num_ranges: in: entries in @ranges_uptr; out: usable ranges that exist.
 *	0 asks for the count only. If a non-empty array is too short, the
 *	call writes what fits, @num_ranges and every other out_ field, and
 *	fails with EMSGSIZE.
 * @ranges_uptr: user pointer to struct ioasid_iova_range[@num_ranges]: the
 *	aperture minus every reserved region, ascending
 * @out_flags: IOASID_INFO_*
 * @out_num_devices: devices attached to this ioasid
 * @out_pgsize_bitmap: page sizes the ioasid's page table can use (0 before
 *	attributes are fixed)
 * @out_max_mappings: the mapping-count limit of this ioasid
 * @out_num_mappings: mappings now
 * @out_mapped_bytes: bytes mapped now
 * @out_fd_pinned_pages: pages pinned by the whole fd: the sum of the
 *	lengths of its mappings, a page mapped twice counted twice (this is
 *	what RLIMIT_MEMLOCK is charged with, per mapping as VFIO type1); a
 *	nested ioasid's shadow entries pin nothing and are not counted
 * @out_parent: a nested ioasid's parent, else 0 (added after the first
 *	version: an older caller's size ends before it)
 * @__reserved: must be 0
 *
 * A nested ioasid's @out_num_mappings and @out_mapped_bytes count its
 * shadow entries. No hardware identifier (PASID, domain id) is reported.
 */
struct ioasid_info {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 num_ranges;
	__aligned_u64 ranges_uptr;
	__u32 out_flags;
	__u32 out_num_devices;
	__aligned_u64 out_pgsize_bitmap;
	__u32 out_max_mappings;
	__u32 out_num_mappings;
	__aligned_u64 out_mapped_bytes;
	__aligned_u64 out_fd_pinned_pages;
	__u32 out_parent;
	__u32 __reserved;
};
#define IOASID_GET_INFO		_IO(IOASID_TYPE, IOASID_CMD_GET_INFO)

/* Access flags of a mapping (map flags, batch entry flags, list output). */
#define IOASID_DMA_READ		(1U << 0)	/* device may read memory */
#define IOASID_DMA_WRITE	(1U << 1)	/* device may write memory */

/**
 * struct ioasid_map_dma - IOASID_MAP_DMA
 * @size: sizeof(struct ioasid_map_dma)
 * @flags: IOASID_DMA_READ and/or IOASID_DMA_WRITE; at least one
 * @ioasid: the ioasid
 * @max_pgshift: 0 for no limit, else the IOMMU may use no page larger than
 *	1 << @max_pgshift for this mapping (e.g. 12: "no huge pages"). Must be
 *	at least the shift of the ioasid's smallest page size.
 * @iova: first IOVA
 * @vaddr: first byte of the caller's memory
 * @length: bytes; > 0
 *
 * VFIO type1v2 rules: @iova, @vaddr and @length aligned to the smallest page
 * size; no wrap of @iova + @length or @vaddr + @length; the range inside the
 * aperture and outside every reserved region (EINVAL). Overlap with a
 * mapping: EEXIST. Mapping-count limit: ENOSPC. RLIMIT_MEMLOCK: ENOMEM,
 * checked before anything is pinned. @vaddr not mapped: EFAULT. The kernel
 * module pins only the memory of the process that opened the fd (EPERM
 * for another). Nothing is left behind by a failed call.
 */
struct ioasid_map_dma {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 max_pgshift;
	__aligned_u64 iova;
	__aligned_u64 vaddr;
	__aligned_u64 length;
};
#define IOASID_MAP_DMA		_IO(IOASID_TYPE, IOASID_CMD_MAP_DMA)

/* ioasid_unmap_dma.flags */
#define IOASID_UNMAP_ALL	(1U << 0)	/* iova = length = 0: everything */

/**
 * struct ioasid_unmap_dma - IOASID_UNMAP_DMA
 * @size: sizeof(struct ioasid_unmap_dma)
 * @flags: 0 or IOASID_UNMAP_ALL
 * @ioasid: the ioasid
 * @iova: first IOVA of the range (aligned)
 * @length: bytes (aligned, > 0, no wrap); both 0 with IOASID_UNMAP_ALL
 * @out_unmapped: bytes unmapped (0 when the range covers no mapping)
 *
 * Removes every mapping that lies inside the range. A range that cuts a
 * mapping (starts or ends inside it) fails with EINVAL and changes nothing.
 * When the call returns, no device can translate through the removed
 * mappings any more, and only then are their pages unpinned.
 */
struct ioasid_unmap_dma {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 out_unmapped;
};
#define IOASID_UNMAP_DMA	_IO(IOASID_TYPE, IOASID_CMD_UNMAP_DMA)

/**
 * struct ioasid_dma_entry - one entry of a batch
 * @flags: map: IOASID_DMA_READ/WRITE; unmap: 0
 * @max_pgshift: map: as in struct ioasid_map_dma; unmap: 0
 * @iova: first IOVA
 * @vaddr: map: first byte of memory; unmap: 0
 * @length: bytes
 */
struct ioasid_dma_entry {
	__u32 flags;
	__u32 max_pgshift;
	__aligned_u64 iova;
	__aligned_u64 vaddr;
	__aligned_u64 length;
};

#define IOASID_BATCH_MAX	65536U	/* entries in one call */

/**
 * struct ioasid_batch - IOASID_MAP_BATCH, IOASID_UNMAP_BATCH
 * @size: sizeof(struct ioasid_batch)
 * @flags: must be 0
 * @ioasid: the ioasid
 * @count: entries; 1 to IOASID_BATCH_MAX
 * @entry_size: sizeof(struct ioasid_dma_entry) as the caller knows it
 * @__reserved: must be 0
 * @entries_uptr: user pointer to the entries
 * @out_done: entries applied (== @count on success, 0 on failure)
 * @out_fail_index: on failure, index of the entry that failed; (__u32)-1
 *	when the failure is not one entry's (bad header, memory, device)
 * @out_fail_errno: on failure, the positive errno of that entry
 * @out_bytes: bytes mapped or unmapped by the whole batch
 *
 * All or nothing: entries are applied in order; on the first failure every
 * entry already applied is undone, the call fails with that entry's errno
 * and the out_ fields are still written. Devices are notified and the
 * IOTLB is flushed once per batch. Unmap entries follow IOASID_UNMAP_DMA's
 * rules, applied to the state the earlier entries left.
 */
struct ioasid_batch {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 count;
	__u32 entry_size;
	__u32 __reserved;
	__aligned_u64 entries_uptr;
	__u32 out_done;
	__u32 out_fail_index;
	__u32 out_fail_errno;
	__u32 __reserved2;
	__aligned_u64 out_bytes;
};
#define IOASID_MAP_BATCH	_IO(IOASID_TYPE, IOASID_CMD_MAP_BATCH)
#define IOASID_UNMAP_BATCH	_IO(IOASID_TYPE, IOASID_CMD_UNMAP_BATCH)

/**
 * struct ioasid_query_pgsize - IOASID_QUERY_PGSIZE
 * @size: sizeof(struct ioasid_query_pgsize)
 * @flags: must be 0
 * @ioasid: the ioasid
 * @iova: first IOVA of the range (aligned)
 * @length: bytes (aligned, > 0, no wrap)
 * @out_pgsize_bitmap: page sizes the IOMMU used for the mapped parts of the
 *	range (only the parts inside the range count)
 * @out_mapped_bytes: bytes of the range that are mapped
 */
struct ioasid_query_pgsize {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 out_pgsize_bitmap;
	__aligned_u64 out_mapped_bytes;
};
#define IOASID_QUERY_PGSIZE	_IO(IOASID_TYPE, IOASID_CMD_QUERY_PGSIZE)

/**
 * struct ioasid_mapping_info - one mapping, as IOASID_LIST_MAPPINGS reports it
 * @flags: IOASID_DMA_READ/WRITE
 * @max_pgshift: as given at map time (0: no limit)
 * @iova: first IOVA
 * @vaddr: first byte of memory
 * @length: bytes
 * @pgsize_bitmap: page sizes the IOMMU used for this mapping
 */
struct ioasid_mapping_info {
	__u32 flags;
	__u32 max_pgshift;
	__aligned_u64 iova;
	__aligned_u64 vaddr;
	__aligned_u64 length;
	__aligned_u64 pgsize_bitmap;
};

/**
 * struct ioasid_list_mappings - IOASID_LIST_MAPPINGS
 * @size: sizeof(struct ioasid_list_mappings)
 * @flags: must be 0
 * @ioasid: the ioasid
 * @count: in: entries in @mappings_uptr; out: entries written
 * @start_iova: report mappings whose first IOVA is >= this
 * @mappings_uptr: user pointer to struct ioasid_mapping_info[@count]
 * @out_more: 1 if mappings follow the last one written, else 0; continue
 *	with @start_iova = last written iova + length
 */
struct ioasid_list_mappings {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 count;
	__aligned_u64 start_iova;
	__aligned_u64 mappings_uptr;
	__u32 out_more;
	__u32 __reserved;
};
#define IOASID_LIST_MAPPINGS	_IO(IOASID_TYPE, IOASID_CMD_LIST_MAPPINGS)

/* ioasid_swdev_create.flags */
#define IOASID_SWDEV_COHERENT	(1U << 0)	/* DMA is cache coherent */
/*
 * The device's writes cannot be logged, like most hardware without IOMMU
 * dirty bits: while it is attached, dirty tracking reports every mapped
 * writable page of its ioasid as dirty.
 */
#define IOASID_SWDEV_UNTRACKED	(1U << 1)

#define IOASID_SWDEV_MAX_RESV	8U

/**
 * struct ioasid_swdev_create - IOASID_SWDEV_CREATE
 * @size: sizeof(struct ioasid_swdev_create)
 * @flags: IOASID_SWDEV_COHERENT
 * @pgsize_bitmap: page sizes its IOMMU supports; non-zero, smallest >= 4096
 * @aperture_start: first IOVA it can use
 * @aperture_last: last IOVA it can use (inclusive, >= @aperture_start)
 * @group_id: IOMMU group; 0 makes a group of its own. Devices created with
 *	the same non-zero id share a group.
 * @group_size: devices in that group (1 to 64). Every device of a group
 *	must give the same value.
 * @num_resv: reserved regions in @resv_uptr (0 to IOASID_SWDEV_MAX_RESV)
 * @resv_uptr: user pointer to struct ioasid_iova_range[@num_resv], e.g. an
 *	MSI window; each inside the aperture
 * @out_dev_id: the new device's id
 *
 * Creates a software device: a device with a software IOMMU that translates
 * through the ioasid it is attached to (IOASID_SWDEV_ACCESS). It lets every
 * rule be exercised without hardware.
 */
struct ioasid_swdev_create {
	__u32 size;
	__u32 flags;
	__aligned_u64 pgsize_bitmap;
	__aligned_u64 aperture_start;
	__aligned_u64 aperture_last;
	__u32 group_id;
	__u32 group_size;
	__u32 num_resv;
	__u32 out_dev_id;
	__aligned_u64 resv_uptr;
};
#define IOASID_SWDEV_CREATE	_IO(IOASID_TYPE, IOASID_CMD_SWDEV_CREATE)

/**
 * struct ioasid_swdev_destroy - IOASID_SWDEV_DESTROY
 * @size: sizeof(struct ioasid_swdev_destroy)
 * @flags: must be 0
 * @dev_id: a software device; detached first if attached
 */
struct ioasid_swdev_destroy {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 __reserved;
};
#define IOASID_SWDEV_DESTROY	_IO(IOASID_TYPE, IOASID_CMD_SWDEV_DESTROY)

/**
 * struct ioasid_device_attach - IOASID_DEVICE_ATTACH
 * @size: sizeof(struct ioasid_device_attach)
 * @flags: must be 0
 * @dev_id: a device bound to this fd
 * @ioasid: the ioasid to attach it to
 *
 * The first device fixes the ioasid's attributes. A later device must
 * support every page size of the ioasid, cover its aperture, have no
 * reserved region outside the ioasid's, and match its coherency; otherwise
 * EINVAL and nothing changes. EBUSY if the device is already attached.
 */
struct ioasid_device_attach {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 ioasid;
};
#define IOASID_DEVICE_ATTACH	_IO(IOASID_TYPE, IOASID_CMD_DEVICE_ATTACH)

/**
 * struct ioasid_device_detach - IOASID_DEVICE_DETACH
 * @size: sizeof(struct ioasid_device_detach)
 * @flags: must be 0
 * @dev_id: an attached device (ENOENT if not attached)
 */
struct ioasid_device_detach {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 __reserved;
};
#define IOASID_DEVICE_DETACH	_IO(IOASID_TYPE, IOASID_CMD_DEVICE_DETACH)

/* ioasid_swdev_access.flags: exactly one */
#define IOASID_ACCESS_READ	(1U << 0)	/* device reads memory to buf */
#define IOASID_ACCESS_WRITE	(1U << 1)	/* device writes buf to memory */

/**
 * struct ioasid_swdev_access - IOASID_SWDEV_ACCESS
 * @size: sizeof(struct ioasid_swdev_access)
 * @flags: IOASID_ACCESS_READ or IOASID_ACCESS_WRITE
 * @dev_id: an attached software device
 * @__reserved: must be 0
 * @iova: first IOVA the device accesses
 * @length: bytes (1 to 1 MiB)
 * @buf_uptr: the caller's buffer
 * @out_faults: the device's I/O page fault count after the call
 *
 * Performs DMA as the device would: every byte must translate through a
 * mapping with the needed permission, or the access stops with EFAULT (an
 * I/O page fault, counted in @out_faults) and no byte is transferred. On
 * an ioasid with a fault queue the miss waits for the queue's answer
 * instead (see IOASID_FAULTQ_ALLOC): ETIMEDOUT, EINTR and ENODEV are then
 * possible too.
 */
struct ioasid_swdev_access {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 buf_uptr;
	__aligned_u64 out_faults;
};
#define IOASID_SWDEV_ACCESS	_IO(IOASID_TYPE, IOASID_CMD_SWDEV_ACCESS)

#define IOASID_SWDEV_ACCESS_MAX	(1U << 20)

/**
 * struct ioasid_swdev_stats - IOASID_SWDEV_STATS
 * @size: sizeof(struct ioasid_swdev_stats)
 * @flags: must be 0
 * @dev_id: a software device
 * @out_faults: I/O page faults the device took
 * @out_map_calls: map notifications received (one per map call or batch)
 * @out_map_entries: mappings those notifications carried
 * @out_unmap_calls: unmap notifications received (one per unmap call or
 *	batch); each one flushes the device's IOTLB
 * @out_unmap_entries: mappings those notifications carried
 * @out_iotlb_hits: translations served from the device's IOTLB
 * @out_iotlb_misses: translations that walked the ioasid's page table
 *
 * The software device keeps a small IOTLB of translations, as hardware
 * does; an unmap notification flushes it. These counters let a caller check
 * that devices are notified once per batch and never translate through a
 * removed mapping.
 */
struct ioasid_swdev_stats {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 __reserved;
	__aligned_u64 out_faults;
	__aligned_u64 out_map_calls;
	__aligned_u64 out_map_entries;
	__aligned_u64 out_unmap_calls;
	__aligned_u64 out_unmap_entries;
	__aligned_u64 out_iotlb_hits;
	__aligned_u64 out_iotlb_misses;
};
#define IOASID_SWDEV_STATS	_IO(IOASID_TYPE, IOASID_CMD_SWDEV_STATS)

/**
 * struct ioasid_dirty_tracking - IOASID_DIRTY_TRACKING
 * @size: sizeof(struct ioasid_dirty_tracking)
 * @flags: IOASID_DIRTY_START or IOASID_DIRTY_STOP, exactly one
 * @ioasid: the ioasid
 * @__reserved: must be 0
 *
 * Starts or stops dirty page tracking on an ioasid (Phase 3). Starting
 * clears what was recorded; starting a running tracker or stopping a
 * stopped one succeeds and changes nothing. ENODEV: no device attached.
 *
 * The tracking is software: the engine records the pages that software
 * devices write (IOASID_SWDEV_ACCESS) and the writable mappings that are
 * unmapped while tracking runs (a device may have written them). A device
 * whose writes cannot be seen (a VFIO device, an IOASID_SWDEV_UNTRACKED
 * software device) makes every mapped writable page dirty at every read
 * from the moment it is attached while tracking runs until tracking is
 * restarted, as VFIO type1 does without hardware support. An IOMMU with
 * dirty bits could report precisely through the same call; that hook is
 * left open (docs/uapi.md).
 */
struct ioasid_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
};
#define IOASID_DIRTY_START	(1U << 0)
#define IOASID_DIRTY_STOP	(1U << 1)
#define IOASID_DIRTY_TRACKING	_IO(IOASID_TYPE, IOASID_CMD_DIRTY_TRACKING)

/**
 * struct ioasid_dirty_read - IOASID_DIRTY_READ
 * @size: sizeof(struct ioasid_dirty_read)
 * @flags: IOASID_DIRTY_NO_CLEAR to leave the record as it is
 * @ioasid: the ioasid
 * @pgshift: log2 of the bitmap's page size; at least the ioasid's smallest
 *	page size, at most 30
 * @iova: start of the range, aligned to 1 << @pgshift
 * @length: bytes, non-zero, aligned to 1 << @pgshift
 * @bitmap_uptr: user pointer to (@length >> @pgshift) bits, rounded up to
 *	whole __u64 words; bit i of word w is page (w * 64 + i)
 * @out_dirty_pages: pages reported dirty
 *
 * Reports which pages of [@iova, @iova + @length) were dirtied since
 * tracking started or since the last clearing read, then clears them
 * (unless IOASID_DIRTY_NO_CLEAR). A page of the bitmap is dirty if any byte
 * of it is. Unmapped pages read clean unless they were unmapped while
 * writable during tracking. EINVAL: tracking not started, bad alignment,
 * @pgshift out of range, more than IOASID_DIRTY_MAX_BITS pages. EFAULT:
 * @bitmap_uptr not writable (nothing is cleared then).
 */
struct ioasid_dirty_read {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 pgshift;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 bitmap_uptr;
	__aligned_u64 out_dirty_pages;
};
#define IOASID_DIRTY_NO_CLEAR	(1U << 0)
#define IOASID_DIRTY_MAX_BITS	(1U << 28)
#define IOASID_DIRTY_READ	_IO(IOASID_TYPE, IOASID_CMD_DIRTY_READ)

/* ioasid_pgtbl_bind.format */
#define IOASID_PGTBL_X86_64	1	/* x86-64 4/5-level: VT-d first stage */

/* ioasid_pgtbl_bind.flags */
#define IOASID_PGTBL_WPE	(1U << 0)	/* write protect enable */
#define IOASID_PGTBL_AD		(1U << 1)	/* A/D update: EOPNOTSUPP */
#define IOASID_PGTBL_SUPERVISOR	(1U << 2)	/* supervisor requests */

/**
 * struct ioasid_pgtbl_bind - IOASID_PGTBL_BIND
 * @size: sizeof(struct ioasid_pgtbl_bind)
 * @flags: IOASID_PGTBL_WPE, IOASID_PGTBL_SUPERVISOR
 * @ioasid: a nested ioasid with a device attached
 * @format: IOASID_PGTBL_X86_64
 * @addr_width: the table's input address width: 48 (4 levels) or 57 (5)
 * @__reserved: must be 0
 * @root: the root table's address, a parent IOVA, 4 KiB aligned, inside a
 *	readable mapping of the parent
 *
 * Binds a page table to a nested ioasid (the format of VT-d's first
 * stage, as iommufd's struct iommu_hwpt_vtd_s1 describes it, with no
 * hardware identifier). An entry is present with P; R/W and U/S apply at
 * every level; PS makes a 1 GiB leaf at level 3 and a 2 MiB leaf at level
 * 2 (reserved at levels 4 and 5); XD, A, D, PWT, PCD, G, PAT and the
 * ignored bits are accepted and have no effect: device requests do not
 * execute, and the engine never writes the table (A/D update, the flag
 * IOASID_PGTBL_AD, is refused with EOPNOTSUPP). A request is a user
 * request unless IOASID_PGTBL_SUPERVISOR: a user request needs U/S at
 * every level and writes need R/W at every level; a supervisor request
 * ignores U/S, and honours R/W only with IOASID_PGTBL_WPE (as a CPU with
 * CR0.WP clear lets supervisor writes through). Only the lower canonical
 * half of the input space translates ([0, 2^(addr_width-1))).
 *
 * Binding walks nothing: the shadow is empty until an invalidation (a
 * guest invalidates after programming a PASID entry; issue one of
 * everything after binding). While bound, MAP_DMA, UNMAP_DMA and the
 * batches on the ioasid fail with EBUSY: its translations belong to the
 * table. EINVAL: not a nested ioasid, unknown format, width, flags or
 * reserved bits, @root unaligned or not in a readable parent mapping.
 * EBUSY: a table is bound. ENODEV: no device attached.
 */
struct ioasid_pgtbl_bind {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 format;
	__u32 addr_width;
	__u32 __reserved;
	__aligned_u64 root;
};
#define IOASID_PGTBL_BIND	_IO(IOASID_TYPE, IOASID_CMD_PGTBL_BIND)

/**
 * struct ioasid_pgtbl_unbind - IOASID_PGTBL_UNBIND
 * @size: sizeof(struct ioasid_pgtbl_unbind)
 * @flags: must be 0
 * @ioasid: a nested ioasid with a table bound (EINVAL otherwise)
 *
 * Every shadow entry is withdrawn: when the call returns, no device can
 * translate through the ioasid. The ioasid stays nested and may be bound
 * again.
 */
struct ioasid_pgtbl_unbind {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
};
#define IOASID_PGTBL_UNBIND	_IO(IOASID_TYPE, IOASID_CMD_PGTBL_UNBIND)

/* ioasid_inv_entry.flags */
#define IOASID_INV_LEAF		(1U << 0)	/* only leaf entries changed */

/**
 * struct ioasid_inv_entry - one range of an IOASID_INVALIDATE
 * @addr: first IOVA of the nested ioasid, 4 KiB aligned
 * @npages: 4 KiB pages, > 0, no wrap; @addr 0 with @npages ~0: everything
 * @flags: IOASID_INV_LEAF (a hint; the software walker keeps no cache of
 *	table entries, so it walks from the root either way)
 * @__reserved: must be 0
 */
struct ioasid_inv_entry {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags;
	__u32 __reserved;
};

#define IOASID_INV_MAX		4096U		/* entries in one call */
/* Table entries one call may read, over all its entries. */
#define IOASID_INV_WALK_MAX	(1U << 20)

/**
 * struct ioasid_invalidate - IOASID_INVALIDATE
 * @size: sizeof(struct ioasid_invalidate)
 * @flags: must be 0
 * @ioasid: a nested ioasid with a table bound and a device attached
 * @entry_size: sizeof(struct ioasid_inv_entry) as the caller knows it
 * @entries_uptr: user pointer to the entries
 * @entry_num: in: entries, 1 to IOASID_INV_MAX; out: entries handled
 * @__reserved: must be 0
 *
 * iommufd's IOMMU_HWPT_INVALIDATE contract: entries are handled in order;
 * the call stops at the first that fails and returns its errno, with
 * @entry_num the count handled before it (0 and the errno for a bad
 * header). When an entry has been handled, every translation in its range
 * equals a fresh walk of the table composed with the parent (between a
 * table write and its invalidation, old or new translations may be seen,
 * as on hardware). A range is widened to the whole stage-1 leaves and
 * shadow entries it touches. Translations that do not change stay in
 * place (a running device sees no gap); changed ones are withdrawn before
 * their replacements are installed.
 *
 * Composition: access is the AND of both stages; a shadow entry lies in
 * one stage-1 leaf and one parent mapping, and its page size limit is the
 * leaf's (or the parent mapping's max_pgshift if smaller). Parts that the
 * parent does not map, that break the nested ioasid's attributes
 * (aperture, reserved regions, page sizes) and entries with reserved bits
 * set or table pointers outside the parent are absent: accesses fault.
 * Nothing is pinned or charged (the parent holds the pages). A parent
 * MAP_DMA changes no shadow (invalidate to pick it up); a parent unmap
 * withdraws the shadow entries that point into it first.
 *
 * ENOSPC: the shadow reached the mapping-count limit, or would cover more
 * than twice the bytes the parent maps (aliasing up to that), or the
 * call read IOASID_INV_WALK_MAX table entries; ENOMEM: either way the
 * failing entry's range is as it was before. A listener's failure (an IOMMU
 * domain out of memory) leaves the range with its unchanged entries only
 * (a subset of a fresh walk; the rest faults). EINVAL: a bad entry
 * (nothing of it done), or the ioasid is not nested or has no table
 * bound.
 */
struct ioasid_invalidate {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 entry_size;
	__aligned_u64 entries_uptr;
	__u32 entry_num;
	__u32 __reserved;
};
#define IOASID_INVALIDATE	_IO(IOASID_TYPE, IOASID_CMD_INVALIDATE)

/*
 * I/O page fault queues (Phase 2). A fault queue is a file: IOASID_FAULTQ_ALLOC
 * returns its fd, IOASID_FAULTQ_ATTACH connects it to ioasids. A device
 * access (today: IOASID_SWDEV_ACCESS) that finds no translation, or too
 * little permission, on an ioasid with a queue raises a recoverable fault:
 * a struct ioasid_fault record is queued, and the access waits (the
 * engine's lock released, so the responder can change the ioasid's table
 * and invalidate, or map) for the answer, at most the queue's timeout. On
 * IOASID_FAULT_RESP_SUCCESS it translates again, once; a second miss fails
 * with EFAULT. IOASID_FAULT_RESP_INVALID: EFAULT (the fault stands).
 * No answer within the timeout: ETIMEDOUT (the record is withdrawn; a
 * later answer to it is EINVAL). Queue full (IOASID_FAULTQ_DEPTH_MAX
 * records not yet answered, or the queue's @depth): the access fails at
 * once with EFAULT, as without a queue. Every miss counts in the device's
 * faults. IOASID_SWDEV_DESTROY of a device with an access waiting: EBUSY;
 * a device detached while it waits: ENODEV after a SUCCESS answer.
 * The queue's fd closed with faults pending: they fail at once with
 * EFAULT (iommufd answers them INVALID). In the kernel a fatal signal
 * ends the wait with EINTR.
 *
 * On the fd (kernel backend: read(2), write(2), poll(2); embedded backend:
 * ioasid_faultq_read(), ioasid_faultq_respond(), the fd an eventfd to
 * poll, ioasid_faultq_close()):
 *  read   whole records only, oldest first, as many as fit and at most
 *         16 a call; a record is read once. EINVAL: a buffer smaller
 *         than one record; EAGAIN: nothing pending (read never blocks:
 *         poll); EFAULT: the buffer was not writable, and the records
 *         stay unread.
 *  write  an array of struct ioasid_fault_response, 1 to
 *         IOASID_FAULT_RESP_MAX of them, all or nothing: EINVAL (and no
 *         response applied) for a length that is not a multiple of the
 *         struct, too many, an unknown code, or a cookie that is not a
 *         read and unanswered record of this queue (or appears twice;
 *         a record withdrawn at its timeout is not, so a batch holding
 *         its cookie is refused whole: answer it again without it).
 *         Returns the length written.
 *  poll   POLLIN while records are waiting to be read; POLLOUT always.
 */

/* Records a queue holds unanswered at most, whatever its @depth. */
#define IOASID_FAULTQ_DEPTH_MAX		256U
/* Queues one ioasid fd may have open at once. */
#define IOASID_FAULTQ_MAX		16U
#define IOASID_FAULTQ_TIMEOUT_DEFAULT	1000U	/* ms */
#define IOASID_FAULTQ_TIMEOUT_MAX	10000U	/* ms */

/**
 * struct ioasid_faultq_alloc - IOASID_FAULTQ_ALLOC
 * @size: sizeof(struct ioasid_faultq_alloc)
 * @flags: must be 0
 * @timeout_ms: how long an access waits for an answer; 0 for
 *	IOASID_FAULTQ_TIMEOUT_DEFAULT, at most IOASID_FAULTQ_TIMEOUT_MAX
 * @depth: records unanswered at most; 0 for IOASID_FAULTQ_DEPTH_MAX, at
 *	most that. A record lives on the stack of the access that waits for
 *	it: no memory is allocated per fault.
 * @out_fd: the queue's fd (O_CLOEXEC)
 * @__reserved: must be 0
 *
 * ENOSPC: IOASID_FAULTQ_MAX queues are open on this fd. EOPNOTSUPP: a
 * context without fault queues (IOASID_EXT_FAULTQ reads 0). The fd is
 * published only once the struct has been copied back. The queue holds
 * the ioasid fd's context until it is closed.
 */
struct ioasid_faultq_alloc {
	__u32 size;
	__u32 flags;
	__u32 timeout_ms;
	__u32 depth;
	__s32 out_fd;
	__u32 __reserved;
};
#define IOASID_FAULTQ_ALLOC	_IO(IOASID_TYPE, IOASID_CMD_FAULTQ_ALLOC)

/* ioasid_faultq_attach.flags */
#define IOASID_FAULTQ_DETACH	(1U << 0)	/* disconnect; @fd must be -1 */

/**
 * struct ioasid_faultq_attach - IOASID_FAULTQ_ATTACH
 * @size: sizeof(struct ioasid_faultq_attach)
 * @flags: 0 to connect, IOASID_FAULTQ_DETACH to disconnect
 * @ioasid: the ioasid
 * @fd: a fault queue fd of this ioasid fd; -1 with IOASID_FAULTQ_DETACH
 *
 * An ioasid has at most one queue; a queue may serve many ioasids.
 * EBUSY: the ioasid has a queue (detach first). EBADF: @fd is not a
 * fault queue of this fd. EINVAL: detach of an ioasid with no queue.
 * Faults already queued stay in the queue and are answered there.
 */
struct ioasid_faultq_attach {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__s32 fd;
};
#define IOASID_FAULTQ_ATTACH	_IO(IOASID_TYPE, IOASID_CMD_FAULTQ_ATTACH)

/* ioasid_fault.flags */
#define IOASID_FAULT_LAST_PAGE	(1U << 0)	/* last record of its group */

/* ioasid_fault.perm */
#define IOASID_FAULT_PERM_READ	(1U << 0)
#define IOASID_FAULT_PERM_WRITE	(1U << 1)

/**
 * struct ioasid_fault - one fault record, as read from a fault queue
 * @flags: IOASID_FAULT_LAST_PAGE (every record is a group of one today)
 * @dev_id: the device, in the ioasid fd's id space
 * @ioasid: the ioasid the access translated through
 * @grpid: the group (a page request group) the record belongs to
 * @perm: IOASID_FAULT_PERM_READ or _WRITE: what the access needed
 * @__reserved: 0
 * @addr: the faulting IOVA, rounded down to 4 KiB
 * @length: bytes the access wanted from @addr on (a hint: fix them all,
 *	since the access retries only once), at most IOASID_SWDEV_ACCESS_MAX
 *	plus 4095
 * @cookie: what the response names; unique among the queue's records
 *
 * The layout of iommufd's struct iommu_hwpt_pgfault with the ioasid in
 * place of the PASID: no hardware identifier is reported.
 */
struct ioasid_fault {
	__u32 flags;
	__u32 dev_id;
	__u32 ioasid;
	__u32 grpid;
	__u32 perm;
	__u32 __reserved;
	__aligned_u64 addr;
	__u32 length;
	__u32 cookie;
};

/* ioasid_fault_response.code */
#define IOASID_FAULT_RESP_SUCCESS	0	/* fixed: retry the access */
#define IOASID_FAULT_RESP_INVALID	1	/* the access fails */

/* Responses one write may carry. */
#define IOASID_FAULT_RESP_MAX		16U

/**
 * struct ioasid_fault_response - one answer, written to a fault queue
 * @cookie: the record's cookie
 * @code: IOASID_FAULT_RESP_SUCCESS or IOASID_FAULT_RESP_INVALID
 *
 * iommufd's struct iommu_hwpt_page_response.
 */
struct ioasid_fault_response {
	__u32 cookie;
	__u32 code;
};

/*
 * The VFIO shim (kernel module only). ioasid.ko registers a VFIO IOMMU
 * backend, so that a VFIO container can be backed by the ioasid engine:
 *
 * - VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU), when the module parameter
 *   vfio_type1 is set (the default) and ioasid.ko was loaded after
 *   vfio_iommu_type1: the container gets a private ioasid context with
 *   one ioasid; the type1v2 ioctls (CHECK_EXTENSION, GET_INFO, MAP_DMA,
 *   UNMAP_DMA) work on it, so existing VFIO programs run unchanged.
 * - VFIO_SET_IOMMU(VFIO_IOASID_IOMMU): the container's devices are bound
 *   to the context of an ioasid fd with IOASID_VFIO_BIND (an ioctl on the
 *   container), and then attached to ioasids of that fd device by device
 *   with IOASID_DEVICE_ATTACH, under the same rules as any device (group
 *   completeness, compatibility). Mapping goes through the ioasid fd; the
 *   type1 ioctls on such a container fail with EINVAL.
 */
#define VFIO_IOASID_IOMMU	0x10a5

/**
 * struct ioasid_vfio_bind - IOASID_VFIO_BIND, on a VFIO container
 * @size: sizeof(struct ioasid_vfio_bind)
 * @flags: must be 0
 * @ioasid_fd: an open /dev/ioasid
 * @num_devs: in: room in @dev_ids_uptr; out: devices of the container
 * @dev_ids_uptr: __u32 array that receives the device ids, in the fd's id
 *	space, of the container's devices (every device of every group)
 *
 * Binds every device of the container's groups to the fd's context (once;
 * a later call with the same fd binds groups added since and reports all
 * ids). EBUSY: bound to another fd. EMSGSIZE: @num_devs too small, the
 * needed count in @num_devs (the devices are bound nonetheless). EBADF:
 * not an ioasid fd. The container holds the fd's context until it is
 * released.
 */
struct ioasid_vfio_bind {
	__u32 size;
	__u32 flags;
	__s32 ioasid_fd;
	__u32 num_devs;
	__aligned_u64 dev_ids_uptr;
};
#define IOASID_VFIO_BIND	_IO(IOASID_TYPE, IOASID_CMD_VFIO_BIND)

/*
 * The vDPA adaptor (kernel module ioasid_vdpa.ko). A vDPA bus driver that
 * takes a vDPA device in place of vhost_vdpa and gives it a character
 * device, /dev/ioasid-vdpa-N, speaking the vhost-vdpa uAPI (its char
 * region is named "vhost-vdpa", so clients that look the major up in
 * /proc/devices, as DPDK's virtio_user does, recognise it).
 *
 * Each address space (ASID) of the device translates through an ioasid:
 * - compat mode (the default): a private ioasid of the open file, filled by
 *   vhost IOTLB messages (UPDATE, INVALIDATE, BATCH_BEGIN/END), as with
 *   vhost_vdpa;
 * - attached: an ioasid of an ioasid fd, after IOASID_VDPA_ATTACH. The
 *   device follows the ioasid's map and unmap events, one push per call or
 *   batch; IOTLB messages for that ASID fail with EPERM.
 */

/**
 * struct ioasid_vdpa_attach - IOASID_VDPA_ATTACH, on /dev/ioasid-vdpa-N
 * @size: sizeof(struct ioasid_vdpa_attach)
 * @flags: must be 0
 * @ioasid_fd: an open /dev/ioasid
 * @ioasid: an ioasid of that fd
 * @asid: the device's address space, below VHOST_VDPA_GET_AS_NUM
 * @out_dev_id: the device's id in the fd's id space
 *
 * Binds the ASID to the fd's context as a device and attaches it to
 * @ioasid under the usual rules (compatibility of attributes); the
 * ioasid's existing mappings reach the device before the call returns.
 * The ASID's compat mappings are dropped first. EBADF: not an ioasid fd.
 * ENOENT: no such ioasid. EINVAL: @asid out of range, an incompatible
 * ioasid, or an IOTLB batch is open. EBUSY: already attached. The ASID
 * holds the fd until it is detached or the device file is closed.
 */
struct ioasid_vdpa_attach {
	__u32 size;
	__u32 flags;
	__s32 ioasid_fd;
	__u32 ioasid;
	__u32 asid;
	__u32 out_dev_id;
};
#define IOASID_VDPA_ATTACH	_IO(IOASID_TYPE, IOASID_CMD_VDPA_ATTACH)

/**
 * struct ioasid_vdpa_detach - IOASID_VDPA_DETACH
 * @size: sizeof(struct ioasid_vdpa_detach)
 * @flags: must be 0
 * @asid: an attached ASID
 *
 * The device stops translating through the ioasid (its mappings are
 * removed from the device before the call returns) and the ASID goes back
 * to an empty compat ioasid. EINVAL: not attached.
 */
struct ioasid_vdpa_detach {
	__u32 size;
	__u32 flags;
	__u32 asid;
	__u32 __reserved;
};
#define IOASID_VDPA_DETACH	_IO(IOASID_TYPE, IOASID_CMD_VDPA_DETACH)

/**
 * struct ioasid_vdpa_stats - IOASID_VDPA_STATS
 * @size: sizeof(struct ioasid_vdpa_stats), or the first version's size,
 *	offsetofend(struct ioasid_vdpa_stats, out_device_entries), which has
 *	no @flags (read as 0); a caller's size gets that much back
 * @asid: in: the ASID
 * @out_attached: 1 if attached to an ioasid fd's ioasid, 0 in compat mode
 * @out_ioasid: the ioasid (the private one in compat mode)
 * @out_pushes: translation updates pushed to the device (set_map calls)
 * @out_entries: translation entries of the ASID (one per mapping and VMA)
 * @out_map_events: map events received from the ioasid
 * @out_unmap_events: unmap events received from the ioasid
 * @out_device_entries: entries in the table last pushed to the device,
 *	where entries that continue each other are merged
 * @flags: must be 0 (added after the first version, hence at the end)
 * @__reserved: must be 0
 */
struct ioasid_vdpa_stats {
	__u32 size;
	__u32 asid;
	__u32 out_attached;
	__u32 out_ioasid;
	__aligned_u64 out_pushes;
	__aligned_u64 out_entries;
	__aligned_u64 out_map_events;
	__aligned_u64 out_unmap_events;
	__aligned_u64 out_device_entries;
	__u32 flags;
	__u32 __reserved;
};
#define IOASID_VDPA_STATS	_IO(IOASID_TYPE, IOASID_CMD_VDPA_STATS)

#endif /* _UAPI_LINUX_IOASID_H */
