/* libvdisk, private to vdisk's own libraries — librbd and librados,
 * loaded by the first rbd: image or the first use of a pool on Ceph.
 *
 * Linked, librbd brings librados, libceph-common, boost and libstdc++ into
 * every process that uses libvdisk, whether it opens an RBD image or not:
 * 'vdisk-virsh info' of a small file went from 7.8 to 25.5 MiB of peak RSS
 * (qemu-img's: 7.9, whose rbd driver is a module it loads on demand), and
 * every convert above qemu-img's.  So libvdisk's rbd protocol
 * (core/protocol/rbd*.c) and the plugin's RBD pools (plugin/pool-rbd*.c)
 * call librbd through one table of function pointers that
 * core/protocol/rbd-load.c fills (vdisk_library_load) when either first
 * needs it; the names below make those calls read as plain librbd calls.
 * A function used without being listed here fails to link (librbd is not
 * linked), so the list cannot fall behind.
 *
 * Include this instead of <rbd/librbd.h> and <rados/librados.h>.
 * Exported by libvdisk under LIBVDISK_PRIVATE_<version>
 * (vdisk-private/library-load.h).
 */
#ifndef VDISK_PRIVATE_RBD_LOAD_H
#define VDISK_PRIVATE_RBD_LOAD_H

#include <rados/librados.h>
#include <rbd/librbd.h>

#include <vdisk/error.h>

/* Every librados / librbd function vdisk calls (libvdisk and its plugin). */
#define VDISK_RBD_FUNCTIONS(X) \
    X(rados_cluster_stat) \
    X(rados_conf_read_file) \
    X(rados_conf_set) \
    X(rados_connect) \
    X(rados_create) \
    X(rados_ioctx_create) \
    X(rados_ioctx_destroy) \
    X(rados_ioctx_pool_stat) \
    X(rados_ioctx_set_namespace) \
    X(rados_shutdown) \
    X(rbd_clone3) \
    X(rbd_close) \
    X(rbd_create4) \
    X(rbd_diff_iterate2) \
    X(rbd_discard) \
    X(rbd_flush) \
    X(rbd_get_features) \
    X(rbd_get_size) \
    X(rbd_image_options_create) \
    X(rbd_image_options_destroy) \
    X(rbd_image_spec_list_cleanup) \
    X(rbd_list2) \
    X(rbd_lock_acquire) \
    X(rbd_lock_get_owners) \
    X(rbd_lock_get_owners_cleanup) \
    X(rbd_metadata_get) \
    X(rbd_metadata_set) \
    X(rbd_open) \
    X(rbd_open_read_only) \
    X(rbd_read) \
    X(rbd_remove) \
    X(rbd_resize) \
    X(rbd_snap_create) \
    X(rbd_snap_get_timestamp) \
    X(rbd_snap_is_protected) \
    X(rbd_snap_list) \
    X(rbd_snap_list_end) \
    X(rbd_snap_protect) \
    X(rbd_snap_remove) \
    X(rbd_snap_rollback) \
    X(rbd_snap_unprotect) \
    X(rbd_stat) \
    X(rbd_write) \
    X(rbd_write_zeroes)

typedef struct vdisk_rbd_api {
#define VDISK_RBD_MEMBER(name) __typeof__(name) *name;
    VDISK_RBD_FUNCTIONS(VDISK_RBD_MEMBER)
#undef VDISK_RBD_MEMBER
} vdisk_rbd_api;

/* Load librbd (once per process; later calls return the first result).
 * 0, or -ENOTSUP: "WHAT: cannot load Ceph's client library (install
 * librbd1): REASON" -- `what` names the image or the pool asking. */
int vdisk_rbd_load(const char *what, vdisk_error *err);
/* The table; only after vdisk_rbd_load succeeded. */
const vdisk_rbd_api *vdisk_rbd_api_table(void);

