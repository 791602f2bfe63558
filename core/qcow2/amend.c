/* libvdisk — qcow2 amend, as `qemu-img amend`: the compat level
 * (0.10 = version 2, 1.1 = version 3) and lazy refcounts.
 *
 * Also the refcount width (refcount-order.c) and the size (the resize
 * code); the backing file only as it already is, as QEMU.
 *
 * Upgrade: snapshot table entries get the extra data version 3 requires,
 * then the header cluster is rewritten as version 3.  Downgrade: refused
 * for what version 2 cannot hold (refcount widths other than 16, extended
 * L2, external data file, snapshots of another size, zstd-compressed data);
 * zero clusters, which version 2 lacks, are turned into unallocated or
 * zero-filled data clusters in the active L1 and in every snapshot's, then
 * the header is rewritten as version 2.  Messages are qemu-img's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ordering.h"

#define HDR_COMPAT 80

typedef int (*l2_fn)(qcow2_state *s, uint8_t *table, uint64_t l2_rc, void *opaque,
                     vdisk_error *err);

/* Call fn on every L2 table of one L1 table (lock held). */
static int
walk_l1(qcow2_state *s, const uint64_t *l1, uint32_t n, l2_fn fn, void *opaque, vdisk_error *err)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t l2 = l1[i] & L1E_OFFSET_MASK, rc;
        if (!l2)
            continue;
        uint8_t *t;
        int r = qcow2_refcount_get(s, l2 >> s->cluster_bits, &rc, err);
        if (r == 0)
            r = qcow2_cache_get(s->l2_cache, l2, false, &t, err);
        if (r < 0)
            return r;
        r = fn(s, t, rc, opaque, err);
        qcow2_cache_put(s->l2_cache, t);
        if (r < 0)
            return r;
    }
    return 0;
}

/* fn on the L2 tables of the active L1 and of every snapshot. */
static int
walk_all(qcow2_state *s, l2_fn fn, void *opaque, vdisk_error *err)
{
    int r = walk_l1(s, s->l1, s->l1_size, fn, opaque, err);
    struct qcow2_snapshot *v = NULL;
    size_t len;
    if (r == 0)
        r = qcow2_snapshots_read(s, &v, &len, err);
    for (uint32_t i = 0; r == 0 && i < s->nb_snapshots; i++) {
        uint64_t *l1 = NULL;
        r = qcow2_snapshot_read_l1(s, &v[i], v[i].l1_size, &l1, err);
        if (r == 0)
            r = walk_l1(s, l1, v[i].l1_size, fn, opaque, err);
        free(l1);
    }
    qcow2_snapshots_free(v, s->nb_snapshots);
    return r;
}

/* Does any L2 entry name a compressed cluster? */
static int
find_compressed(qcow2_state *s, uint8_t *t, uint64_t l2_rc, void *opaque, vdisk_error *err)
{
    (void)l2_rc;
    (void)err;
    for (uint32_t j = 0; j < s->l2_entries; j++) {
        uint64_t e, bm;
        qcow2_l2_get_entry(s, t, j, &e, &bm);
        if (e & QCOW_OFLAG_COMPRESSED)
            *(bool *)opaque = true;
    }
    return 0;
}

/* A cluster of zeros, refcount l2_rc (one per L1 sharing the table). */
static int
zeroed_cluster(qcow2_state *s, uint64_t l2_rc, const uint8_t *zeros, uint64_t *off,
               vdisk_error *err)
{
    int r = qcow2_alloc_clusters(s, 1, off, err);
    if (r == 0 && l2_rc > 1)
        r = qcow2_refcount_update(s, *off >> s->cluster_bits, 1, (int64_t)l2_rc - 1, false, err);
    if (r == 0)
        r = vdisk_file_pwrite(s->file, zeros, s->cluster_size, *off, err);
    return r;
}

/* The version 2 form of one zero-flagged entry. */
static int
expand_entry(qcow2_state *s, uint64_t e, uint64_t l2_rc, const uint8_t *zeros, uint64_t *ne,
             vdisk_error *err)
{
    uint64_t host = e & L2E_OFFSET_MASK, rc = 0, off;
    /* No backing file: unallocated reads as zeros just the same. */
    if (!host && !s->backing_file) {
        *ne = 0;
        return 0;
    }
    int r = host ? qcow2_refcount_get(s, host >> s->cluster_bits, &rc, err) : 0;
    if (r < 0)
        return r;
    if (host && rc == l2_rc) {
        /* Preallocated and only reached through this table: zero it. */
        *ne = e & ~QCOW_OFLAG_ZERO;
        return vdisk_file_pwrite(s->file, zeros, s->cluster_size, host, err);
    }
    r = zeroed_cluster(s, l2_rc, zeros, &off, err);
    if (r == 0 && host)
        r = qcow2_refcount_update(s, host >> s->cluster_bits, 1, -(int64_t)l2_rc, false, err);
    *ne = off | (l2_rc == 1 ? QCOW_OFLAG_COPIED : 0);
    return r;
}

