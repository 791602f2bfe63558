/* vdisk-virsh -c URI — volumes a libvirt daemon creates from XML
 * (store-libvirt.h): vol-create, vol-create-from.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-libvirt.h"

/* The new volume's name, then libvirt's handle released. */
static int
created(virStorageVolPtr vol, char **name, vdisk_error *err)
{
    int r = (*name = strdup(virStorageVolGetName(vol))) ? 0 : vdisk_error_set(err, ENOMEM, "out of memory");
    virStorageVolFree(vol);
    return r;
}

/* vol_create_file: the file's XML as it is; the daemon parses and
 * provisions (it reports no progress). */
int
libvirt_vol_create_file(vdisk_store_pool *pool, const char *file, unsigned flags, vdisk_progress_fn progress,
                        void *opaque, char **name, vdisk_store_define_step *step, vdisk_error *err)
{
    char *xml;
    size_t len;
    (void)progress, (void)opaque;
    *name = NULL;
    *step = VDISK_STORE_DEFINE_ALONE;
    int r = vv_read_file_err(file, &xml, &len, err);
    if (r < 0)
        return r;
    *step = VDISK_STORE_DEFINE_FROM;
    unsigned f = (flags & VDISK_STORE_CREATE_PREALLOC_METADATA ? VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA : 0) |
                 (flags & VDISK_STORE_CREATE_VALIDATE ? VIR_STORAGE_VOL_CREATE_VALIDATE : 0);
    virStorageVolPtr vol = virStorageVolCreateXML(((libvirt_pool *)pool)->pool, xml, f);
    free(xml);
    return vol ? created(vol, name, err) : vr_error(err);
}

/* vol_create_file_from: the daemon fills the new volume from src. */
int
libvirt_vol_create_file_from(vdisk_store_pool *pool, const char *file, vdisk_store_vol *src, unsigned flags,
                             vdisk_progress_fn progress, void *opaque, char **name,
                             vdisk_store_define_step *step, vdisk_error *err)
{
    char *xml;
    size_t len;
    (void)progress, (void)opaque;
    *name = NULL;
    *step = VDISK_STORE_DEFINE_ALONE;
    int r = vv_read_file_err(file, &xml, &len, err);
    if (r < 0)
        return r;
    *step = VDISK_STORE_DEFINE_FROM;
    /* As before: vol-create-from's --validate is not passed on. */
    unsigned f = (flags & VDISK_STORE_CREATE_PREALLOC_METADATA ? VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA : 0) |
                 (flags & VDISK_STORE_CREATE_REFLINK ? VIR_STORAGE_VOL_CREATE_REFLINK : 0);
    virStorageVolPtr vol = virStorageVolCreateXMLFrom(((libvirt_pool *)pool)->pool, xml, ((libvirt_vol *)src)->vol, f);
    free(xml);
    return vol ? created(vol, name, err) : vr_error(err);
}
