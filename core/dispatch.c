/* libvdisk — the format-neutral entry points whose work is one driver
 * callback: the argument checks every format would repeat (a read-only
 * handle, an empty name, a size out of range, a format without the
 * callback), with qemu-img's wording where it has one, then the call.
 * Nothing is changed when a check fails.  Operations with work of their
 * own above the drivers (create, convert, compare, commit, rebase) have
 * their own files.
 *
 *   vdisk_amend            amend.h     drv->amend
 *   vdisk_amend_keyslots   keyslot.h   drv->amend_keyslots
 *   vdisk_bitmap           bitmap.h    drv->bitmap
 *   vdisk_check            check.h     drv->check
 *   vdisk_resize           resize.h    drv->truncate
 *   vdisk_snapshot_*       snapshot.h  drv->snapshot_* (snapshot_load: image.c,
 *                                      for vdisk_open's snapshot option)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vdisk/resize.h>

#include "driver.h"

/* Longest bitmap name QEMU takes. */
#define MAX_BITMAP_NAME 1023u

/* ---- amend -------------------------------------------------------------- */

int
vdisk_amend(vdisk_image *img, const vdisk_amend_opts *opts, vdisk_error *err)
{
    if (!img->drv->amend)
        return vdisk_error_set(err, ENOTSUP, "%s: format driver '%s' does not support option "
                               "amendment", img->filename, img->drv->name);
    if (!(img->flags & VDISK_OPEN_RDWR))
        return vdisk_error_set(err, EROFS, "%s: cannot amend an image open read-only",
                               img->filename);
    if (opts->qcow2_version != 0 && opts->qcow2_version != 2 && opts->qcow2_version != 3)
        return vdisk_error_set(err, EINVAL, "%s: unknown qcow2 version %d (expected 2 or 3)",
                               img->filename, opts->qcow2_version);
    /* In the order of qemu-img's option list: ..., data_file, data_file_raw,
     * lazy_refcounts, refcount_bits. */
    if (opts->data_file)
        return vdisk_error_set(err, EINVAL, "data-file can only be set for images that use an "
                               "external data file");
    if (opts->data_file_raw == 1)
        return vdisk_error_set(err, EINVAL, "data-file-raw cannot be set on existing images");
    int rb = opts->refcount_bits;
    if (rb != 0 && (rb < 0 || rb > 64 || (rb & (rb - 1))))
        return vdisk_error_set(err, EINVAL, "Refcount width must be a power of two and may not "
                               "exceed 64 bits");
    return img->drv->amend(img, opts, err);
}

int
vdisk_amend_keyslots(vdisk_image *img, const vdisk_keyslot_opts *opts, vdisk_error *err)
{
    if (!img->drv->amend_keyslots)
        return vdisk_error_set(err, ENOTSUP, "%s: Format driver '%s' does not support option amendment",
                               img->filename, img->drv->name);
    if (!(img->flags & VDISK_OPEN_RDWR))
        return vdisk_error_set(err, EROFS, "%s: cannot change key slots of an image open read-only",
                               img->filename);
    return img->drv->amend_keyslots(img, opts, err);
}

/* ---- bitmaps ------------------------------------------------------------ */

static int
check_bitmap_name(vdisk_image *img, const char *name, vdisk_error *err)
{
    if (!name || !name[0])
        return vdisk_error_set(err, EINVAL, "%s: a bitmap needs a non-empty name", img->filename);
    if (strlen(name) > MAX_BITMAP_NAME)
        return vdisk_error_set(err, EINVAL, "%s: bitmap name is longer than %u bytes",
                               img->filename, MAX_BITMAP_NAME);
    return 0;
}

int
vdisk_bitmap(vdisk_image *img, const vdisk_bitmap_op *op, vdisk_error *err)
{
    if (!img->drv->bitmap)
        return vdisk_error_set(err, ENOTSUP, "%s: format '%s' does not support persistent "
                               "dirty bitmaps", img->filename, img->drv->name);
    if (vdisk_is_read_only(img))
        return vdisk_error_set(err, EROFS, "%s: image is open read-only", img->filename);
    int r = check_bitmap_name(img, op->name, err);
    if (r == 0 && op->action == VDISK_BITMAP_MERGE)
        r = check_bitmap_name(op->src ? op->src : img, op->src_name, err);
    if (r == 0 && op->action == VDISK_BITMAP_MERGE && op->src && op->src->drv != img->drv)
        r = vdisk_error_set(err, ENOTSUP, "%s: format '%s' has no bitmap '%s'", op->src->filename,
                            op->src->drv->name, op->src_name);
    return r < 0 ? r : img->drv->bitmap(img, op, err);
}

/* ---- check -------------------------------------------------------------- */

/* Formats without metadata to check (raw) answer -ENOTSUP, as `qemu-img
 * check` does for them (exit status 63). */
int
vdisk_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
            vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
            vdisk_error *err)
{
    memset(res, 0, sizeof(*res));
    unsigned repair = fix & (VDISK_CHECK_FIX_LEAKS | VDISK_CHECK_FIX_ERRORS);
    fix &= VDISK_CHECK_FIX_LEAKS | VDISK_CHECK_FIX_ERRORS | img->drv->check_flags;
    if (!img->drv->check)
        return vdisk_error_set(err, ENOTSUP, "%s: the %s format does not support checks",
                               img->filename, img->drv->name);
    if (repair && vdisk_is_read_only(img))
        return vdisk_error_set(err, EROFS, "%s: repair refused: image opened read-only",
                               img->filename);
    if (fix & VDISK_CHECK_FIX_ERRORS)
        fix |= VDISK_CHECK_FIX_LEAKS;
    return img->drv->check(img, fix, res, report, progress, opaque, err);
}

