/* vdisk plugin — copies with --reflink (vdisk_vol_create_reflink: the
 * registry's vol-clone and vol-create-from, and the libvirt backend's):
 * the new volume shares the source's extents (FICLONE), as libvirt's dir
 * pools share them for raw volumes.
 * Where the file system cannot (ext4, a copy across file systems), or
 * the copy is not byte for byte (another format, encryption), the copy
 * is refused and nothing is left; never a full copy in its place.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vdisk/volume.h>

#include "pool-internal.h"

/* Only a raw, unencrypted volume copied into one of the same is a clone of its bytes. */
static int
check_cloneable(const vdisk_vol_def *src, const vdisk_vol_def *def, const char *src_name, vdisk_error *err)
{
    if (src->format != VDISK_FORMAT_RAW || src->encryption.format != VDISK_VOL_ENCRYPTION_NONE)
        return vdisk_error_set(err, ENOTSUP, "%s: --reflink shares the extents of raw volumes only (this one "
                               "is %s%s)", src_name, vdisk_format_name(src->format),
                               src->encryption.format != VDISK_VOL_ENCRYPTION_NONE ? ", encrypted" : "");
    if ((def->format != VDISK_FORMAT_RAW && def->format != VDISK_FORMAT_UNKNOWN) ||
        def->encryption.format != VDISK_VOL_ENCRYPTION_NONE || def->backing_path)
        return vdisk_error_set(err, ENOTSUP, "%s: --reflink makes a raw copy; the new definition asks for "
                               "another format, encryption or a backing store", def->name ? def->name : "volume");
    return 0;
}

/* Clone src's file over the (empty) new volume's and give it its capacity. */
static int
clone_file(vdisk_pool *src_pool, const char *src_name, vdisk_pool *dst_pool, const char *dst_name,
           uint64_t capacity, vdisk_error *err)
{
    int in = vdisk_vol_open_fd(src_pool, src_name, O_RDONLY, err);
    if (in < 0)
        return in;
    int out = vdisk_vol_open_fd(dst_pool, dst_name, O_RDWR, err);
    int r = out;
    if (out >= 0) {
        r = ioctl(out, FICLONE, in) < 0 ? -errno : 0;
        if (r < 0) {
            char *path = vdisk_vol_path(src_pool, src_name);
            vdisk_error_set_errno(err, -r, "failed to clone files from '%s'", path ? path : src_name);
            free(path);
        } else {
            struct stat st;
            if (fstat(out, &st) == 0 && (uint64_t)st.st_size < capacity && ftruncate(out, (off_t)capacity) < 0)
                r = vdisk_error_set_errno(err, errno, "%s: cannot grow the clone to its capacity", dst_name);
        }
        close(out);
    }
    close(in);
    return r;
}

int
vdisk_vol_create_reflink(vdisk_pool *dst_pool, const vdisk_vol_def *def, vdisk_pool *src_pool, const char *src_name,
                         vdisk_error *err)
{
    vdisk_vol_def src;
    int r = vdisk_vol_lookup(src_pool, src_name, &src, err);
    if (r == 0)
        r = check_cloneable(&src, def, src_name, err);
    vdisk_vol_def thin;
    if (r == 0) {
        /* The new volume thin and raw, at the larger of the two sizes (as a copy's). */
        thin = *def;
        thin.format = VDISK_FORMAT_RAW;
        thin.has_allocation = true;
        thin.allocation = 0;
        thin.has_capacity = true;
        thin.capacity = def->has_capacity && def->capacity > src.capacity ? def->capacity : src.capacity;
        r = vdisk_vol_create(dst_pool, &thin, 0, NULL, NULL, err);
        if (r == 0 && (r = clone_file(src_pool, src_name, dst_pool, def->name, thin.capacity, err)) < 0)
            vdisk_vol_delete(dst_pool, def->name, NULL);      /* nothing half-made */
    }
    vdisk_vol_def_clear(&src);
    return r;
}
