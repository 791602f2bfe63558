/*
 * storage_backend_vdisk_vol.h: what the volume callbacks of the vdisk
 * backend share
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

#include "storage_conf.h"
#include "virstorageobj.h"

typedef struct _virStorageBackendVdiskProgress virStorageBackendVdiskProgress;
struct _virStorageBackendVdiskProgress {
    virStoragePoolObj *pool;    /* unlocked while the volume is built */
    const char *name;
};


int
virStorageBackendVdiskProgressUpdate(void *opaque,
                                     uint64_t done,
                                     uint64_t total);

int
virStorageBackendVdiskGrowCopy(vdisk_pool *vpool,
                               const vdisk_vol_def *vdef,
                               vdisk_error *err);

int
virStorageBackendVdiskCheckVolFile(virStoragePoolObj *pool,
                                   virStorageVolDef *vol,
                                   const char *what,
                                   bool forWrite);
