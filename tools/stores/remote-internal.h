/* vdisk-virsh -c URI — what the remote-*.c files share: the connection,
 * virsh's lookups of pools and volumes, libvirt's error as virsh prints
 * it, and volume definitions read from the daemon's XML.
 *
 * Every handler has the embedded command's signature plus the URI; it
 * parses its arguments first (so --help and usage errors need no daemon),
 * then connects.
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

typedef int (*vr_handler)(const char *uri, int argc, char **argv);

/* What a command works on; released by vr_end. */
typedef struct vr_ctx {
    virConnectPtr conn;
    virStoragePoolPtr pool;     /* vr_begin_pool; vr_begin_vol when --pool was given */
    virStorageVolPtr vol;       /* vr_begin_vol */
} vr_ctx;

/* "error: <libvirt's last error>" as virsh prints it at the end of a
 * failed command ("unknown error" when libvirt has none). */
void vr_report(void);
/* libvirt's last error into *err (message as virsh prints it, kind from
 * its code; code 0 and no message when libvirt has none), then reset it.
 * Returns the negative errno of the kind. */
int vr_error(vdisk_error *err);

/* Connect as virsh does (default authentication callbacks).  libvirt's
 * client library is loaded here, by the first command that needs it.
 * Prints the error. */
int vr_connect(const char *uri, virConnectPtr *conn);

/* Parse, then connect (VV_GO to go on, else the exit status). */
int vr_begin(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vr_ctx *c);
/* The same, and look up the pool named by the "pool" argument. */
int vr_begin_pool(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vr_ctx *c);
/* The same, and look up the volume named by "vol" (in "pool" if given). */
int vr_begin_vol(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vr_ctx *c);
void vr_end(vr_ctx *c);

/* virsh's lookups: a pool by UUID or name; a volume by name in pool (if
 * pool_name), else by key, else by path.  Print virsh's errors. */
int vr_lookup_pool(virConnectPtr conn, const char *name, virStoragePoolPtr *out);
int vr_lookup_vol(virConnectPtr conn, const char *pool_name, const char *name, virStorageVolPtr *out);
/* The same lookups, silent: the error in *err (and, for a volume, the
 * step that failed). */
int vr_find_pool(virConnectPtr conn, const char *name, virStoragePoolPtr *out, vdisk_error *err);
int vr_find_vol(virConnectPtr conn, const char *pool_name, const char *name, virStorageVolPtr *out,
                vdisk_store_lookup_step *step, vdisk_error *err);

/* The volume as a definition, from its XML, with capacity and allocation
 * from virStorageVolGetInfo as virsh shows them (and, if physical, the
 * physical size: one more call to the daemon); *type is virsh's word for
 * the volume type.  Prints the error.  Clear *def after success. */
int vr_vol_def(virStorageVolPtr vol, bool physical, vdisk_vol_def *def, const char **type);
/* The same, silent: the error in *err. */
int vr_vol_def_get(virStorageVolPtr vol, bool physical, vdisk_vol_def *def, const char **type,
                   vdisk_error *err);

/* The handlers, by file. */
int vr_vol_create_as(const char *uri, int argc, char **argv);

#endif
