/* vdisk-virsh -c URI — a libvirt daemon as a store (vdisk/store.h),
 * through libvirt's public API, loaded by the first connection
 * (libvirt-load.h) so that image commands never load libvirt.
 *
 * Errors carry libvirt's own message (virsh prints it as it is: it has
 * libvirt's words, so the subject stays 0) and a kind from libvirt's error
 * code.  The pools' operations are in
 * store-libvirt-pool.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "store-libvirt.h"
#include "store-open.h"

static virStorageVolPtr
to_vir(vdisk_store_vol *vol)
{
    return ((libvirt_vol *)vol)->vol;
}

/* The kind and errno of a libvirt error code. */
static vdisk_error_kind
kind_of(int code, int *errnum)
{
    switch (code) {
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_STORAGE_VOL:
    case VIR_ERR_NO_SECRET:
        *errnum = ENOENT;
        return VDISK_ERR_NOT_FOUND;
    case VIR_ERR_INVALID_ARG:
        *errnum = EINVAL;
        return VDISK_ERR_INVALID;
    case VIR_ERR_OPERATION_INVALID:
        *errnum = EINVAL;
        return VDISK_ERR_INVALID_STATE;
    case VIR_ERR_OPERATION_DENIED:
        *errnum = EACCES;
        return VDISK_ERR_PERMISSION;
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_OPERATION_UNSUPPORTED:
        *errnum = ENOTSUP;
        return VDISK_ERR_UNSUPPORTED;
    default:
        *errnum = EIO;
        return VDISK_ERR_FAILED;
    }
}

int
vr_error(vdisk_error *err)
{
    virErrorPtr e = virGetLastError();
    int errnum = EIO;
    if (err)
        memset(err, 0, sizeof(*err));
    if (e) {
        /* As virsh: the message, or "unknown error" when there is none. */
        const char *msg = e->code != VIR_ERR_OK && e->message ? e->message : "unknown error";
        vdisk_error_kind kind = kind_of(e->code, &errnum);
        vdisk_error_set_kind(err, kind, errnum, "%s", msg);
    }
    virResetLastError();
    return -errnum;
}

/* close: the connection goes with the store. */
static void
libvirt_close(vdisk_store *store)
{
    libvirt_store *s = (libvirt_store *)store;
    if (s) {
        if (s->conn)
            virConnectClose(s->conn);
        free(s);
    }
}

/* vol_free: libvirt's handle and the name. */
static void
libvirt_vol_free(vdisk_store_vol *vol)
{
    if (vol) {
        libvirt_vol *v = (libvirt_vol *)vol;
        vdisk_pool_free(v->file_pool);
        free(v->file_name);
        if (v->parent)
            virStoragePoolFree(v->parent);
        if (v->vol)
            virStorageVolFree(v->vol);
        free(vol->name);
        free(vol);
    }
}

/* vol_lookup: virsh's lookups (vr_find_vol). */
static int
libvirt_vol_lookup(vdisk_store *store, const char *pool_name, const char *name, vdisk_store_vol **out,
                   vdisk_store_lookup_step *step, vdisk_error *err)
{
    libvirt_vol *v = calloc(1, sizeof(*v));
    *out = NULL;
    *step = VDISK_STORE_STEP_VOL;
    if (!v)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    v->base.store = store;
    int r = vr_find_vol(((libvirt_store *)store)->conn, pool_name, name, &v->vol, step, err);
    if (r == 0 && !(v->base.name = strdup(virStorageVolGetName(v->vol))))
        r = vdisk_error_set(err, ENOMEM, "out of memory");
    if (r < 0) {
        libvirt_vol_free(&v->base);
        return r;
    }
    *out = &v->base;
    return 0;
}

/* vol_def: the daemon's XML and virStorageVolGetInfo (vr_vol_def_get). */
static int
libvirt_vol_def(vdisk_store_vol *vol, bool physical, vdisk_vol_def *def, const char **type,
                vdisk_error *err)
{
    return vr_vol_def_get(to_vir(vol), physical, def, type, err);
}

/* vol_xml: the daemon's XML of the volume. */
static int
libvirt_vol_xml(vdisk_store_vol *vol, char **xml, vdisk_error *err)
{
    return (*xml = virStorageVolGetXMLDesc(to_vir(vol), 0)) ? 0 : vr_error(err);
}

/* vol_path: asked of the daemon. */
static int
libvirt_vol_path(vdisk_store_vol *vol, char **path, vdisk_error *err)
{
    return (*path = virStorageVolGetPath(to_vir(vol))) ? 0 : vr_error(err);
}

/* vol_key: kept in libvirt's handle. */
static int
libvirt_vol_key(vdisk_store_vol *vol, char **key, vdisk_error *err)
{
    const char *k = virStorageVolGetKey(to_vir(vol));
    if (!k)
        return vr_error(err);
    return (*key = strdup(k)) ? 0 : vdisk_error_set(err, ENOMEM, "out of memory");
}

