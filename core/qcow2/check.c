/* libvdisk — qcow2 check: walk the header, the active and snapshot L1/L2
 * tables, the snapshot table and the refcount structures, counting every
 * cluster reference in an in-memory refcount table; then let repair.c
 * compare it with the refcounts on disk.  Findings, counts and repair order
 * follow `qemu-img check` (QEMU's block/qcow2-refcount.c), so both tools
 * give the same verdict on the same image.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-int.h"
#include "ordering.h"

#define L1E_RESERVED_MASK UINT64_C(0x7f000000000001ff)
#define L2E_STD_RESERVED_MASK UINT64_C(0x3f000000000001fe)
#define REFT_RESERVED_MASK UINT64_C(0x1ff)
#define BITMAP_ALL_ALLOC UINT64_C(0xffffffff)

/* Read len bytes at off (past the end of the file: zeros). */
static int
read_table(struct qcow2_check *c, const char *what, uint64_t off, uint8_t *buf, size_t len,
           vdisk_error *err)
{
    int r = vdisk_file_pread(c->s->file, buf, len, off, err);
    if (r < 0) {
        qcow2_check_say(c, "ERROR: I/O error reading %s at 0x%" PRIx64, what, off);
        c->res->check_errors++;
    }
    return r;
}

/* Make an entry whose preallocated cluster is misaligned read as zeros. */
static int
fix_by_zero(struct qcow2_check *c, uint64_t l2_off, uint8_t *t, uint32_t i, vdisk_error *err)
{
    qcow2_state *s = c->s;
    uint64_t entry, bitmap;
    qcow2_l2_get_entry(s, t, i, &entry, &bitmap);
    if (s->ext_l2)
        qcow2_l2_set_entry(s, t, i, 0, (bitmap | (bitmap << 32)) & ~BITMAP_ALL_ALLOC);
    else
        qcow2_l2_set_entry(s, t, i, QCOW_OFLAG_ZERO, 0);
    uint64_t at = l2_off + (uint64_t)i * s->l2_entry_size;
    if (qcow2_check_overlapped(c, at, s->l2_entry_size)) {
        qcow2_check_say(c, "ERROR: Overlap check failed");
        c->res->check_errors++;
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                    "%s: L2 entry at 0x%" PRIx64 " lies in overlapping "
                                    "metadata; not written", s->name, at);
    }
    int r = vdisk_file_pwrite(s->file, t + (size_t)i * s->l2_entry_size, s->l2_entry_size, at, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    qcow2_cache_discard(s->l2_cache, l2_off);
    if (r < 0) {
        qcow2_check_say(c, "ERROR: Failed to overwrite L2 table entry: %s", err ? err->message : "");
        c->res->check_errors++;
        return r;
    }
    c->res->corruptions--;
    c->res->corruptions_fixed++;
    return 0;
}

/* One allocated (normal or preallocated zero) cluster.  Returns 1 when the
 * entry was repaired to a zero cluster (nothing to count). */
static int
check_allocated(struct qcow2_check *c, uint64_t l2_off, uint8_t *t, uint32_t i, uint64_t entry,
                uint64_t bitmap, unsigned fix, vdisk_error *err)
{
    qcow2_state *s = c->s;
    uint64_t off = entry & L2E_OFFSET_MASK;
    if ((bitmap >> 32) & bitmap) {
        c->res->corruptions++;
        qcow2_check_say(c, "ERROR offset=%" PRIx64 ": Allocated cluster has corrupted subcluster "
                        "allocation bitmap", off);
    }
    if (!(off & (s->cluster_size - 1)))
        return 0;
    c->res->corruptions++;
    bool has_data = s->ext_l2 ? (bitmap & BITMAP_ALL_ALLOC) != 0 : !(entry & QCOW_OFLAG_ZERO);
    if (has_data) {
        qcow2_check_say(c, "ERROR offset=%" PRIx64 ": Data cluster is not properly aligned; L2 "
                        "entry corrupted.", off);
        return 0;
    }
    bool repair = fix & VDISK_CHECK_FIX_ERRORS;
    qcow2_check_say(c, "%s offset=%" PRIx64 ": Preallocated cluster is not properly aligned; L2 "
                    "entry corrupted.", repair ? "Repairing" : "ERROR", off);
    if (repair && fix_by_zero(c, l2_off, t, i, err) == 0)
        return 1;
    return 0;
}