#ifndef VDISK_RBD_LOAD_IMPL
#define rados_cluster_stat (vdisk_rbd_api_table()->rados_cluster_stat)
#define rados_conf_read_file (vdisk_rbd_api_table()->rados_conf_read_file)
#define rados_conf_set (vdisk_rbd_api_table()->rados_conf_set)
#define rados_connect (vdisk_rbd_api_table()->rados_connect)
#define rados_create (vdisk_rbd_api_table()->rados_create)
#define rados_ioctx_create (vdisk_rbd_api_table()->rados_ioctx_create)
#define rados_ioctx_destroy (vdisk_rbd_api_table()->rados_ioctx_destroy)
#define rados_ioctx_pool_stat (vdisk_rbd_api_table()->rados_ioctx_pool_stat)
#define rados_ioctx_set_namespace (vdisk_rbd_api_table()->rados_ioctx_set_namespace)
#define rados_shutdown (vdisk_rbd_api_table()->rados_shutdown)
#define rbd_clone3 (vdisk_rbd_api_table()->rbd_clone3)
#define rbd_close (vdisk_rbd_api_table()->rbd_close)
#define rbd_create4 (vdisk_rbd_api_table()->rbd_create4)
#define rbd_diff_iterate2 (vdisk_rbd_api_table()->rbd_diff_iterate2)
#define rbd_discard (vdisk_rbd_api_table()->rbd_discard)
#define rbd_flush (vdisk_rbd_api_table()->rbd_flush)
#define rbd_get_features (vdisk_rbd_api_table()->rbd_get_features)
#define rbd_get_size (vdisk_rbd_api_table()->rbd_get_size)
#define rbd_image_options_create (vdisk_rbd_api_table()->rbd_image_options_create)
#define rbd_image_options_destroy (vdisk_rbd_api_table()->rbd_image_options_destroy)
#define rbd_image_spec_list_cleanup (vdisk_rbd_api_table()->rbd_image_spec_list_cleanup)
#define rbd_list2 (vdisk_rbd_api_table()->rbd_list2)
#define rbd_lock_acquire (vdisk_rbd_api_table()->rbd_lock_acquire)
#define rbd_lock_get_owners (vdisk_rbd_api_table()->rbd_lock_get_owners)
#define rbd_lock_get_owners_cleanup (vdisk_rbd_api_table()->rbd_lock_get_owners_cleanup)
#define rbd_metadata_get (vdisk_rbd_api_table()->rbd_metadata_get)
#define rbd_metadata_set (vdisk_rbd_api_table()->rbd_metadata_set)
#define rbd_open (vdisk_rbd_api_table()->rbd_open)
#define rbd_open_read_only (vdisk_rbd_api_table()->rbd_open_read_only)
#define rbd_read (vdisk_rbd_api_table()->rbd_read)
#define rbd_remove (vdisk_rbd_api_table()->rbd_remove)
#define rbd_resize (vdisk_rbd_api_table()->rbd_resize)
#define rbd_snap_create (vdisk_rbd_api_table()->rbd_snap_create)
#define rbd_snap_get_timestamp (vdisk_rbd_api_table()->rbd_snap_get_timestamp)
#define rbd_snap_is_protected (vdisk_rbd_api_table()->rbd_snap_is_protected)
#define rbd_snap_list (vdisk_rbd_api_table()->rbd_snap_list)
#define rbd_snap_list_end (vdisk_rbd_api_table()->rbd_snap_list_end)
#define rbd_snap_protect (vdisk_rbd_api_table()->rbd_snap_protect)
#define rbd_snap_remove (vdisk_rbd_api_table()->rbd_snap_remove)
#define rbd_snap_rollback (vdisk_rbd_api_table()->rbd_snap_rollback)
#define rbd_snap_unprotect (vdisk_rbd_api_table()->rbd_snap_unprotect)
#define rbd_stat (vdisk_rbd_api_table()->rbd_stat)
#define rbd_write (vdisk_rbd_api_table()->rbd_write)
#define rbd_write_zeroes (vdisk_rbd_api_table()->rbd_write_zeroes)
#endif

#endif