/* vol_delete: virStorageVolDelete. */
static int
libvirt_vol_delete(vdisk_store_vol *vol, unsigned flags, vdisk_error *err)
{
    unsigned vflags = flags & VDISK_STORE_DELETE_WITH_SNAPSHOTS ? VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS : 0;
    return virStorageVolDelete(to_vir(vol), vflags) < 0 ? vr_error(err) : 0;
}

/* vol_wipe: the daemon overwrites the data (it reports no progress). */
static int
libvirt_vol_wipe(vdisk_store_vol *vol, const char *algorithm, vdisk_progress_fn progress, void *opaque,
                 vdisk_error *err)
{
    (void)progress, (void)opaque;
    int alg = vdisk_store_wipe_alg_index(algorithm);
    if (alg < 0)
        return vdisk_error_set(err, EINVAL, "Unsupported algorithm '%s'", algorithm);
    return virStorageVolWipePattern(to_vir(vol), (unsigned)alg, 0) < 0 ? vr_error(err) : 0;
}

/* vol_resize: virStorageVolResize, which applies a delta itself. */
static int
libvirt_vol_resize(vdisk_store_vol *vol, uint64_t capacity, unsigned flags, vdisk_progress_fn progress,
                   void *opaque, vdisk_error *err)
{
    (void)progress, (void)opaque;
    unsigned vflags = (flags & VDISK_STORE_RESIZE_ALLOCATE ? VIR_STORAGE_VOL_RESIZE_ALLOCATE : 0) |
                      (flags & VDISK_STORE_RESIZE_DELTA ? VIR_STORAGE_VOL_RESIZE_DELTA : 0) |
                      (flags & VDISK_STORE_RESIZE_SHRINK ? VIR_STORAGE_VOL_RESIZE_SHRINK : 0);
    return virStorageVolResize(to_vir(vol), capacity, vflags) < 0 ? vr_error(err) : 0;
}

static const vdisk_store_ops libvirt_ops = {
    .name = "libvirt",
    .close = libvirt_close,
    .pool_list = libvirt_pool_list,
    .pool_define_file = libvirt_pool_define_file,
    .pool_def_xml = libvirt_pool_def_xml,
    .pool_define = libvirt_pool_define,
    .pool_create_file = libvirt_pool_create_file,
    .pool_create = libvirt_pool_create,
    .pool_capabilities = libvirt_pool_capabilities,
    .pool_find_sources = libvirt_pool_find_sources,
    .pool_lookup = libvirt_pool_lookup,
    .pool_free = libvirt_pool_free,
    .pool_info = libvirt_pool_info,
    .pool_usage = libvirt_pool_usage,   /* libvirt's API has none: the pool's files, mapped */
    .pool_xml = libvirt_pool_xml,
    .pool_build = libvirt_pool_build,
    .pool_start = libvirt_pool_start,
    .pool_destroy = libvirt_pool_destroy,
    .pool_delete = libvirt_pool_delete,
    .pool_undefine = libvirt_pool_undefine,
    .pool_refresh = libvirt_pool_refresh,
    .pool_set_autostart = libvirt_pool_set_autostart,
    .secret_define = libvirt_secret_define,
    .secret_list = libvirt_secret_list,
    .secret_lookup = libvirt_secret_lookup,
    .secret_free = libvirt_secret_free,
    .secret_set_value = libvirt_secret_set_value,
    .secret_undefine = libvirt_secret_undefine,
    .secret_get_value = libvirt_secret_get_value,
    .secret_xml = libvirt_secret_xml,
    .vol_list = libvirt_vol_list,
    .vol_create_file = libvirt_vol_create_file,
    .vol_create_file_from = libvirt_vol_create_file_from,
    .vol_create_def = libvirt_vol_create_def,
    .vol_backing_path = libvirt_vol_backing_path,
    .vol_clone = libvirt_vol_clone,
    .vol_clone_xml = libvirt_vol_clone_xml,
    .vol_lookup = libvirt_vol_lookup,
    .vol_free = libvirt_vol_free,
    .vol_pool = libvirt_vol_pool,
    .vol_def = libvirt_vol_def,
    .vol_xml = libvirt_vol_xml,
    .vol_path = libvirt_vol_path,
    .vol_key = libvirt_vol_key,
    .vol_file = libvirt_vol_file,
    .vol_file_hold = libvirt_vol_file_hold,
    .vol_file_changed = libvirt_vol_file_changed,
    .vol_transfer = libvirt_vol_transfer,
    .vol_delete = libvirt_vol_delete,
    .vol_wipe = libvirt_vol_wipe,
    .vol_resize = libvirt_vol_resize,
};

int
vv_store_open_uri(const char *uri, vdisk_store **out)
{
    libvirt_store *s = calloc(1, sizeof(*s));
    *out = NULL;
    if (!s) {
        vv_virsh_error("out of memory");
        return -1;
    }
    if (vr_connect(uri, &s->conn) < 0) {
        free(s);
        return -1;
    }
    s->base.ops = &libvirt_ops;
    *out = &s->base;
    return 0;
}
