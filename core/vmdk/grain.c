/* libvdisk — grain directory and grain tables of a VMDK sparse extent.
 *
 * The grain directory (GD) is read whole at open: one 32-bit sector number
 * per grain table (GT), 0 when the table does not exist.  Tables are read
 * on demand into a cache of slots (least recently used goes first), and a
 * table changed by a write stays in its slot, dirty, until a flush or its
 * eviction writes it back.  The order of write-back is what keeps a crash
 * harmless: grains are made durable before the table entries that point
 * at them, and tables before the directory entries that point at them; a
 * crash in between only leaks a grain (VMDK has no reference counts, so a
 * leaked grain is merely unused space).
 *
 * A streamOptimized extent written by vdisk keeps its tables after its
 * grains (gd_at_end): a changed table is appended with a GT marker when
 * the writer moves on to another table, and the directory and footer are
 * appended at flush (stream.c).  Every function here runs with s->lock
 * held.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmdk.h"

/* Tables kept in memory per extent: 8 MiB of them (4096 hosted-sparse
 * tables map 128 GiB of 64 KiB grains), at least 4, never more than the
 * extent has. */
#define GT_CACHE_BUDGET (8u << 20)
#define GT_CACHE_MIN 4u

static uint32_t
gt_bytes(const vmdk_sparse *s)
{
    return s->gt_entries * 4u;
}

/* Sectors one table occupies in the file. */
static uint64_t
gt_sectors(const vmdk_sparse *s)
{
    return (gt_bytes(s) + VMDK_SECTOR - 1) / VMDK_SECTOR;
}

int
vmdk_gt_cache_init(vmdk_sparse *s, vdisk_error *err)
{
    uint32_t n = GT_CACHE_BUDGET / gt_bytes(s);
    if (n < GT_CACHE_MIN)
        n = GT_CACHE_MIN;
    if (n > s->gd_entries)
        n = s->gd_entries;
    s->nslots = n;
    s->slots = n ? calloc(n, sizeof(*s->slots)) : NULL;
    s->slot_of = s->gd_entries ? calloc(s->gd_entries, sizeof(*s->slot_of)) : NULL;
    if ((n && !s->slots) || (s->gd_entries && !s->slot_of))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the grain table cache", s->name);
    return 0;
}

void
vmdk_gt_cache_free(vmdk_sparse *s)
{
    for (uint32_t i = 0; i < s->nslots; i++)
        free(s->slots[i].gte);
    free(s->slots);
    free(s->slot_of);
    s->slots = NULL;
    s->slot_of = NULL;
    s->nslots = 0;
}

bool
vmdk_gte_outside(const vmdk_sparse *s, uint32_t gte)
{
    return (uint64_t)gte * VMDK_SECTOR >= s->file_len;
}

/* Read table t (zeros when its directory entry is 0). */
static int
load_table(vmdk_sparse *s, uint32_t t, uint32_t *gte, vdisk_error *err)
{
    uint32_t sector = s->gd[t];
    if (sector == 0) {
        memset(gte, 0, gt_bytes(s));
        return 0;
    }
    uint64_t off = (uint64_t)sector * VMDK_SECTOR;
    if (off + gt_bytes(s) > s->file_len)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: grain table %" PRIu32 " at 0x%" PRIx64
                                    " lies outside the file (%" PRIu64 " bytes)", s->name, t, off,
                                    s->file_len);
    int r = vdisk_file_pread(s->file, gte, gt_bytes(s), off, err);
    if (r < 0)
        return r;
    for (uint32_t i = 0; i < s->gt_entries; i++)
        gte[i] = vmdk_le32((const uint8_t *)&gte[i]);
    return 0;
}

/* Room for a table that has none yet (hosted sparse): at the allocation
 * point; grains stay grain aligned after it. */
static uint32_t
place_table(vmdk_sparse *s)
{
    uint64_t at = s->alloc;
    s->alloc += gt_sectors(s) * VMDK_SECTOR;
    if (!s->compressed)
        s->alloc = (s->alloc + s->grain - 1) / s->grain * s->grain;
    return (uint32_t)(at / VMDK_SECTOR);
}

static int
write_le32_array(vmdk_sparse *s, const uint32_t *v, uint32_t n, uint64_t off, vdisk_error *err)
{
    uint8_t *buf = malloc((size_t)n * 4);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    for (uint32_t i = 0; i < n; i++)
        vmdk_put_le32(buf + 4 * (size_t)i, v[i]);
    int r = vdisk_file_pwrite(s->file, buf, (size_t)n * 4, off, err);
    free(buf);
    if (r == 0 && off + (uint64_t)n * 4 > s->file_len)
        s->file_len = off + (uint64_t)n * 4;
    return r;
}

/* Write a table back where its directory entries say (placing it first if
 * it has no place yet), primary and redundant copy. */
static int
write_table(vmdk_sparse *s, vmdk_gt_slot *slot, vdisk_error *err)
{
    uint32_t t = slot->index;
    if (s->gd_at_end) {
        int r = vmdk_stream_write_gt(s, t, slot->gte, err);
        if (r == 0)
            slot->dirty = false;
        return r;
    }
    if (s->alloc / VMDK_SECTOR + 2 * gt_sectors(s) >= UINT32_MAX)
        return vdisk_error_set(err, ENOSPC, "%s: the extent is full (a sparse extent ends at 2 TiB)",
                               s->name);
    if (s->gd[t] == 0) {
        s->gd[t] = place_table(s);
        if (s->rgd)
            s->rgd[t] = place_table(s);
        s->gd_dirty = true;
    }
    int r = write_le32_array(s, slot->gte, s->gt_entries, (uint64_t)s->gd[t] * VMDK_SECTOR, err);
    if (r == 0 && s->rgd && s->rgd[t])
        r = write_le32_array(s, slot->gte, s->gt_entries, (uint64_t)s->rgd[t] * VMDK_SECTOR, err);
    if (r == 0)
        slot->dirty = false;
    return r;
}

