/* libvdisk internals — the format driver table and the image handle.
 *
 * A format driver is one static table of small callbacks (see raw.c and
 * qcow2/driver.c).  image.c does the argument checks every driver would
 * repeat (bounds, read-only, probed-raw sector 0) before calling it, so
 * callbacks only see in-range requests on a handle that may do them.
 */
#ifndef VDISK_DRIVER_H
#define VDISK_DRIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <vdisk/options.h>
#include <vdisk/vdisk.h>

#include "file.h"

/* Clusters compressed ahead of their write: convert's workers compress in
 * parallel, then store in guest order. */
typedef struct vdisk_precompressed {
    uint64_t off;           /* guest offset, cluster aligned */
    uint64_t len;           /* whole clusters, or up to the image end */
    const uint8_t *data;    /* the uncompressed bytes (len) */
    uint8_t *out;           /* cluster i compressed at out + i * cluster size */
    uint32_t *clen;         /* its length; 0: it does not shrink, stored as is */
} vdisk_precompressed;

struct vdisk_provision_req;   /* provision/provision.h */

/* A write split in two (vdisk_write_reserve): defined by the one driver
 * that makes it (qcow2/write-reserve.c). */
typedef struct vdisk_reservation vdisk_reservation;

struct vdisk_driver {
    const char *name;
    vdisk_format format;

    /* Read the metadata of img->file and fill img->size, img->priv. */
    int (*open)(vdisk_image *img, vdisk_error *err);
    /* Release img->priv (after a flush when writable).  Must not fail. */
    void (*close)(vdisk_image *img);
    /* Optional: persist what must survive the close (qcow2 bitmaps) before it. */
    int (*finish)(vdisk_image *img, vdisk_error *err);
    /* Write a new image of this format into an empty, writable file. */
    int (*create)(vdisk_file *file, const vdisk_create_opts *opts,
                  vdisk_progress_fn progress, void *opaque, vdisk_error *err);
    /* Optional: the -o options of the format (vdisk/options.h), which
     * vdisk_create_opts_set, vdisk_amend_opts_set and "-o help" read; NULL
     * (the read-only formats: vdi, qed, parallels) takes the common ones
     * (size, preallocation, nocow).  A table is a static array in "-o
     * help" order ending with VDISK_OPTIONS_END; a driver whose images need
     * options of their own (subformat=...) adds the fields to
     * vdisk_create_opts and writes (vpc/opts.c in full):
     *
     *     static int set_subformat(vdisk_create_opts *o, const char *key,
     *                              const char *value, vdisk_error *err);
     *     const vdisk_option vpc_options[] = {
     *         VDISK_OPTIONS_COMMON,
     *         { "subformat", VDISK_OPTION_STRING, VDISK_OPTION_CM, 0, NULL,
     *           "Type of virtual hard disk format. ...", set_subformat, NULL },
     *         VDISK_OPTIONS_END,
     *     };
     *     ... .options = vpc_options, .opts_validate = vpc_opts_validate, ...
     *
     * (options.h has the shared parsers and entries; vmdk/opts.c lists the
     * common entries apart, in the order of its "Formatting" line). */
    const struct vdisk_option *options;
    /* Optional: the defaults of the format's own fields of vdisk_create_opts
     * (vdisk_create_opts_init; everything else starts at zero). */
    void (*opts_init)(vdisk_create_opts *o);
    /* Optional: refuse a combination of create options the format cannot
     * make, with qemu-img's messages (vdisk_create_opts_validate, after the
     * checks every format shares). */
    int (*opts_validate)(const vdisk_create_opts *o, vdisk_error *err);
    /* "-o help" lists the table by name, as qemu-img lists every format's,
     * rather than in the table's order (vmdk, whose table is in the order
     * of its "Formatting" line). */
    bool options_help_by_name;

