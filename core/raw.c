/* libvdisk — the raw format driver.
 *
 * A raw image is its file: guest offset == host offset.  Thin images are
 * sparse files, holes read as zeros at no cost and block status comes from
 * SEEK_DATA/SEEK_HOLE.  Thick provisioning is done at create time (see
 * raw_create): falloc reserves blocks, full writes zeros into them.
 */
#include <errno.h>
#include <string.h>

#include "driver.h"
#include "options.h"
#include "provision/provision.h"

/* Open: the virtual size is the file (or device) length, rounded up to
 * whole 512-byte sectors as QEMU does (the tail reads as zeros and a write
 * there extends the file). */
static int
raw_open(vdisk_image *img, vdisk_error *err)
{
    uint64_t len;
    int r = vdisk_file_get_length(img->file, &len, err);
    if (r < 0)
        return r;
    img->size = (len + 511) / 512 * 512;
    return 0;
}

/* Nothing of our own to release. */
static void
raw_close(vdisk_image *img)
{
    (void)img;
}

/* Create: set the length, then provision per opts->prealloc. */
static int
raw_create(vdisk_file *file, const vdisk_create_opts *opts, vdisk_progress_fn progress,
           void *opaque, vdisk_error *err)
{
    switch (opts->prealloc) {
    case VDISK_PREALLOC_OFF:
        return vdisk_file_truncate(file, opts->size, err);
    case VDISK_PREALLOC_FALLOC:
        return vdisk_file_allocate(file, 0, opts->size, err);
    case VDISK_PREALLOC_FULL:
        return vdisk_file_write_zeroes_full(file, 0, opts->size, progress, opaque, err);
    case VDISK_PREALLOC_METADATA:
    default:
        /* Same refusal as qemu-img: raw has no metadata to preallocate. */
        return vdisk_error_set(err, ENOTSUP,
                               "%s: preallocation mode '%s' is not supported by the raw format "
                               "(use off, falloc or full)",
                               file->path, vdisk_prealloc_name(opts->prealloc));
    }
}

/* Read: holes read as zeros through the file system. */
static int
raw_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    return vdisk_file_pread(img->file, buf, (size_t)len, off, err);
}

/* Write in place. */
static int
raw_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    return vdisk_file_pwrite(img->file, buf, (size_t)len, off, err);
}

/* Zeroes: punch when the caller allows unmapping, else zero in place. */
static int
raw_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags, vdisk_error *err)
{
    return vdisk_file_zero(img->file, off, len, flags & VDISK_ZERO_MAY_UNMAP, err);
}

/* Discard: punch a hole; the range reads as zeros afterwards either way. */
static int
raw_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err)
{
    return vdisk_file_zero(img->file, off, len, true, err);
}

static int
raw_flush(vdisk_image *img, vdisk_error *err)
{
    return vdisk_file_flush(img->file, err);
}

/* Block status: what the storage says (a file: everything allocated,
 * holes read as zeros; an NBD export: its server's status).  The guest
 * offset is the host offset. */
int
vdisk_raw_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err)
{
    unsigned flags;
    uint64_t end;
    int r = vdisk_file_status(img->file, off, off + len, &flags, &end, err);
    if (r < 0)
        return r;
    ext->length = end - off;
    ext->flags = flags | (flags & VDISK_EXTENT_ALLOCATED ? VDISK_EXTENT_OFFSET_VALID : 0);
    ext->host_offset = off;
    return 0;
}

/* Truncate: set the file length; a grown part is provisioned as asked
 * (falloc reserves it, full writes zeros), as QEMU's file driver does. */
static int
raw_truncate(vdisk_image *img, uint64_t size, vdisk_prealloc prealloc,
             vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    uint64_t len;
    int r = vdisk_file_get_length(img->file, &len, err);
    if (r < 0)
        return r;
    if (prealloc == VDISK_PREALLOC_METADATA)
        return vdisk_error_set(err, ENOTSUP, "%s: Unsupported preallocation mode: metadata "
                               "(raw images take off, falloc or full)", img->filename);
    if (prealloc == VDISK_PREALLOC_FALLOC && size > len)
        r = vdisk_file_allocate(img->file, len, size - len, err);
    else if (prealloc == VDISK_PREALLOC_FULL && size > len)
        r = vdisk_file_write_zeroes_full(img->file, len, size - len, progress, opaque, err);
    if (r == 0)
        r = vdisk_file_truncate(img->file, size, err);
    if (r < 0) {
        /* Leave the file as it was. */
        vdisk_file_truncate(img->file, len, NULL);
        return r;
    }
    img->size = (size + 511) / 512 * 512;
    return 0;
}

/* Measure: a raw image always needs its full virtual size, except that only
 * allocated data needs real blocks. */
static int
raw_measure(const vdisk_create_opts *opts, vdisk_image *src, vdisk_measure *out, vdisk_error *err)
{
    (void)src;
    (void)err;
    /* qemu-img reports the virtual size for both numbers: a raw image's
     * length is its size whatever is allocated. */
    uint64_t size = src ? vdisk_get_size(src) : opts->size;
    out->required = size;
    out->fully_allocated = size;
    return 0;
}

/* backing_file / backing_fmt: a raw image has nowhere to record them. */
static int
no_backing(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    (void)o, (void)value;
    return vdisk_error_set(err, EINVAL, "Invalid parameter '%s' for format raw "
                           "(raw images cannot have a backing file; use qcow2)", key);
}

/* A raw image has no backing file and no metadata to preallocate. */
static int
raw_opts_validate(const vdisk_create_opts *o, vdisk_error *err)
{
    if (o->backing_file)
        return vdisk_error_set(err, ENOTSUP, "raw images cannot have a backing file (use qcow2)");
    if (o->prealloc == VDISK_PREALLOC_METADATA)
        return vdisk_error_set(err, ENOTSUP, "Unsupported preallocation mode: metadata (raw images "
                               "take off, falloc or full)");
    return 0;
}

static const vdisk_option raw_options[] = {
    VDISK_OPTIONS_COMMON,
    { "backing_file", VDISK_OPTION_STRING, VDISK_OPTION_CM, VDISK_OPTION_HIDDEN, NULL, NULL,
      no_backing, NULL },
    { "backing_fmt", VDISK_OPTION_STRING, VDISK_OPTION_CM, VDISK_OPTION_HIDDEN, NULL, NULL,
      no_backing, NULL },
    VDISK_OPTIONS_END,
};

const struct vdisk_driver vdisk_raw_driver = {
    .name = "raw",
    .format = VDISK_FORMAT_RAW,
    .open = raw_open,
    .close = raw_close,
    .create = raw_create,
    .options = raw_options,
    .opts_validate = raw_opts_validate,
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .write_zeroes = raw_write_zeroes,
    .discard = raw_discard,
    .flush = raw_flush,
    .block_status = vdisk_raw_block_status,
    .measure = raw_measure,
    .truncate = raw_truncate,
    .inflate = vdisk_raw_inflate,        /* provision/raw.c */
    .eagerzero = vdisk_raw_eagerzero,
    .sparsify = vdisk_raw_sparsify,
};
