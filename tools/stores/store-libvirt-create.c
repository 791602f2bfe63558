/* vdisk-virsh -c URI — volumes a libvirt daemon creates from XML
 * (store-libvirt.h): vol-create, vol-create-as, vol-create-from, vol-clone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "store-libvirt.h"

/* The new volume's name, then libvirt's handle released. */
static int
created(virStorageVolPtr vol, char **name, vdisk_error *err)
{
    int r = (*name = strdup(virStorageVolGetName(vol))) ? 0 : vdisk_error_set(err, ENOMEM, "out of memory");
    virStorageVolFree(vol);
    return r;
}

/* Create from the XML in file, with src (vol-create-from) or without;
 * libvirt's flags already mapped. */
static int
create_from_file(vdisk_store_pool *pool, const char *file, virStorageVolPtr src, unsigned flags, char **name,
                 vdisk_store_define_step *step, vdisk_error *err)
{
    char *xml;
    size_t len;
    virStoragePoolPtr vp = ((libvirt_pool *)pool)->pool;
    *name = NULL;
    *step = VDISK_STORE_DEFINE_ALONE;
    int r = vv_read_file_err(file, &xml, &len, err);
    if (r < 0)
        return r;
    *step = VDISK_STORE_DEFINE_FROM;
    virStorageVolPtr vol = src ? virStorageVolCreateXMLFrom(vp, xml, src, flags) : virStorageVolCreateXML(vp, xml, flags);
    free(xml);
    return vol ? created(vol, name, err) : vr_error(err);
}

/* vol_create_file: the file's XML as it is; the daemon parses and
 * provisions (it reports no progress). */
int
libvirt_vol_create_file(vdisk_store_pool *pool, const char *file, unsigned flags, vdisk_progress_fn progress,
                        void *opaque, char **name, vdisk_store_define_step *step, vdisk_error *err)
{
    (void)progress, (void)opaque;
    unsigned f = (flags & VDISK_STORE_CREATE_PREALLOC_METADATA ? VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA : 0) |
                 (flags & VDISK_STORE_CREATE_VALIDATE ? VIR_STORAGE_VOL_CREATE_VALIDATE : 0);
    return create_from_file(pool, file, NULL, f, name, step, err);
}

/* vol_create_def: the definition as vdisk's XML, provisioned by the daemon. */
int
libvirt_vol_create_def(vdisk_store_pool *pool, const vdisk_vol_def *def, unsigned flags,
                       vdisk_progress_fn progress, void *opaque, vdisk_store_define_step *step,
                       vdisk_error *err)
{
    char *xml = NULL, *name = NULL;
    (void)progress, (void)opaque;
    *step = VDISK_STORE_DEFINE_ALONE;
    int r = vdisk_vol_def_format(def, &xml, err);
    if (r < 0)
        return r;
    *step = VDISK_STORE_DEFINE_NAMED;
    unsigned f = flags & VDISK_STORE_CREATE_PREALLOC_METADATA ? VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA : 0;
    virStorageVolPtr vol = virStorageVolCreateXML(((libvirt_pool *)pool)->pool, xml, f);
    free(xml);
    if (!vol)
        return vr_error(err);
    r = created(vol, &name, err);
    free(name);
    return r;
}

/* vol_backing_path: as virsh resolves --backing-vol: a name in the pool,
 * a key, a path (in any pool). */
int
libvirt_vol_backing_path(vdisk_store_pool *pool, const char *name, char **path, vdisk_store_lookup_step *step,
                         vdisk_error *err)
{
    virConnectPtr conn = ((libvirt_store *)pool->store)->conn;
    virStorageVolPtr vol = virStorageVolLookupByName(((libvirt_pool *)pool)->pool, name);
    *path = NULL;
    *step = VDISK_STORE_STEP_VOL;
    if (!vol)
        vol = virStorageVolLookupByKey(conn, name);
    if (!vol)
        vol = virStorageVolLookupByPath(conn, name);
    if (!vol)
        return vr_error(err);
    virResetLastError();
    *step = VDISK_STORE_STEP_CHECK;
    *path = virStorageVolGetPath(vol);
    virStorageVolFree(vol);
    return *path ? 0 : vr_error(err);
}

/* vol_create_file_from: the daemon fills the new volume from src. */
int
libvirt_vol_create_file_from(vdisk_store_pool *pool, const char *file, vdisk_store_vol *src, unsigned flags,
                             vdisk_progress_fn progress, void *opaque, char **name,
                             vdisk_store_define_step *step, vdisk_error *err)
{
    (void)progress, (void)opaque;
    unsigned f = (flags & VDISK_STORE_CREATE_PREALLOC_METADATA ? VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA : 0) |
                 (flags & VDISK_STORE_CREATE_REFLINK ? VIR_STORAGE_VOL_CREATE_REFLINK : 0) |
                 (flags & VDISK_STORE_CREATE_VALIDATE ? VIR_STORAGE_VOL_CREATE_VALIDATE : 0);
    return create_from_file(pool, file, ((libvirt_vol *)src)->vol, f, name, step, err);
}

/* The clone's XML: the source's definition (as the daemon reports it)
 * under the new name, by libvirt's clone rule (vdisk_store_clone_def). */
static int
clone_xml(libvirt_vol *v, const char *newname, char **xml, vdisk_store_copy_step *step, vdisk_error *err)
{
    vdisk_vol_def s, def;
    *step = VDISK_STORE_COPY_POOL;
    if (!v->parent && !(v->parent = virStoragePoolLookupByVolume(v->vol)))
        return vr_error(err);
    *step = VDISK_STORE_COPY_ALONE;
    int r = vr_vol_def_get(v->vol, false, &s, NULL, err);
    if (r < 0)
        return r;
    if ((r = vdisk_store_clone_def(&s, newname, &def)) < 0)
        vdisk_error_set(err, ENOMEM, "out of memory");
    else
        r = vdisk_vol_def_format(&def, xml, err);
    vdisk_vol_def_clear(&s);
    vdisk_vol_def_clear(&def);
    return r;
}

/* vol_clone_xml: what vol_clone sends the daemon. */
int
libvirt_vol_clone_xml(vdisk_store_vol *vol, const char *newname, char **xml, vdisk_store_copy_step *step,
                      vdisk_error *err)
{
    return clone_xml((libvirt_vol *)vol, newname, xml, step, err);
}

/* vol_clone: the daemon copies the volume in its own pool. */
int
libvirt_vol_clone(vdisk_store_vol *vol, const char *newname, unsigned flags, vdisk_progress_fn progress,
                  void *opaque, vdisk_store_copy_step *step, vdisk_error *err)
{
    libvirt_vol *v = (libvirt_vol *)vol;
    char *xml = NULL, *name = NULL;
    (void)progress, (void)opaque;
    int r = clone_xml(v, newname, &xml, step, err);
    if (r < 0)
        return r;
    *step = VDISK_STORE_COPY_COPY;
    unsigned f = (flags & VDISK_STORE_CREATE_PREALLOC_METADATA ? VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA : 0) |
                 (flags & VDISK_STORE_CREATE_REFLINK ? VIR_STORAGE_VOL_CREATE_REFLINK : 0);
    virStorageVolPtr made = virStorageVolCreateXMLFrom(v->parent, xml, v->vol, f);
    free(xml);
    if (!made)
        return vr_error(err);
    r = created(made, &name, err);
    free(name);
    return r;
}