/* ---- resize ------------------------------------------------------------- */

/* The refusals every format shares: a positive size, shrinking only when
 * asked, preallocation only for growing. */
static int
check_request(vdisk_image *img, uint64_t size, bool shrink, vdisk_prealloc prealloc,
              vdisk_error *err)
{
    if (vdisk_is_read_only(img))
        return vdisk_error_set(err, EROFS, "%s: resize refused: image opened read-only",
                               img->filename);
    if (size == 0)
        return vdisk_error_set(err, EINVAL, "%s: New image size must be positive", img->filename);
    if (size > (UINT64_C(1) << 63) - 1)
        return vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                    "%s: new size %" PRIu64 " is too large", img->filename,
                                    size);
    if (size <= img->size && prealloc != VDISK_PREALLOC_OFF)
        return vdisk_error_set(err, EINVAL, "%s: Preallocation can only be used for growing images",
                               img->filename);
    if (size < img->size && !shrink)
        return vdisk_error_set(err, EINVAL, "%s: Use the --shrink option to perform a shrink "
                               "operation (shrinking deletes all data beyond the new end)",
                               img->filename);
    if (!img->drv->truncate)
        return vdisk_error_set(err, ENOTSUP, "%s: format %s does not support resizing",
                               img->filename, img->drv->name);
    return 0;
}

int
vdisk_resize(vdisk_image *img, uint64_t size, bool shrink, vdisk_prealloc prealloc,
             vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    int r = check_request(img, size, shrink, prealloc, err);
    if (r < 0)
        return r;
    return img->drv->truncate(img, size, prealloc, progress, opaque, err);
}

int
vdisk_resize_path(const char *path, vdisk_format fmt, uint64_t size, bool shrink,
                  vdisk_prealloc prealloc, vdisk_progress_fn progress, void *opaque,
                  vdisk_error *err)
{
    vdisk_open_opts oo = { .format = fmt, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    int r = vdisk_open(path, &oo, &img, err);
    if (r < 0)
        return r;
    r = vdisk_resize(img, size, shrink, prealloc, progress, opaque, err);
    int rc = vdisk_close(img, r < 0 ? NULL : err);
    return r < 0 ? r : rc;
}

/* ---- internal snapshots -------------------------------------------------- */

/* The driver callback, or -ENOTSUP naming the format. */
static int
snapshots_supported(vdisk_image *img, bool has, vdisk_error *err)
{
    if (!has)
        return vdisk_error_set(err, ENOTSUP, "%s: format '%s' does not support internal snapshots",
                               img->filename, img->drv->name);
    return 0;
}

static int
check_snapshot_name(vdisk_image *img, const char *name, vdisk_error *err)
{
    if (!name || !name[0])
        return vdisk_error_set(err, EINVAL, "%s: a snapshot needs a non-empty ID or name",
                               img->filename);
    return 0;
}

int
vdisk_snapshot_list(vdisk_image *img, vdisk_snapshot_info **list, size_t *n, vdisk_error *err)
{
    *list = NULL;
    *n = 0;
    int r = snapshots_supported(img, img->drv->snapshot_list != NULL, err);
    return r < 0 ? r : img->drv->snapshot_list(img, list, n, err);
}

void
vdisk_snapshot_list_free(vdisk_snapshot_info *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        free(list[i].id);
        free(list[i].name);
    }
    free(list);
}

int
vdisk_snapshot_create_full(vdisk_image *img, const vdisk_snapshot_info *info, vdisk_error *err)
{
    int r = snapshots_supported(img, img->drv->snapshot_create != NULL, err);
    if (r == 0)
        r = check_snapshot_name(img, info->name, err);
    return r < 0 ? r : img->drv->snapshot_create(img, info, err);
}

int
vdisk_snapshot_create(vdisk_image *img, const char *name, vdisk_error *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* qemu-img stamps microseconds: the same resolution, the same fields. */
    vdisk_snapshot_info info = {
        .name = (char *)name,
        .date_sec = (uint32_t)ts.tv_sec,
        .date_nsec = (uint32_t)(ts.tv_nsec / 1000 * 1000),
    };
    return vdisk_snapshot_create_full(img, &info, err);
}

int
vdisk_snapshot_apply(vdisk_image *img, const char *id_or_name, vdisk_error *err)
{
    int r = snapshots_supported(img, img->drv->snapshot_apply != NULL, err);
    if (r == 0)
        r = check_snapshot_name(img, id_or_name, err);
    return r < 0 ? r : img->drv->snapshot_apply(img, id_or_name, err);
}

int
vdisk_snapshot_delete(vdisk_image *img, const char *id_or_name, vdisk_error *err)
{
    int r = snapshots_supported(img, img->drv->snapshot_delete != NULL, err);
    if (r == 0)
        r = check_snapshot_name(img, id_or_name, err);
    return r < 0 ? r : img->drv->snapshot_delete(img, id_or_name, err);
}
