/* vdisk plugin — the embedded registry as a store (vdisk/store.h): each
 * operation is the registry's own call on the volume's pool and name.
 * The pools' operations are in store-registry-pool.c, the secrets' in
 * store-registry-secret.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>
#include <vdisk/store-error.h>
#include <vdisk/volume.h>

#include "store-registry.h"
#include "xml-internal.h"

typedef struct registry_vol {
    vdisk_store_vol base;         /* base.name: the volume's name in pool */
    vdisk_pool *pool;
} registry_vol;

static registry_vol *
to_vol(vdisk_store_vol *vol)
{
    return (registry_vol *)vol;
}

/* close: the registry goes with the store. */
static void
registry_close(vdisk_store *store)
{
    registry_store *s = (registry_store *)store;
    if (s) {
        vdisk_registry_close(s->reg);
        free(s);
    }
}

/* vol_free: the pool handle and the name. */
static void
registry_vol_free(vdisk_store_vol *vol)
{
    if (vol) {
        vdisk_pool_free(to_vol(vol)->pool);
        free(vol->name);
        free(vol);
    }
}

/* By name in the pool named: the pool, then the volume's file. */
static int
lookup_in_pool(vdisk_registry *reg, const char *pool_name, const char *vol, registry_vol *v,
               vdisk_store_lookup_step *step, vdisk_error *err)
{
    vdisk_vol_def def;
    int r;
    *step = VDISK_STORE_STEP_POOL;
    if ((r = vdisk_pool_lookup(reg, pool_name, &v->pool, err)) < 0)
        return r;
    *step = VDISK_STORE_STEP_VOL;
    r = vdisk_vol_lookup(v->pool, vol, &def, err);
    vdisk_vol_def_clear(&def);
    if (r == 0 && !(v->base.name = strdup(vol)))
        r = vdisk_error_set(err, ENOMEM, "out of memory");
    return r;
}

/* By key or path, then (with a pool named) in that pool. */
static int
lookup_by_path(vdisk_registry *reg, const char *pool_name, const char *vol, registry_vol *v,
               vdisk_store_lookup_step *step, vdisk_error *err)
{
    *step = VDISK_STORE_STEP_VOL;
    int r = vdisk_vol_find_by_path(reg, vol, &v->pool, &v->base.name, err);
    if (r == 0) {
        /* The path names a pool's directory; the volume must be there too. */
        vdisk_vol_def def;
        if (vdisk_vol_lookup(v->pool, v->base.name, &def, NULL) < 0)
            r = vdisk_store_error_set(err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_VOLUME, ENOENT,
                                      "no storage vol with matching path '%s'", vol);
        vdisk_vol_def_clear(&def);
    }
    if (r == 0 && pool_name && strcmp(vdisk_pool_name(v->pool), pool_name) != 0)
        r = vdisk_error_set(err, ENOENT, "Requested volume '%s' is not in pool '%s'", vol, pool_name);
    return r;
}

/* vol_pool: the registry pool the volume was found in. */
static int
registry_vol_pool(vdisk_store_vol *vol, vdisk_store_pool **pool, vdisk_error *err)
{
    return registry_pool_lookup(vol->store, vdisk_pool_name(to_vol(vol)->pool), pool, err);
}

/* vol_lookup: virsh's rules over the registry's pools. */
static int
registry_vol_lookup(vdisk_store *store, const char *pool_name, const char *vol, vdisk_store_vol **out,
                    vdisk_store_lookup_step *step, vdisk_error *err)
{
    registry_store *s = (registry_store *)store;
    registry_vol *v = calloc(1, sizeof(*v));
    int r;
    *out = NULL;
    *step = VDISK_STORE_STEP_VOL;
    if (!v)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    v->base.store = store;
    if (pool_name && !strchr(vol, '/'))
        r = lookup_in_pool(s->reg, pool_name, vol, v, step, err);
    else
        r = lookup_by_path(s->reg, pool_name, vol, v, step, err);
    if (r < 0) {
        registry_vol_free(&v->base);
        return r;
    }
    *out = &v->base;
    return 0;
}

/* vol_def: the registry probes the file (or the RBD image: type network). */
static int
registry_vol_def(vdisk_store_vol *vol, bool physical, vdisk_vol_def *def, const char **type,
                 vdisk_error *err)
{
    (void)physical;     /* the probe always measures it */
    int r = vdisk_vol_lookup(to_vol(vol)->pool, vol->name, def, err);
    if (type)
        *type = def->network ? "network" : "file";
    return r;
}