    int (*pread)(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err);
    int (*pwrite)(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err);
    int (*write_zeroes)(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags, vdisk_error *err);
    int (*discard)(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err);
    /* Optional: compressed whole-cluster writes. */
    int (*pwrite_compressed)(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err);
    /* Optional: compress c->data into c->out/clen without touching the
     * image (any thread, no lock)... */
    int (*compress_ahead)(vdisk_image *img, vdisk_precompressed *c, vdisk_error *err);
    /* ...and store the result as pwrite_compressed would. */
    int (*pwrite_precompressed)(vdisk_image *img, const vdisk_precompressed *c, vdisk_error *err);
    /* Optional: a write in two steps (vdisk_write_reserve): place it --
     * allocate its clusters -- now, copy its data and switch the metadata
     * later; -ENOTSUP for a write the driver cannot split. */
    int (*write_reserve)(vdisk_image *img, uint64_t len, uint64_t off, vdisk_reservation **out,
                         vdisk_error *err);
    int (*write_reserved)(vdisk_image *img, vdisk_reservation *res, const void *buf, vdisk_error *err);
    void (*write_cancel)(vdisk_image *img, vdisk_reservation *res);
    int (*flush)(vdisk_image *img, vdisk_error *err);
    /* This layer only; ext->depth/filename are filled by image.c. */
    int (*block_status)(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err);
    /* Format-specific fields of vdisk_info (the generic ones are filled by image.c). */
    int (*get_info)(vdisk_image *img, vdisk_info *info, vdisk_error *err);
    /* What an image of this format made with opts needs (vdisk_measure_image);
     * src, when given, supplies the size and the allocated extents. */
    int (*measure)(const vdisk_create_opts *opts, vdisk_image *src,
                   vdisk_measure *out, vdisk_error *err);
    /* Optional: consistency check and repair (vdisk_check).  `fix` holds
     * VDISK_CHECK_FIX_* and, of the other flags, those in check_flags. */
    unsigned check_flags;
    int (*check)(vdisk_image *img, unsigned fix, vdisk_check_result *res,
                 vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
                 vdisk_error *err);
    /* Optional: internal snapshots (list, create, apply, delete; load
     * switches a read-only handle to a snapshot's content). */
    int (*snapshot_list)(vdisk_image *img, vdisk_snapshot_info **out, size_t *n, vdisk_error *err);
    int (*snapshot_create)(vdisk_image *img, const vdisk_snapshot_info *info, vdisk_error *err);
    int (*snapshot_apply)(vdisk_image *img, const char *id_or_name, vdisk_error *err);
    int (*snapshot_delete)(vdisk_image *img, const char *id_or_name, vdisk_error *err);
    int (*snapshot_load)(vdisk_image *img, const char *id_or_name, vdisk_error *err);
    /* Optional: change format options in place (vdisk_amend). */
    int (*amend)(vdisk_image *img, const vdisk_amend_opts *opts, vdisk_error *err);
    /* Optional: edit persistent dirty bitmaps (qemu-img bitmap). */
    int (*bitmap)(vdisk_image *img, const struct vdisk_bitmap_op *op, vdisk_error *err);
    /* Optional: add or erase LUKS key slots (vdisk_amend_keyslots). */
    int (*amend_keyslots)(vdisk_image *img, const vdisk_keyslot_opts *opts, vdisk_error *err);
    /* Optional: change the virtual size to `size` (dispatch.c has checked the
     * request: size > 0, shrinking allowed, prealloc only when growing). */
    int (*truncate)(vdisk_image *img, uint64_t size, vdisk_prealloc prealloc,
                    vdisk_progress_fn progress, void *opaque, vdisk_error *err);
    /* Optional: drop every cluster of this layer so that it reads through to
     * its backing file (commit without -d). */
    int (*make_empty)(vdisk_image *img, vdisk_error *err);
    /* Optional: record a new backing file name and format (NULL: none) in
     * the image's metadata; the caller swaps img->backing. */
    int (*set_backing)(vdisk_image *img, const char *name, const char *fmt, vdisk_error *err);
    /* Optional: provisioning in place (vdisk/provision.h; the handle is
     * checked and locked exclusively by provision/provision.c). */
    int (*inflate)(vdisk_image *img, struct vdisk_provision_req *req, vdisk_error *err);
    int (*eagerzero)(vdisk_image *img, struct vdisk_provision_req *req, vdisk_error *err);
    int (*sparsify)(vdisk_image *img, struct vdisk_provision_req *req, vdisk_error *err);
};

