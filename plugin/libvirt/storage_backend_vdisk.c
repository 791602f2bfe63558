/*
 * storage_backend_vdisk.c: storage backend for vdisk pools
 *
 * A vdisk pool is a directory of image files, like a 'dir' pool, whose
 * volumes are created, copied, resized, wiped and probed by libvdisk (no
 * qemu-img), with thin, lazy-zeroed thick and eager-zeroed thick
 * provisioning and an optional overcommit cap (the vdisk XML namespace).
 * Each volume keeps the format it was created or first found with
 * (vdisk records it in the pool directory): a guest writing a qcow2 header
 * into its raw volume does not turn it into a qcow2 with a backing file.
 *
 * The pool's <source> may put the directory on a shared filesystem that
 * the pool mounts on its target while it is active (netfs-style: host, dir,
 * format), or put the whole pool on a Ceph RBD pool (rbd-style: hosts,
 * name, auth; no target), whose volumes are RBD images of type 'network'
 * named "POOL/IMAGE", as libvirt's rbd backend names them.  vdisk's pool
 * backends do the mounting and the RBD calls.
 *
 * Every callback translates libvirt's definitions into a vdisk pool handle
 * and volume definition (storage_backend_vdisk_conf.c) and calls the vdisk
 * plugin library; vdisk's error messages are reported as they are.
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
#include <sys/stat.h>

#include <vdisk/image.h>
#include <vdisk/pool.h>
#include <vdisk/registry.h>
#include <vdisk/vol-provision.h>
#include <vdisk/volume.h>

#include "storage_backend_vdisk.h"
#include "storage_backend_vdisk_conf.h"
#include "storage_backend_vdisk_ns.h"
#include "storage_backend_vdisk_vol.h"
#include "storage_backend.h"
#include "storage_util.h"
#include "virerror.h"
#include "virfile.h"
#include "virlog.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.storage_backend_vdisk");


/* Whether the pool's storage is there: decides, at daemon start-up, if a
 * pool that was active still is (the directory; a shared filesystem
 * mounted on it, mounted again if it is not; the Ceph cluster reachable). */
static int
virStorageBackendVdiskCheckPool(virStoragePoolObj *pool,
                                bool *isActive)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(pool);
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    vdisk_error err = { 0 };

    if (!(vpool = virStorageBackendVdiskPoolOpen(def, false,
                                                 virStorageBackendVdiskPoolIsRBD(def))))
        return -1;

    /* start on an inactive handle only checks the storage */
    *isActive = vdisk_pool_start(vpool->pool, &err) == 0;
    if (!*isActive)
        VIR_DEBUG("pool is not active: %s", err.message);
    return 0;
}


/* Open the pool (active or not) and run one of libvirt-plugin's pool
 * operations on it, reporting its error to libvirt. */