/* vol_xml: the probed definition, formatted. */
static int
registry_vol_xml(vdisk_store_vol *vol, char **xml, vdisk_error *err)
{
    vdisk_vol_def d;
    int r = vdisk_vol_lookup(to_vol(vol)->pool, vol->name, &d, err);
    if (r == 0)
        r = vdisk_vol_def_format(&d, xml, err);
    vdisk_vol_def_clear(&d);
    return r;
}

/* One string of the probed definition (its path or key), copied. */
static int
def_string(vdisk_store_vol *vol, bool key, char **out, vdisk_error *err)
{
    vdisk_vol_def d;
    int r = vdisk_vol_lookup(to_vol(vol)->pool, vol->name, &d, err);
    if (r == 0 && !(*out = strdup(key ? d.key : d.target_path)))
        r = vdisk_error_set(err, ENOMEM, "out of memory");
    vdisk_vol_def_clear(&d);
    return r;
}

/* vol_path: the file's path. */
static int
registry_vol_path(vdisk_store_vol *vol, char **path, vdisk_error *err)
{
    return def_string(vol, false, path, err);
}

/* vol_key: the file's path too, as libvirt's dir pools. */
static int
registry_vol_key(vdisk_store_vol *vol, char **key, vdisk_error *err)
{
    return def_string(vol, true, key, err);
}

/* vol_file: the registry's own pool handle; nothing to refresh after. */
static int
registry_vol_file(vdisk_store_vol *vol, vdisk_pool **pool, const char **name, vdisk_store_lookup_step *step,
                  vdisk_error *err)
{
    (void)step, (void)err;
    *pool = to_vol(vol)->pool;
    *name = vol->name;
    return 0;
}

/* vol_transfer: the file's bytes, read or written by the registry. */
static int
registry_vol_transfer(vdisk_store_vol *vol, int fd, bool upload, uint64_t offset, uint64_t length, bool sparse,
                      vdisk_progress_fn progress, void *opaque, vdisk_store_transfer_step *step, vdisk_error *err)
{
    vdisk_pool *p = to_vol(vol)->pool;
    *step = VDISK_STORE_XFER_START;
    return upload ? vdisk_vol_upload(p, vol->name, fd, offset, length, sparse, progress, opaque, err)
                  : vdisk_vol_download(p, vol->name, fd, offset, length, sparse, progress, opaque, err);
}

/* Parse the file (validated against vdisk's schema first, when asked)
 * into *def and its name into *name (FROM on failure). */
static int
parse_vol_file(const char *file, bool validate, vdisk_vol_def **def, char **name, vdisk_store_define_step *step,
               vdisk_error *err)
{
    *name = NULL;
    *step = VDISK_STORE_DEFINE_FROM;
    int r = validate ? vdisk_xml_validate_file(file, "volume", "storagevol.rng", err) : 0;
    if (r < 0)
        return r;
    r = vdisk_vol_def_parse_file(file, def, err);
    if (r == 0 && (*def)->name && !(*name = strdup((*def)->name))) {
        vdisk_vol_def_free(*def);
        r = vdisk_error_set(err, ENOMEM, "out of memory");
    }
    return r;
}

/* The registry's create flags (VALIDATE and REFLINK are done here). */
static unsigned
create_flags(unsigned flags)
{
    return flags & VDISK_STORE_CREATE_PREALLOC_METADATA ? VDISK_VOL_CREATE_PREALLOC_METADATA : 0;
}

/* vol_create_file: parsed here, provisioned by the registry. */
static int
registry_vol_create_file(vdisk_store_pool *pool, const char *file, unsigned flags, vdisk_progress_fn progress,
                         void *opaque, char **name, vdisk_store_define_step *step, vdisk_error *err)
{
    vdisk_vol_def *def;
    int r = parse_vol_file(file, flags & VDISK_STORE_CREATE_VALIDATE, &def, name, step, err);
    if (r < 0)
        return r;
    *step = VDISK_STORE_DEFINE_NAMED;
    r = vdisk_vol_create(((registry_pool *)pool)->pool, def, create_flags(flags), progress, opaque, err);
    vdisk_vol_def_free(def);
    return r;
}

