/*
 * storage_backend_vdisk_secret.c: passphrases of encrypted vdisk volumes
 * from libvirt's secret driver
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

#include "storage_backend_vdisk_secret.h"
#include "datatypes.h"
#include "driver.h"
#include "viridentity.h"
#include "virerror.h"
#include "virlog.h"
#include "virsecret.h"
#include "virsecureerase.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.storage_backend_vdisk_secret");


/* The connection to the secret driver, opened on first use. */
static virConnectPtr
virStorageBackendVdiskSecretsConnect(virStorageBackendVdiskSecrets *secrets,
                                     vdisk_error *err)
{
    if (!secrets->conn && !(secrets->conn = virGetConnectSecret())) {
        vdisk_error_set(err, EIO, "cannot connect to the secret driver: %s",
                        virGetLastErrorMessage());
        return NULL;
    }

    return secrets->conn;
}


/* Find the secret of usage type 'volume' whose usage id is @usage (a
 * volume path), as libvirt's file backends look up a volume's default
 * secret; -ENOENT when there is none. */
static int
virStorageBackendVdiskSecretLookupUsage(void *opaque,
                                        const char *usage,
                                        unsigned char uuid[16],
                                        vdisk_error *err)
{
    virStorageBackendVdiskSecrets *secrets = opaque;
    VIR_IDENTITY_AUTORESTORE virIdentity *oldident = NULL;
    virStorageEncryption *enc = secrets->vol ? secrets->vol->target.encryption : NULL;
    virConnectPtr conn;
    virSecretPtr sec;

    /* The secret the volume's definition names comes first, as libvirt's
     * file pools use it for a volume they created. */
    if (enc && enc->nsecrets > 0 &&
        STREQ_NULLABLE(usage, secrets->vol->target.path)) {
        virSecretLookupTypeDef *lookup = &enc->secrets[0]->seclookupdef;

        if (lookup->type == VIR_SECRET_LOOKUP_TYPE_UUID) {
            memcpy(uuid, lookup->u.uuid, VIR_UUID_BUFLEN);
            return 0;
        }
        if (lookup->type == VIR_SECRET_LOOKUP_TYPE_USAGE && lookup->u.usage)
            usage = lookup->u.usage;
    }

    if (!(oldident = virIdentityElevateCurrent()))
        return vdisk_error_set(err, EPERM, "cannot elevate the identity to read secrets");

    if (!(conn = virStorageBackendVdiskSecretsConnect(secrets, err)))
        return -EIO;

    if (!(sec = virSecretLookupByUsage(conn, VIR_SECRET_USAGE_TYPE_VOLUME, usage))) {
        /* Not an error: most volumes have no secret naming them. */
        virResetLastError();
        return -ENOENT;
    }

    virSecretGetUUID(sec, uuid);
    virObjectUnref(sec);
    return 0;
}


/* The usage type of secret @uuid: 'ceph' for a pool's cephx key, else
 * 'volume' (what the lookup then demands of it). */
static int
virStorageBackendVdiskSecretUsageType(virConnectPtr conn,
                                      const unsigned char *uuid)
{
    virSecretPtr sec = virSecretLookupByUUID(conn, uuid);
    int usage = sec ? virSecretGetUsageType(sec) : -1;

    virObjectUnref(sec);
    virResetLastError();
    return usage == VIR_SECRET_USAGE_TYPE_CEPH ? usage : VIR_SECRET_USAGE_TYPE_VOLUME;
}


/* The value of secret @uuid, which must be a 'volume' secret (or have no
 * usage), or a 'ceph' one (the cephx key of a pool on RBD); copied into a
 * malloc'ed buffer the plugin wipes and frees. */
static int
virStorageBackendVdiskSecretGetValue(void *opaque,
                                     const unsigned char uuid[16],
                                     unsigned char **value,
                                     size_t *len,
                                     vdisk_error *err)
{
    virStorageBackendVdiskSecrets *secrets = opaque;
    VIR_IDENTITY_AUTORESTORE virIdentity *oldident = NULL;
    virSecretLookupTypeDef lookup = { .type = VIR_SECRET_LOOKUP_TYPE_UUID };
    g_autofree uint8_t *secret = NULL;
    size_t secretlen = 0;
    virConnectPtr conn;
    int rc = 0;

    if (!(oldident = virIdentityElevateCurrent()))
        return vdisk_error_set(err, EPERM, "cannot elevate the identity to read secrets");

    if (!(conn = virStorageBackendVdiskSecretsConnect(secrets, err)))
        return -EIO;

    memcpy(lookup.u.uuid, uuid, VIR_UUID_BUFLEN);
    if (virSecretGetSecretString(conn, &lookup,
                                 virStorageBackendVdiskSecretUsageType(conn, uuid),
                                 &secret, &secretlen) < 0) {
        virErrorPtr last = virGetLastError();
        int errnum = last && last->code == VIR_ERR_NO_SECRET ? ENOENT : EACCES;

        rc = vdisk_error_set(err, errnum, "%s", virGetLastErrorMessage());
        virResetLastError();
        return rc;
    }

    /* The plugin frees with free(): hand it memory from malloc. */
    if (!(*value = malloc(secretlen ? secretlen : 1)))
        rc = vdisk_error_set(err, ENOMEM, "out of memory");
    else
        memcpy(*value, secret, secretlen);
    *len = rc == 0 ? secretlen : 0;

    virSecureErase(secret, secretlen);
    return rc;
}


void
virStorageBackendVdiskSecretsInit(virStorageBackendVdiskSecrets *secrets,
                                  vdisk_secret_source *source)
{
    secrets->conn = NULL;
    secrets->vol = NULL;
    source->lookup_usage = virStorageBackendVdiskSecretLookupUsage;
    source->get_value = virStorageBackendVdiskSecretGetValue;
    source->opaque = secrets;
}


void
virStorageBackendVdiskSecretsClear(virStorageBackendVdiskSecrets *secrets)
{
    g_clear_pointer(&secrets->conn, virObjectUnref);
}