static int
expand_zero(qcow2_state *s, uint8_t *t, uint64_t l2_rc, void *opaque, vdisk_error *err)
{
    const uint8_t *zeros = opaque;
    bool changed = false;
    for (uint32_t j = 0; j < s->l2_entries; j++) {
        uint64_t e, bm, ne;
        qcow2_l2_get_entry(s, t, j, &e, &bm);
        if ((e & QCOW_OFLAG_COMPRESSED) || !(e & QCOW_OFLAG_ZERO))
            continue;
        int r = expand_entry(s, e, l2_rc, zeros, &ne, err);
        if (r < 0)
            return r;
        qcow2_l2_set_entry(s, t, j, ne, 0);
        changed = true;
    }
    if (changed)
        qcow2_cache_mark_dirty(s->l2_cache, t);
    return 0;
}

/* Offset of the end-of-extensions marker in a header cluster h whose
 * extensions start at `start`; 0 if there is none before `end`. */
static uint64_t
find_ext_end(const uint8_t *h, uint64_t start, uint64_t end)
{
    for (uint64_t p = start; p + 8 <= end;) {
        uint32_t magic = qcow2_be32(h + p), len = qcow2_be32(h + p + 4);
        if (magic == QCOW2_EXT_END)
            return p;
        p += 8 + (((uint64_t)len + 7) & ~UINT64_C(7));
    }
    return 0;
}

/* Copy the header extensions of the image that header_build does not
 * write (bitmaps, extensions of newer QEMUs) from the current header into
 * the new one nh, before its end marker, as QEMU keeps them. */
static int
keep_unknown_extensions(qcow2_state *s, uint8_t *nh, uint32_t new_len, vdisk_error *err)
{
    uint8_t *h = vdisk_alloc_aligned(s->cluster_size, true);
    if (!h)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = vdisk_file_pread(s->file, h, s->cluster_size, 0, err);
    uint64_t bf = qcow2_be64(h + 8), end = bf && bf < s->cluster_size ? bf : s->cluster_size;
    uint64_t nend = find_ext_end(nh, new_len, s->cluster_size);
    uint64_t nbf = qcow2_be64(nh + 8), nbf_len = nbf ? qcow2_be32(nh + 16) : 0;
    for (uint64_t p = s->header_length; r == 0 && nend && p + 8 <= end;) {
        uint32_t magic = qcow2_be32(h + p), len = qcow2_be32(h + p + 4);
        uint64_t total = 8 + (((uint64_t)len + 7) & ~UINT64_C(7));
        if (magic == QCOW2_EXT_END || total > end - p)
            break;
        if (magic != QCOW2_EXT_BACKING_FORMAT && magic != QCOW2_EXT_FEATURE_TABLE) {
            uint64_t tail = 8 + (nbf ? nbf + nbf_len - nend - 8 : 0);   /* end marker + name */
            if (nend + total + tail > s->cluster_size) {
                r = vdisk_error_set(err, ENOSPC, "%s: header extension 0x%08x does not fit in "
                                    "the new header", s->name, magic);
                break;
            }
            memmove(nh + nend + total, nh + nend, tail);
            memcpy(nh + nend, h + p, total);
            nend += total;
            if (nbf)
                qcow2_put_be64(nh + 8, nbf += total);
        }
        p += total;
    }
    free(h);
    return r;
}

