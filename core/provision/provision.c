/* libvdisk — inflate, eagerzero and sparsify, format neutral
 * (vdisk/provision.h).
 *
 * Here: the refusals every format shares, the exclusive lock, and the
 * before/after measurement of the host file.  The work is the format
 * driver's (raw: provision/raw.c; qcow2: qcow2/inflate.c, qcow2/sparsify.c).
 */
#include <errno.h>
#include <string.h>

#include "lock.h"
#include "provision/provision.h"

int
vdisk_provision_step(const vdisk_provision_req *req, vdisk_image *img, uint64_t done,
                     uint64_t total, vdisk_error *err)
{
    if (req->progress && req->progress(req->opaque, done, total))
        return vdisk_error_set(err, ECANCELED, "%s: %s cancelled (the image is consistent; "
                               "what was done so far is kept)", img->filename, req->what);
    return 0;
}

typedef int (*provision_cb)(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err);

/* Take write and resize without sharing them: nobody else may write while
 * space moves under the guest's data.  *perm and *shared get what was held
 * before (a protocol without locks holds nothing and takes nothing). */
static int
lock_exclusive(vdisk_image *img, unsigned *perm, unsigned *shared, vdisk_error *err)
{
    vdisk_file *f = img->file;
    *perm = f->lock_perm;
    *shared = f->lock_shared;
    return vdisk_file_lock(f, f->lock_perm | VDISK_PERM_CONSISTENT_READ | VDISK_PERM_WRITE |
                           VDISK_PERM_RESIZE,
                           f->lock_shared & (VDISK_PERM_CONSISTENT_READ | VDISK_PERM_WRITE_UNCHANGED),
                           err);
}

static void
unlock_exclusive(vdisk_image *img, unsigned perm, unsigned shared)
{
    vdisk_file *f = img->file;
    if (f->lock_perm != perm || f->lock_shared != shared)
        vdisk_file_lock(f, perm, shared, NULL);
}

/* Run the driver's callback cb for op (NULL: the format has none). */
static int
run(vdisk_image *img, const char *op, provision_cb cb, unsigned flags, vdisk_progress_fn progress,
    void *opaque, vdisk_provision_result *res, vdisk_error *err)
{
    vdisk_provision_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof(*res));
    if (!cb)
        return vdisk_error_set(err, ENOTSUP, "%s: %s is not supported for %s images (only raw and "
                               "qcow2 images are provisioned in place; convert the image first)",
                               img->filename, op, img->drv->name);
    int r = 0;
    bool dry = flags & VDISK_PROVISION_DRY_RUN;
    if (!dry && vdisk_is_read_only(img))
        return vdisk_error_set(err, EROFS, "%s: %s refused: image opened read-only",
                               img->filename, op);
    /* Reserved-but-unwritten space, holes and FIEMAP are a host file's. */
    if (strcmp(vdisk_file_protocol(img->file), "file") != 0)
        return vdisk_error_set(err, ENOTSUP, "%s: %s is done on host files only (this image is "
                               "reached through %s)", img->filename, op,
                               vdisk_file_protocol(img->file));
    unsigned saved_perm = 0, saved_shared = 0;
    if (!dry && (r = lock_exclusive(img, &saved_perm, &saved_shared, err)) < 0)
        return r;
    /* Metadata still in the caches is not in st_blocks yet. */
    if (!vdisk_is_read_only(img))
        r = vdisk_flush(img, err);
    if (r == 0)
        r = vdisk_file_allocated(img->file, &res->host_before, err);
    vdisk_provision_req req = { .what = op, .flags = flags, .progress = progress,
                                .opaque = opaque, .res = res };
    if (r == 0)
        r = cb(img, &req, err);
    /* Even a failed or cancelled run leaves its finished part on disk. */
    int fr = dry ? 0 : vdisk_flush(img, r < 0 ? NULL : err);
    if (r == 0)
        r = fr;
    if (!dry)
        vdisk_file_allocated(img->file, &res->host_after, NULL);
    if (!dry)
        unlock_exclusive(img, saved_perm, saved_shared);
    return r;
}

int
vdisk_inflate(vdisk_image *img, unsigned flags, vdisk_progress_fn progress, void *opaque,
              vdisk_provision_result *res, vdisk_error *err)
{
    if (flags & ~(VDISK_PROVISION_DRY_RUN | VDISK_INFLATE_EAGER))
        return vdisk_error_set(err, EINVAL, "%s: inflate takes only the dry-run and eager flags",
                               img->filename);
    return run(img, "inflate", img->drv->inflate, flags, progress, opaque, res, err);
}

int
vdisk_eagerzero(vdisk_image *img, unsigned flags, vdisk_progress_fn progress, void *opaque,
                vdisk_provision_result *res, vdisk_error *err)
{
    if (flags & ~VDISK_PROVISION_DRY_RUN)
        return vdisk_error_set(err, EINVAL, "%s: eagerzero takes only the dry-run flag",
                               img->filename);
    return run(img, "eagerzero", img->drv->eagerzero, flags, progress, opaque, res, err);
}

int
vdisk_sparsify(vdisk_image *img, unsigned flags, vdisk_progress_fn progress, void *opaque,
               vdisk_provision_result *res, vdisk_error *err)
{
    if (flags & ~(VDISK_PROVISION_DRY_RUN | VDISK_SPARSIFY_ZERO_DETECT | VDISK_SPARSIFY_TRUNCATE))
        return vdisk_error_set(err, EINVAL, "%s: sparsify takes only the dry-run, zero-detect and "
                               "truncate flags", img->filename);
    return run(img, "sparsify", img->drv->sparsify, flags, progress, opaque, res, err);
}
