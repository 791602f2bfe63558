/* vdisk plugin — what a kind of pool does: one table of operations, three
 * implementations.  pool-dir.c: a directory of image files (the pool
 * files and volume*.c); pool-netfs.c: the same directory, mounted from a
 * shared filesystem while the pool is active; pool-rbd*.c: a Ceph RBD
 * pool, its volumes RBD images.  The public calls of pool.h and volume.h check what is common
 * (state, names) and hand the rest to the pool's table (pool-backend.c);
 * vdisk-virsh's verbs, written once over store.h, reach both through them.
 */
#ifndef VDISK_POOL_BACKEND_H
#define VDISK_POOL_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/pool.h>
#include <vdisk/snapshot.h>
#include <vdisk/volume.h>

typedef struct vdisk_pool_backend {
    const char *name;                                      /* "dir", "netfs", "rbd" */
    /* pool-build: make the pool's storage (flags: VDISK_POOL_BUILD_*) */
    int (*build)(vdisk_pool *pool, unsigned flags, vdisk_error *err);
    /* pool-start: check the storage is there and reachable (netfs: mount it) */
    int (*check)(vdisk_pool *pool, vdisk_error *err);
    /* pool-destroy, after release: undo what check set up (netfs: unmount);
     * NULL: nothing to undo */
    int (*deactivate)(vdisk_pool *pool, vdisk_error *err);
    /* drop what the handle holds open (pool-destroy, free) */
    void (*release)(vdisk_pool *pool);
    /* pool-delete of an inactive pool: remove its (empty) storage */
    int (*delete_storage)(vdisk_pool *pool, vdisk_error *err);
    /* sizes of the storage under the pool (no volume sums) */
    int (*fs_info)(vdisk_pool *pool, vdisk_pool_info *info, vdisk_error *err);
    /* sizes and volume sums of an active pool */
    int (*get_info)(vdisk_pool *pool, vdisk_pool_info *info, vdisk_error *err);
    /* every volume, sorted by name */
    int (*refresh)(vdisk_pool *pool, vdisk_vol_def **vols, size_t *n, vdisk_error *err);
    /* the volume's path (dir: a file; rbd: "POOL/IMAGE"), malloc'ed */
    char *(*vol_path)(const vdisk_pool *pool, const char *name);
    /* vol-info / vol-dumpxml */
    int (*vol_lookup)(vdisk_pool *pool, const char *name, vdisk_vol_def *def, vdisk_error *err);
    /* vol-create */
    int (*vol_create)(vdisk_pool *pool, const vdisk_vol_def *def, unsigned flags,
                      vdisk_progress_fn progress, void *opaque, vdisk_error *err);
    /* vol-create-from, vol-clone */
    int (*vol_create_from)(vdisk_pool *pool, const vdisk_vol_def *def, vdisk_pool *src_pool,
                           const char *src_name, unsigned flags, vdisk_progress_fn progress,
                           void *opaque, vdisk_error *err);
    /* vol-delete (flags: VDISK_VOL_DELETE_*) */
    int (*vol_delete)(vdisk_pool *pool, const char *name, unsigned flags, vdisk_error *err);
    /* vol-wipe */
    int (*vol_wipe)(vdisk_pool *pool, const char *name, vdisk_wipe_alg alg,
                    vdisk_progress_fn progress, void *opaque, vdisk_error *err);
    /* is another client (a guest) writing the volume? */
    int (*vol_check_not_in_use)(vdisk_pool *pool, const char *name, vdisk_error *err);
    /* vol-upload / vol-download */
    int (*vol_upload)(vdisk_pool *pool, const char *name, int fd, uint64_t offset, uint64_t length,
                      bool sparse, vdisk_progress_fn progress, void *opaque, vdisk_error *err);
    int (*vol_download)(vdisk_pool *pool, const char *name, int fd, uint64_t offset,
                        uint64_t length, bool sparse, vdisk_progress_fn progress, void *opaque,
                        vdisk_error *err);
    /* vol-resize */
    int (*vol_resize)(vdisk_pool *pool, const char *name, uint64_t capacity, unsigned flags,
                      vdisk_progress_fn progress, void *opaque, vdisk_error *err);
    /* vol-snapshot-create / -list / -revert / -delete */
    int (*snapshot_create)(vdisk_pool *pool, const char *name, const char *snapshot,
                           vdisk_error *err);
    int (*snapshot_list)(vdisk_pool *pool, const char *name, vdisk_snapshot_info **list,
                         size_t *n, vdisk_error *err);
    int (*snapshot_revert)(vdisk_pool *pool, const char *name, const char *snapshot,
                           vdisk_error *err);
    int (*snapshot_delete)(vdisk_pool *pool, const char *name, const char *snapshot,
                           vdisk_error *err);
    /* what nbdkit's vdisk plugin needs to open the volume itself (vol-export) */
    int (*vol_access_get)(vdisk_pool *pool, const char *name, vdisk_vol_access *a,
                          vdisk_error *err);
} vdisk_pool_backend;

extern const vdisk_pool_backend vdisk_pool_backend_dir;
extern const vdisk_pool_backend vdisk_pool_backend_netfs;
#ifdef VDISK_HAVE_RBD
extern const vdisk_pool_backend vdisk_pool_backend_rbd;
#endif

/* The table for a definition; NULL for an RBD pool in a build without
 * librbd (its operations then fail naming what is missing). */
