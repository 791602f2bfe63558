/* vdisk plugin — provisioning a volume in place, and where a pool's space
 * goes (vdisk/volume-provisioning.h): the pool's rules around libvdisk's
 * inflate, eagerzero, sparsify and allocation map. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/volume-provisioning.h>
#include <vdisk/volume.h>

#include "pool-internal.h"

typedef int (*provision_fn)(vdisk_image *img, unsigned flags, vdisk_progress_fn progress,
                            void *opaque, vdisk_provision_result *res, vdisk_error *err);

/* Before a change that adds host space: measure it (dry run) and check
 * that the pool's free space holds it. */
static int
check_room(vdisk_pool *pool, const char *name, const char *op, vdisk_image *img, provision_fn fn,
           unsigned flags, vdisk_error *err)
{
    vdisk_provision_result dry;
    int r = fn(img, flags | VDISK_PROVISION_DRY_RUN, NULL, NULL, &dry, err);
    if (r < 0 || dry.host_after <= dry.host_before)
        return r;
    char what[300];
    snprintf(what, sizeof(what), "%s of volume '%s'", op, name);
    return vdisk_pool_check_space(pool, what, 0, dry.host_after - dry.host_before, err);
}

/* Open the volume for writing (refused while in use), check the pool's
 * room when the change adds space, run it, close. */
static int
provision(vdisk_pool *pool, const char *name, const char *op, provision_fn fn, bool adds_space,
          unsigned flags, vdisk_progress_fn progress, void *opaque, vdisk_provision_result *res,
          vdisk_error *err)
{
    bool dry = flags & VDISK_PROVISION_DRY_RUN;
    int r = vdisk_pool_lock(pool, err);
    if (r < 0)
        return r;
    vdisk_image *img;
    /* No key: an encrypted volume opens for libvdisk to refuse it by name. */
    r = vdisk_vol_open_image(pool, name, (dry ? 0 : VDISK_OPEN_RDWR) | VDISK_OPEN_NO_KEY, &img, err);
    if (r == 0) {
        if (adds_space && !dry)
            r = check_room(pool, name, op, img, fn, flags, err);
        if (r == 0)
            r = fn(img, flags, progress, opaque, res, err);
        r = vdisk_vol_close_image(pool, name, img, r, err);
    }
    vdisk_pool_unlock(pool);
    return r;
}

int
vdisk_vol_inflate(vdisk_pool *pool, const char *name, unsigned flags, vdisk_progress_fn progress,
                  void *opaque, vdisk_provision_result *res, vdisk_error *err)
{
    return provision(pool, name, "inflating", vdisk_inflate, true, flags, progress, opaque, res,
                     err);
}

int
vdisk_vol_eagerzero(vdisk_pool *pool, const char *name, unsigned flags,
                    vdisk_progress_fn progress, void *opaque, vdisk_provision_result *res,
                    vdisk_error *err)
{
    /* Data clusters over holes (preallocation=metadata) take space when zeroed. */
    return provision(pool, name, "eager-zeroing", vdisk_eagerzero, true, flags, progress, opaque,
                     res, err);
}

int
vdisk_vol_sparsify(vdisk_pool *pool, const char *name, unsigned flags, vdisk_progress_fn progress,
                   void *opaque, vdisk_provision_result *res, vdisk_error *err)
{
    return provision(pool, name, "sparsifying", vdisk_sparsify, false, flags, progress, opaque,
                     res, err);
}

int
vdisk_vol_alloc_map(vdisk_pool *pool, const char *name, vdisk_alloc_fn fn, void *opaque,
                    vdisk_error *err)
{
    vdisk_image *img;
    int r = vdisk_vol_open_image(pool, name, VDISK_OPEN_NO_KEY, &img, err);
    if (r < 0)
        return r;
    r = vdisk_alloc_map(img, 0, 0, fn, opaque, err);
    return vdisk_vol_close_image(pool, name, img, r, err);
}

const char *
vdisk_vol_usage_kind(const uint64_t bytes[VDISK_ALLOC_KINDS])
{
    bool thin = bytes[VDISK_ALLOC_UNALLOCATED] || bytes[VDISK_ALLOC_ZERO];
    bool reserved = bytes[VDISK_ALLOC_RESERVED];
    if (thin)
        return reserved ? "mixed" : "thin";
    return reserved ? "lazy-zeroed thick" : "eager-zeroed thick";
}

static int
add_run(void *opaque, uint64_t off, uint64_t len, vdisk_alloc_kind kind)
{
    (void)off;
    ((uint64_t *)opaque)[kind] += len;
    return 0;
}

/* Map one volume into u (a volume in use, or one libvdisk cannot read, is
 * left with its probed sizes only). */
static void
usage_of(vdisk_pool *pool, const vdisk_vol_def *def, vdisk_vol_usage *u)
{
    u->capacity = def->capacity;
    u->allocation = def->allocation;
    u->format = def->format;
    u->kind = "unknown";
    vdisk_error err = { 0 };
    if (vdisk_vol_alloc_map(pool, def->name, add_run, u->bytes, &err) == 0)
        u->kind = vdisk_vol_usage_kind(u->bytes);
    else
        memset(u->bytes, 0, sizeof(u->bytes));
}

int
vdisk_pool_usage_get(vdisk_pool *pool, vdisk_pool_usage *out, vdisk_error *err)
{
    memset(out, 0, sizeof(*out));
    vdisk_pool_info info;
    vdisk_vol_def *vols;
    size_t n;
    int r = vdisk_pool_fs_info(pool, &info, err);
    if (r == 0)
        r = vdisk_pool_refresh(pool, &vols, &n, err);
    if (r < 0)
        return r;
    out->available = info.available;
    out->vols = calloc(n ? n : 1, sizeof(*out->vols));
    if (!out->vols) {
        vdisk_pool_volumes_free(vols, n);
        return vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    }
    for (size_t i = 0; i < n; i++, out->n++) {
        vdisk_vol_usage *u = &out->vols[i];
        u->name = strdup(vols[i].name);
        if (!u->name) {
            r = vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
            break;
        }
        usage_of(pool, &vols[i], u);
        out->capacity += u->capacity;
        out->allocation += u->allocation;
        out->unbacked += u->bytes[VDISK_ALLOC_UNALLOCATED] + u->bytes[VDISK_ALLOC_ZERO];
    }
    vdisk_pool_volumes_free(vols, n);
    if (r < 0)
        vdisk_pool_usage_clear(out);
    return r;
}

void
vdisk_pool_usage_clear(vdisk_pool_usage *u)
{
    for (size_t i = 0; i < u->n; i++)
        free(u->vols[i].name);
    free(u->vols);
    memset(u, 0, sizeof(*u));
}
