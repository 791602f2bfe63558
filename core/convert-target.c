/* libvdisk — the target side of the copy engine: which options go
 * together, creating the target (or, with -n, opening the one there) and
 * tidying it up afterwards.  The copy itself is convert.c.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "convert-target.h"
#include "driver.h"

#define MAX_WORKERS VDISK_CONVERT_MAX_WORKERS

/* Is path the image behind img or any image in its backing chain? */
static bool
convert_same_file_in_chain(const vdisk_image *img, const char *path)
{
    for (const vdisk_image *i = img; i; i = i->backing)
        if (vdisk_file_same_as(i->file, path))
            return true;
    return false;
}

/* Option checks that need no I/O. */
int
convert_check_opts(const char *src, const char *dst, const vdisk_convert_opts *opts, vdisk_error *err)
{
    if (!opts || !opts->target)
        return vdisk_error_set(err, EINVAL, "convert %s -> %s: no target options given", src, dst);
    if (opts->workers < 0 || opts->workers > MAX_WORKERS)
        return vdisk_error_set(err, EINVAL, "convert: invalid number of workers %d (allowed: 1 to %d)",
                               opts->workers, MAX_WORKERS);
    /* A streamOptimized VMDK is compressed anyway: -c is what it does. */
    bool stream = opts->target->format == VDISK_FORMAT_VMDK &&
                  opts->target->vmdk.subformat == VDISK_VMDK_STREAM_OPTIMIZED;
    if (opts->compress && opts->target->format != VDISK_FORMAT_QCOW2 && !stream)
        return vdisk_error_set(err, ENOTSUP, "%s: compression is not supported by the %s format "
                               "(use -O qcow2, or -O vmdk -o subformat=streamOptimized)", dst,
                               vdisk_format_name(opts->target->format));
    if (opts->target_is_zero && !opts->existing_target)
        return vdisk_error_set(err, EINVAL, "--target-is-zero requires use of -n flag");
    if (opts->sparse_size % 512 || opts->sparse_size > (1u << 30))
        return vdisk_error_set(err, EINVAL, "Invalid buffer size for sparse output specified. "
                               "Valid sizes are multiples of 512 up to 1073741824. Select 0 to "
                               "disable sparse detection (fully allocates output).");
    /* Compressed clusters are written whole: their zero test is the cluster. */
    if (opts->compress && (opts->sparse_size || opts->fully_allocate))
        return vdisk_error_set(err, EINVAL, "%s: -S cannot be combined with -c (compressed "
                               "clusters are skipped only when the whole cluster is zero)", dst);
    return 0;
}

/* -n: open the existing target as it is, as large as the source at least. */
int
convert_open_existing_target(vdisk_image *src, const char *dst, const vdisk_convert_opts *opts,
                     vdisk_image **out, vdisk_error *err)
{
    if (convert_same_file_in_chain(src, dst))
        return vdisk_error_set(err, EINVAL, "%s: the target is the source image (or in its backing "
                               "chain); converting would destroy it", dst);
    vdisk_open_opts oo = {
        .format = opts->target->format,
        .flags = VDISK_OPEN_RDWR | (opts->direct ? VDISK_OPEN_DIRECT : 0),
        .secret = opts->target->encrypt.secret,
        .secret_len = opts->target->encrypt.secret_len,
    };
    int r = vdisk_open(dst, &oo, out, err);
    if (r < 0)
        return r;
    if (vdisk_get_size(*out) < vdisk_get_size(src)) {
        r = vdisk_error_set(err, EINVAL, "%s: output file is smaller than input file (%llu < %llu "
                            "bytes)", dst, (unsigned long long)vdisk_get_size(*out),
                            (unsigned long long)vdisk_get_size(src));
        vdisk_close(*out, NULL);
        *out = NULL;
        return r;
    }
    if (opts->no_flush)
        atomic_store(&(*out)->file->skip_sync, true);
    return 0;
}

/* Create the target with the source's size and open it for writing.
 * *created tells the caller whether there is a file to remove on failure. */
int
convert_create_target(vdisk_image *src, const char *dst, const vdisk_convert_opts *opts,
              vdisk_image **out, bool *created, vdisk_error *err)
{
    *created = false;
    if (convert_same_file_in_chain(src, dst))
        return vdisk_error_set(err, EINVAL, "%s: the target is the source image (or in its backing "
                               "chain); converting would destroy it", dst);
    vdisk_create_opts co = *opts->target;   /* shallow: backing_file stays the caller's */
    co.size = vdisk_get_size(src);
    int r = vdisk_create(dst, &co, NULL, NULL, err);
    if (r < 0)
        return r;   /* vdisk_create removes what it could not finish */
    *created = true;
    vdisk_open_opts oo = {
        .format = co.format,
        .flags = VDISK_OPEN_RDWR | (opts->direct ? VDISK_OPEN_DIRECT : 0),
        .secret = co.encrypt.secret,
        .secret_len = co.encrypt.secret_len,
    };
    r = vdisk_open(dst, &oo, out, err);
    if (r == 0 && opts->no_flush)
        atomic_store(&(*out)->file->skip_sync, true);   /* metadata still written at close */
    return r;
}

/* After compressed writes the file may end mid-sector: round it up to a
 * whole sector, as qemu-img convert -c does (its final zero-length
 * compressed write), for readers that read whole sectors. */
int
convert_align_compressed_end(vdisk_image *dst, vdisk_error *err)
{
    uint64_t len;
    int r = vdisk_file_get_length(dst->file, &len, err);
    if (r < 0 || len % 512 == 0)
        return r;
    return vdisk_file_truncate(dst->file, (len + 511) / 512 * 512, err);
}

/* Remove a target we created, unless it is not a regular file (a device,
 * an NBD export). */
void
convert_remove_target(const char *dst)
{
    vdisk_file_remove(dst);
}
