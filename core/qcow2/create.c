/* libvdisk — creating qcow2 images and measuring them, as qemu-img does.
 *
 * Creation follows QEMU's steps so the layout (and `qemu-img map` of the
 * result) matches: a header cluster, a one-cluster refcount table and one
 * refcount block; the image is then opened and given its L1 table and its
 * preallocation through the normal allocator:
 *   metadata   L2 table, then its data clusters, per L2 table
 *   falloc     new refcount structures after the L1 table, then all data
 *   full       clusters in one run (fallocated, or written with zeros),
 *              then the L2 tables
 * The full header (feature table, backing file) is written last, after a
 * sync of everything it names; the bootstrap header itself follows a sync
 * of its refcount table and block.  So a power loss during a create leaves
 * a file without a header (not an image yet, as a failed create that could
 * not remove it), the bootstrap image (empty, leaks at worst) or the final
 * one (tests/crash checks every such state).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ordering.h"

static uint32_t
log2u(uint64_t v)
{
    uint32_t n = 0;
    while ((UINT64_C(1) << n) < v)
        n++;
    return n;
}

static void
header_params(const vdisk_create_opts *o, struct qcow2_header_params *p)
{
    memset(p, 0, sizeof(*p));
    p->version = o->compat;
    p->cluster_bits = log2u(o->cluster_size);
    p->refcount_order = log2u((uint64_t)o->refcount_bits);
    p->reftable_offset = o->cluster_size;
    p->reftable_clusters = 1;
    p->compression_type = (uint8_t)o->compression_type;
    if (o->compression_type != VDISK_COMPRESSION_ZLIB)
        p->incompat |= QCOW2_INCOMPAT_COMPRESSION;
    if (o->extended_l2)
        p->incompat |= QCOW2_INCOMPAT_EXTL2;
    if (o->lazy_refcounts)
        p->compat |= QCOW2_COMPAT_LAZY_REFCOUNTS;
}

/* Header, refcount table and one refcount block counting those three.
 * The header goes last, after a sync: a power loss before it leaves a file
 * without a qcow2 header (not an image yet), never a header whose refcount
 * table is missing. */
static int
write_bootstrap(vdisk_file *file, const vdisk_create_opts *o, vdisk_error *err)
{
    uint64_t cs = o->cluster_size;
    struct qcow2_header_params p;
    header_params(o, &p);
    uint8_t *buf = vdisk_alloc_aligned(3 * cs, true);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", file->path);
    int r = qcow2_header_build(&p, buf, err);
    if (r == 0) {
        qcow2_put_be64(buf + cs, 2 * cs);
        for (uint64_t i = 0; i < 3; i++)
            qcow2_refcount_write_entry(buf + 2 * cs, i, p.refcount_order, 1);
        r = vdisk_file_pwrite(file, buf + cs, 2 * cs, cs, err);
    }
    if (r == 0)
        r = vdisk_file_flush(file, err);
    if (r == 0)
        r = vdisk_file_pwrite(file, buf, cs, 0, err);
    free(buf);
    return r;
}

static int
make_l1(qcow2_state *s, uint64_t size, vdisk_error *err)
{
    uint64_t n = qcow2_size_to_l1(size, s->cluster_bits, s->l2_bits);
    if (n * 8 > QCOW2_MAX_L1_BYTES)
        return vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                    "%s: The image size is too large for file format 'qcow2' "
                                    "(try using a larger cluster size)", s->name);
    if (n == 0)
        return 0;
    uint64_t clusters = (n * 8 + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t off;
    int r = qcow2_alloc_clusters(s, clusters, &off, err);
    if (r < 0)
        return r;
    s->l1 = calloc(n, 8);
    uint8_t *zeros = calloc(n, 8);
    if (!s->l1 || !zeros) {
        free(zeros);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    }
    /* Only the table itself is written, as QEMU does: a 2 GiB image stays
     * at 3 clusters plus 32 bytes. */
    r = vdisk_file_pwrite(s->file, zeros, n * 8, off, err);
    free(zeros);
    s->l1_offset = off;
    s->l1_size = (uint32_t)n;
    return r;
}

/* Point guest clusters [g, g+n) at host clusters from `host` on. */
static int
link_clusters(qcow2_state *s, uint64_t g, uint64_t n, uint64_t host, vdisk_error *err)
{
    struct qcow2_freelist fl = { 0 };
    int r = 0;
    for (uint64_t i = 0; i < n && r == 0; i++) {
        uint8_t *t;
        uint32_t idx;
        r = qcow2_l2_get_for_write(s, g + i, &t, &idx, &fl, err);
        if (r < 0)
            break;
        /* Preallocated subclusters stay "unallocated": they read as zeros
         * (or backing data) until written, as in QEMU. */
        qcow2_l2_set_entry(s, t, idx, (host + (i << s->cluster_bits)) | QCOW_OFLAG_COPIED, 0);
        qcow2_cache_mark_dirty(s->l2_cache, t);
        qcow2_cache_put(s->l2_cache, t);
    }
    free(fl.v);
    return r;
}