const vdisk_pool_backend *vdisk_pool_backend_for(const vdisk_pool_def *def);

/* ---- the directory implementation (pool-dir.c and the volume files) ---- */
/* The operations of a pool whose volumes are files in one directory, for
 * the tables of the dir and netfs backends (netfs: the same, once the
 * share is mounted): everything but check (pool-start) and deactivate. */
#define VDISK_POOL_BACKEND_FILE_OPS \
    .build = vdisk_dir_pool_build,                                  \
    .release = vdisk_dir_pool_release,                              \
    .delete_storage = vdisk_dir_pool_delete,                        \
    .fs_info = vdisk_dir_pool_fs_info,                              \
    .get_info = vdisk_dir_pool_get_info,                            \
    .refresh = vdisk_dir_pool_refresh,                              \
    .vol_path = vdisk_dir_vol_path,                                 \
    .vol_lookup = vdisk_dir_vol_lookup,                             \
    .vol_create = vdisk_dir_vol_create,                             \
    .vol_create_from = vdisk_dir_vol_create_from,                   \
    .vol_delete = vdisk_dir_vol_delete_flags,                       \
    .vol_wipe = vdisk_dir_vol_wipe,                                 \
    .vol_check_not_in_use = vdisk_dir_vol_check_not_in_use,         \
    .vol_upload = vdisk_dir_vol_upload,                             \
    .vol_download = vdisk_dir_vol_download,                         \
    .vol_resize = vdisk_dir_vol_resize,                             \
    .snapshot_create = vdisk_dir_vol_snapshot_create,               \
    .snapshot_list = vdisk_dir_vol_snapshot_list,                   \
    .snapshot_revert = vdisk_dir_vol_snapshot_revert,               \
    .snapshot_delete = vdisk_dir_vol_snapshot_delete,               \
    .vol_access_get = vdisk_dir_vol_access_get

int vdisk_dir_pool_build(vdisk_pool *pool, unsigned flags, vdisk_error *err);
int vdisk_dir_pool_check(vdisk_pool *pool, vdisk_error *err);
void vdisk_dir_pool_release(vdisk_pool *pool);
int vdisk_dir_pool_delete(vdisk_pool *pool, vdisk_error *err);
int vdisk_dir_pool_fs_info(vdisk_pool *pool, vdisk_pool_info *info, vdisk_error *err);
int vdisk_dir_pool_get_info(vdisk_pool *pool, vdisk_pool_info *info, vdisk_error *err);
int vdisk_dir_pool_refresh(vdisk_pool *pool, vdisk_vol_def **vols, size_t *n, vdisk_error *err);
char *vdisk_dir_vol_path(const vdisk_pool *pool, const char *name);
int vdisk_dir_vol_lookup(vdisk_pool *pool, const char *name, vdisk_vol_def *def, vdisk_error *err);
int vdisk_dir_vol_create(vdisk_pool *pool, const vdisk_vol_def *def, unsigned flags,
                         vdisk_progress_fn progress, void *opaque, vdisk_error *err);
int vdisk_dir_vol_create_from(vdisk_pool *pool, const vdisk_vol_def *def, vdisk_pool *src_pool,
                              const char *src_name, unsigned flags, vdisk_progress_fn progress,
                              void *opaque, vdisk_error *err);
int vdisk_dir_vol_delete(vdisk_pool *pool, const char *name, vdisk_error *err);
/* The table's vol_delete: internal snapshots go with the file, no flag asks more. */
int vdisk_dir_vol_delete_flags(vdisk_pool *pool, const char *name, unsigned flags, vdisk_error *err);
int vdisk_dir_vol_wipe(vdisk_pool *pool, const char *name, vdisk_wipe_alg alg,
                       vdisk_progress_fn progress, void *opaque, vdisk_error *err);
int vdisk_dir_vol_check_not_in_use(vdisk_pool *pool, const char *name, vdisk_error *err);
int vdisk_dir_vol_upload(vdisk_pool *pool, const char *name, int fd, uint64_t offset,
                         uint64_t length, bool sparse, vdisk_progress_fn progress, void *opaque,
                         vdisk_error *err);
int vdisk_dir_vol_download(vdisk_pool *pool, const char *name, int fd, uint64_t offset,
                           uint64_t length, bool sparse, vdisk_progress_fn progress, void *opaque,
                           vdisk_error *err);
int vdisk_dir_vol_resize(vdisk_pool *pool, const char *name, uint64_t capacity, unsigned flags,
                         vdisk_progress_fn progress, void *opaque, vdisk_error *err);
int vdisk_dir_vol_snapshot_create(vdisk_pool *pool, const char *name, const char *snapshot,
                                  vdisk_error *err);
int vdisk_dir_vol_snapshot_list(vdisk_pool *pool, const char *name, vdisk_snapshot_info **list,
                                size_t *n, vdisk_error *err);
int vdisk_dir_vol_snapshot_revert(vdisk_pool *pool, const char *name, const char *snapshot,
                                  vdisk_error *err);
int vdisk_dir_vol_snapshot_delete(vdisk_pool *pool, const char *name, const char *snapshot,
                                  vdisk_error *err);
int vdisk_dir_vol_access_get(vdisk_pool *pool, const char *name, vdisk_vol_access *a,
                             vdisk_error *err);

#endif
