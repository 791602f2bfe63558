/*
 * storage_backend_vdisk_conf.c: libvirt's pool and volume definitions
 * translated to and from vdisk's
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

#include <vdisk/storage-xml.h>
#include <vdisk/store-error.h>
#include <vdisk/volume.h>

#include "storage_backend_vdisk_conf.h"
#include "virerror.h"
#include "virlog.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.storage_backend_vdisk_conf");

#define VDISK_POOL_DOCNAME "(storage_pool_definition)"
#define VDISK_VOL_DOCNAME "(storage_volume_definition)"


/* The error code for a vdisk failure, by its errno: for the kinds that
 * name no libvirt error of their own (a corrupt image, a full disk...). */
static int
virStorageBackendVdiskErrnoCode(int rc)
{
    switch (-rc) {
    case EINVAL:
        return VIR_ERR_INVALID_ARG;
    case ENOTSUP:
        return VIR_ERR_OPERATION_UNSUPPORTED;
    case EEXIST:
    case EBUSY:
        return VIR_ERR_OPERATION_INVALID;
    case EACCES:
    case EPERM:
        return VIR_ERR_OPERATION_DENIED;
    default:
        return VIR_ERR_OPERATION_FAILED;
    }
}


/* The error code for a vdisk failure: by its kind and subject
 * (vdisk/store-error.h) where they name a libvirt error -- libvirt then
 * writes its own words in front ("Storage volume not found: ") --, else
 * by its errno. */
static int
virStorageBackendVdiskErrorCode(int rc,
                                const vdisk_error *err)
{
    if (!err)
        return virStorageBackendVdiskErrnoCode(rc);

    switch (err->kind) {
    case VDISK_ERR_INVALID_STATE:
        return VIR_ERR_OPERATION_INVALID;
    case VDISK_ERR_NOT_FOUND:
        switch ((vdisk_store_subject) err->subject) {
        case VDISK_SUBJECT_POOL:
            return VIR_ERR_NO_STORAGE_POOL;
        case VDISK_SUBJECT_VOLUME:
            return VIR_ERR_NO_STORAGE_VOL;
        case VDISK_SUBJECT_SECRET:
            return VIR_ERR_NO_SECRET;
        case VDISK_SUBJECT_NONE:
        default:
            break;
        }
        break;
    default:
        break;
    }
    return virStorageBackendVdiskErrnoCode(rc);
}


void
virStorageBackendVdiskReportError(int rc,
                                  const vdisk_error *err)
{
    const char *msg = err && err->message[0] ? err->message : g_strerror(-rc);

    virReportError(virStorageBackendVdiskErrorCode(rc, err), "%s", msg);
}


bool
virStorageBackendVdiskPoolIsRBD(const virStoragePoolDef *def)
{
    /* patch 0007: a vdisk pool's source has a name only on RBD */
    return def->source.name != NULL;
}


