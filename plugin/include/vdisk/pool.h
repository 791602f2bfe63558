/* vdisk plugin — storage pool operations of the embedded registry (no
 * daemon): define, undefine, build, start, stop, refresh, delete, autostart
 * and info, on libvirt's terms for a file (directory) pool.
 *
 * A vdisk_pool is a snapshot of one pool's definition and state taken at
 * lookup; operations update the registry under its lock.  Once a pool's
 * directory is opened (vdisk_pool_dirfd), every volume file is reached
 * relative to that O_DIRECTORY descriptor with O_NOFOLLOW.
 */
#ifndef VDISK_POOL_H
#define VDISK_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/registry.h>
#include <vdisk/storage-def.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vdisk_pool vdisk_pool;

/* Define a pool (new, or a new definition of an existing one of the same
 * name and UUID).  A missing UUID is generated (and written back into def).
 * Needs type 'vdisk' semantics: a <target><path> that is absolute. */
int vdisk_pool_define(vdisk_registry *reg, vdisk_pool_def *def, vdisk_error *err);

/* Find a pool by name or UUID.  -ENOENT with libvirt's message ("no storage
 * pool with matching name 'x'") when there is none.  Free with
 * vdisk_pool_free. */
int vdisk_pool_lookup(vdisk_registry *reg, const char *name_or_uuid, vdisk_pool **out,
                      vdisk_error *err);
void vdisk_pool_free(vdisk_pool *pool);                     /* NULL ok */

/* Where the passphrases of encrypted volumes come from when no registry
 * keeps them (a pool of the libvirt daemon: its secret driver). */
typedef struct vdisk_secret_source {
    /* The UUID of the secret of usage type 'volume' whose usage id is
     * `usage` (a volume path); -ENOENT, with or without a message, when
     * there is none. */
    int (*lookup_usage)(void *opaque, const char *usage, unsigned char uuid[16], vdisk_error *err);
    /* The value of secret `uuid`: *value malloc'ed, wiped and freed by the
     * caller; an error naming the secret when it has none or is not of
     * usage type 'volume' (or 'ceph': the cephx key of a pool on RBD). */
    int (*get_value)(void *opaque, const unsigned char uuid[16], unsigned char **value, size_t *len,
                     vdisk_error *err);
    void *opaque;
} vdisk_secret_source;

/* A pool whose definition and state another program keeps (the libvirt
 * daemon's storage driver): no registry behind it.  Takes ownership of
 * def (freed with the pool, also on failure).  `active` is the state the
 * owner knows; start and stop only flip it (after start's checks), define,
 * undefine and autostart are refused (-EPERM).  secrets may be NULL: then
 * an encrypted volume is refused for want of its secret. */
int vdisk_pool_new_unmanaged(vdisk_pool_def *def, bool active, const vdisk_secret_source *secrets,
                             vdisk_pool **out, vdisk_error *err);

/* Where the formats of the volumes of a directory vdisk does not manage
 * come from: the input volume of a copy that lives in a pool of another
 * type (a libvirt 'dir' pool), whose owner knows its format.  lookup fills
 * *fmt for the file `name` of the directory, or returns -ENOENT (with or
 * without a message) when it does not know it. */
typedef struct vdisk_format_source {
    int (*lookup)(void *opaque, const char *name, vdisk_format *fmt, vdisk_error *err);
    void *opaque;
} vdisk_format_source;

/* Take the formats of the pool's volumes from src instead of vdisk's record
 * in the pool directory (which is then neither read nor written).  A backing
 * file in the directory that src does not know is opened with the format
 * the image naming it records, never probed. */
void vdisk_pool_set_format_source(vdisk_pool *pool, const vdisk_format_source *src);

/* Names of every defined pool, sorted (free with vdisk_registry_names_free). */
int vdisk_pool_list_names(vdisk_registry *reg, char ***names, size_t *n, vdisk_error *err);

const vdisk_pool_def *vdisk_pool_get_def(const vdisk_pool *pool);
const char *vdisk_pool_name(const vdisk_pool *pool);
const char *vdisk_pool_path(const vdisk_pool *pool);
bool vdisk_pool_is_active(const vdisk_pool *pool);
bool vdisk_pool_get_autostart(const vdisk_pool *pool);

/* The pool directory, opened O_DIRECTORY on first use (owned by the pool
 * handle; the target path itself may be a symlink the administrator made).
 * The pool must be active. */
int vdisk_pool_dirfd(vdisk_pool *pool, vdisk_error *err);

enum {
    VDISK_POOL_BUILD_OVERWRITE    = 1u << 0,   /* build an existing directory again (perms) */
    VDISK_POOL_BUILD_NO_OVERWRITE = 1u << 1,   /* refuse when the directory exists */
};
/* Create the target directory (with its parents) with the definition's
 * permissions: mode (default 0711, as libvirt), owner and group. */
int vdisk_pool_build(vdisk_pool *pool, unsigned flags, vdisk_error *err);
/* Mark active after checking the directory exists and is a directory. */
int vdisk_pool_start(vdisk_pool *pool, vdisk_error *err);
/* Mark inactive (pool-destroy; nothing on disk changes). */
int vdisk_pool_stop(vdisk_pool *pool, vdisk_error *err);
/* Remove the (empty) target directory of an inactive pool. */
int vdisk_pool_delete(vdisk_pool *pool, vdisk_error *err);
/* Remove the definition of an inactive pool. */
int vdisk_pool_undefine(vdisk_pool *pool, vdisk_error *err);
int vdisk_pool_set_autostart(vdisk_pool *pool, bool autostart, vdisk_error *err);

typedef enum vdisk_pool_state {
    VDISK_POOL_INACTIVE = 0,
    VDISK_POOL_RUNNING,
} vdisk_pool_state;

typedef struct vdisk_pool_info {
    vdisk_pool_state state;
    /* Of the file system under the pool (statvfs), as libvirt's dir pool:
     * capacity = blocks, available = free blocks (f_bfree, root's reserve
     * included), allocation = capacity - available.  New volumes are
     * checked against the blocks free to unprivileged users (f_bavail). */
    uint64_t capacity, allocation, available;
    size_t volumes;                /* regular files in the pool */
    uint64_t volume_capacity;      /* sum of their capacities */
    uint64_t volume_allocation;    /* sum of their host allocations */
    double overcommit;             /* volume_capacity / capacity */
    double overcommit_max;         /* the pool's cap; 0 = none */
} vdisk_pool_info;

/* Sizes and state; volume sums only for an active pool (every volume is
 * probed for them). */
int vdisk_pool_get_info(vdisk_pool *pool, vdisk_pool_info *info, vdisk_error *err);
/* vdisk_pool_get_info without the volumes (no probing): state, file
 * system sizes and the overcommit cap; the volume fields are 0. */
int vdisk_pool_fs_info(vdisk_pool *pool, vdisk_pool_info *info, vdisk_error *err);

/* Probe every volume of an active pool (format, capacity, allocation,
 * backing).  *vols is a malloc'ed array of n definitions sorted by name;
 * free with vdisk_pool_volumes_free.  Files that are not regular (symlinks,
 * devices, directories) are not volumes and are skipped. */
int vdisk_pool_refresh(vdisk_pool *pool, vdisk_vol_def **vols, size_t *n, vdisk_error *err);
void vdisk_pool_volumes_free(vdisk_vol_def *vols, size_t n);

/* The XML of `pool-dumpxml` (with runtime sizes when active). */
int vdisk_pool_dumpxml(vdisk_pool *pool, char **out, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
