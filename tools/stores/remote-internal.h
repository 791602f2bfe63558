/* vdisk-virsh -c URI — what the store-libvirt*.c files share below the
 * store: the connection, virsh's lookups of pools and volumes, libvirt's
 * error as a vdisk_error, and volume definitions read from the daemon's
 * XML (store-libvirt-conn.c).  None of them prints: the commands do.
 */
#ifndef VV_REMOTE_INTERNAL_H
#define VV_REMOTE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <vdisk/storage-def.h>
#include <vdisk/store.h>

#include "libvirt-load.h"   /* libvirt's API, loaded on the first connection */
#include "virsh-args.h"
#include "store-open.h"

/* libvirt's last error into *err (message as virsh prints it, kind from
 * its code; code 0 and no message when libvirt has none), then reset it.
 * Returns the negative errno of the kind. */
int vr_error(vdisk_error *err);

/* Connect as virsh does (default authentication callbacks).  libvirt's
 * client library is loaded here, by the first command that needs it.
 * Prints the error ("failed to connect to the hypervisor" and libvirt's). */
int vr_connect(const char *uri, virConnectPtr *conn);

/* virsh's lookups: a pool by UUID or name; a volume by name in pool (if
 * pool_name, which must be active; and a volume found by key or path must
 * be in it), else by key, else by path.  The error in *err (and, for a
 * volume, the step that failed). */
int vr_find_pool(virConnectPtr conn, const char *name, virStoragePoolPtr *out, vdisk_error *err);
int vr_find_vol(virConnectPtr conn, const char *pool_name, const char *name, virStorageVolPtr *out,
                vdisk_store_lookup_step *step, vdisk_error *err);

/* The volume as a definition, from its XML, with capacity and allocation
 * from virStorageVolGetInfo as virsh shows them (and, if physical, the
 * physical size: one more call to the daemon); *type is virsh's word for
 * the volume type.  Clear *def after success. */
int vr_vol_def_get(virStorageVolPtr vol, bool physical, vdisk_vol_def *def, const char **type,
                   vdisk_error *err);

#endif