struct vdisk_image {
    const struct vdisk_driver *drv;
    void *priv;                /* driver state */
    vdisk_file *file;          /* the host file holding this layer */
    char *filename;            /* path as opened */
    unsigned flags;            /* VDISK_OPEN_* */
    uint64_t size;             /* virtual size (drivers keep it current) */
    bool probed_raw;           /* format guessed as raw: guard sector 0 */
    bool probed;               /* format found by probing, not named by the caller */
    vdisk_image *backing;      /* opened by the driver; closed by image.c */
    vdisk_image *overlay;      /* the image this one backs (NULL at the top) */
    int depth;                 /* 0 at the top of the chain */
    void *secret;              /* passphrase copy (owned, wiped on close): drv->open
                                * unlocks with it, and backing files opened later
                                * (rebase, commit's reopen) are tried with it */
    size_t secret_len;
    const vdisk_backing_policy *backing_policy;  /* borrowed; inherited down the chain */
};

extern const struct vdisk_driver vdisk_raw_driver;
extern const struct vdisk_driver vdisk_qcow2_driver;
extern const struct vdisk_driver vdisk_luks_driver;
extern const struct vdisk_driver vdisk_iso_driver;
extern const struct vdisk_driver vdisk_vpc_driver;
extern const struct vdisk_driver vdisk_vhdx_driver;
extern const struct vdisk_driver vdisk_vdi_driver;
extern const struct vdisk_driver vdisk_qed_driver;
extern const struct vdisk_driver vdisk_parallels_driver;
extern const struct vdisk_driver vdisk_vmdk_driver;

/* Block status of a format whose guest offset is the host offset (raw.c;
 * the iso driver uses it too): all allocated, holes read as zeros. */
int vdisk_raw_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext,
                           vdisk_error *err);

/* Table lookups (image.c). */
const struct vdisk_driver *vdisk_driver_for(vdisk_format fmt);

/* Open `path` as a backing file of `overlay` (read-only, relative paths
 * resolved against the overlay's directory, loops refused).  Used by drivers
 * whose images name a backing file.  fmt is the format the overlay records
 * (UNKNOWN: probe); the chain's backing policy, if any, decides first. */
int vdisk_open_backing(vdisk_image *overlay, const char *path, vdisk_format fmt,
                       vdisk_image **out, vdisk_error *err);

/* Compressed writes in two steps (image.c): compress without touching the
 * image (any thread), then store in order.  The driver must have both
 * compress_ahead and pwrite_precompressed. */
int vdisk_compress_ahead(vdisk_image *img, vdisk_precompressed *c, vdisk_error *err);
int vdisk_pwrite_precompressed(vdisk_image *img, const vdisk_precompressed *c, vdisk_error *err);

/* A write in two steps (image.c), for convert's ordered targets: where
 * the target's clusters land is decided by the order of the reservations,
 * made one at a time in guest order, so the layout is that of writes in
 * guest order; the data copies (vdisk_write_reserved: the data for exactly
 * the reserved range; it consumes the reservation, written or not) then
 * run side by side in any order.  A reservation that will not be written
 * is given up with vdisk_write_cancel.  -ENOTSUP, with nothing reserved:
 * this image or this range cannot be split; write it with vdisk_pwrite in
 * its turn. */
int vdisk_write_reserve(vdisk_image *img, uint64_t len, uint64_t off, vdisk_reservation **out,
                        vdisk_error *err);
int vdisk_write_reserved(vdisk_image *img, vdisk_reservation *res, const void *buf, vdisk_error *err);
void vdisk_write_cancel(vdisk_image *img, vdisk_reservation *res);

/* Take more of QEMU's permissions (lock.h VDISK_PERM_*) on an open image,
 * e.g. resize for a raw image, which a write open does not take: refused
 * (-EBUSY, "image is in use") as a new open would be when another process
 * holds conflicting locks.  No-op when locking is off. */
int vdisk_image_add_perms(vdisk_image *img, unsigned perm, vdisk_error *err);

#endif