/* vol_create_file_from: parsed here, copied by the registry. */
static int
registry_vol_create_file_from(vdisk_store_pool *pool, const char *file, vdisk_store_vol *src, unsigned flags,
                              vdisk_progress_fn progress, void *opaque, char **name,
                              vdisk_store_define_step *step, vdisk_error *err)
{
    vdisk_vol_def *def;
    int r = parse_vol_file(file, flags & VDISK_STORE_CREATE_VALIDATE, &def, name, step, err);
    if (r < 0)
        return r;
    if (flags & VDISK_STORE_CREATE_REFLINK)
        r = vdisk_vol_create_reflink(((registry_pool *)pool)->pool, def, to_vol(src)->pool, src->name, err);
    else
        r = vdisk_vol_create_from(((registry_pool *)pool)->pool, def, to_vol(src)->pool, src->name,
                                  create_flags(flags), progress, opaque, err);
    vdisk_vol_def_free(def);
    return r;
}

/* vol_create_def: provisioned by the registry. */
static int
registry_vol_create_def(vdisk_store_pool *pool, const vdisk_vol_def *def, unsigned flags,
                        vdisk_progress_fn progress, void *opaque, vdisk_store_define_step *step,
                        vdisk_error *err)
{
    *step = VDISK_STORE_DEFINE_NAMED;
    return vdisk_vol_create(((registry_pool *)pool)->pool, def, create_flags(flags), progress, opaque, err);
}

/* vol_backing_path: a volume of the pool by name, else by path (which
 * must then be in that pool), as the registry's lookups go. */
static int
registry_vol_backing_path(vdisk_store_pool *pool, const char *vol, char **path, vdisk_store_lookup_step *step,
                          vdisk_error *err)
{
    vdisk_store_vol *v;
    *path = NULL;
    int r = registry_vol_lookup(pool->store, pool->name, vol, &v, step, err);
    if (r < 0)
        return r;
    if (!(*path = vdisk_vol_path(to_vol(v)->pool, v->name))) {
        *step = VDISK_STORE_STEP_CHECK;
        r = vdisk_error_set(err, ENOMEM, "out of memory");
    }
    registry_vol_free(v);
    return r;
}

/* vol_clone: libvirt's clone definition, copied by the registry. */
static int
registry_vol_clone(vdisk_store_vol *vol, const char *newname, unsigned flags, vdisk_progress_fn progress,
                   void *opaque, vdisk_store_copy_step *step, vdisk_error *err)
{
    vdisk_pool *p = to_vol(vol)->pool;
    vdisk_vol_def src, def;
    memset(&def, 0, sizeof(def));
    *step = VDISK_STORE_COPY_ALONE;
    int r = vdisk_vol_lookup(p, vol->name, &src, err);
    if (r == 0 && (r = vdisk_store_clone_def(&src, newname, &def)) < 0)
        vdisk_error_set(err, ENOMEM, "out of memory");
    /* An RBD clone shares its parent's objects: thin whatever the parent
     * holds, as libvirt's rbd backend clones. */
    if (r == 0 && src.network)
        def.has_allocation = false, def.allocation = 0;
    if (r == 0) {
        *step = VDISK_STORE_COPY_COPY;
        r = flags & VDISK_STORE_CREATE_REFLINK
            ? vdisk_vol_create_reflink(p, &def, p, vol->name, err)
            : vdisk_vol_create_from(p, &def, p, vol->name, create_flags(flags), progress, opaque, err);
    }
    vdisk_vol_def_clear(&src);
    vdisk_vol_def_clear(&def);
    return r;
}

/* vol_delete: a file's internal snapshots go with it; an RBD image's
 * snapshots only with VDISK_STORE_DELETE_WITH_SNAPSHOTS, as libvirt's rbd
 * backend. */
static int
registry_vol_delete(vdisk_store_vol *vol, unsigned flags, vdisk_error *err)
{
    unsigned vflags = flags & VDISK_STORE_DELETE_WITH_SNAPSHOTS ? VDISK_VOL_DELETE_WITH_SNAPSHOTS : 0;
    return vdisk_vol_delete_flags(to_vol(vol)->pool, vol->name, vflags, err);
}

/* vol_wipe: every algorithm libvirt names (volume-wipe.c). */
static int
registry_vol_wipe(vdisk_store_vol *vol, const char *algorithm, vdisk_progress_fn progress, void *opaque,
                  vdisk_error *err)
{
    vdisk_wipe_alg alg;
    int r = vdisk_wipe_alg_from_name(algorithm, &alg, err);
    if (r < 0)
        return r;
    return vdisk_vol_wipe(to_vol(vol)->pool, vol->name, alg, progress, opaque, err);
}

