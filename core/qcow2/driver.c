/* libvdisk — the qcow2 format driver: flush, info, and the driver table.
 * The work is split by concern; each file calls only the ones below it:
 *   open.c      open/close: state, caches, dirty repair, backing file
 *   amend.c     compat level, refcount width, lazy refcounts, size
 *   create.c    new images, preallocation, measure
 *   snapshot.c  internal snapshots (snapshot-table.c: the table format)
 *   resize.c    grow / shrink; backing.c: the backing file name
 *   bitmap*.c   persistent dirty bitmaps (dir, load/mark, edit, store)
 *   check.c     check: reference counting walk (check-imrt.c: the counts;
 *               check-snapshot.c, check-bitmap.c; repair.c: repair and
 *               rebuild, OFLAG_COPIED; check-overlap.c: overlapping tables
 *               refused on a writable open)
 *   zero.c      write-zeroes and discard
 *   compress-write.c  compressed writes
 *   write.c     writes with copy-on-write, in-flight allocations
 *   crypt.c     LUKS (and legacy AES) sectors and key slots
 *   io.c        reads and block status
 *   compress.c  zlib/zstd codecs, compressing ahead of a write
 *   cluster.c   L1/L2 map, L2 allocation, freeing in order
 *   refcount.c  refcounts of any width, cluster allocation
 *   ordering.c  metadata write-back order, barriers, the dirty bit
 *   header.c    header fields, extensions, feature bits
 *   cache.c     LRU cache of L2 tables and refcount blocks
 *   buffers.c   reused I/O buffers
 *   provision.c inflate.c sparsify.c provision-plan.c
 *               provisioning in place (vdisk/provision.h)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check-int.h"
#include "ordering.h"
#include "qcow2/provision.h"

/* Flush: metadata in dependency order, then the file. */
static int
q_flush(vdisk_image *img, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    pthread_mutex_lock(&s->lock);
    int r = qcow2_flush_metadata(s, err);
    pthread_mutex_unlock(&s->lock);
    return r < 0 ? r : vdisk_file_flush(s->file, err);
}

/* Finish: store the persistent dirty bitmaps before the close (its errors
 * reach the caller of vdisk_close). */
static int
q_finish(vdisk_image *img, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    pthread_mutex_lock(&s->lock);
    int r = qcow2_bitmaps_store(s, err);
    qcow2_bitmaps_free(s);
    pthread_mutex_unlock(&s->lock);
    if (r < 0)
        vdisk_error_prefix(err, "%s: Lost persistent bitmaps during close", s->name);
    return r;
}

/* Info: the qcow2 fields of vdisk_info. */
static int
q_get_info(vdisk_image *img, vdisk_info *info, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    info->cluster_size = (uint32_t)s->cluster_size;
    info->qcow2_version = s->version;
    info->lazy_refcounts = s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS;
    info->refcount_bits = 1 << s->refcount_order;
    info->corrupt = s->incompat & QCOW2_INCOMPAT_CORRUPT;
    info->extended_l2 = s->ext_l2;
    info->compression_type = s->compression_type == 1 ? "zstd" : "zlib";
    info->dirty = s->incompat & QCOW2_INCOMPAT_DIRTY;
    info->encrypted = s->crypt_method != 0;
    int r = qcow2_crypt_info(s, info, err);
    if (r == 0)
        r = qcow2_bitmaps_info(s, info, err);   /* bitmap.c */
    if (r < 0)
        return r;
    if (s->backing_file && !(info->backing_file = strdup(s->backing_file)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    if (s->backing_format && !(info->backing_format = strdup(s->backing_format)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    return 0;
}

const struct vdisk_driver vdisk_qcow2_driver = {
    .name = "qcow2",
    .format = VDISK_FORMAT_QCOW2,
    .open = qcow2_open,                            /* header, tables, caches, backing file (open.c) */
    .close = qcow2_close,                          /* write back, clear dirty bit, free (open.c) */
    .create = qcow2_create,                        /* new image, preallocation (create.c) */
    .options = qcow2_options,                      /* -o of create, measure, amend (options.c) */
    .opts_validate = qcow2_opts_validate,          /* version, cluster size, encryption (options.c) */
    .pread = qcow2_pread,                          /* reads through the cluster map (io.c) */
    .pwrite = qcow2_pwrite,                        /* in place or allocating with COW (write.c) */
    .write_reserve = qcow2_write_reserve,          /* the same in two steps, for convert */
    .write_reserved = qcow2_write_reserved,        /* (write-reserve.c) */
    .write_cancel = qcow2_write_cancel,
    .write_zeroes = qcow2_write_zeroes,            /* zero clusters / zero bits (zero.c) */
    .discard = qcow2_discard,                      /* free clusters, punch holes (zero.c) */
    .pwrite_compressed = qcow2_pwrite_compressed,  /* zlib/zstd whole clusters (compress-write.c) */
    .compress_ahead = qcow2_compress_ahead,        /* compress clusters, no lock (compress.c) */
    .pwrite_precompressed = qcow2_pwrite_precompressed, /* store them in order (compress-write.c) */
    .finish = q_finish,                            /* store the dirty bitmaps (bitmap-store.c) */
    .flush = q_flush,                              /* metadata in order, then fdatasync */
    .block_status = qcow2_block_status,            /* this layer's allocation map (io.c) */
    .get_info = q_get_info,                        /* version, features, backing */
    .measure = qcow2_measure,                      /* qemu-img measure numbers (create.c) */
    .check_flags = VDISK_CHECK_QEMU_LINES,
    .check = qcow2_check,                          /* qemu-img check and repair (check.c) */
    .snapshot_list = qcow2_snapshot_list,          /* the snapshot table (snapshot.c) */
    .snapshot_create = qcow2_snapshot_create,      /* L1 copy, refcounts +1, new table */
    .snapshot_apply = qcow2_snapshot_apply,        /* switch the active L1 to a snapshot's */
    .snapshot_delete = qcow2_snapshot_delete,      /* refcounts -1, free its L1, new table */
    .snapshot_load = qcow2_snapshot_load,          /* read-only view of a snapshot */
    .bitmap = qcow2_bitmap,                        /* qemu-img bitmap edits (bitmap-edit.c) */
    .amend = qcow2_amend,                          /* compat and lazy_refcounts (amend.c) */
    .amend_keyslots = qcow2_crypt_amend_keyslots,  /* LUKS key slots add/erase (crypt.c) */
    .truncate = qcow2_truncate,                    /* grow / shrink the virtual size (resize.c) */
    .make_empty = qcow2_make_empty,                /* drop every cluster (resize.c) */
    .set_backing = qcow2_set_backing,              /* new backing name in the header (backing.c) */
    .inflate = qcow2_inflate,                      /* thin -> thick in place (inflate.c) */
    .eagerzero = qcow2_eagerzero,                  /* reserved space gets zeros (inflate.c) */
    .sparsify = qcow2_sparsify,                    /* zero clusters give space back (sparsify.c) */
};
