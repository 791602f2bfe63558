/* libvdisk — rebase: point an overlay at another backing file
 * (vdisk/backing.h), as `qemu-img rebase`.
 *
 * Safe mode walks the overlay's unallocated ranges, reads them from the old
 * and the new backing file (past either one's end: zeros) and writes the
 * old bytes into the overlay wherever the two differ (zeros as zero
 * writes, or as data for qemu-img's allocation), so the guest-visible content does not change; only then is the
 * header switched.  Unsafe mode switches the header only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/backing.h>

#include "driver.h"

#define REBASE_CHUNK (UINT64_C(1) << 20)

/* Read [off, off+n) of a backing image; past its end (or without one):
 * zeros. */
static int
read_backing(vdisk_image *b, uint8_t *buf, uint64_t n, uint64_t off, vdisk_error *err)
{
    uint64_t have = 0;
    if (b && off < b->size)
        have = n < b->size - off ? n : b->size - off;
    memset(buf + have, 0, n - have);
    return have ? vdisk_pread(b, buf, have, off, err) : 0;
}

/* Copy into the overlay, unit by unit, where old and new backing files
 * read differently in [off, off+n) (n <= REBASE_CHUNK). */
static int
copy_range(vdisk_image *ov, vdisk_image *old, vdisk_image *nb, uint8_t *bo, uint8_t *bn,
           uint64_t unit, uint64_t n, uint64_t off, bool zeros_as_data, vdisk_error *err)
{
    int r = read_backing(old, bo, n, off, err);
    if (r == 0)
        r = read_backing(nb, bn, n, off, err);
    for (uint64_t p = 0; r == 0 && p < n;) {
        uint64_t len = unit - ((off + p) % unit);
        if (len > n - p)
            len = n - p;
        if (memcmp(bo + p, bn + p, len) != 0) {
            /* as data: as qemu-img, zeros are still zero writes past the
             * old backing file's end (or without one) */
            bool past_old = !old || off + p >= old->size;
            if ((!zeros_as_data || past_old) && vdisk_buffer_is_zero(bo + p, len))
                r = vdisk_write_zeroes(ov, len, off + p, 0, err);
            else
                r = vdisk_pwrite(ov, bo + p, len, off + p, err);
        }
        p += len;
    }
    return r;
}

/* Safe mode's copy over the whole overlay. */
static int
copy_differences(vdisk_image *ov, vdisk_image *old, vdisk_image *nb, bool zeros_as_data,
                 vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    uint64_t unit = vdisk_get_cluster_size(ov);
    if (unit == 0 || unit > REBASE_CHUNK)
        unit = 65536;
    uint8_t *bo = vdisk_alloc_aligned(REBASE_CHUNK, false);
    uint8_t *bn = vdisk_alloc_aligned(REBASE_CHUNK, false);
    int r = bo && bn ? 0 : vdisk_error_set(err, ENOMEM, "%s: out of memory", ov->filename);
    for (uint64_t off = 0; r == 0 && off < ov->size;) {
        vdisk_extent e;
        uint64_t want = ov->size - off < REBASE_CHUNK ? ov->size - off : REBASE_CHUNK;
        r = vdisk_block_status(ov, off, want, &e, err);
        if (r == 0 && !(e.flags & VDISK_EXTENT_ALLOCATED))
            r = copy_range(ov, old, nb, bo, bn, unit, e.length, off, zeros_as_data, err);
        off += e.length;
        if (r == 0 && progress && progress(opaque, off, ov->size))
            r = vdisk_error_set(err, ECANCELED, "%s: rebase cancelled", ov->filename);
    }
    free(bo);
    free(bn);
    return r;
}

/* The new backing image: one already in the chain (detached from it), or
 * newly opened.  *in_chain tells which. */
static int
get_new_backing(vdisk_image *ov, const char *name, vdisk_format fmt, vdisk_image **out,
                bool *in_chain, vdisk_error *err)
{
    *out = NULL;
    *in_chain = false;
    if (!name)
        return 0;
    vdisk_image *found = vdisk_find_backing(ov, name);
    if (found && found != ov->backing && (fmt == VDISK_FORMAT_UNKNOWN ||
                                          found->drv->format == fmt)) {
        *out = found;
        *in_chain = true;
        return 0;
    }
    int r = vdisk_open_backing(ov, name, fmt, out, err);
    if (r < 0 && err) {
        vdisk_error_prefix(err, "Could not open new backing file '%s'", name);
        vdisk_error_name(err, name);
    }
    return r;
}

