/*
 * storage_backend_vdisk_secret.h: passphrases of encrypted vdisk volumes
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

#pragma once

#include <vdisk/pool.h>

#include "internal.h"
#include "storage_conf.h"

typedef struct _virStorageBackendVdiskSecrets virStorageBackendVdiskSecrets;
struct _virStorageBackendVdiskSecrets {
    virConnectPtr conn;     /* the secret driver, connected on first use */
    /* The volume being worked on (borrowed), whose definition may name its
     * secret, as libvirt's file pools keep it from vol-create until the
     * next pool refresh; NULL: secrets are found by the volume's path. */
    virStorageVolDef *vol;
};

/* Point @source's callbacks at @secrets, which must outlive every vdisk
 * pool handle made with @source. */
void
virStorageBackendVdiskSecretsInit(virStorageBackendVdiskSecrets *secrets,
                                  vdisk_secret_source *source);

void
virStorageBackendVdiskSecretsClear(virStorageBackendVdiskSecrets *secrets);