static int
virStorageBackendVdiskPoolRun(virStoragePoolObj *pool,
                              bool active,
                              int (*op)(vdisk_pool *, vdisk_error *))
{
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    vdisk_error err = { 0 };
    int rc;

    virStoragePoolDef *def = virStoragePoolObjGetDef(pool);

    /* a pool on Ceph reads its cephx key from the secret driver */
    if (!(vpool = virStorageBackendVdiskPoolOpen(def, active,
                                                 virStorageBackendVdiskPoolIsRBD(def))))
        return -1;

    if ((rc = op(vpool->pool, &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }
    return 0;
}


/* Check the pool's storage is there before libvirt marks the pool active:
 * the directory, a shared filesystem mounted on it (mounted now if it is
 * not), the Ceph cluster and pool reachable. */
static int
virStorageBackendVdiskStartPool(virStoragePoolObj *pool)
{
    return virStorageBackendVdiskPoolRun(pool, false, vdisk_pool_start);
}


/* Nothing on disk changes when a pool stops; a shared filesystem is
 * unmounted, a Ceph connection closed. */
static int
virStorageBackendVdiskStopPool(virStoragePoolObj *pool)
{
    return virStorageBackendVdiskPoolRun(pool, true, vdisk_pool_stop);
}


/* Create the pool directory with the definition's permissions. */
static int
virStorageBackendVdiskBuildPool(virStoragePoolObj *pool,
                                unsigned int flags)
{
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    vdisk_error err = { 0 };
    unsigned int vflags = 0;
    int rc;

    virCheckFlags(VIR_STORAGE_POOL_BUILD_OVERWRITE |
                  VIR_STORAGE_POOL_BUILD_NO_OVERWRITE, -1);

    VIR_EXCLUSIVE_FLAGS_RET(VIR_STORAGE_POOL_BUILD_OVERWRITE,
                            VIR_STORAGE_POOL_BUILD_NO_OVERWRITE,
                            -1);

    if (flags & VIR_STORAGE_POOL_BUILD_OVERWRITE)
        vflags |= VDISK_POOL_BUILD_OVERWRITE;
    if (flags & VIR_STORAGE_POOL_BUILD_NO_OVERWRITE)
        vflags |= VDISK_POOL_BUILD_NO_OVERWRITE;

    if (!(vpool = virStorageBackendVdiskPoolOpen(virStoragePoolObjGetDef(pool),
                                                 false, false)))
        return -1;

    if ((rc = vdisk_pool_build(vpool->pool, vflags, &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }
    return 0;
}


/* Remove the (empty) pool directory. */
static int
virStorageBackendVdiskDeletePool(virStoragePoolObj *pool,
                                 unsigned int flags)
{
    virCheckFlags(0, -1);

    return virStorageBackendVdiskPoolRun(pool, false, vdisk_pool_delete);
}


/* The pool's sizes (of its file system, or of the Ceph cluster) and its
 * directory's permissions, as libvirt's dir and rbd pools report them. */
static int
virStorageBackendVdiskRefreshPoolInfo(virStoragePoolDef *def,
                                      vdisk_pool *vpool)
{
    vdisk_pool_info info;
    vdisk_error err = { 0 };
    struct stat sb;
    int rc;

    /* the file system's sizes only: the volumes were just probed */
    if ((rc = vdisk_pool_fs_info(vpool, &info, &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }
    def->capacity = info.capacity;
    def->allocation = info.allocation;
    def->available = info.available;

    if (!def->target.path)      /* on Ceph: no directory */
        return 0;

    if (stat(def->target.path, &sb) < 0) {
        virReportSystemError(errno, _("cannot stat path '%s'"), def->target.path);
        return -1;
    }
    def->target.perms.mode = sb.st_mode & (S_IRWXU | S_IRWXG | S_IRWXO);
    def->target.perms.uid = sb.st_uid;
    def->target.perms.gid = sb.st_gid;
    return 0;
}


/* List the pool's volumes (its regular files) with what vdisk probes. */
static int
virStorageBackendVdiskRefreshPool(virStoragePoolObj *pool)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(pool);
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    vdisk_vol_def *vols = NULL;
    size_t nvols = 0;
    size_t i;
    vdisk_error err = { 0 };
    int ret = -1;
    int rc;

    /* No secret lookups here: libvirt fills in a volume's secret when the
     * volume itself is refreshed, once the secret driver is surely up.  A
     * pool on Ceph needs its cephx key to list anything, as libvirt's rbd
     * backend, which reads it here too. */
    if (!(vpool = virStorageBackendVdiskPoolOpen(def, true,
                                                 virStorageBackendVdiskPoolIsRBD(def))))
        return -1;

    if ((rc = vdisk_pool_refresh(vpool->pool, &vols, &nvols, &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }

    for (i = 0; i < nvols; i++) {
        g_autoptr(virStorageVolDef) vol = g_new0(virStorageVolDef, 1);

        virStorageBackendVdiskVolDefUpdate(vol, &vols[i]);
        if (virStoragePoolObjAddVol(pool, vol) < 0)
            goto cleanup;
        vol = NULL;
    }

    ret = virStorageBackendVdiskRefreshPoolInfo(def, vpool->pool);

 cleanup:
    vdisk_pool_volumes_free(vols, nvols);
    return ret;
}


/* Check a new volume's definition and give it its path and key, before
 * libvirt lists it (the file itself is made by buildVol). */
static int
virStorageBackendVdiskCreateVol(virStoragePoolObj *pool,
                                virStorageVolDef *vol)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(pool);
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    g_autoptr(vdisk_vol_def) vdef = NULL;
    char *path;
    vdisk_error err = { 0 };
    int rc;

    if ((rc = vdisk_storage_name_check("volume name", vol->name, &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }

    /* an RBD image is a network volume, named "POOL/IMAGE" (as libvirt's
     * rbd backend names it); an existing one is refused by buildVol */
    vol->type = virStorageBackendVdiskPoolIsRBD(def) ?
        VIR_STORAGE_VOL_NETWORK : VIR_STORAGE_VOL_FILE;
    if (!(vdef = virStorageBackendVdiskVolDefToVdisk(def, vol)) ||
        !(vpool = virStorageBackendVdiskPoolOpen(def, true, false)))
        return -1;

    if (!(path = vdisk_vol_path(vpool->pool, vol->name))) {
        virReportSystemError(ENOMEM, _("cannot make the path of volume '%s'"), vol->name);
        return -1;
    }
    g_free(vol->target.path);
    vol->target.path = g_strdup(path);
    free(path);

    if (vol->type == VIR_STORAGE_VOL_FILE && virFileExists(vol->target.path)) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       _("volume target path '%s' already exists"),
                       vol->target.path);
        return -1;
    }

    g_free(vol->key);
    vol->key = g_strdup(vol->target.path);
    return 0;
}


/* Create the volume's file: thin, or thick zeroed as the pool says;
 * vdisk removes it again if anything fails. */
static int
virStorageBackendVdiskBuildVol(virStoragePoolObj *pool,
                               virStorageVolDef *vol,
                               unsigned int flags)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(pool);
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    g_autoptr(vdisk_vol_def) vdef = NULL;
    virStorageBackendVdiskProgress progress = { pool, vol->name };
    vdisk_error err = { 0 };
    unsigned int vflags = 0;
    int rc;

    /* VALIDATE was for the XML parser; the driver passes it on */
    virCheckFlags(VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA |
                  VIR_STORAGE_VOL_CREATE_VALIDATE, -1);

    if (flags & VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA)
        vflags |= VDISK_VOL_CREATE_PREALLOC_METADATA;

    if (!(vpool = virStorageBackendVdiskPoolOpen(def, true, true)) ||
        !(vdef = virStorageBackendVdiskVolDefToVdisk(def, vol)))
        return -1;

    if ((rc = vdisk_vol_create(vpool->pool, vdef, vflags,
                               virStorageBackendVdiskProgressUpdate, &progress,
                               &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }
    return 0;
}


/* Create a volume as a copy of @inputvol, converted to the new volume's
 * format (vol-create-from, vol-clone); the input may be a file of a pool
 * of any type. */
static int
virStorageBackendVdiskBuildVolFrom(virStoragePoolObj *pool,
                                   virStorageVolDef *vol,
                                   virStorageVolDef *inputvol,
                                   unsigned int flags)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(pool);
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    g_autoptr(virStorageBackendVdiskPool) srcpool = NULL;
    g_autoptr(vdisk_vol_def) vdef = NULL;
    virStorageBackendVdiskProgress progress = { pool, vol->name };
    const char *srcname = NULL;
    vdisk_error err = { 0 };
    unsigned int vflags = 0;
    int rc;

    /* VALIDATE was for the XML parser; the driver passes it on.  REFLINK
     * (vol-clone --reflink): a copy sharing the input's extents, or a
     * refusal that says why (never libvirt's "unsupported flags"). */
    virCheckFlags(VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA |
                  VIR_STORAGE_VOL_CREATE_REFLINK |
                  VIR_STORAGE_VOL_CREATE_VALIDATE, -1);

    if (flags & VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA)
        vflags |= VDISK_VOL_CREATE_PREALLOC_METADATA;

    if (!(vpool = virStorageBackendVdiskPoolOpen(def, true, true)) ||
        !(srcpool = virStorageBackendVdiskPoolOpenVol(def, inputvol, &srcname)) ||
        !(vdef = virStorageBackendVdiskVolDefToVdisk(def, vol)))
        return -1;

    if (flags & VIR_STORAGE_VOL_CREATE_REFLINK) {
        vdef->has_capacity = vol->target.capacity > 0;
        vdef->capacity = vol->target.capacity;
        if ((rc = vdisk_vol_create_reflink(vpool->pool, vdef, srcpool->pool, srcname, &err)) < 0) {
            /* As libvirt's dir pool words a failed FICLONE (a system
             * error: the message with strerror, no prefix). */
            if (err.message[0])
                virReportError(VIR_ERR_SYSTEM_ERROR, "%s", err.message);
            else
                virStorageBackendVdiskReportError(rc, &err);
            return -1;
        }
        return 0;
    }
    /* growing an encrypted copy reads the secret its definition names */
    vpool->secrets.vol = vol;

    /* libvirt made the capacity at least the input's */
    vdef->has_capacity = vol->target.capacity > 0;
    vdef->capacity = vol->target.capacity;

    if ((rc = vdisk_vol_create_from(vpool->pool, vdef, srcpool->pool, srcname, vflags,
                                    virStorageBackendVdiskProgressUpdate, &progress,
                                    &err)) < 0 ||
        (rc = virStorageBackendVdiskGrowCopy(vpool->pool, vdef, &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }
    return 0;
}


/* Probe the volume's file again: sizes, format, backing store, encryption
 * with its default secret. */
static int
virStorageBackendVdiskRefreshVol(virStoragePoolObj *pool,
                                 virStorageVolDef *vol)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(pool);
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    g_autofree char *dir = NULL;
    vdisk_vol_def vdef = { 0 };
    vdisk_error err = { 0 };
    int rc;

    /* Being built: the file is not in place yet, and the allocation shows
     * the build's progress. */
    if (vol->building)
        return 0;

    /* The input volume of a copy from another pool (libvirt refreshes it
     * through the new volume's pool): that pool's backend knows it. */
    if (!virStorageBackendVdiskPoolIsRBD(def)) {
        dir = vol->target.path ? g_path_get_dirname(vol->target.path) : NULL;
        if (STRNEQ_NULLABLE(dir, def->target.path))
            return 0;
    }

    if (!(vpool = virStorageBackendVdiskPoolOpen(def, true, true)))
        return -1;

    if (virStorageBackendVdiskPoolIsRBD(def)) {
        char *ours = vdisk_vol_path(vpool->pool, vol->name);
        bool mine = ours && STREQ_NULLABLE(ours, vol->target.path);

        free(ours);
        if (!mine)
            return 0;
    }

    if ((rc = vdisk_vol_lookup(vpool->pool, vol->name, &vdef, &err)) < 0) {
        vdisk_vol_def_clear(&vdef);
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }

    virStorageBackendVdiskVolDefUpdate(vol, &vdef);
    vdisk_vol_def_clear(&vdef);
    return 0;
}


/* Remove the volume's file; one already gone is not an error. */
static int
virStorageBackendVdiskDeleteVol(virStoragePoolObj *pool,
                                virStorageVolDef *vol,
                                unsigned int flags)
{
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    vdisk_error err = { 0 };
    int rc;

    virCheckFlags(0, -1);

    if (!(vpool = virStorageBackendVdiskPoolOpen(virStoragePoolObjGetDef(pool),
                                                 true, false)))
        return -1;

    rc = vdisk_vol_delete(vpool->pool, vol->name, &err);
    if (rc < 0 && rc != -ENOENT) {
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }
    return 0;
}


/* Change the volume's capacity (libvirt has resolved --delta). */
static int
virStorageBackendVdiskResizeVol(virStoragePoolObj *pool,
                                virStorageVolDef *vol,
                                unsigned long long capacity,
                                unsigned int flags)
{
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    vdisk_error err = { 0 };
    unsigned int vflags = 0;
    int rc;

    virCheckFlags(VIR_STORAGE_VOL_RESIZE_ALLOCATE |
                  VIR_STORAGE_VOL_RESIZE_SHRINK, -1);

    if (flags & VIR_STORAGE_VOL_RESIZE_ALLOCATE)
        vflags |= VDISK_VOL_RESIZE_ALLOCATE;
    if (flags & VIR_STORAGE_VOL_RESIZE_SHRINK)
        vflags |= VDISK_VOL_RESIZE_SHRINK;

    if (!(vpool = virStorageBackendVdiskPoolOpen(virStoragePoolObjGetDef(pool),
                                                 true, true)))
        return -1;
    vpool->secrets.vol = vol;

    if ((rc = vdisk_vol_resize(vpool->pool, vol->name, capacity, vflags,
                               NULL, NULL, &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }
    return 0;
}


/* Stream bytes into the volume's file, as libvirt's file pools do. */
static int
virStorageBackendVdiskUploadVol(virStoragePoolObj *pool,
                                virStorageVolDef *vol,
                                virStreamPtr stream,
                                unsigned long long offset,
                                unsigned long long len,
                                unsigned int flags)
{
    if (virStorageBackendVdiskCheckVolFile(pool, vol, "upload", true) < 0)
        return -1;

    return virStorageBackendVolUploadLocal(pool, vol, stream, offset, len, flags);
}


/* Stream the bytes of the volume's file, as libvirt's file pools do. */
static int
virStorageBackendVdiskDownloadVol(virStoragePoolObj *pool,
                                  virStorageVolDef *vol,
                                  virStreamPtr stream,
                                  unsigned long long offset,
                                  unsigned long long len,
                                  unsigned int flags)
{
    if (virStorageBackendVdiskCheckVolFile(pool, vol, "download", false) < 0)
        return -1;

    return virStorageBackendVolDownloadLocal(pool, vol, stream, offset, len, flags);
}


/* libvirt's names of its wipe algorithms, for vdisk to accept or refuse. */
static const char *virStorageBackendVdiskWipeAlgorithms[] = {
    [VIR_STORAGE_VOL_WIPE_ALG_ZERO] = "zero",
    [VIR_STORAGE_VOL_WIPE_ALG_NNSA] = "nnsa",
    [VIR_STORAGE_VOL_WIPE_ALG_DOD] = "dod",
    [VIR_STORAGE_VOL_WIPE_ALG_BSI] = "bsi",
    [VIR_STORAGE_VOL_WIPE_ALG_GUTMANN] = "gutmann",
    [VIR_STORAGE_VOL_WIPE_ALG_SCHNEIER] = "schneier",
    [VIR_STORAGE_VOL_WIPE_ALG_PFITZNER7] = "pfitzner7",
    [VIR_STORAGE_VOL_WIPE_ALG_PFITZNER33] = "pfitzner33",
    [VIR_STORAGE_VOL_WIPE_ALG_RANDOM] = "random",
    [VIR_STORAGE_VOL_WIPE_ALG_TRIM] = "trim",
};
G_STATIC_ASSERT(G_N_ELEMENTS(virStorageBackendVdiskWipeAlgorithms) ==
                VIR_STORAGE_VOL_WIPE_ALG_LAST);


/* Overwrite the volume's data (zero, random) or deallocate it (trim); a
 * qcow2 volume is formatted again, empty, so it stays usable. */
static int
virStorageBackendVdiskWipeVol(virStoragePoolObj *pool,
                              virStorageVolDef *vol,
                              unsigned int algorithm,
                              unsigned int flags)
{
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    vdisk_wipe_alg alg;
    vdisk_error err = { 0 };
    int rc;

    virCheckFlags(0, -1);

    if (algorithm >= VIR_STORAGE_VOL_WIPE_ALG_LAST) {
        virReportError(VIR_ERR_INVALID_ARG,
                       _("unsupported algorithm %d"), algorithm);
        return -1;
    }

    VIR_DEBUG("Wiping volume '%s' with algorithm '%s'",
              vol->target.path, virStorageBackendVdiskWipeAlgorithms[algorithm]);

    if ((rc = vdisk_wipe_alg_from_name(virStorageBackendVdiskWipeAlgorithms[algorithm],
                                       &alg, &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }

    if (!(vpool = virStorageBackendVdiskPoolOpen(virStoragePoolObjGetDef(pool),
                                                 true, true)))
        return -1;
    vpool->secrets.vol = vol;

    if ((rc = vdisk_vol_wipe(vpool->pool, vol->name, alg, NULL, NULL, &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return -1;
    }
    return 0;
}


static virStorageBackend virStorageBackendVdisk = {
    .type = VIR_STORAGE_POOL_VDISK,

    .checkPool = virStorageBackendVdiskCheckPool,
    .startPool = virStorageBackendVdiskStartPool,
    .buildPool = virStorageBackendVdiskBuildPool,
    .refreshPool = virStorageBackendVdiskRefreshPool,
    .stopPool = virStorageBackendVdiskStopPool,
    .deletePool = virStorageBackendVdiskDeletePool,
    .buildVol = virStorageBackendVdiskBuildVol,
    .buildVolFrom = virStorageBackendVdiskBuildVolFrom,
    .createVol = virStorageBackendVdiskCreateVol,
    .refreshVol = virStorageBackendVdiskRefreshVol,
    .deleteVol = virStorageBackendVdiskDeleteVol,
    .resizeVol = virStorageBackendVdiskResizeVol,
    .uploadVol = virStorageBackendVdiskUploadVol,
    .downloadVol = virStorageBackendVdiskDownloadVol,
    .wipeVol = virStorageBackendVdiskWipeVol,
};


/* Whether a new vdisk volume can have libvirt's file format @format: what
 * libvdisk creates, by the same name (pool-capabilities lists these). */
static bool
virStorageBackendVdiskFormatCanCreate(int format)
{
    const char *name = virStorageFileFormatTypeToString(format);
    vdisk_format fmt;

    return name && vdisk_format_from_name(name, &fmt, NULL) == 0 &&
           vdisk_vol_format_can_create(fmt);
}


int
virStorageBackendVdiskRegister(void)
{
    if (virStorageBackendRegister(&virStorageBackendVdisk) < 0)
        return -1;

    if (virStoragePoolOptionsPoolTypeSetVolFormatCanCreate(VIR_STORAGE_POOL_VDISK,
                                                           virStorageBackendVdiskFormatCanCreate) < 0)
        return -1;

    return virStorageBackendNamespaceInit(VIR_STORAGE_POOL_VDISK,
                                          &virStoragePoolVdiskXMLNamespace);
}
