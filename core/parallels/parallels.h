/* libvdisk internals — Parallels / Virtuozzo expandable images, read only.
 *
 * Layout (little endian; QEMU's docs/interop/parallels.txt): a 64-byte
 * header (magic "WithoutFreeSpace" or "WithouFreSpacExt", version 2,
 * geometry, cluster size in sectors ("tracks"), BAT entry count, size in
 * sectors, the in-use mark, data offset, flags, format extension offset),
 * then the BAT: one uint32 per cluster of the disk, 0 for an unallocated
 * cluster (zeros), else where the cluster lies -- in sectors for the old
 * magic, in clusters for the new one.
 *
 * Files: header.c (header and BAT, checked), driver.c (the driver table),
 * check.c (qemu-img check).
 */
#ifndef VDISK_PARALLELS_H
#define VDISK_PARALLELS_H

#include <stdbool.h>
#include <stdint.h>

#include "driver.h"

#define PRL_HEADER_BYTES 64u
#define PRL_SECTOR 512u
#define PRL_INUSE 0x746f6e59u       /* opened read-write and not closed since */

typedef struct prl_state {
    uint64_t cluster_size;          /* tracks * 512 */
    uint32_t bat_entries;
    uint32_t *bat;                  /* host byte order */
    uint64_t multiplier;            /* BAT unit in sectors: 1 (old magic) or tracks */
    uint64_t size;                  /* virtual size in bytes */
    uint64_t data_start;            /* first byte of the data area */
    uint64_t file_size;
    bool unclean;                   /* the in-use mark is set */
    uint64_t bad_entries;           /* entries outside the data area (check opens) */
} prl_state;

/* Read and check header and BAT into s (name: for messages); entries
 * outside the data area fail unless tolerate_bad (a check open). */
int prl_load(vdisk_file *f, const char *name, prl_state *s, bool tolerate_bad, vdisk_error *err);

/* Host offset of BAT entry i's cluster (0: unallocated). */
static inline uint64_t
prl_host(const prl_state *s, uint32_t i)
{
    return (uint64_t)s->bat[i] * s->multiplier * PRL_SECTOR;
}
/* Is the cluster of a (non-zero) entry inside the data area and the file? */
static inline bool
prl_entry_ok(const prl_state *s, uint32_t i)
{
    uint64_t h = prl_host(s, i);
    return h >= s->data_start && h < s->file_size;
}

/* qemu-img check (check.c). */
int prl_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
              vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
              vdisk_error *err);

#endif