static int
prealloc_metadata(qcow2_state *s, uint64_t size, vdisk_error *err)
{
    uint64_t total = (size + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t last_host = 0, last_bytes = 0;
    for (uint64_t g = 0; g < total;) {
        uint64_t n = s->l2_entries - (g & (s->l2_entries - 1));
        if (n > total - g)
            n = total - g;
        /* The L2 table first, then its data clusters right after it. */
        uint8_t *t;
        uint32_t idx;
        struct qcow2_freelist fl = { 0 };
        int r = qcow2_l2_get_for_write(s, g, &t, &idx, &fl, err);
        if (r < 0)
            return r;
        qcow2_cache_put(s->l2_cache, t);
        uint64_t host;
        r = qcow2_alloc_clusters(s, n, &host, err);
        if (r == 0)
            r = link_clusters(s, g, n, host, err);
        if (r < 0)
            return r;
        last_host = host;
        last_bytes = size - (g << s->cluster_bits);
        g += n;
    }
    uint64_t end = last_host + last_bytes, len;
    uint64_t tail = (s->sc_size - (size & (s->sc_size - 1))) & (s->sc_size - 1);
    if (total && tail) {
        /* QEMU copies-on-write the rest of a partial last (sub)cluster: zeros. */
        uint8_t *z = calloc(1, tail);
        if (!z)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        int r = vdisk_file_pwrite(s->file, z, tail, end, err);
        free(z);
        if (r < 0)
            return r;
        end += tail;
    }
    int r = vdisk_file_get_length(s->file, &len, err);
    if (r == 0 && total && end > len)
        r = vdisk_file_truncate(s->file, end, err);
    return r;
}

static int
prealloc_data(qcow2_state *s, uint64_t size, vdisk_prealloc mode, vdisk_progress_fn progress,
              void *opaque, vdisk_error *err)
{
    uint64_t total = (size + s->cluster_size - 1) >> s->cluster_bits;
    if (total == 0)
        return 0;
    uint64_t flen;
    int r = vdisk_file_get_length(s->file, &flen, err);
    if (r < 0)
        return r;
    uint64_t start = (flen + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t l2_tables = (total + s->l2_entries - 1) / s->l2_entries + 1;
    uint64_t end, host;
    r = qcow2_refcount_area(s, start, total + l2_tables, &end, err);
    if (r == 0)
        r = qcow2_alloc_clusters(s, total, &host, err);
    if (r < 0)
        return r;
    uint64_t bytes = total << s->cluster_bits;
    if (mode == VDISK_PREALLOC_FULL) {
        uint64_t cur;
        r = vdisk_file_get_length(s->file, &cur, err);
        if (r == 0 && cur < host + bytes)
            r = vdisk_file_write_zeroes_full(s->file, cur > host ? cur : host,
                                             host + bytes - (cur > host ? cur : host), progress,
                                             opaque, err);
    } else {
        r = vdisk_file_allocate(s->file, host, bytes, err);
    }
    return r < 0 ? r : link_clusters(s, 0, total, host, err);
}

static int
write_final_header(qcow2_state *s, const vdisk_create_opts *o, vdisk_error *err)
{
    struct qcow2_header_params p;
    header_params(o, &p);
    p.size = o->size;
    p.l1_offset = s->l1_offset;
    p.l1_size = s->l1_size;
    p.reftable_offset = s->reftable_offset;
    p.reftable_clusters = s->reftable_clusters;
    p.backing_file = o->backing_file;
    if (s->crypt_hdr_length) {
        p.crypt_method = QCOW2_CRYPT_LUKS;
        p.crypt_hdr_offset = s->crypt_hdr_offset;
        p.crypt_hdr_length = s->crypt_hdr_length;
    } else if (o->encrypt.format == VDISK_ENCRYPT_AES) {
        p.crypt_method = QCOW2_CRYPT_AES;   /* legacy: the method is all the header records */
    }
    if (o->backing_file && o->backing_format != VDISK_FORMAT_UNKNOWN)
        p.backing_format = vdisk_format_name(o->backing_format);
    uint8_t *buf = vdisk_alloc_aligned(s->cluster_size, true);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = qcow2_header_build(&p, buf, err);
    if (r == 0)
        r = vdisk_file_pwrite(s->file, buf, s->cluster_size, 0, err);
    free(buf);
    return r;
}

/* Create: see the file comment. */
int
qcow2_create(vdisk_file *file, const vdisk_create_opts *opts, vdisk_progress_fn progress,
             void *opaque, vdisk_error *err)
{
    int r = write_bootstrap(file, opts, err);
    if (r < 0)
        return r;
    vdisk_image img;
    memset(&img, 0, sizeof(img));
    img.drv = &vdisk_qcow2_driver;
    img.file = file;
    img.filename = file->path;
    img.flags = VDISK_OPEN_RDWR | VDISK_OPEN_NO_BACKING;
    r = qcow2_open(&img, err);
    if (r < 0)
        return r;
    qcow2_state *s = img.priv;
    /* No dirty bit while we build the image: nobody can see it yet. */
    s->compat &= ~QCOW2_COMPAT_LAZY_REFCOUNTS;
    img.size = opts->size;
    r = make_l1(s, opts->size, err);
    if (r == 0 && opts->encrypt.format == VDISK_ENCRYPT_LUKS)
        r = qcow2_crypt_create(s, opts, err);   /* LUKS header clusters (crypt.c) */
    if (r == 0 && opts->prealloc == VDISK_PREALLOC_METADATA)
        r = prealloc_metadata(s, opts->size, err);
    else if (r == 0 && opts->prealloc != VDISK_PREALLOC_OFF)
        r = prealloc_data(s, opts->size, opts->prealloc, progress, opaque, err);
    if (r == 0)
        r = qcow2_flush_metadata(s, err);
    /* What the final header names is durable before it (the caller syncs
     * the header itself): a power loss leaves the bootstrap header or the
     * final one, each with its tables complete. */
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r == 0)
        r = write_final_header(s, opts, err);
    s->writable = false;   /* everything is written; close must not touch the file */
    qcow2_close(&img);
    return r;
}

/* QEMU's qcow2_calc_prealloc_size: the file size with every cluster allocated. */
static uint64_t
prealloc_size(uint64_t size, uint64_t cs, uint32_t order, bool ext_l2)
{
    uint64_t l2e = ext_l2 ? 16 : 8;
    uint64_t aligned = (size + cs - 1) / cs * cs;
    uint64_t meta = cs;
    uint64_t per_l2 = cs / l2e;
    uint64_t nl2e = (aligned / cs + per_l2 - 1) / per_l2 * per_l2;
    meta += nl2e * l2e;
    uint64_t nl1e = nl2e * l2e / cs;
    nl1e = (nl1e + cs / 8 - 1) / (cs / 8) * (cs / 8);
    meta += nl1e * 8;
    meta += qcow2_refcount_metadata_size((meta + aligned) / cs, cs, order, false, NULL);
    return meta + aligned;
}

/* Bytes of the source that a copy has to store (QEMU's accounting: whole
 * clusters of allocated data, skipping zeros). */
static int
source_required(vdisk_image *src, uint64_t cs, uint64_t *required, vdisk_error *err)
{
    uint64_t ssize = vdisk_get_size(src);
    *required = 0;
    for (uint64_t off = 0; off < ssize;) {
        vdisk_extent e;
        int r = vdisk_block_status_chain(src, off, ssize - off, &e, err);
        if (r < 0)
            return r;
        uint64_t pnum = e.length;
        if (e.flags & VDISK_EXTENT_ZERO) {
            /* skipped: reads as zeros */
        } else if ((e.flags & (VDISK_EXTENT_DATA | VDISK_EXTENT_ALLOCATED)) ==
                   (VDISK_EXTENT_DATA | VDISK_EXTENT_ALLOCATED)) {
            pnum = (off + pnum + cs - 1) / cs * cs - off;
            *required += off % cs + pnum;
        }
        off += pnum;
    }
    return 0;
}

/* Measure: what `qemu-img measure -O qcow2` prints. */
int
qcow2_measure(const vdisk_create_opts *opts, vdisk_image *src, vdisk_measure *out, vdisk_error *err)
{
    uint64_t cs = opts->cluster_size;
    uint64_t vsize = src ? vdisk_get_size(src) : opts->size;
    vsize = (vsize + cs - 1) / cs * cs;
    uint64_t l2e = opts->extended_l2 ? 16 : 8;
    uint64_t l2_tables = (vsize / cs + cs / l2e - 1) / (cs / l2e);
    if (l2_tables * 8 > QCOW2_MAX_L1_BYTES)
        return vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                    "The image size is too large (try using a larger cluster "
                                    "size)");
    uint64_t required = 0;
    if (src) {
        if (opts->backing_file) {
            required = vsize;
        } else {
            int r = source_required(src, cs, &required, err);
            if (r < 0)
                return r;
        }
    }
    if (opts->prealloc == VDISK_PREALLOC_FULL || opts->prealloc == VDISK_PREALLOC_FALLOC)
        required = vsize;
    out->fully_allocated = prealloc_size(vsize, cs, log2u((uint64_t)opts->refcount_bits),
                                         opts->extended_l2);
    out->required = out->fully_allocated - vsize + required;
    uint64_t luks = qcow2_crypt_header_size(opts);   /* crypt.c */
    out->fully_allocated += luks;
    out->required += luks;
    return 0;
}