/* Evict a dirty slot: in place, its grains must be durable before it. */
static int
write_back(vmdk_sparse *s, vmdk_gt_slot *slot, vdisk_error *err)
{
    int r = s->gd_at_end ? 0 : vdisk_file_flush(s->file, err);
    return r < 0 ? r : write_table(s, slot, err);
}

/* The least recently used slot (an unused one first). */
static vmdk_gt_slot *
pick_victim(vmdk_sparse *s)
{
    vmdk_gt_slot *v = &s->slots[0];
    for (uint32_t i = 0; i < s->nslots; i++) {
        if (!s->slots[i].used)
            return &s->slots[i];
        if (s->slots[i].last_use < v->last_use)
            v = &s->slots[i];
    }
    return v;
}

/* The slot holding table t, loading it if needed. */
static int
get_slot(vmdk_sparse *s, uint32_t t, vmdk_gt_slot **out, vdisk_error *err)
{
    if (s->slot_of[t]) {
        *out = &s->slots[s->slot_of[t] - 1];
        (*out)->last_use = ++s->clock;
        return 0;
    }
    vmdk_gt_slot *v = pick_victim(s);
    int r = 0;
    if (v->used && v->dirty)
        r = write_back(s, v, err);
    if (r == 0 && !v->gte && !(v->gte = malloc(gt_bytes(s))))
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory for a grain table", s->name);
    if (r < 0)
        return r;
    if (v->used)
        s->slot_of[v->index] = 0;
    v->used = false;
    r = load_table(s, t, v->gte, err);
    if (r < 0)
        return r;
    v->used = true;
    v->dirty = false;
    v->index = t;
    v->last_use = ++s->clock;
    s->slot_of[t] = (uint32_t)(v - s->slots) + 1;
    *out = v;
    return 0;
}

static int
table_of(vmdk_sparse *s, uint64_t g, uint32_t *t, vdisk_error *err)
{
    uint64_t tt = g / s->gt_entries;
    if (tt >= s->gd_entries)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: grain %" PRIu64 " lies beyond the grain directory",
                                    s->name, g);
    *t = (uint32_t)tt;
    return 0;
}

int
vmdk_gt_get(vmdk_sparse *s, uint64_t g, uint32_t *gte, vdisk_error *err)
{
    int r = vmdk_gt_get_run(s, g, 1, gte, err);
    return r < 0 ? r : 0;
}

int
vmdk_gt_get_run(vmdk_sparse *s, uint64_t g, uint32_t max, uint32_t *out, vdisk_error *err)
{
    uint32_t t = 0;
    vmdk_gt_slot *slot = NULL;
    int r = table_of(s, g, &t, err);
    if (r == 0)
        r = get_slot(s, t, &slot, err);
    if (r < 0)
        return r;
    uint32_t i = (uint32_t)(g % s->gt_entries);
    uint32_t n = s->gt_entries - i < max ? s->gt_entries - i : max;
    memcpy(out, slot->gte + i, (size_t)n * 4);
    return (int)n;
}

/* A stream appends one table at a time: the others that changed go out
 * now, so that each table follows its grains. */
static int
close_other_tables(vmdk_sparse *s, uint32_t keep, vdisk_error *err)
{
    for (uint32_t i = 0; i < s->nslots; i++) {
        vmdk_gt_slot *v = &s->slots[i];
        if (v->used && v->dirty && v->index != keep) {
            int r = write_table(s, v, err);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

int
vmdk_gt_set(vmdk_sparse *s, uint64_t g, uint32_t gte, vdisk_error *err)
{
    uint32_t t = 0;
    vmdk_gt_slot *slot = NULL;
    int r = table_of(s, g, &t, err);
    if (r == 0 && s->gd_at_end)
        r = close_other_tables(s, t, err);
    if (r == 0)
        r = get_slot(s, t, &slot, err);
    if (r < 0)
        return r;
    slot->gte[g % s->gt_entries] = gte;
    slot->dirty = true;
    if (s->gd_at_end)
        s->trailer_dirty = true;
    return 0;
}

static int
write_directories(vmdk_sparse *s, vdisk_error *err)
{
    int r = write_le32_array(s, s->gd, s->gd_entries, s->gd_offset, err);
    if (r == 0 && s->rgd)
        r = write_le32_array(s, s->rgd, s->gd_entries, s->rgd_offset, err);
    if (r == 0)
        s->gd_dirty = false;
    return r;
}

int
vmdk_gt_flush(vmdk_sparse *s, vdisk_error *err)
{
    bool dirty = s->gd_dirty || s->trailer_dirty;
    for (uint32_t i = 0; i < s->nslots && !dirty; i++)
        dirty = s->slots[i].used && s->slots[i].dirty;
    if (!dirty)
        return 0;
    /* Grains first (a stream commits with its footer, written last). */
    int r = s->gd_at_end ? 0 : vdisk_file_flush(s->file, err);
    for (uint32_t i = 0; r == 0 && i < s->nslots; i++)
        if (s->slots[i].used && s->slots[i].dirty)
            r = write_table(s, &s->slots[i], err);
    if (r == 0 && s->gd_at_end)
        return vmdk_stream_write_trailer(s, err);
    /* Then the tables, before the directory entries of new tables. */
    if (r == 0 && s->gd_dirty)
        r = vdisk_file_flush(s->file, err);
    if (r == 0 && s->gd_dirty)
        r = write_directories(s, err);
    return r;
}
