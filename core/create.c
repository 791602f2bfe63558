/* libvdisk — creation options (their defaults and the checks every format
 * shares; the -o vocabulary is options.c's, from the format tables, and
 * each driver checks its own combinations: .opts_validate), and
 * vdisk_create / vdisk_measure_image dispatch to the format drivers.
 *
 * Messages for invalid combinations follow qemu-img's wording, so an admin
 * who knows one recognises the other.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"

#define DEFAULT_CLUSTER (64u << 10)
/* QEMU's limit for any image size (BDRV_MAX_LENGTH is a bit lower; 8 EiB
 * is where its size parser stops). */
#define MAX_IMAGE_SIZE (UINT64_C(1) << 63)

void
vdisk_create_opts_init(vdisk_create_opts *opts, vdisk_format fmt)
{
    memset(opts, 0, sizeof(*opts));
    opts->format = fmt;
    opts->prealloc = VDISK_PREALLOC_OFF;
    opts->cluster_size = DEFAULT_CLUSTER;
    opts->compat = 3;
    opts->refcount_bits = 16;
    opts->compression_type = VDISK_COMPRESSION_ZLIB;
    opts->backing_format = VDISK_FORMAT_UNKNOWN;
    const struct vdisk_driver *drv = vdisk_driver_for(fmt);
    if (drv && drv->opts_init)
        drv->opts_init(opts);
}

void
vdisk_create_opts_clear(vdisk_create_opts *opts)
{
    free(opts->backing_file);
    opts->backing_file = NULL;
}

int
vdisk_create_opts_validate(const vdisk_create_opts *o, vdisk_error *err)
{
    if (!vdisk_format_can_create(o->format)) {
        char list[128];
        vdisk_format_list_creatable(list, sizeof(list));
        return vdisk_error_set(err, ENOTSUP, "cannot create images of format %s (vdisk creates %s)",
                               vdisk_format_name(o->format), list);
    }
    if (o->size >= MAX_IMAGE_SIZE)
        return vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                    "Image size must be less than 8 EiB!");
    if (o->backing_format != VDISK_FORMAT_UNKNOWN && !o->backing_file)
        return vdisk_error_set(err, EINVAL, "Backing format cannot be used without backing file");
    const struct vdisk_driver *drv = vdisk_driver_for(o->format);
    return drv->opts_validate ? drv->opts_validate(o, err) : 0;
}

/* With a backing file: record its format (probe it when not given) and take
 * its size when none was given, as qemu-img does.  Unchecked (-u), it is
 * not opened -- it may not exist yet -- so nothing can be learnt from it. */
static int
resolve_backing(const char *path, vdisk_create_opts *o, vdisk_error *err)
{
    if (o->backing_unchecked) {
        if (o->backing_format == VDISK_FORMAT_UNKNOWN)
            return vdisk_error_set(err, EINVAL, "%s: Backing file specified without backing format",
                                   path);
        if (o->size == 0)
            return vdisk_error_set(err, EINVAL, "%s: Image creation needs a size parameter", path);
        return 0;
    }
    char *full = vdisk_resolve_backing_name(path, o->backing_file);
    if (!full)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    vdisk_open_opts bo = { .format = o->backing_format, .flags = VDISK_OPEN_FORCE_SHARE | VDISK_OPEN_NO_KEY,
                           .backing_policy = o->backing_policy };
    vdisk_image *b;
    int r = vdisk_open(full, &bo, &b, err);
    if (r < 0) {
        vdisk_error_prefix(err, "%s: could not open backing file", path);
        free(full);
        return r;
    }
    o->backing_format = vdisk_get_format(b);
    if (o->size == 0)
        o->size = vdisk_get_size(b);
    vdisk_close(b, NULL);
    free(full);
    return 0;
}

int
vdisk_create(const char *path, const vdisk_create_opts *opts, vdisk_progress_fn progress,
             void *opaque, vdisk_error *err)
{
    vdisk_create_opts o = *opts;   /* shallow: backing_file stays the caller's */
    int r = 0;
    if (o.backing_file)
        r = resolve_backing(path, &o, err);
    if (r == 0)
        r = vdisk_create_opts_validate(&o, err);
    if (r < 0)
        return r;
    /* As qemu-img: images are whole 512-byte sectors (a 1000-byte raw
     * image is created 1024 bytes long; qcow2 cannot express less). */
    o.size = (o.size + 511) / 512 * 512;
    const struct vdisk_driver *drv = vdisk_driver_for(o.format);
    if (!drv || !drv->create)
        return vdisk_error_set(err, ENOTSUP, "%s: creating %s images is not supported by this build",
                               path, vdisk_format_name(o.format));
    vdisk_file *f;
    r = vdisk_file_create(path, o.nocow, &f, err);
    if (r < 0)
        return r;
    r = drv->create(f, &o, progress, opaque, err);
    if (r == 0)
        r = vdisk_file_flush(f, err);
    /* Nothing half-made left behind -- but never a device node or anything
     * else that is not an image we were making (file.h). */
    if (r < 0)
        vdisk_file_abandon(f);
    else
        vdisk_file_close(f);
    return r;
}

int
vdisk_measure_image(const vdisk_create_opts *opts, vdisk_image *src, vdisk_measure *out, vdisk_error *err)
{
    int r = vdisk_create_opts_validate(opts, err);
    if (r < 0)
        return r;
    memset(out, 0, sizeof(*out));
    const struct vdisk_driver *drv = vdisk_driver_for(opts->format);
    if (!drv->measure)
        return vdisk_error_set(err, ENOTSUP, "Block driver '%s' does not support size measurement",
                               drv->name);
    return drv->measure(opts, src, out, err);
}
