/* libvdisk — the QED format driver (QEMU Enhanced Disk), read only.
 *
 * Reads follow the L1 and L2 tables (table.c); unallocated clusters read
 * from the backing file, opened as qcow2 backing files are (only when the
 * image itself was opened, never for a file found by probing alone, and as
 * the caller's backing policy allows), or as zeros.  A backing file marked
 * "no probe" is raw.  An image whose need-check flag is set is still read:
 * every table offset is checked before use.  Files: qed.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "foreign.h"
#include "qed.h"

static void
state_free(qed_state *s)
{
    if (!s)
        return;
    qed_header_free(&s->h);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* The backing file, as the header names it (raw when it says not to probe). */
static int
open_backing(vdisk_image *img, qed_state *s, vdisk_error *err)
{
    if (!s->h.backing_file || (img->flags & VDISK_OPEN_NO_BACKING))
        return 0;
    vdisk_format fmt = (s->h.features & QED_F_BACKING_FORMAT_NO_PROBE) ? VDISK_FORMAT_RAW
                                                                         : VDISK_FORMAT_UNKNOWN;
    return vdisk_open_backing(img, s->h.backing_file, fmt, &img->backing, err);
}

/* Open: the header (header.c), then the backing file. */
static int
qed_open(vdisk_image *img, vdisk_error *err)
{
    int r = vdisk_foreign_refuse_rdwr(img, err);
    if (r < 0)
        return r;
    qed_state *s = calloc(1, sizeof(*s));
    if (!s)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    pthread_mutex_init(&s->lock, NULL);
    qed_cache_init(s);
    s->name = img->filename;
    s->file = img->file;
    img->priv = s;
    if ((r = vdisk_file_get_length(img->file, &s->file_size, err)) < 0 ||
        (r = qed_read_header(s, err)) < 0 ||
        (img->size = s->h.image_size, r = open_backing(img, s, err)) < 0) {
        /* image.c does not close a handle whose open failed */
        state_free(s);
        img->priv = NULL;
        return r;
    }
    return 0;
}

/* Release the state (image.c closes the backing file). */
static void
qed_close(vdisk_image *img)
{
    state_free(img->priv);
    img->priv = NULL;
}

/* Unallocated: the backing file's bytes up to its end, then zeros. */
static int
read_unallocated(vdisk_image *img, uint8_t *p, uint64_t n, uint64_t off, vdisk_error *err)
{
    vdisk_image *b = img->backing;
    uint64_t from_backing = !b || off >= b->size ? 0 : b->size - off < n ? b->size - off : n;
    memset(p + from_backing, 0, n - from_backing);
    return from_backing ? vdisk_pread(b, p, from_backing, off, err) : 0;
}

/* Read: run by run of clusters of one kind. */
static int
qed_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    qed_state *s = img->priv;
    uint8_t *p = buf;
    while (len > 0) {
        qed_kind kind;
        uint64_t host, run;
        int r = qed_lookup(s, off, len, &kind, &host, &run, err);
        if (r == 0 && kind == QED_DATA)
            r = vdisk_file_pread(img->file, p, run, host, err);
        else if (r == 0 && kind == QED_ZERO)
            memset(p, 0, run);
        else if (r == 0)
            r = read_unallocated(img, p, run, off, err);
        if (r < 0)
            return r;
        p += run, off += run, len -= run;
    }
    return 0;
}

/* Block status: data, zero clusters (allocated zeros), or unallocated
 * (reads go to the backing file). */
static int
qed_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err)
{
    qed_kind kind;
    uint64_t host, run;
    int r = qed_lookup(img->priv, off, len, &kind, &host, &run, err);
    if (r < 0)
        return r;
    if (kind == QED_DATA)
        return vdisk_foreign_data_extent(img, host, run, ext, err);
    ext->flags = kind == QED_ZERO ? VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO : 0;
    ext->length = run;
    return 0;
}

/* Info: cluster size, the backing file (raw when the header says not to
 * probe it).  The need-check flag is not shown as dirty: qemu-img info
 * reports a read-only QED image as clean whatever the flag says. */
static int
qed_get_info(vdisk_image *img, vdisk_info *info, vdisk_error *err)
{
    const qed_state *s = img->priv;
    info->cluster_size = s->h.cluster_size;
    if (s->h.backing_file && !(info->backing_file = strdup(s->h.backing_file)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    if (s->h.backing_file && (s->h.features & QED_F_BACKING_FORMAT_NO_PROBE) &&
        !(info->backing_format = strdup("raw")))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    return 0;
}

const struct vdisk_driver vdisk_qed_driver = {
    .name = "qed",
    .format = VDISK_FORMAT_QED,
    .open = qed_open,                           /* header (header.c), backing file */
    .close = qed_close,
    .pread = qed_pread,                         /* through the tables (table.c) */
    .pwrite = vdisk_foreign_pwrite,             /* read only: refused */
    .write_zeroes = vdisk_foreign_write_zeroes,
    .discard = vdisk_foreign_discard,
    .flush = vdisk_foreign_flush,
    .block_status = qed_block_status,
    .get_info = qed_get_info,
    .check = qed_check,                         /* tables and leaks (check.c) */
};
