/* vdisk plugin — storage volume operations in an active pool.
 *
 * Volumes are the regular files of the pool directory, addressed by name
 * (checked with vdisk_storage_name_check) and reached only relative to the
 * pool's directory descriptor with O_NOFOLLOW: a symlink planted in the pool
 * cannot redirect a create, wipe, upload or delete.  A create writes a
 * hidden temporary file and renames it into place only when complete, so a
 * failed create leaves no file behind.
 *
 * Provisioning (DESIGN.md): allocation 0 (or absent) = thin; allocation >=
 * capacity = thick, zeroed lazily or eagerly as the pool says; in between =
 * thin with `allocation` bytes reserved.  A thick volume that does not fit
 * the free space, or any volume past the pool's overcommit cap, is refused
 * before anything is written.
 */
#ifndef VDISK_VOLUME_H
#define VDISK_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/image.h>
#include <vdisk/pool.h>
#include <vdisk/storage-def.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Probe one volume into *def (name, key/path, format, capacity, allocation,
 * physical size, backing, qcow2 compat/cluster size/features, permissions,
 * timestamps).  -ENOENT with libvirt's message when there is none.  Clear
 * with vdisk_vol_def_clear (also valid after a failure). */
int vdisk_vol_lookup(vdisk_pool *pool, const char *name, vdisk_vol_def *def, vdisk_error *err);

/* Find the active pool holding the file at `path` (a volume key or path):
 * *pool (free with vdisk_pool_free) and *name (malloc'ed). */
int vdisk_vol_find_by_path(vdisk_registry *reg, const char *path, vdisk_pool **pool,
                           char **name, vdisk_error *err);

/* "<pool dir>/<name>", malloc'ed (NULL on ENOMEM). */
char *vdisk_vol_path(const vdisk_pool *pool, const char *name);

/* What a program that opens a volume's file itself needs (vol-export hands
 * it to nbdkit's vdisk plugin).  format is what the pool knows, not a new
 * probe of the bytes (a raw volume stays raw whatever a guest wrote into
 * it; a raw LUKS container is VDISK_FORMAT_LUKS); read_only for ISO
 * volumes; passphrase (not NUL-terminated) of the volume's default secret
 * when it is encrypted, else NULL.  vdisk_vol_access_clear frees it all
 * and wipes the passphrase (also valid after a failure). */
typedef struct vdisk_vol_access {
    char *path;
    vdisk_format format;
    bool read_only;
    unsigned char *passphrase;
    size_t passphrase_len;
} vdisk_vol_access;

int vdisk_vol_access_get(vdisk_pool *pool, const char *name, vdisk_vol_access *a, vdisk_error *err);
void vdisk_vol_access_clear(vdisk_vol_access *a);

enum {
    VDISK_VOL_CREATE_PREALLOC_METADATA = 1u << 0,  /* qcow2: metadata preallocated when thin */
};

/* Create a volume from its definition (vol-create / vol-create-as).  The
 * backing store path, if any, must be absolute; its format is probed when
 * the definition does not give it.  An <encryption format='luks'> volume
 * (raw: a LUKS container; qcow2: LUKS inside) takes its passphrase from the
 * registry's secret the definition names (uuid or usage), read before
 * anything is written and wiped after use.
 * Long work (eager zeroing) reports progress in bytes. */
int vdisk_vol_create(vdisk_pool *pool, const vdisk_vol_def *def, unsigned flags,
                     vdisk_progress_fn progress, void *opaque, vdisk_error *err);

/* Create a volume as a copy of an existing volume `src_name` of `src_pool`
 * (which may be `pool` itself), converted to def->format (vol-create-from,
 * vol-clone, vol-convert).  The copy stays sparse; provisioning of the new
 * volume follows def as for vdisk_vol_create.  An encrypted source is read
 * with the passphrase of its own secret (usage = its path), else with the
 * new volume's. */
int vdisk_vol_create_from(vdisk_pool *pool, const vdisk_vol_def *def,
                          vdisk_pool *src_pool, const char *src_name, unsigned flags,
                          vdisk_progress_fn progress, void *opaque, vdisk_error *err);

/* Remove a volume file (with any internal snapshots it holds); -EBUSY when
 * another process (a running guest) holds its image lock. */
int vdisk_vol_delete(vdisk_pool *pool, const char *name, vdisk_error *err);

enum {
    /* RBD: remove the image's snapshots too (libvirt's
     * VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS); without it an image with
     * snapshots is refused.  Files: their internal snapshots always go. */
    VDISK_VOL_DELETE_WITH_SNAPSHOTS = 1u << 0,
};
int vdisk_vol_delete_flags(vdisk_pool *pool, const char *name, unsigned flags, vdisk_error *err);

