/* vdisk plugin — internals shared by pool.c and the volume files. */
#ifndef VDISK_POOL_INTERNAL_H
#define VDISK_POOL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/pool.h>
#include <vdisk/registry.h>
#include <vdisk/storage-def.h>
#include <vdisk/store-error.h>

/* Names starting with this are vdisk's own files in a pool directory:
 * never listed as volumes, refused as volume names. */
#define VDISK_VOL_RESERVED_PREFIX ".vdisk-"
/* Prefix of the hidden temporary files a volume create writes before it
 * renames them into place; never listed as volumes. */
#define VDISK_VOL_TMP_PREFIX ".vdisk-tmp-"
/* The record of each volume's format (volume-record.c). */
#define VDISK_VOL_RECORDS ".vdisk-volumes"

/* Mark the temporary file open as fd as being written, until fd is closed:
 * a refresh reaps the ones nobody holds (pool-info.c). */
void vdisk_vol_tmp_hold(int fd);

typedef struct vdisk_vol_records vdisk_vol_records;

/* Which file a record is about: device, inode, birth time (0 where the
 * file system keeps none). */
typedef struct vdisk_vol_id {
    uint64_t dev, ino, btime;
} vdisk_vol_id;
/* The id of dirfd's entry `name` (not followed), or of dirfd itself (name NULL); -errno. */
int vdisk_vol_id_of(int dirfd, const char *name, vdisk_vol_id *id);

struct vdisk_pool_backend;
struct vdisk_pool {
    vdisk_registry *reg;      /* borrowed; NULL for an unmanaged pool */
    const struct vdisk_pool_backend *backend;  /* pool-backend.h; NULL: kind not built */
    void *backend_data;       /* the backend's own (rbd: the cluster connection) */
    vdisk_secret_source secrets;  /* unmanaged pool: where secrets come from */
    bool has_secrets;
    vdisk_pool_def *def;
    bool active;
    bool autostart;
    int dirfd;                /* -1 until vdisk_pool_dirfd */
    vdisk_vol_records *records;   /* last read of VDISK_VOL_RECORDS; NULL until needed */
    vdisk_format_source formats;  /* set: volume formats come from there, nothing recorded */
    vdisk_backing_policy backing; /* vdisk_vol_backing_check on this pool */
};

/* ---- volume-record.c: the format of each volume ------------------------ */

/* The format of the volume `name`, open as fd: the recorded one (by name
 * and inode, or by inode for a renamed or linked volume), else -- a file
 * that appeared in the pool directory -- probed once, now, and recorded. */
int vdisk_vol_format_of(vdisk_pool *pool, const char *name, int fd, vdisk_format *fmt,
                        vdisk_error *err);
/* Record (replace) the format of name, the file id (before it is published
 * under that name) -- with the backing file outside the pool the
 * administrator named for it, or NULL --, or remove the record (id NULL:
 * whatever file it names). */
int vdisk_vol_record_set(vdisk_pool *pool, const char *name, const vdisk_vol_id *id, vdisk_format fmt,
                         const char *backing, vdisk_error *err);
int vdisk_vol_record_remove(vdisk_pool *pool, const char *name, const vdisk_vol_id *id,
                            vdisk_error *err);
/* Probe the volume open as fd now and record the result, replacing what
 * was recorded: for an image the administrator uploaded over the whole
 * volume. */
int vdisk_vol_record_probe(vdisk_pool *pool, const char *name, int fd, vdisk_error *err);
/* (Re)read the records into pool->records. */
int vdisk_vol_records_load(vdisk_pool *pool, vdisk_error *err);
bool vdisk_vol_records_find(const vdisk_vol_records *t, const char *name, const vdisk_vol_id *id,
                            vdisk_format *fmt);
void vdisk_vol_records_free(vdisk_vol_records *t);
/* The approved backing file recorded for the file id named name, or NULL. */
const char *vdisk_vol_records_backing(const vdisk_vol_records *t, const char *name,
                                      const vdisk_vol_id *id);
/* pool-delete: remove the records file when it is all the directory holds. */
int vdisk_vol_records_drop_if_alone(const char *dir, vdisk_error *err);

/* ---- volume-backing.c: which backing files a volume may have ----------- */

/* The pool's vdisk_backing_policy callback (opaque: the pool): a backing
 * file in the pool directory is opened with its own recorded format; one
 * outside it only when the pool allows it, or the administrator named it
 * when creating the volume naming it, with the format that volume records
 * (never probed). */
int vdisk_vol_backing_check(void *opaque, const char *overlay, const char *backing,
                            vdisk_format *fmt, vdisk_error *err);
/* Does the (resolved) path name a file of the pool directory? */
bool vdisk_vol_backing_inside(vdisk_pool *pool, const char *backing);
/* Whether volume `name` may show `backing` (resolved) as its backing store. */
bool vdisk_vol_backing_allowed(vdisk_pool *pool, const char *name, const char *backing);
/* Is name reserved for vdisk's own files (VDISK_VOL_RESERVED_PREFIX)? */
bool vdisk_vol_name_reserved(const char *name);

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
