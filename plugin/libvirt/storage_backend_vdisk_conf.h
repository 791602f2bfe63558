/*
 * storage_backend_vdisk_conf.h: libvirt's pool and volume definitions
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

#pragma once

#include <vdisk/pool.h>
#include <vdisk/storage-def.h>

#include "storage_backend_vdisk_secret.h"
#include "storage_conf.h"
#include "virstorageobj.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(vdisk_vol_def, vdisk_vol_def_free);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vdisk_pool_def, vdisk_pool_def_free);

/* A vdisk pool handle made from a libvirt pool definition, with the
 * secret source its encrypted volumes read their passphrases from. */
typedef struct _virStorageBackendVdiskPool virStorageBackendVdiskPool;
struct _virStorageBackendVdiskPool {
    vdisk_pool *pool;
    virStorageBackendVdiskSecrets secrets;
    /* A directory of another pool type (the input of a copy): the input
     * volume's name and libvirt's format of it, which vdisk asks for
     * instead of keeping a record there. */
    char *inputName;
    int inputFormat;
};

/* Whether the pool is on Ceph RBD (its <source> names an RBD pool; it
 * has no target and its volumes are RBD images "POOL/IMAGE"). */
bool
virStorageBackendVdiskPoolIsRBD(const virStoragePoolDef *def);

virStorageBackendVdiskPool *
virStorageBackendVdiskPoolOpen(virStoragePoolDef *def,
                               bool active,
                               bool withSecrets);

virStorageBackendVdiskPool *
virStorageBackendVdiskPoolOpenVol(virStoragePoolDef *def,
                                  virStorageVolDef *vol,
                                  const char **name);

void
virStorageBackendVdiskPoolFree(virStorageBackendVdiskPool *vpool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStorageBackendVdiskPool, virStorageBackendVdiskPoolFree);

void
virStorageBackendVdiskReportError(int rc,
                                  const vdisk_error *err);

vdisk_vol_def *
virStorageBackendVdiskVolDefToVdisk(virStoragePoolDef *pooldef,
                                    virStorageVolDef *vol);

void
virStorageBackendVdiskVolDefUpdate(virStorageVolDef *vol,
                                   const vdisk_vol_def *src);