/* Wrap a vdisk pool definition (owned from here on) into a handle. */
static virStorageBackendVdiskPool *
virStorageBackendVdiskPoolNew(vdisk_pool_def *vdef,
                              bool active,
                              bool withSecrets)
{
    g_autoptr(virStorageBackendVdiskPool) vpool = g_new0(virStorageBackendVdiskPool, 1);
    vdisk_secret_source source;
    vdisk_error err = { 0 };
    int rc;

    virStorageBackendVdiskSecretsInit(&vpool->secrets, &source);
    if ((rc = vdisk_pool_new_unmanaged(vdef, active, withSecrets ? &source : NULL,
                                       &vpool->pool, &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return NULL;
    }

    return g_steal_pointer(&vpool);
}


/**
 * virStorageBackendVdiskPoolOpen:
 * @def: the libvirt pool definition
 * @active: whether the handle starts out active (volume operations need it)
 * @withSecrets: whether encrypted volumes may read secrets of the secret
 *               driver (not at pool refresh: the daemon may still be
 *               starting, and libvirt fills in secrets on volume refresh)
 *
 * Translate @def by formatting it and parsing it with vdisk's pool XML
 * parser, which also reads the vdisk namespace (provisioning policy).
 *
 * Returns a handle to free with virStorageBackendVdiskPoolFree, or NULL
 * with an error reported.
 */
virStorageBackendVdiskPool *
virStorageBackendVdiskPoolOpen(virStoragePoolDef *def,
                               bool active,
                               bool withSecrets)
{
    g_autofree char *xml = NULL;
    vdisk_pool_def *vdef = NULL;
    vdisk_error err = { 0 };
    int rc;

    if (!(xml = virStoragePoolDefFormat(def)))
        return NULL;

    if ((rc = vdisk_pool_def_parse(xml, strlen(xml), VDISK_POOL_DOCNAME,
                                   &vdef, &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return NULL;
    }

    return virStorageBackendVdiskPoolNew(vdef, active, withSecrets);
}


/* The format of the input volume of a copy from a directory vdisk does not
 * manage, as the pool it belongs to knows it. */
static int
virStorageBackendVdiskInputFormat(void *opaque,
                                  const char *name,
                                  vdisk_format *fmt,
                                  vdisk_error *err)
{
    virStorageBackendVdiskPool *vpool = opaque;
    const char *fmtname = virStorageFileFormatTypeToString(vpool->inputFormat);

    if (STRNEQ_NULLABLE(name, vpool->inputName))
        return -ENOENT;
    if (!fmtname || vdisk_format_from_name(fmtname, fmt, NULL) < 0)
        return vdisk_error_set(err, ENOTSUP, "volume '%s' has format '%s', which vdisk does not read",
                               name, NULLSTR(fmtname));
    return 0;
}


/**
 * virStorageBackendVdiskPoolOpenVol:
 * @def: the definition of the pool the operation runs in
 * @vol: a volume of that pool, or the input volume of a copy, which may
 *       belong to another pool of any type
 * @name: set to the volume's name in the returned handle (borrowed from @vol)
 *
 * A handle on the directory holding @vol: the pool itself when the
 * volume is one of its files, else an active handle made for the
 * volume's directory.
 */
virStorageBackendVdiskPool *
virStorageBackendVdiskPoolOpenVol(virStoragePoolDef *def,
                                  virStorageVolDef *vol,
                                  const char **name)
{
    g_autofree char *dir = NULL;
    g_autoptr(virStorageBackendVdiskPool) vpool = NULL;
    vdisk_format_source source = { .lookup = virStorageBackendVdiskInputFormat };
    vdisk_pool_def *vdef;

    /* an RBD image of this pool (vol-clone, vol-create-from in the pool) */
    if (virStorageBackendVdiskPoolIsRBD(def) && vol->target.path) {
        char *ours;
        bool mine;

        if (!(vpool = virStorageBackendVdiskPoolOpen(def, true, true)))
            return NULL;
        ours = vdisk_vol_path(vpool->pool, vol->name);
        mine = ours && STREQ(ours, vol->target.path);
        free(ours);
        if (mine) {
            *name = vol->name;
            return g_steal_pointer(&vpool);
        }
        g_clear_pointer(&vpool, virStorageBackendVdiskPoolFree);
    }

    if (!vol->target.path || vol->target.path[0] != '/') {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("volume '%s' has no local file path"), vol->name);
        return NULL;
    }

    dir = g_path_get_dirname(vol->target.path);
    *name = strrchr(vol->target.path, '/') + 1;
    if (STREQ(dir, def->target.path))
        return virStorageBackendVdiskPoolOpen(def, true, true);

    /* vdisk frees its definitions with free(): allocate them with malloc */
    if (!(vdef = calloc(1, sizeof(*vdef))) ||
        !(vdef->name = strdup(dir)) ||
        !(vdef->target_path = strdup(dir))) {
        vdisk_pool_def_free(vdef);
        virReportSystemError(ENOMEM, _("cannot describe directory '%s'"), dir);
        return NULL;
    }
    if (!(vpool = virStorageBackendVdiskPoolNew(vdef, true, true)))
        return NULL;

    /* Not a vdisk pool: nothing is recorded in its directory; the input's
     * format is the one its own pool gives it. */
    vpool->inputName = g_strdup(*name);
    vpool->inputFormat = vol->target.format;
    source.opaque = vpool;
    vdisk_pool_set_format_source(vpool->pool, &source);
    return g_steal_pointer(&vpool);
}


void
virStorageBackendVdiskPoolFree(virStorageBackendVdiskPool *vpool)
{
    if (!vpool)
        return;

    vdisk_pool_free(vpool->pool);
    virStorageBackendVdiskSecretsClear(&vpool->secrets);
    g_free(vpool->inputName);
    g_free(vpool);
}


/**
 * virStorageBackendVdiskVolDefToVdisk:
 *
 * Translate a volume definition by formatting it and parsing it with
 * vdisk's volume XML parser, then restore what libvirt's parser and
 * formatter do not carry: an absent <allocation> (thin in vdisk, not
 * "allocation = capacity"), an absent <capacity> of a volume with a
 * backing store (the backing file's size), and <nocow/>.
 *
 * Returns the vdisk definition, or NULL with an error reported.
 */
vdisk_vol_def *
virStorageBackendVdiskVolDefToVdisk(virStoragePoolDef *pooldef,
                                    virStorageVolDef *vol)
{
    g_autofree char *xml = NULL;
    vdisk_vol_def *vdef = NULL;
    vdisk_error err = { 0 };
    int rc;

    if (!(xml = virStorageVolDefFormat(pooldef, vol)))
        return NULL;

    /* vdisk's volume grammar knows files only: an RBD image (libvirt's
     * network volume) is one because its pool is on RBD */
    if (vol->type == VIR_STORAGE_VOL_NETWORK &&
        virStorageBackendVdiskPoolIsRBD(pooldef) &&
        STRPREFIX(xml, "<volume type='network'>")) {
        char *file = g_strdup_printf("<volume type='file'>%s",
                                     xml + strlen("<volume type='network'>"));

        g_free(xml);
        xml = file;
    }

    if ((rc = vdisk_vol_def_parse(xml, strlen(xml), VDISK_VOL_DOCNAME,
                                  &vdef, &err)) < 0) {
        virStorageBackendVdiskReportError(rc, &err);
        return NULL;
    }

    if (!vol->target.has_allocation) {
        vdef->has_allocation = false;
        vdef->allocation = 0;
    }
    if (vol->target.capacity == 0 && virStorageSourceHasBacking(&vol->target))
        vdef->has_capacity = false;
    vdef->nocow = vol->target.nocow;

    return vdef;
}


/* libvirt's file format of a vdisk format: the same name (qemu-img's), a
 * raw LUKS container is a raw volume with <encryption format='luks'>, as
 * libvirt's fs backend shows it, and a format libvirt has no name for
 * (vhdx, parallels) is 'none' -- never 'raw', which a guest would be given
 * the other format's metadata as. */
static int
virStorageBackendVdiskFileFormat(vdisk_format format,
                                 const char *name)
{
    int ret;

    if (name && (ret = virStorageFileFormatTypeFromString(name)) > 0)
        return ret;

    switch (format) {
    case VDISK_FORMAT_UNKNOWN:
    case VDISK_FORMAT_RAW:
    case VDISK_FORMAT_LUKS:
        return VIR_STORAGE_FILE_RAW;
    default:
        if ((ret = virStorageFileFormatTypeFromString(vdisk_format_name(format))) > 0)
            return ret;
        return VIR_STORAGE_FILE_NONE;
    }
}


static void
virStorageBackendVdiskPermsUpdate(virStoragePerms **perms,
                                  const vdisk_perms *src)
{
    if (!*perms)
        *perms = g_new0(virStoragePerms, 1);

    (*perms)->mode = src->has_mode ? src->mode : (mode_t)-1;
    (*perms)->uid = src->has_owner ? src->owner : (uid_t)-1;
    (*perms)->gid = src->has_group ? src->group : (gid_t)-1;
    g_free((*perms)->label);
    (*perms)->label = g_strdup(src->label);
}


/* <encryption> as libvirt's fs backend reports an encrypted image: the
 * format, and the volume's default secret when one names it. */
static virStorageEncryption *
virStorageBackendVdiskEncryptionNew(const vdisk_vol_encryption_def *src)
{
    virStorageEncryption *enc;
    virStorageEncryptionSecret *secret;

    if (src->format == VDISK_VOL_ENCRYPTION_NONE)
        return NULL;

    enc = g_new0(virStorageEncryption, 1);
    enc->format = src->format == VDISK_VOL_ENCRYPTION_LUKS ?
        VIR_STORAGE_ENCRYPTION_FORMAT_LUKS : VIR_STORAGE_ENCRYPTION_FORMAT_QCOW;
    enc->payload_offset = -1;

    if (!src->has_secret_uuid)
        return enc;

    secret = g_new0(virStorageEncryptionSecret, 1);
    secret->type = VIR_STORAGE_ENCRYPTION_SECRET_TYPE_PASSPHRASE;
    secret->seclookupdef.type = VIR_SECRET_LOOKUP_TYPE_UUID;
    memcpy(secret->seclookupdef.u.uuid, src->secret_uuid, VIR_UUID_BUFLEN);

    enc->secrets = g_new0(virStorageEncryptionSecret *, 1);
    enc->secrets[0] = secret;
    enc->nsecrets = 1;
    return enc;
}


/* The qcow2 feature bits: present (maybe empty) for compat 1.1 only, as
 * libvirt's probe reports them. */
static virBitmap *
virStorageBackendVdiskFeaturesNew(const vdisk_vol_def *src)
{
    virBitmap *features;

    if (src->format != VDISK_FORMAT_QCOW2 || !src->compat || STREQ(src->compat, "0.10"))
        return NULL;

    features = virBitmapNew(VIR_STORAGE_FILE_FEATURE_LAST);
    if (src->lazy_refcounts)
        ignore_value(virBitmapSetBit(features, VIR_STORAGE_FILE_FEATURE_LAZY_REFCOUNTS));
    if (src->extended_l2)
        ignore_value(virBitmapSetBit(features, VIR_STORAGE_FILE_FEATURE_EXTENDED_L2));
    return features;
}


static void
virStorageBackendVdiskBackingUpdate(virStorageSource *target,
                                    const vdisk_vol_def *src)
{
    virStorageSource *backing;

    g_clear_pointer(&target->backingStore, virObjectUnref);
    if (!src->backing_path)
        return;

    backing = virStorageSourceNew();
    backing->type = VIR_STORAGE_TYPE_FILE;
    backing->path = g_strdup(src->backing_path);
    backing->format = virStorageBackendVdiskFileFormat(src->backing_format,
                                                       src->backing_format_name);
    virStorageBackendVdiskPermsUpdate(&backing->perms, &src->backing_perms);
    target->backingStore = backing;
}


static void
virStorageBackendVdiskTimestampsUpdate(virStorageSource *target,
                                       const vdisk_vol_def *src)
{
    g_clear_pointer(&target->timestamps, g_free);
    if (!src->has_timestamps)
        return;

    target->timestamps = g_new0(virStorageTimestamps, 1);
    target->timestamps->atime.tv_sec = src->atime.sec;
    target->timestamps->atime.tv_nsec = src->atime.nsec;
    target->timestamps->mtime.tv_sec = src->mtime.sec;
    target->timestamps->mtime.tv_nsec = src->mtime.nsec;
    target->timestamps->ctime.tv_sec = src->ctime_.sec;
    target->timestamps->ctime.tv_nsec = src->ctime_.nsec;
    /* birth time unknown: not shown */
    target->timestamps->btime.tv_nsec = -1;
}


/**
 * virStorageBackendVdiskVolDefUpdate:
 * @vol: the libvirt volume definition to fill in (new, or refreshed)
 * @src: what vdisk probed of the volume's file
 *
 * Fill name, key (the path, as libvirt's file and rbd pools), type, target path,
 * format, sizes, qcow2 details, permissions, timestamps, backing store and
 * encryption from vdisk's probe.
 */
void
virStorageBackendVdiskVolDefUpdate(virStorageVolDef *vol,
                                   const vdisk_vol_def *src)
{
    virStorageSource *target = &vol->target;

    if (!vol->name)
        vol->name = g_strdup(src->name);
    /* an RBD image: a network volume, as libvirt's rbd backend has it */
    vol->type = src->network ? VIR_STORAGE_VOL_NETWORK : VIR_STORAGE_VOL_FILE;
    if (src->target_path) {
        g_free(target->path);
        target->path = g_strdup(src->target_path);
    }
    g_free(vol->key);
    vol->key = g_strdup(src->key ? src->key : target->path);

    target->type = src->network ? VIR_STORAGE_TYPE_NETWORK : VIR_STORAGE_TYPE_FILE;
    /* A volume created as 'iso' is a raw file until an image is written
     * into it; it stays 'iso' until the next pool refresh, as in libvirt's
     * file pools. */
    if (!(target->format == VIR_STORAGE_FILE_ISO && src->format == VDISK_FORMAT_RAW))
        target->format = virStorageBackendVdiskFileFormat(src->format, NULL);
    target->capacity = src->capacity;
    target->allocation = src->allocation;
    target->physical = src->physical;
    target->clusterSize = src->cluster_size;
    g_free(target->compat);
    target->compat = g_strdup(src->compat);

    g_clear_pointer(&target->features, virBitmapFree);
    target->features = virStorageBackendVdiskFeaturesNew(src);

    virStorageBackendVdiskPermsUpdate(&target->perms, &src->perms);
    virStorageBackendVdiskTimestampsUpdate(target, src);
    virStorageBackendVdiskBackingUpdate(target, src);

    /* A LUKS volume keeps the secret its definition names (vdisk's probe
     * finds only a secret whose usage is the volume's path), as libvirt's
     * file pools keep it until the next pool refresh. */
    if (src->encryption.format == VDISK_VOL_ENCRYPTION_LUKS && target->encryption &&
        target->encryption->format == VIR_STORAGE_ENCRYPTION_FORMAT_LUKS &&
        target->encryption->nsecrets > 0)
        return;

    g_clear_pointer(&target->encryption, virStorageEncryptionFree);
    target->encryption = virStorageBackendVdiskEncryptionNew(&src->encryption);
}