/* Count the references of one L2 table and check its entries. */
static int
check_l2(struct qcow2_check *c, uint64_t l2_off, bool active, unsigned fix, uint8_t *t,
         vdisk_error *err)
{
    qcow2_state *s = c->s;
    int r = read_table(c, "an L2 table", l2_off, t, s->cluster_size, err);
    if (r < 0)
        return r;
    uint64_t next = 0;
    for (uint32_t i = 0; i < s->l2_entries; i++) {
        uint64_t entry, bitmap;
        qcow2_l2_get_entry(s, t, i, &entry, &bitmap);
        if (!entry && !bitmap)
            continue;
        bool compressed = entry & QCOW_OFLAG_COMPRESSED;
        if (!compressed && (entry & L2E_STD_RESERVED_MASK)) {
            qcow2_check_say(c, "ERROR found l2 entry with reserved bits set: %" PRIx64, entry);
            c->res->corruptions++;
        }
        if (compressed) {
            if (entry & QCOW_OFLAG_COPIED) {
                qcow2_check_say(c, "ERROR: coffset=0x%" PRIx64 ": copied flag must never be set "
                                "for compressed clusters", entry & s->coffset_mask);
                c->res->corruptions++;
            }
            if (bitmap) {
                qcow2_check_say(c, "ERROR compressed cluster %u with non-zero subcluster "
                                "allocation bitmap, entry=0x%" PRIx64, i, entry);
                c->res->corruptions++;
                continue;
            }
            uint64_t coff = entry & s->coffset_mask;
            uint64_t nsec = ((entry >> s->csize_shift) & s->csize_mask) + 1;
            r = qcow2_check_inc(c, coff, nsec * 512 - (coff & 511), OWN_COMPRESSED, err);
            if (r < 0)
                return r;
            if (active) {
                c->res->allocated_clusters++;
                c->res->compressed_clusters++;
                c->res->fragmented_clusters++;
            }
            continue;
        }
        uint64_t off = entry & L2E_OFFSET_MASK;
        bool zero_flag = !s->ext_l2 && (entry & QCOW_OFLAG_ZERO);
        if (!off) {
            if (!zero_flag && (bitmap & BITMAP_ALL_ALLOC)) {
                qcow2_check_say(c, "ERROR: Unallocated cluster has non-zero subcluster "
                                "allocation map");
                c->res->corruptions++;
            }
            continue;
        }
        r = check_allocated(c, l2_off, t, i, entry, bitmap, fix, err);
        if (r < 0)
            return r;
        if (r == 1)
            continue;
        if (active) {
            c->res->allocated_clusters++;
            if (next && off != next)
                c->res->fragmented_clusters++;
            next = off + s->cluster_size;
        }
        r = qcow2_check_inc(c, off, s->cluster_size, OWN_DATA, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int
progress_step(struct qcow2_check *c, vdisk_error *err)
{
    c->walked++;
    if (c->progress && c->progress(c->opaque, c->walked, c->to_walk ? c->to_walk : 1))
        return vdisk_error_set(err, ECANCELED, "%s: check cancelled", c->s->name);
    return 0;
}

/* Count an L1 table, its L2 tables and everything they reference. */
static int
check_l1(struct qcow2_check *c, uint64_t l1_off, uint32_t l1_size, bool active, unsigned fix,
         vdisk_error *err)
{
    qcow2_state *s = c->s;
    if (!l1_size)
        return 0;
    int r = qcow2_check_inc(c, l1_off, (uint64_t)l1_size * 8, active ? OWN_L1 : OWN_SNAP_L1, err);
    if (r < 0)
        return r;
    /* Entries past the end of the file read as zeros: do not read them. */
    uint64_t in_file = l1_off < c->file_len ? c->file_len - l1_off : 0;
    if (in_file / 8 < l1_size)
        l1_size = (uint32_t)(in_file / 8);
    uint8_t *l1 = malloc((size_t)l1_size * 8 + 8);
    uint8_t *t = vdisk_alloc_aligned(s->cluster_size, false);
    if (!l1 || !t) {
        free(l1);
        free(t);
        c->res->check_errors++;
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for an L1 table", s->name);
    }
    r = read_table(c, "an L1 table", l1_off, l1, (size_t)l1_size * 8, err);
    for (uint32_t i = 0; r == 0 && i < l1_size; i++) {
        uint64_t e = qcow2_be64(l1 + (size_t)i * 8);
        if (!e)
            continue;
        if (e & L1E_RESERVED_MASK) {
            qcow2_check_say(c, "ERROR found L1 entry with reserved bits set: %" PRIx64, e);
            c->res->corruptions++;
        }
        uint64_t l2 = e & L1E_OFFSET_MASK;
        r = qcow2_check_inc(c, l2, s->cluster_size, OWN_L2, err);
        if (r < 0)
            break;
        if (l2 & (s->cluster_size - 1)) {
            qcow2_check_say(c, "ERROR l2_offset=%" PRIx64 ": Table is not cluster aligned; L1 "
                            "entry corrupted", l2);
            c->res->corruptions++;
        }
        r = check_l2(c, l2, active, fix, t, err);
        if (r == 0)
            r = progress_step(c, err);
    }
    free(l1);
    free(t);
    return r;
}

static int
check_snapshots(struct qcow2_check *c, unsigned fix, vdisk_error *err)
{
    for (uint32_t i = 0; i < c->nsnaps; i++) {
        const struct qcow2_snapshot *sn = &c->snaps[i];
        if (sn->l1_offset & (c->s->cluster_size - 1)) {
            qcow2_check_say(c, "ERROR snapshot %s (%s) l1_offset=%#" PRIx64 ": L1 table is not "
                            "cluster aligned; snapshot table entry corrupted", sn->id, sn->name,
                            sn->l1_offset);
            c->res->corruptions++;
            continue;
        }
        if ((uint64_t)sn->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
            qcow2_check_say(c, "ERROR snapshot %s (%s) l1_size=%#" PRIx32 ": L1 table is too "
                            "large; snapshot table entry corrupted", sn->id, sn->name, sn->l1_size);
            c->res->corruptions++;
            continue;
        }
        int r = check_l1(c, sn->l1_offset, sn->l1_size, false, fix, err);
        if (r < 0)
            return r;
    }
    return qcow2_check_inc(c, c->s->snapshots_offset, c->snap_table_size, OWN_SNAPTABLE, err);
}

/* Grow the file and the IMRT by this much at most, all told, to take in
 * refcount blocks past the end of the file (5 bytes of IMRT a cluster);
 * beyond, the repair rebuilds instead. */
#define MAX_GROW_CLUSTERS (UINT64_C(1) << 24)

/* A refcount block past the end of the file.  Repair as QEMU: grow the
 * file to hold it (it reads as zeros) and count it; or, when that cannot
 * be done, rebuild the refcount structures. */
static int
refblock_outside(struct qcow2_check *c, uint64_t i, uint64_t off, unsigned fix,
                 vdisk_error *err)
{
    qcow2_state *s = c->s;
    bool repair = fix & VDISK_CHECK_FIX_ERRORS;
    qcow2_check_say(c, "%s refcount block %" PRIu64 " is outside image",
                    repair ? "Repairing" : "ERROR", i);
    c->res->corruptions++;
    if (!repair)
        return 0;
    /* An offset near 2^64 would wrap past the end: as far out as it gets. */
    uint64_t end = off + s->cluster_size;
    if (off > INT64_MAX - s->cluster_size || (end >> s->cluster_bits) > c->grow_limit ||
        vdisk_file_truncate(s->file, end, NULL) < 0) {
        qcow2_check_say(c, "ERROR could not resize image: refcount block %" PRIu64 " at 0x%"
                        PRIx64 " is too far out", i, off);
        c->rebuild = true;
        return 0;
    }
    c->file_len = end;
    int r = qcow2_check_grow(c, end >> s->cluster_bits, err);
    if (r < 0) {
        c->res->check_errors++;
        return r;
    }
    c->res->corruptions--;
    c->res->corruptions_fixed++;
    return qcow2_check_inc(c, off, s->cluster_size, OWN_REFBLOCK, err);
}

/* Count the refcount blocks and check the refcount table entries. */
static int
check_refblocks(struct qcow2_check *c, unsigned fix, vdisk_error *err)
{
    qcow2_state *s = c->s;
    size_t len = (size_t)s->reftable_clusters << s->cluster_bits;
    uint8_t *rt = malloc(len);
    if (!rt) {
        c->res->check_errors++;
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the refcount table", s->name);
    }
    int r = read_table(c, "the refcount table", s->reftable_offset, rt, len, err);
    for (uint64_t i = 0; r == 0 && i < len / 8; i++) {
        uint64_t raw = qcow2_be64(rt + i * 8), off = raw & REFT_OFFSET_MASK;
        uint64_t k = off >> s->cluster_bits;
        if (raw & REFT_RESERVED_MASK) {
            qcow2_check_say(c, "ERROR refcount table entry %" PRIu64 " has reserved bits set", i);
            c->res->corruptions++;
            c->rebuild = true;
            continue;
        }
        if (off & (s->cluster_size - 1)) {
            qcow2_check_say(c, "ERROR refcount block %" PRIu64 " is not cluster aligned; refcount "
                            "table entry corrupted", i);
            c->res->corruptions++;
            c->rebuild = true;
            continue;
        }
        if (off && k >= c->nb) {
            r = refblock_outside(c, i, off, fix, err);
            continue;
        }
        if (!off)
            continue;
        r = qcow2_check_inc(c, off, s->cluster_size, OWN_REFBLOCK, err);
        if (r == 0 && c->ref[k] != 1) {
            qcow2_check_say(c, "ERROR refcount block %" PRIu64 " refcount=%" PRIu32, i, c->ref[k]);
            c->res->corruptions++;
            c->rebuild = true;
        }
    }
    free(rt);
    return r;
}

int
qcow2_check_calculate(struct qcow2_check *c, unsigned fix, vdisk_error *err)
{
    qcow2_state *s = c->s;
    c->walked = 0;
    /* A rebuild may have grown the file since the last walk. */
    int r = vdisk_file_get_length(s->file, &c->file_len, err);
    if (r < 0) {
        c->res->check_errors++;
        return r;
    }
    r = qcow2_check_inc(c, 0, s->cluster_size, OWN_HEADER, err);
    /* An encrypted image's LUKS header lives in clusters of its own. */
    if (r == 0 && s->crypt_hdr_length)
        r = qcow2_check_inc(c, s->crypt_hdr_offset, s->crypt_hdr_length, OWN_CRYPT_HEADER, err);
    if (r == 0)
        r = check_l1(c, s->l1_offset, s->l1_size, true, fix, err);
    if (r == 0)
        r = check_snapshots(c, fix, err);
    if (r == 0)
        r = qcow2_check_inc(c, s->reftable_offset, (uint64_t)s->reftable_clusters << s->cluster_bits,
                            OWN_REFTABLE, err);
    if (r == 0)
        r = qcow2_check_bitmaps(c, err);
    if (r == 0)
        r = check_refblocks(c, fix, err);
    if (r == 0 && c->progress && c->walked < c->to_walk) {
        c->walked = c->to_walk - 1;
        r = progress_step(c, err);
    }
    return r;
}

/* Clear the dirty and corrupt bits once a repair left no corruption. */
static int
mark_clean(struct qcow2_check *c, vdisk_error *err)
{
    qcow2_state *s = c->s;
    uint64_t bits = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT;
    if (!(s->incompat & bits))
        return 0;
    int r = vdisk_file_flush(s->file, err);
    if (r == 0)
        r = qcow2_header_write_u64(s, QCOW2_HDR_INCOMPAT, s->incompat & ~bits, err);
    if (r == 0) {
        s->incompat &= ~bits;
        s->dirty_written = false;
        s->lazy = false;
    }
    return r;
}

/* After a rebuild: recount, fix the leaks the old structures left, and
 * report the difference as QEMU does. */
static int
after_rebuild(struct qcow2_check *c, unsigned fix, vdisk_error *err)
{
    vdisk_check_result old = *c->res, *res = c->res;
    uint64_t fresh_leaks = 0;
    res->corruptions = res->leaks = 0;
    c->rebuild = false;
    memset(c->ref, 0, c->nb * sizeof(uint32_t));
    memset(c->owner, 0, c->nb);
    res->allocated_clusters = res->compressed_clusters = res->fragmented_clusters = 0;
    int r = qcow2_check_calculate(c, 0, err);
    if (r < 0)
        return r;
    if (fix & VDISK_CHECK_FIX_LEAKS) {
        vdisk_check_result saved = *res;
        memset(res, 0, sizeof(*res));
        r = qcow2_check_compare(c, VDISK_CHECK_FIX_LEAKS, err);
        if (c->rebuild)
            qcow2_check_say(c, "ERROR rebuilt refcount structure is still broken");
        fresh_leaks = res->leaks;
        *res = saved;
        if (r < 0)
            return r;
    }
    if (res->corruptions < old.corruptions)
        res->corruptions_fixed += old.corruptions - res->corruptions;
    if (res->leaks < old.leaks)
        res->leaks_fixed += old.leaks - res->leaks;
    res->leaks += fresh_leaks;
    return 0;
}

static int
run(struct qcow2_check *c, unsigned fix, vdisk_error *err)
{
    vdisk_check_result *res = c->res;
    int r = qcow2_check_calculate(c, fix, err);
    if (r < 0)
        return r;
    vdisk_check_result pre = *res;
    r = qcow2_check_compare(c, 0, err);
    if (r < 0)
        return r;
    if (c->rebuild && (fix & VDISK_CHECK_FIX_ERRORS)) {
        qcow2_check_say(c, "Rebuilding refcount structure");
        r = qcow2_check_rebuild(c, err);
        if (r < 0) {
            res->check_errors++;
            return r;
        }
        r = after_rebuild(c, fix, err);
    } else if (fix) {
        if (c->rebuild) {
            qcow2_check_say(c, "ERROR need to rebuild refcount structures");
            res->check_errors++;
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                        "%s: the refcount structures must be rebuilt "
                                        "(repair with -r all)", c->s->name);
        }
        if (res->leaks || res->corruptions) {
            *res = pre;
            r = qcow2_check_compare(c, fix, err);
        }
    }
    if (r == 0)
        r = qcow2_check_oflag_copied(c, fix, err);
    if (r == 0)
        r = qcow2_check_fix_snapshots(c, fix, err);
    if (r == 0)
        res->image_end_offset = (c->highest + 1) << c->s->cluster_bits;
    if (r == 0 && fix && !res->check_errors && !res->corruptions)
        r = mark_clean(c, err);
    return r;
}

int
qcow2_check_state(qcow2_state *s, unsigned fix, vdisk_check_result *res,
                  vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
                  vdisk_error *err)
{
    bool qemu_lines = fix & VDISK_CHECK_QEMU_LINES;
    fix &= ~(unsigned)VDISK_CHECK_QEMU_LINES;
    struct qcow2_check c = {
        .s = s, .fix = fix, .res = res, .report = report, .qemu_lines = qemu_lines,
        .progress = progress, .opaque = opaque,
        .ref_max = s->refcount_max < UINT32_MAX ? s->refcount_max : UINT32_MAX,
    };
    memset(res, 0, sizeof(*res));
    pthread_mutex_lock(&s->lock);
    int r = s->writable ? qcow2_flush_metadata(s, err) : 0;
    if (r == 0)
        r = vdisk_file_get_length(s->file, &c.file_len, err);   /* sizes the IMRT */
    if (r < 0) {
        res->check_errors++;
        goto out;
    }
    res->total_clusters = (s->img->size + s->cluster_size - 1) >> s->cluster_bits;
    r = qcow2_check_read_snapshots(&c, err);
    if (r < 0)
        goto out;
    /* Progress: L1 entries of the active and the snapshot tables. */
    c.to_walk = s->l1_size;
    for (uint32_t i = 0; i < c.nsnaps; i++)
        c.to_walk += c.snaps[i].l1_size;
    r = qcow2_check_grow(&c, (c.file_len + s->cluster_size - 1) >> s->cluster_bits, err);
    c.grow_limit = c.nb + MAX_GROW_CLUSTERS;
    if (r < 0)
        res->check_errors++;
    if (r == 0)
        r = run(&c, fix, err);
    if (fix) {
        /* Repairs moved refcounts around: search for free clusters anew. */
        s->free_cluster_index = 0;
        s->free_byte_offset = 0;
    }
out:
    pthread_mutex_unlock(&s->lock);
    qcow2_check_free_snapshots(&c);
    free(c.ref);
    free(c.owner);
    return r;
}

int
qcow2_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
            vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
            vdisk_error *err)
{
    return qcow2_check_state(img->priv, fix, res, report, progress, opaque, err);
}