typedef enum vdisk_wipe_alg {
    VDISK_WIPE_ZERO = 0,     /* overwrite the data with zeros */
    VDISK_WIPE_RANDOM,       /* overwrite the data with random bytes */
    VDISK_WIPE_TRIM,         /* deallocate (punch holes); zeros where that is impossible */
    /* The multi-pass patterns libvirt runs scrub(1) for, with scrub's
     * passes; each pass writes the whole file. */
    VDISK_WIPE_NNSA,         /* random, random, 0x00 (read back) */
    VDISK_WIPE_DOD,          /* random, 0x00, 0xff (read back) */
    VDISK_WIPE_BSI,          /* 0xff, 0xfe, 0xfd, 0xfb, 0xf7, 0xef, 0xdf, 0xbf, 0x7f */
    VDISK_WIPE_GUTMANN,      /* Gutmann's 35 passes */
    VDISK_WIPE_SCHNEIER,     /* 0x00, 0xff, 5 x random */
    VDISK_WIPE_PFITZNER7,    /* 7 x random */
    VDISK_WIPE_PFITZNER33,   /* 33 x random */
} vdisk_wipe_alg;

/* libvirt's algorithm names (zero, nnsa, dod, bsi, gutmann, schneier,
 * pfitzner7, pfitzner33, random, trim); another name is -EINVAL. */
int vdisk_wipe_alg_from_name(const char *name, vdisk_wipe_alg *alg, vdisk_error *err);

/* Wipe and upload first refuse (-EBUSY) a volume another process, such
 * as a running VM, holds open (libvdisk's QEMU-compatible image locks).
 *
 * Wipe a volume: every allocated byte of the file is overwritten (or
 * deallocated for trim); the multi-pass algorithms overwrite every byte,
 * once per pass, and read the file back after a pass scrub verifies.  A qcow2 volume is then formatted again, empty,
 * with its previous virtual size and options, so it stays usable and reads
 * as zeros (an encrypted qcow2 is formatted encrypted again, with its
 * default secret; a raw LUKS volume's header is overwritten like the rest,
 * as libvirt does).  Progress in bytes of the file. */
int vdisk_vol_wipe(vdisk_pool *pool, const char *name, vdisk_wipe_alg alg,
                   vdisk_progress_fn progress, void *opaque, vdisk_error *err);

/* Refuse (-EBUSY, libvdisk's "image is in use" message) to write the bytes
 * of a volume that another process -- a running VM -- holds open, as the
 * QEMU-compatible image locks of vdisk_open tell (-ENOENT / -ELOOP when
 * there is no such file or it is a symlink).  Volumes libvdisk cannot open
 * as images are not checked. */
int vdisk_vol_check_not_in_use(vdisk_pool *pool, const char *name, vdisk_error *err);

/* Transfer bytes of the volume file (not guest content, as libvirt) from or
 * to the open descriptor fd.  offset: where in the volume; length: at most
 * this many bytes (0 = all).  sparse: holes of the source stay holes in the
 * destination (upload punches them inside the volume, download leaves
 * them in the output file).  Progress in bytes. */
int vdisk_vol_upload(vdisk_pool *pool, const char *name, int fd, uint64_t offset,
                     uint64_t length, bool sparse, vdisk_progress_fn progress,
                     void *opaque, vdisk_error *err);
int vdisk_vol_download(vdisk_pool *pool, const char *name, int fd, uint64_t offset,
                       uint64_t length, bool sparse, vdisk_progress_fn progress,
                       void *opaque, vdisk_error *err);

enum {
    VDISK_VOL_RESIZE_ALLOCATE = 1u << 0,   /* reserve the new part (lazy-zeroed, fallocate) */
    VDISK_VOL_RESIZE_SHRINK   = 1u << 1,   /* allow a smaller capacity (data past it is lost) */
};
/* vol-clone / vol-create-from --reflink: a raw copy of the raw,
 * unencrypted volume src_name that shares its extents (FICLONE), grown to
 * def's capacity when larger.  -ENOTSUP (nothing left behind) where the
 * file system cannot share extents ("failed to clone files from ...") or
 * the copy would not be byte for byte (another format, encryption, a
 * backing store). */
int vdisk_vol_create_reflink(vdisk_pool *pool, const vdisk_vol_def *def, vdisk_pool *src_pool,
                             const char *src_name, vdisk_error *err);

/* Change a volume's capacity (vol-resize).  Growing is checked against the
 * pool's free space (--allocate) and overcommit cap first; shrinking needs
 * VDISK_VOL_RESIZE_SHRINK.  A failed resize leaves the volume as it was.
 * Encrypted volumes are opened with the secret whose usage is their path
 * (libvirt's default secret); a raw LUKS volume refuses
 * VDISK_VOL_RESIZE_ALLOCATE, as libvirt. */
int vdisk_vol_resize(vdisk_pool *pool, const char *name, uint64_t capacity, unsigned flags,
                     vdisk_progress_fn progress, void *opaque, vdisk_error *err);

/* Internal snapshots of a qcow2 volume (what libvirt's storage API lacks).
 * Raw volumes are refused with -ENOTSUP.  The list is freed with
 * vdisk_snapshot_list_free (vdisk/snapshot.h). */
struct vdisk_snapshot_info;
int vdisk_vol_snapshot_create(vdisk_pool *pool, const char *name, const char *snapshot,
                              vdisk_error *err);
int vdisk_vol_snapshot_list(vdisk_pool *pool, const char *name, struct vdisk_snapshot_info **list,
                            size_t *n, vdisk_error *err);
int vdisk_vol_snapshot_revert(vdisk_pool *pool, const char *name, const char *snapshot,
                              vdisk_error *err);
int vdisk_vol_snapshot_delete(vdisk_pool *pool, const char *name, const char *snapshot,
                              vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
