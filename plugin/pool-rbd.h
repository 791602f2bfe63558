/* vdisk plugin — internals of the RBD pool backend (pool-rbd*.c).
 *
 * pool-rbd-conn.c   the cluster connection of a pool handle (monitors,
 *                   config file, cephx user and the key from a secret)
 * pool-rbd.c        the pool: start, sizes, listing; volume lookup,
 *                   create (thin / thick with written zeros), delete
 * pool-rbd-snap.c   snapshots and clones (vol-snapshot-*, vol-clone)
 * pool-rbd-data.c   the bytes: resize, wipe, upload, download
 */
#ifndef VDISK_POOL_RBD_H
#define VDISK_POOL_RBD_H

#include <stdbool.h>
#include <stdint.h>

#include "pool-backend.h"
#include "pool-internal.h"
#include <vdisk-private/rbd-load.h>   /* librbd, loaded on first use */

/* A pool handle's connection, made on first use and kept until release. */
typedef struct rbd_pool_conn {
    rados_t cluster;
    rados_ioctx_t io;
} rbd_pool_conn;

/* The pool's connection (pool->backend_data), connecting now if needed:
 * monitors of <source><host> (else the config file's), the config file,
 * the cephx user with the key from the secret <auth> names.  Bounded
 * timeouts; errors name the pool and what to check. */
int rbd_pool_connect(vdisk_pool *pool, rbd_pool_conn **out, vdisk_error *err);
/* The base64 cephx key of the secret <auth> names (malloc'ed; wipe and
 * free it), or an error naming what is missing. */
int rbd_pool_auth_key(vdisk_pool *pool, char **key, vdisk_error *err);
/* "host[:port],..." of <source><host>s, malloc'ed (NULL: ENOMEM). */
char *rbd_pool_mon_host(const vdisk_pool_source *src);
void rbd_pool_disconnect(vdisk_pool *pool);

/* An error of librados/librbd doing `what` on volume `name` (NULL: the
 * pool), with a hint for the errnos a person can act on. */
int rbd_pool_error(vdisk_pool *pool, const char *name, int r, const char *what, vdisk_error *err);

/* Open image `name` (read-only or not); -ENOENT with libvirt's message. */
int rbd_pool_open_image(vdisk_pool *pool, const char *name, bool read_only, rbd_image_t *img,
                        vdisk_error *err);

/* Refuse (-EBUSY) when another client holds the image's exclusive lock
 * (a running guest, or a vdisk writer). */
int rbd_pool_check_unlocked(vdisk_pool *pool, const char *name, rbd_image_t img, vdisk_error *err);

/* Write zeros that RBD allocates (thick provisioning) over [off, off+len),
 * with progress in bytes from `done_before` of `total`. */
int rbd_pool_write_thick(vdisk_pool *pool, const char *name, rbd_image_t img, uint64_t off,
                         uint64_t len, uint64_t done_before, uint64_t total,
                         vdisk_progress_fn progress, void *opaque, vdisk_error *err);

/* Bytes allocated in the image (object granularity, as `rbd du`). */
int rbd_pool_image_allocation(rbd_image_t img, uint64_t size, uint64_t *alloc);

/* Refuse before writing: as vdisk_pool_check_space for files, against the
 * cluster's figures (skipped when the cluster reports no capacity: no mgr). */
int rbd_pool_check_space(vdisk_pool *pool, const char *what, uint64_t add_capacity, uint64_t need,
                         vdisk_error *err);

/* Is name a volume name RBD can take (no '/', '@', ':' and the usual checks)? */
int rbd_pool_name_check(vdisk_pool *pool, const char *name, vdisk_error *err);

/* pool-rbd-image.c: volumes in a format (qcow2-on-RBD) */
#define RBD_POOL_FORMAT_KEY "vdisk.format"
/* The format recorded in the image's metadata (raw when none). */
int rbd_pool_image_format(vdisk_pool *pool, const char *name, rbd_image_t img, vdisk_format *fmt,
                          vdisk_error *err);
/* Record fmt in the image's metadata (raw: nothing recorded). */
int rbd_pool_image_set_format(vdisk_pool *pool, const char *name, rbd_image_t img, vdisk_format fmt,
                              vdisk_error *err);
/* Create image `name` as a qcow2 of def's capacity through libvdisk's rbd
 * protocol, as libvirt plans it (thick: preallocation full; flags
 * VDISK_VOL_CREATE_*), its format recorded. */
int rbd_pool_create_formatted(vdisk_pool *pool, const vdisk_vol_def *def, unsigned flags,
                              vdisk_progress_fn progress, void *opaque, vdisk_error *err);
/* Cut a message of libvdisk about a formatted volume's handle at ":key="
 * (the handle's name holds the key). */
void rbd_pool_scrub_key(vdisk_error *err);
/* Open image `name` as its recorded format through libvdisk (flags
 * VDISK_OPEN_*); messages of calls on the handle go through
 * rbd_pool_scrub_key. */
int rbd_pool_open_formatted(vdisk_pool *pool, const char *name, vdisk_format fmt, unsigned flags,
                            vdisk_image **img, vdisk_error *err);

/* pool-rbd-snap.c */
int rbd_pool_snapshot_create(vdisk_pool *pool, const char *name, const char *snapshot,
                             vdisk_error *err);
int rbd_pool_snapshot_list(vdisk_pool *pool, const char *name, vdisk_snapshot_info **list,
                           size_t *n, vdisk_error *err);
int rbd_pool_snapshot_revert(vdisk_pool *pool, const char *name, const char *snapshot,
                             vdisk_error *err);
int rbd_pool_snapshot_delete(vdisk_pool *pool, const char *name, const char *snapshot,
                             vdisk_error *err);
/* Remove every snapshot of an open image (vol-delete --delete-snapshots). */
int rbd_pool_snapshots_remove_all(vdisk_pool *pool, const char *name, rbd_image_t img,
                                  vdisk_error *err);
/* How many snapshots the open image has (-errno on failure). */
int rbd_pool_snapshot_count(rbd_image_t img);
int rbd_pool_vol_create_from(vdisk_pool *pool, const vdisk_vol_def *def, vdisk_pool *src_pool,
                             const char *src_name, unsigned flags, vdisk_progress_fn progress,
                             void *opaque, vdisk_error *err);

/* pool-rbd-data.c */
int rbd_pool_vol_resize(vdisk_pool *pool, const char *name, uint64_t capacity, unsigned flags,
                        vdisk_progress_fn progress, void *opaque, vdisk_error *err);
int rbd_pool_vol_wipe(vdisk_pool *pool, const char *name, vdisk_wipe_alg alg,
                      vdisk_progress_fn progress, void *opaque, vdisk_error *err);
int rbd_pool_vol_upload(vdisk_pool *pool, const char *name, int fd, uint64_t offset,
                        uint64_t length, bool sparse, vdisk_progress_fn progress, void *opaque,
                        vdisk_error *err);
int rbd_pool_vol_download(vdisk_pool *pool, const char *name, int fd, uint64_t offset,
                          uint64_t length, bool sparse, vdisk_progress_fn progress, void *opaque,
                          vdisk_error *err);

#endif