/* vol_resize: a delta is applied to the capacity the probe finds. */
static int
registry_vol_resize(vdisk_store_vol *vol, uint64_t capacity, unsigned flags, vdisk_progress_fn progress,
                    void *opaque, vdisk_error *err)
{
    registry_vol *v = to_vol(vol);
    if (flags & VDISK_STORE_RESIZE_DELTA) {
        vdisk_vol_def d;
        int r = vdisk_vol_lookup(v->pool, vol->name, &d, err);
        uint64_t cur = d.capacity;
        vdisk_vol_def_clear(&d);
        if (r < 0)
            return r;
        if (!(flags & VDISK_STORE_RESIZE_SHRINK))
            capacity = cur + capacity;
        else if (capacity >= cur)
            return vdisk_error_set(err, EINVAL, "Can't shrink capacity below zero");
        else
            capacity = cur - capacity;
    }
    unsigned vflags = (flags & VDISK_STORE_RESIZE_ALLOCATE ? VDISK_VOL_RESIZE_ALLOCATE : 0) |
                      (flags & VDISK_STORE_RESIZE_SHRINK ? VDISK_VOL_RESIZE_SHRINK : 0);
    return vdisk_vol_resize(v->pool, vol->name, capacity, vflags, progress, opaque, err);
}

static const vdisk_store_ops registry_ops = {
    .name = "registry",
    .close = registry_close,
    .pool_list = registry_pool_list,
    .pool_define_file = registry_pool_define_file,
    .pool_def_xml = registry_pool_def_xml,
    .pool_define = registry_pool_define,
    .pool_create_file = registry_pool_create_file,
    .pool_create = registry_pool_create,
    .pool_capabilities = registry_pool_capabilities,
    .pool_find_sources = registry_pool_find_sources,
    .pool_lookup = registry_pool_lookup,
    .pool_free = registry_pool_free,
    .pool_info = registry_pool_info,
    .pool_usage = registry_pool_usage,
    .pool_xml = registry_pool_xml,
    .pool_build = registry_pool_build,
    .pool_start = registry_pool_start,
    .pool_destroy = registry_pool_destroy,
    .pool_delete = registry_pool_delete,
    .pool_undefine = registry_pool_undefine,
    .pool_refresh = registry_pool_refresh,
    .pool_set_autostart = registry_pool_set_autostart,
    .secret_define = registry_secret_define,
    .secret_list = registry_secret_list,
    .secret_lookup = registry_secret_lookup,
    .secret_free = registry_secret_free,
    .secret_set_value = registry_secret_set_value,
    .secret_undefine = registry_secret_undefine,
    .secret_get_value = registry_secret_get_value,
    .secret_xml = registry_secret_xml,
    .vol_list = registry_vol_list,
    .vol_create_file = registry_vol_create_file,
    .vol_create_file_from = registry_vol_create_file_from,
    .vol_create_def = registry_vol_create_def,
    .vol_backing_path = registry_vol_backing_path,
    .vol_clone = registry_vol_clone,
    .vol_clone_xml = NULL,        /* the registry copies from a definition, not from XML */
    .vol_lookup = registry_vol_lookup,
    .vol_free = registry_vol_free,
    .vol_pool = registry_vol_pool,
    .vol_def = registry_vol_def,
    .vol_xml = registry_vol_xml,
    .vol_path = registry_vol_path,
    .vol_key = registry_vol_key,
    .vol_file = registry_vol_file,
    .vol_file_hold = NULL,        /* the registry's copy locks its source itself */
    .vol_file_changed = NULL,     /* the registry reads the file itself, every time */
    .vol_transfer = registry_vol_transfer,
    .vol_delete = registry_vol_delete,
    .vol_wipe = registry_vol_wipe,
    .vol_resize = registry_vol_resize,
};

int
vdisk_store_registry_open(const char *dir, vdisk_store **out, vdisk_error *err)
{
    registry_store *s = calloc(1, sizeof(*s));
    *out = NULL;
    if (!s)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    int r = vdisk_registry_open(dir, &s->reg, err);
    if (r < 0) {
        free(s);
        return r;
    }
    s->base.ops = &registry_ops;
    *out = &s->base;
    return 0;
}