/* Rewrite the header cluster for `version` with the current fields. */
static int
rewrite_header(qcow2_state *s, int version, uint64_t compat, vdisk_error *err)
{
    struct qcow2_header_params p = {
        .version = version, .cluster_bits = s->cluster_bits, .size = s->img->size,
        .l1_offset = s->l1_offset, .l1_size = s->l1_size,
        .reftable_offset = s->reftable_offset, .reftable_clusters = s->reftable_clusters,
        .refcount_order = s->refcount_order, .incompat = version >= 3 ? s->incompat : 0,
        .compat = compat, .compression_type = s->compression_type,
        .backing_file = s->backing_file, .backing_format = s->backing_format,
        .crypt_method = s->crypt_method, .crypt_hdr_offset = s->crypt_hdr_offset,
        .crypt_hdr_length = s->crypt_hdr_length,
    };
    uint8_t *h = vdisk_alloc_aligned(s->cluster_size, true);
    if (!h)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = qcow2_header_build(&p, h, err);
    if (r == 0)
        r = keep_unknown_extensions(s, h, version >= 3 ? 112 : QCOW2_V2_HEADER_LEN, err);
    if (r == 0) {
        /* The autoclear bits we keep (bitmaps) stay set; v2 has none. */
        if (version >= 3)
            qcow2_put_be64(h + QCOW2_HDR_AUTOCLEAR, s->autoclear);
        qcow2_put_be32(h + 60, s->nb_snapshots);
        qcow2_put_be64(h + 64, s->snapshots_offset);
        r = qcow2_flush_metadata(s, err);
    }
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r == 0)
        r = vdisk_file_pwrite(s->file, h, s->cluster_size, 0, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    free(h);
    if (r < 0)
        vdisk_error_prefix(err, "%s: cannot rewrite the header", s->name);
    if (r == 0) {
        s->version = version;
        s->compat = compat;
        s->header_length = version >= 3 ? 112 : QCOW2_V2_HEADER_LEN;
        if (version < 3)
            s->incompat = s->autoclear = 0;
    }
    return r;
}

static int
upgrade(qcow2_state *s, uint64_t compat, vdisk_error *err)
{
    struct qcow2_snapshot *v;
    size_t len;
    int r = qcow2_snapshots_read(s, &v, &len, err);
    bool short_extra = false;
    for (uint32_t i = 0; r == 0 && i < s->nb_snapshots; i++)
        short_extra |= v[i].extra_size < 16;
    /* Version 3 wants disk_size in every entry; our writer puts it there. */
    if (r == 0 && short_extra)
        r = qcow2_snapshots_write(s, v, s->nb_snapshots, len, err);
    qcow2_snapshots_free(v, s->nb_snapshots);
    return r < 0 ? r : rewrite_header(s, 3, compat, err);
}

/* Refusals of qcow2_downgrade, in qemu-img's words. */
static int
downgrade_check(qcow2_state *s, uint32_t order, uint64_t size, vdisk_error *err)
{
    if (order != 4)
        return vdisk_error_set(err, ENOTSUP, "compat=0.10 requires refcount_bits=16");
    if (s->incompat & QCOW2_INCOMPAT_DATA_FILE)
        return vdisk_error_set(err, ENOTSUP, "Cannot downgrade an image with a data file");
    struct qcow2_snapshot *v;
    size_t len;
    int r = qcow2_snapshots_read(s, &v, &len, err);
    for (uint32_t i = 0; r == 0 && i < s->nb_snapshots; i++)
        if (v[i].vm_state_size > UINT32_MAX || v[i].disk_size != size)
            r = vdisk_error_set(err, ENOTSUP, "Internal snapshots prevent downgrade of image");
    qcow2_snapshots_free(v, s->nb_snapshots);
    if (r < 0)
        return r;
    uint64_t bad = s->incompat & ~(QCOW2_INCOMPAT_COMPRESSION | QCOW2_INCOMPAT_DIRTY);
    if (bad)
        return vdisk_error_set(err, ENOTSUP, "Cannot downgrade an image with incompatible "
                               "features 0x%" PRIx64 " set", bad);
    if (s->compression_type != 0) {
        bool found = false;
        r = walk_all(s, find_compressed, &found, err);
        if (r == 0 && found)
            r = vdisk_error_set(err, ENOTSUP, "Cannot downgrade an image with zstd compression "
                                "type and existing compressed clusters");
    }
    return r;
}

static int
downgrade(qcow2_state *s, vdisk_error *err)
{
    int r = downgrade_check(s, s->refcount_order, s->img->size, err);
    if (r < 0)
        return r;
    uint8_t *zeros = vdisk_alloc_aligned(s->cluster_size, true);
    if (!zeros)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    r = walk_all(s, expand_zero, zeros, err);
    free(zeros);
    if (r == 0)
        r = qcow2_flush_metadata(s, err);
    if (r == 0) {
        s->compression_type = 0;
        s->incompat &= ~QCOW2_INCOMPAT_COMPRESSION;
        r = rewrite_header(s, 2, 0, err);
    }
    if (r == 0) {
        /* Version 2 has no dirty bit: nothing for close to clear. */
        s->dirty_written = false;
        s->lazy = false;
    }
    return r;
}

