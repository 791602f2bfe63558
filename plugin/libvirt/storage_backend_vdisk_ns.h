/*
 * storage_backend_vdisk_ns.h: the vdisk XML namespace of storage pools
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

#include "virxml.h"

/* The provisioning and backing file policies of a <pool type='vdisk'>, as
 * written in
 *
 *     <vdisk:provisioning>
 *       <vdisk:zeroing>lazy|eager</vdisk:zeroing>
 *       <vdisk:overcommit>RATIO</vdisk:overcommit>
 *     </vdisk:provisioning>
 *     <vdisk:backing>
 *       <vdisk:outside>allow|refuse</vdisk:outside>
 *     </vdisk:backing>
 *     <vdisk:config file='/etc/ceph/ceph.conf'/>   (a pool on Ceph RBD)
 *
 * Kept as written so that pool-dumpxml gives back what pool-define took
 * (<vdisk:provisioning> always, with the zeroing mode in effect);
 * the values are checked by vdisk's own pool XML parser at parse time. */
typedef struct _virStoragePoolVdiskNamespaceDef virStoragePoolVdiskNamespaceDef;
struct _virStoragePoolVdiskNamespaceDef {
    char *zeroing;      /* "lazy" or "eager"; NULL when not given */
    char *overcommit;   /* e.g. "1.5"; NULL when not given (no cap) */
    bool backing;       /* <vdisk:backing> given (maybe empty) */
    char *outside;      /* "allow" or "refuse"; NULL when not given (refuse) */
    char *config;       /* <vdisk:config file=> of a pool on Ceph; NULL when not given */
};

extern virXMLNamespace virStoragePoolVdiskXMLNamespace;
