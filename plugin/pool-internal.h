/* vdisk plugin — internals shared by pool.c and the volume files. */
#ifndef VDISK_POOL_INTERNAL_H
#define VDISK_POOL_INTERNAL_H

#include <stdbool.h>

#include <vdisk/pool.h>
#include <vdisk/registry.h>
#include <vdisk/storage-def.h>

/* Prefix of the hidden temporary files a volume create writes before it
 * renames them into place; never listed as volumes. */
#define VDISK_VOL_TMP_PREFIX ".vdisk-tmp-"

struct vdisk_pool {
    vdisk_registry *reg;      /* borrowed; NULL for an unmanaged pool */
    vdisk_secret_source secrets;  /* unmanaged pool: where secrets come from */
    bool has_secrets;
    vdisk_pool_def *def;
    bool active;
    bool autostart;
    int dirfd;                /* -1 until vdisk_pool_dirfd */
};

/* Refuse before writing: `what` (e.g. "volume 'x'") needs `need` bytes of
 * free space now and adds `add_capacity` to the pool's provisioned sum,
 * which may not pass the overcommit cap.  Call under the pool lock. */
int vdisk_pool_check_space(vdisk_pool *pool, const char *what, uint64_t add_capacity, uint64_t need,
                           vdisk_error *err);

/* Open a volume file of the pool with O_NOFOLLOW (flags: O_RDONLY/O_RDWR);
 * refuses what is not a regular file.  Returns the descriptor or -errno. */
int vdisk_vol_open_fd(vdisk_pool *pool, const char *name, int flags, vdisk_error *err);

/* Open a volume as an image (flags: VDISK_OPEN_*; the format is probed).
 * With VDISK_OPEN_NO_BACKING it is opened through its own descriptor (no
 * path lookup at all); otherwise through the pool directory's descriptor,
 * after checking it is a regular file and no symlink, so that relative
 * backing file names resolve. */
int vdisk_vol_open_image(vdisk_pool *pool, const char *name, unsigned flags,
                         vdisk_image **img, vdisk_error *err);
/* The same with the passphrase of an encrypted volume given (secret may be
 * NULL); vdisk_vol_open_image, when the volume is encrypted and flags lack
 * VDISK_OPEN_NO_KEY, reads libvirt's default secret (usage = its path). */
int vdisk_vol_open_image_key(vdisk_pool *pool, const char *name, unsigned flags, const void *secret,
                             size_t secret_len, vdisk_image **img, vdisk_error *err);

/* Probe the volume `name` of the pool (see vdisk_vol_lookup). */
int vdisk_vol_probe(vdisk_pool *pool, const char *name, vdisk_vol_def *def, vdisk_error *err);

/* "/proc/self/fd/<fd>": a path naming exactly the open file (no lookup of a
 * name that could be swapped for a symlink). */
#define VDISK_FD_PATH_MAX 32
void vdisk_fd_path(int fd, char buf[VDISK_FD_PATH_MAX]);

/* Replace the descriptor path in an error message from libvdisk by the
 * volume's real path, so users read a name they know. */
void vdisk_error_rename(vdisk_error *err, const char *fd_path, const char *real_path);

/* Close an image opened with vdisk_vol_open_image after an operation that
 * returned r; returns r, or the close error when r was 0.  Messages name
 * the volume's real path, not the descriptor path it was opened by. */
int vdisk_vol_close_image(vdisk_pool *pool, const char *name, vdisk_image *img, int r,
                          vdisk_error *err);


/* Take (and release) flock on the pool directory: serialises creates and
 * deletes of volumes between processes (space and overcommit checks). */
int vdisk_pool_lock(vdisk_pool *pool, vdisk_error *err);
void vdisk_pool_unlock(vdisk_pool *pool);

#endif