/* lazy_refcounts on a version 3 image: the compatible feature bit. */
static int
set_lazy(qcow2_state *s, bool on, vdisk_error *err)
{
    uint64_t compat = on ? s->compat | QCOW2_COMPAT_LAZY_REFCOUNTS
                         : s->compat & ~QCOW2_COMPAT_LAZY_REFCOUNTS;
    if (compat == s->compat)
        return 0;
    /* Turning them off: refcounts on disk first, then no more dirty bit. */
    int r = qcow2_flush_metadata(s, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r == 0 && !on && s->dirty_written) {
        r = qcow2_header_write_u64(s, QCOW2_HDR_INCOMPAT, s->incompat & ~QCOW2_INCOMPAT_DIRTY, err);
        if (r == 0) {
            s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
            s->dirty_written = false;
            s->lazy = false;
        }
    }
    if (r == 0)
        r = qcow2_header_write_u64(s, HDR_COMPAT, compat, err);
    if (r == 0)
        s->compat = compat;
    return r;
}

static bool
same_name(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Every refusal, before anything is written (QEMU finds some of them only
 * after it has upgraded the image or changed the refcount width). */
static int
precheck(qcow2_state *s, const vdisk_amend_opts *o, int target, vdisk_error *err)
{
    uint32_t order = s->refcount_order;
    if (o->refcount_bits && o->refcount_bits != 1 << order) {
        if (target < 3 && o->refcount_bits != 16)
            return vdisk_error_set(err, EINVAL, "Refcount widths other than 16 bits require "
                                   "compatibility level 1.1 or above (use compat=1.1 or greater)");
        order = (uint32_t)__builtin_ctz((unsigned)o->refcount_bits);
        int r = qcow2_refcount_check_order(s, order, err);
        if (r < 0)
            return r;
    }
    if ((o->backing_file || o->backing_format) &&
        (!same_name(o->backing_file, s->backing_file) ||
         !same_name(o->backing_format, s->backing_format)))
        return vdisk_error_set(err, EINVAL, "Cannot amend the backing file\n"
                               "You can use 'qemu-img rebase' instead.");
    if (o->lazy_refcounts == 1 && target < 3)
        return vdisk_error_set(err, EINVAL, "Lazy refcounts only supported with compatibility "
                               "level 1.1 and above (use compat=1.1 or greater)");
    uint64_t size = o->size ? o->size : s->img->size;
    if (o->size > (uint64_t)INT64_MAX)
        return vdisk_error_set(err, EINVAL, "Image size cannot be negative");
    if (o->size) {
        /* The resize runs after an upgrade: check it as of the new version. */
        int version = s->version;
        s->version = target > version ? target : version;
        int r = qcow2_truncate_check(s, o->size, VDISK_PREALLOC_OFF, true, err);
        s->version = version;
        if (r < 0)
            return r;
    }
    return target < s->version ? downgrade_check(s, order, size, err) : 0;
}

/* The steps up to the resize, in QEMU's order (lock held). */
static int
amend_head(qcow2_state *s, const vdisk_amend_opts *o, int target, vdisk_error *err)
{
    int r = precheck(s, o, target, err);
    if (r < 0)
        return r;
    bool lazy = o->lazy_refcounts >= 0 ? o->lazy_refcounts == 1
                                       : (s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) != 0;
    if (target > s->version)
        r = upgrade(s, lazy ? QCOW2_COMPAT_LAZY_REFCOUNTS : 0, err);
    if (r == 0 && o->refcount_bits && o->refcount_bits != 1 << s->refcount_order)
        r = qcow2_change_refcount_order(s, (uint32_t)__builtin_ctz((unsigned)o->refcount_bits),
                                        o->progress, o->progress_opaque, err);
    if (r == 0 && target >= 3 && s->version >= 3)
        r = set_lazy(s, lazy, err);
    return r;
}

int
qcow2_amend(vdisk_image *img, const vdisk_amend_opts *opts, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    pthread_mutex_lock(&s->lock);
    int target = opts->qcow2_version ? opts->qcow2_version : s->version;
    int r = amend_head(s, opts, target, err);
    pthread_mutex_unlock(&s->lock);
    /* The resize takes the lock itself; unlike `resize --shrink` it shrinks
     * images with snapshots, as qemu-img amend. */
    if (r == 0 && opts->size && opts->size != img->size)
        r = qcow2_resize(img, opts->size, VDISK_PREALLOC_OFF, true, NULL, NULL, err);
    pthread_mutex_lock(&s->lock);
    if (r == 0 && target < s->version)
        r = downgrade(s, err);
    pthread_mutex_unlock(&s->lock);
    return r;
}
