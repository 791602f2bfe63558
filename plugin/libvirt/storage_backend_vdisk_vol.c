/*
 * storage_backend_vdisk_vol.c: what the volume callbacks of the vdisk
 * backend share: build progress, growing a copy, checks before bytes are
 * streamed
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Lesser General Public License for more details.
 *
 * You should have received a copy of the GNU Lesser General Public
 * License along with this library.  If not, see
 * <http://www.gnu.org/licenses/>.
 */

#include <config.h>

#include <errno.h>

#include <vdisk/volume.h>

#include "storage_backend_vdisk_conf.h"
#include "storage_backend_vdisk_vol.h"
#include "virerror.h"
#include "virlog.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.storage_backend_vdisk_vol");


/* Show a build's progress as the allocation of the volume being built,
 * which virStorageVolGetInfo reports (virt-manager polls it). */
int
virStorageBackendVdiskProgressUpdate(void *opaque,
                                     uint64_t done,
                                     uint64_t total G_GNUC_UNUSED)
{
    virStorageBackendVdiskProgress *progress = opaque;
    virStorageVolDef *vol;

    virObjectLock(progress->pool);
    if ((vol = virStorageVolDefFindByName(progress->pool, progress->name)) &&
        vol->building)
        vol->target.allocation = done;
    virObjectUnlock(progress->pool);
    return 0;
}


/* vdisk copies a volume at its input's size: a larger <capacity> asked for
 * grows the copy, as libvirt's copies into raw files are grown (reserved
 * too when the new volume is thick).  On failure the copy is removed, as
 * buildVolFrom must. */
int
virStorageBackendVdiskGrowCopy(vdisk_pool *vpool,
                               const vdisk_vol_def *vdef,
                               vdisk_error *err)
{
    vdisk_vol_def made = { 0 };
    unsigned int vflags = 0;
    int rc;

    if ((rc = vdisk_vol_lookup(vpool, vdef->name, &made, err)) == 0 &&
        vdef->has_capacity && vdef->capacity > made.capacity) {
        if (vdef->has_allocation && vdef->allocation >= vdef->capacity)
            vflags |= VDISK_VOL_RESIZE_ALLOCATE;
        rc = vdisk_vol_resize(vpool, vdef->name, vdef->capacity, vflags, NULL, NULL, err);
    }
    vdisk_vol_def_clear(&made);

    if (rc < 0)
        ignore_value(vdisk_vol_delete(vpool, vdef->name, NULL));
    return rc;
}


/* Check the volume is a regular file of the pool (never a symlink) and,
 * before its bytes are written, that no other process -- a running VM --
 * holds it open (QEMU's image locks), as vdisk's own upload and wipe do.
 * An RBD image is refused: libvirt streams @what (upload, download)
 * from and to files only. */
int
virStorageBackendVdiskCheckVolFile(virStoragePoolObj *pool,
                                   virStorageVolDef *vol,
                                   const char *what,
                                   bool forWrite)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(pool);
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    vdisk_vol_def vdef = { 0 };
    vdisk_error err = { 0 };
    int rc;

    if (virStorageBackendVdiskPoolIsRBD(def)) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("volume '%s' is an RBD image of pool '%s': volume %s through "
                         "libvirt works on file volumes only (vdisk-virsh vol-%s without "
                         "-c reaches RBD images)"),
                       vol->name, def->name, what, what);
        return -1;
    }

    if (!(vpool = virStorageBackendVdiskPoolOpen(def, true, false)))
        return -1;

    rc = vdisk_vol_lookup(vpool->pool, vol->name, &vdef, &err);
    vdisk_vol_def_clear(&vdef);
    if (rc == 0 && forWrite)
        rc = vdisk_vol_check_not_in_use(vpool->pool, vol->name, &err);
    if (rc < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }
    return 0;
}
