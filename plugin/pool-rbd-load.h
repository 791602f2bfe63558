/* vdisk plugin — librbd and librados for RBD pools, loaded by the first
 * use of a pool on Ceph (as libvdisk's rbd protocol loads them: see
 * core/protocol/rbd-load.h for why they are not linked).  The names below
 * make the calls read as plain librbd calls; a function used without
 * being listed fails to link.  Include this instead of <rbd/librbd.h>.
 */
#ifndef VDISK_POOL_RBD_LOAD_H
#define VDISK_POOL_RBD_LOAD_H

#include <rados/librados.h>
#include <rbd/librbd.h>

#include <vdisk/error.h>

#define VDISK_POOL_RBD_FUNCTIONS(X) \
    X(rados_cluster_stat) \
    X(rados_conf_read_file) \
    X(rados_conf_set) \
    X(rados_connect) \
    X(rados_create) \
    X(rados_ioctx_create) \
    X(rados_ioctx_destroy) \
    X(rados_ioctx_pool_stat) \
    X(rados_shutdown) \
    X(rbd_clone3) \
    X(rbd_close) \
    X(rbd_create4) \
    X(rbd_diff_iterate2) \
    X(rbd_discard) \
    X(rbd_flush) \
    X(rbd_image_options_create) \
    X(rbd_image_options_destroy) \
    X(rbd_list2) \
    X(rbd_image_spec_list_cleanup) \
    X(rbd_lock_get_owners) \
    X(rbd_metadata_get) \
    X(rbd_metadata_set) \
    X(rbd_lock_get_owners_cleanup) \
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

typedef struct vdisk_pool_rbd_api {
#define VDISK_POOL_RBD_MEMBER(name) __typeof__(name) *name;
    VDISK_POOL_RBD_FUNCTIONS(VDISK_POOL_RBD_MEMBER)
#undef VDISK_POOL_RBD_MEMBER
} vdisk_pool_rbd_api;

/* Load librbd once per process; 0, or -ENOTSUP naming pool `pool`. */
int vdisk_pool_rbd_load(const char *pool, vdisk_error *err);
/* The table; only after vdisk_pool_rbd_load succeeded. */
const vdisk_pool_rbd_api *vdisk_pool_rbd_api_table(void);

#ifndef VDISK_POOL_RBD_LOAD_IMPL
#define VDISK_RBD_CALL(name) (vdisk_pool_rbd_api_table()->name)
#define rados_cluster_stat VDISK_RBD_CALL(rados_cluster_stat)
#define rados_conf_read_file VDISK_RBD_CALL(rados_conf_read_file)
#define rados_conf_set VDISK_RBD_CALL(rados_conf_set)
#define rados_connect VDISK_RBD_CALL(rados_connect)
#define rados_create VDISK_RBD_CALL(rados_create)
#define rados_ioctx_create VDISK_RBD_CALL(rados_ioctx_create)
#define rados_ioctx_destroy VDISK_RBD_CALL(rados_ioctx_destroy)
#define rados_ioctx_pool_stat VDISK_RBD_CALL(rados_ioctx_pool_stat)
#define rados_shutdown VDISK_RBD_CALL(rados_shutdown)
#define rbd_clone3 VDISK_RBD_CALL(rbd_clone3)
#define rbd_close VDISK_RBD_CALL(rbd_close)
#define rbd_create4 VDISK_RBD_CALL(rbd_create4)
#define rbd_diff_iterate2 VDISK_RBD_CALL(rbd_diff_iterate2)
#define rbd_discard VDISK_RBD_CALL(rbd_discard)
#define rbd_flush VDISK_RBD_CALL(rbd_flush)
#define rbd_image_options_create VDISK_RBD_CALL(rbd_image_options_create)
#define rbd_image_options_destroy VDISK_RBD_CALL(rbd_image_options_destroy)
#define rbd_list2 VDISK_RBD_CALL(rbd_list2)
#define rbd_image_spec_list_cleanup VDISK_RBD_CALL(rbd_image_spec_list_cleanup)
#define rbd_lock_get_owners VDISK_RBD_CALL(rbd_lock_get_owners)
#define rbd_metadata_get VDISK_RBD_CALL(rbd_metadata_get)
#define rbd_metadata_set VDISK_RBD_CALL(rbd_metadata_set)
#define rbd_lock_get_owners_cleanup VDISK_RBD_CALL(rbd_lock_get_owners_cleanup)
#define rbd_open VDISK_RBD_CALL(rbd_open)
#define rbd_open_read_only VDISK_RBD_CALL(rbd_open_read_only)
#define rbd_read VDISK_RBD_CALL(rbd_read)
#define rbd_remove VDISK_RBD_CALL(rbd_remove)
#define rbd_resize VDISK_RBD_CALL(rbd_resize)
#define rbd_snap_create VDISK_RBD_CALL(rbd_snap_create)
#define rbd_snap_get_timestamp VDISK_RBD_CALL(rbd_snap_get_timestamp)
#define rbd_snap_is_protected VDISK_RBD_CALL(rbd_snap_is_protected)
#define rbd_snap_list VDISK_RBD_CALL(rbd_snap_list)
#define rbd_snap_list_end VDISK_RBD_CALL(rbd_snap_list_end)
#define rbd_snap_protect VDISK_RBD_CALL(rbd_snap_protect)
#define rbd_snap_remove VDISK_RBD_CALL(rbd_snap_remove)
#define rbd_snap_rollback VDISK_RBD_CALL(rbd_snap_rollback)
#define rbd_snap_unprotect VDISK_RBD_CALL(rbd_snap_unprotect)
#define rbd_stat VDISK_RBD_CALL(rbd_stat)
#define rbd_write VDISK_RBD_CALL(rbd_write)
#define rbd_write_zeroes VDISK_RBD_CALL(rbd_write_zeroes)
#endif

#endif