static int
check_rebase(vdisk_image *ov, const char *name, vdisk_format fmt, bool unsafe, vdisk_error *err)
{
    if (vdisk_is_read_only(ov))
        return vdisk_error_set(err, EROFS, "%s: rebase refused: image opened read-only",
                               ov->filename);
    if (!ov->drv->set_backing)
        return vdisk_error_set(err, ENOTSUP, "%s: format %s cannot have a backing file",
                               ov->filename, ov->drv->name);
    if (name && fmt != VDISK_FORMAT_RAW && fmt != VDISK_FORMAT_QCOW2)
        return vdisk_error_set(err, EINVAL, "%s: Could not change the backing file to '%s': "
                               "backing format must be specified (raw or qcow2)", ov->filename,
                               name);
    if (!unsafe && !ov->backing && (ov->flags & VDISK_OPEN_NO_BACKING)) {
        vdisk_info info;
        int r = vdisk_get_info(ov, &info, err);
        bool has = r == 0 && info.backing_file;
        vdisk_info_clear(&info);
        if (r < 0 || has)
            return r < 0 ? r : vdisk_error_set(err, EINVAL, "%s: a safe rebase needs the old "
                                               "backing file open (open the image with its "
                                               "backing chain, or rebase unsafely)",
                                               ov->filename);
    }
    return 0;
}

int
vdisk_rebase(vdisk_image *ov, const char *name, vdisk_format fmt, unsigned flags,
             vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    bool unsafe = flags & VDISK_REBASE_UNSAFE;
    if (name && !*name)
        name = NULL;
    int r = check_rebase(ov, name, fmt, unsafe, err);
    if (r < 0)
        return r;
    vdisk_image *nb = NULL, *old = ov->backing;
    bool in_chain = false;
    if (!unsafe) {
        r = get_new_backing(ov, name, fmt, &nb, &in_chain, err);
        /* The overlay writes as if the new backing file were already its
         * own: a zero write must hide the new file's data even where the
         * old one read zeros.  Every write covers whole clusters (whole
         * subclusters), so nothing is copied on write from it. */
        ov->backing = nb;
        if (r == 0)
            r = copy_differences(ov, old, nb, flags & VDISK_REBASE_ZEROS_AS_DATA, progress, opaque,
                                 err);
        ov->backing = old;
    }
    if (r == 0)
        r = vdisk_flush(ov, err);
    if (r == 0)
        r = ov->drv->set_backing(ov, name, name ? vdisk_format_name(fmt) : NULL, err);
    if (r < 0) {
        if (!in_chain)
            vdisk_close(nb, NULL);
        return r;
    }
    /* Swap the chain: the old backing image goes (minus the part reused). */
    if (in_chain) {
        nb->overlay->backing = NULL;
        nb->overlay = ov;
    }
    vdisk_close(old, NULL);
    ov->backing = nb;
    return 0;
}

int
vdisk_rebase_unsafe_named(vdisk_image *ov, const char *name, const char *fmt_name, vdisk_error *err)
{
    size_t n = fmt_name ? strlen(fmt_name) : 0;
    if (!name || !*name || n == 0 || n > 32 || strspn(fmt_name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
        return vdisk_error_set(err, EINVAL, "%s: a backing file and a format name of 1 to 32 "
                               "characters [a-z0-9_-] are needed (not '%s')", ov->filename,
                               fmt_name ? fmt_name : "");
    if (vdisk_is_read_only(ov))
        return vdisk_error_set(err, EROFS, "%s: rebase refused: image opened read-only", ov->filename);
    if (!ov->drv->set_backing)
        return vdisk_error_set(err, ENOTSUP, "%s: format %s cannot have a backing file",
                               ov->filename, ov->drv->name);
    int r = vdisk_flush(ov, err);
    if (r == 0)
        r = ov->drv->set_backing(ov, name, fmt_name, err);
    if (r < 0)
        return r;
    vdisk_close(ov->backing, NULL);   /* (the old backing file, if it was open) */
    ov->backing = NULL;
    return 0;
}
