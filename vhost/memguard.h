/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Memory a front-end can take away. A vhost-user front-end shares guest
 * memory as files it keeps; if it shrinks one after the backend mapped it,
 * the next access to the lost pages raises SIGBUS, which would kill the
 * backend and every other connection with it. The guard catches SIGBUS on
 * registered mappings, puts zero-filled anonymous memory where the lost
 * pages were (the faulting access then completes, reading zeros) and
 * records the hit, so that the backend can stop the queues of that
 * connection with a reason. SIGBUS elsewhere goes to the handler that was
 * installed before (or kills the process, as it would have).
 */
#ifndef IOASID_VHOST_MEMGUARD_H
#define IOASID_VHOST_MEMGUARD_H

#include <stddef.h>
#include <stdint.h>

#define MEMGUARD_SLOTS	256

/*
 * Guard [map, map + len), a mapping of @pgsize pages (4 KiB, or a
 * hugetlbfs page size). Returns a slot (>= 0) for memguard_del() and
 * memguard_hit(), or -errno (-ENOSPC: every slot is in use).
 */
int memguard_add(void *map, size_t len, size_t pgsize);
/*
 * Stop guarding a slot; before the mapping is unmapped. Waits for a
 * handler still working on the slot, so never call it from a signal
 * handler.
 */
void memguard_del(int slot);
/* Pages of the slot replaced since it was added (0: none lost). */
uint64_t memguard_hits(int slot);
/* Pages replaced in the whole process, for a cheap check per pass. */
uint64_t memguard_total(void);

#endif /* IOASID_VHOST_MEMGUARD_H */
