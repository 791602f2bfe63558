/* libvdisk — the format-neutral image handle.
 *
 * An image is opened once and then read, written and queried through these
 * calls whatever its format.
 *
 * Thread safety.  Handles are independent: calls on different handles (of
 * the same file too, e.g. opened with VDISK_OPEN_FORCE_SHARE) may run at
 * the same time, and calls that take no handle (probe, create, convert,
 * format and option helpers) may run in several threads at once on
 * different files: libvdisk keeps no global mutable state (librbd is
 * loaded once, under pthread_once).  Each thread passes its own
 * vdisk_error.  On ONE handle, calls fall in three classes:
 *
 *  - Data I/O, any number of threads at once: vdisk_pread, vdisk_pwrite,
 *    vdisk_write_zeroes, vdisk_discard, vdisk_pwrite_compressed,
 *    vdisk_flush, vdisk_block_status, vdisk_block_status_chain, and
 *    vdisk_alloc_map / vdisk_alloc_summary (provision.h: block status plus
 *    FIEMAP).  Requests on ranges that do not overlap never disturb each
 *    other, down to the byte: where a driver must read, merge and write
 *    back a whole unit around a partial one it holds a lock across that
 *    read-modify-write (LUKS and encrypted qcow2 sectors, the 4 KiB blocks
 *    of an O_DIRECT file).  Requests on overlapping ranges are not ordered:
 *    a read overlapping a write may see old or new bytes, and what two
 *    overlapping writes leave is undefined.  Per format: raw, qcow2 (one
 *    lock over all metadata; a write that allocates marks its clusters in
 *    flight so that another request touching them waits, qcow2/write.c),
 *    LUKS (per-thread cipher contexts, crypto/sectors.c), vmdk, vpc and
 *    vhdx (a lock over their tables and allocation), and the read-only
 *    formats (iso, vdi, parallels: nothing changes after open; qed: its
 *    table cache has a lock).  Checked by tests/soak (threads against a
 *    byte model: raw, LUKS, qcow2 plain, 4 KiB clusters with lazy
 *    refcounts, extended L2, compressed, encrypted, over a backing file,
 *    O_DIRECT; vmdk, vpc, vhdx), also under ThreadSanitizer
 *    (scripts/tsan.sh).
 *  - Properties: vdisk_get_size, _get_format, _get_filename,
 *    _get_cluster_size, _get_backing, _is_read_only read fields that
 *    only open and the exclusive calls below change: safe alongside data
 *    I/O.
 *  - Exclusive: no other call on the handle (nor on a handle of its backing
 *    chain) may run at the same time: vdisk_close, vdisk_get_info (it reads
 *    header fields and bitmap state that writes change), and every call that
 *    changes or walks the metadata as a whole: snapshots (snapshot.h),
 *    vdisk_amend, vdisk_amend_keyslots, vdisk_bitmap, vdisk_check,
 *    vdisk_resize, vdisk_rebase, vdisk_commit (both handles), vdisk_inflate,
 *    vdisk_eagerzero, vdisk_sparsify, and vdisk_compare and
 *    vdisk_measure_image on the handles they read.  These calls take the
 *    driver's lock for their own consistency but do not wait for data
 *    requests in flight (a write to a cluster a snapshot is about to share
 *    would land in both); the caller serialises them, as QEMU drains a
 *    device before such operations.
 */
#ifndef VDISK_IMAGE_H
#define VDISK_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/vmdk.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vdisk_image vdisk_image;

typedef enum vdisk_format {
    VDISK_FORMAT_UNKNOWN = 0,   /* in open options: probe the file */
    VDISK_FORMAT_RAW,
    VDISK_FORMAT_QCOW2,
    VDISK_FORMAT_ISO,
    VDISK_FORMAT_LUKS,          /* raw LUKS1 container (qemu-img -f luks) */
    /* Formats of other hypervisors, named as qemu-img names them.  Every one
     * is recognised by probing (a file carrying one is never read as raw);
     * opening one needs a driver (vdisk_format_supported). */
    VDISK_FORMAT_VMDK,          /* VMware */
    VDISK_FORMAT_VHDX,          /* Hyper-V */
    VDISK_FORMAT_VPC,           /* Virtual PC / Hyper-V / Azure VHD */
    VDISK_FORMAT_VDI,           /* VirtualBox */
    VDISK_FORMAT_QED,           /* QEMU enhanced disk */
    VDISK_FORMAT_PARALLELS,     /* Parallels / Virtuozzo */
    VDISK_FORMAT_DMG,           /* Apple disk image */
    VDISK_FORMAT_CLOOP,         /* compressed loop */
    VDISK_FORMAT_BOCHS,         /* Bochs growing redolog */
    VDISK_FORMAT_QCOW,          /* QEMU's qcow version 1 */
} vdisk_format;

/* "raw", "qcow2", "vmdk", ... as qemu-img names them; "unknown" for anything else. */
const char *vdisk_format_name(vdisk_format fmt);
/* Parse a format name as qemu-img spells it.  -EINVAL (with message) if unknown. */
int vdisk_format_from_name(const char *name, vdisk_format *fmt, vdisk_error *err);
/* Can this build of libvdisk open images of this format? */
bool vdisk_format_supported(vdisk_format fmt);
/* Can this build of libvdisk create images of this format (vdisk_create)? */
bool vdisk_format_can_create(vdisk_format fmt);
/* The i-th format vdisk names (raw, qcow2, iso, luks, vmdk, ...), for
 * building lists such as "the formats vdisk creates"; false past the last. */
bool vdisk_format_at(size_t i, vdisk_format *fmt);
/* "raw, qcow2, luks": the formats vdisk_format_can_create accepts, for
 * messages (truncated to len; always NUL terminated when len > 0). */
void vdisk_format_list_creatable(char *buf, size_t len);

/* Progress callback for long operations: done/total in bytes (or any unit the
 * operation documents).  Return non-zero to cancel: the operation stops and
 * returns -ECANCELED. */
typedef int (*vdisk_progress_fn)(void *opaque, uint64_t done, uint64_t total);

/* ---- probing ------------------------------------------------------------ */

/* Detect the format of the first bytes of a file (2 KiB hold every magic but
 * ISO 9660's, which needs 34 KiB; fewer bytes simply rule formats out).
 * Anything not recognised is raw. */
vdisk_format vdisk_probe_buffer(const void *buf, size_t len);
/* Detect the format of a file by its magic numbers (and, for dmg, its name
 * or its trailer).  The format may be one vdisk has no driver for:
 * vdisk_format_supported tells. */
int vdisk_probe(const char *path, vdisk_format *fmt, vdisk_error *err);

/* ---- open / close ------------------------------------------------------- */

enum {
    VDISK_OPEN_RDWR        = 1u << 0,  /* open for writing */
    VDISK_OPEN_DIRECT      = 1u << 1,  /* O_DIRECT: bypass the host page cache (cache=none) */
    VDISK_OPEN_NO_BACKING  = 1u << 2,  /* do not open backing files; unallocated ranges read as zeros */
    VDISK_OPEN_FORCE_SHARE = 1u << 3,  /* read-only access to an image another process holds (-U) */
    VDISK_OPEN_CHECK       = 1u << 4,  /* for vdisk_check: accept dirty/corrupt images, no repair on open */
    VDISK_OPEN_NO_KEY      = 1u << 8,  /* encrypted image without its passphrase: metadata
                                          (info) only, data I/O fails with -EACCES */
};

/* Who decides how the backing files an image names are opened.  A caller
 * that cannot trust the bytes of every file in a chain (a storage pool whose
 * volumes guests write) sets one: `check` is called before each backing file
 * of the chain is opened, with the name of the image naming it (as opened),
 * the backing file's resolved path, and in *fmt the format that image's
 * metadata records for it (UNKNOWN if none).  It returns a negative errno,
 * with err filled, to refuse the file, or 0 with *fmt set to the format to
 * open it as (left UNKNOWN: probed, as without a policy). */
typedef struct vdisk_backing_policy {
    int (*check)(void *opaque, const char *overlay, const char *backing, vdisk_format *fmt,
                 vdisk_error *err);
    void *opaque;
} vdisk_backing_policy;

typedef struct vdisk_open_opts {
    vdisk_format format;   /* VDISK_FORMAT_UNKNOWN: probe (see below) */
    unsigned flags;        /* VDISK_OPEN_* */
    const char *snapshot;  /* NULL, or the ID or name of an internal snapshot whose
                              content the (read-only) handle shows (qemu-img -l) */
    /* Passphrase of an encrypted image (LUKS, legacy qcow2 AES), by pointer
     * and length; not copied, not NUL terminated.  Encrypted backing files
     * are tried with the same passphrase.  Opening an encrypted image
     * without one fails with -EACCES (see VDISK_OPEN_NO_KEY). */
    const void *secret;
    size_t secret_len;
    /* NULL, or the policy for every backing file of the chain (not copied:
     * it must outlive the handle, whose rebase and commit may open backing
     * files later). */
    const vdisk_backing_policy *backing_policy;
} vdisk_open_opts;

/* Open an image.  opts may be NULL (probe, read-only).
 *
 * When the format is probed and comes out raw, the handle refuses (-EPERM)
 * any write that would change what the first sector probes as: a guest must
 * not be able to turn a raw image into, say, a qcow2 image with a backing file
 * pointing at a host file.  Name the format to lift the restriction.
 *
 * Backing files of qcow2 images are opened read-only, relative names resolved
 * against the directory of the image that names them, unless
 * VDISK_OPEN_NO_BACKING is given.  On success *out owns the handle; free it
 * with vdisk_close().
 *
 * Every file of the chain is locked as QEMU locks it (OFD byte-range locks;
 * see README "Image locking"): an image another process (qemu-io, qemu-nbd,
 * a VM, another vdisk) uses in a conflicting way is refused with -EBUSY and
 * "FILE: image is in use: ...".  VDISK_OPEN_FORCE_SHARE shares everything
 * and is for read-only opens only (-EINVAL with VDISK_OPEN_RDWR). */
int vdisk_open(const char *path, const vdisk_open_opts *opts,
               vdisk_image **out, vdisk_error *err);

/* Flush and close.  Returns the first flush/close error; the handle (and its
 * backing chain) is freed in every case.  img may be NULL. */
int vdisk_close(vdisk_image *img, vdisk_error *err);

/* ---- data I/O ----------------------------------------------------------- */

/* Read len bytes at guest offset off.  Ranges past the end of the image are
 * an error (-EINVAL). Holes, zero clusters and unallocated ranges with no
 * backing file read as zeros. */
int vdisk_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off,
                vdisk_error *err);
int vdisk_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off,
                 vdisk_error *err);

enum {
    VDISK_ZERO_MAY_UNMAP = 1u << 0,    /* the range may become a hole / unallocated */
};
/* Make a range read as zeros, cheaply where the format allows it. */
int vdisk_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off,
                       unsigned flags, vdisk_error *err);
/* Tell the image a range is no longer needed.  Afterwards it reads as zeros
 * (raw: punched hole; qcow2 v3: zero or unallocated cluster; qcow2 with a
 * backing file: zero cluster, so the backing data does not show through). */
int vdisk_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err);

/* Write whole clusters compressed (qcow2 only; off cluster aligned, len a
 * multiple of the cluster size, or the tail of the image).  A cluster that
 * does not shrink is written uncompressed.  -ENOTSUP for other formats. */
int vdisk_pwrite_compressed(vdisk_image *img, const void *buf, uint64_t len,
                            uint64_t off, vdisk_error *err);

int vdisk_flush(vdisk_image *img, vdisk_error *err);

/* ---- block status ------------------------------------------------------- */

enum {
    VDISK_EXTENT_ALLOCATED    = 1u << 0, /* "present": this layer (or, for _chain, some layer) defines the content */
    VDISK_EXTENT_ZERO         = 1u << 1, /* reads return zeros */
    VDISK_EXTENT_DATA         = 1u << 2, /* content is stored in a file at host_offset */
    VDISK_EXTENT_OFFSET_VALID = 1u << 3, /* host_offset is meaningful */
    VDISK_EXTENT_COMPRESSED   = 1u << 4, /* stored compressed (host_offset not valid) */
};

typedef struct vdisk_extent {
    uint64_t offset;        /* guest offset of the extent (== the query offset) */
    uint64_t length;        /* > 0, never past the queried range */
    unsigned flags;         /* VDISK_EXTENT_* */
    int depth;              /* layer that answers: 0 = this image, 1 = its backing, ...;
                               for ranges allocated nowhere, the bottom layer (or
                               the layer whose backing file ends before the range) */
    uint64_t host_offset;   /* offset in `filename` when OFFSET_VALID */
    const char *filename;   /* file of the answering layer (owned by the handle) */
} vdisk_extent;

/* Status of the range starting at off in this layer only: a range not
 * allocated here has no ALLOCATED flag (reads go to the backing file).
 * Fills one extent of maximal length <= len with uniform status. */
int vdisk_block_status(vdisk_image *img, uint64_t off, uint64_t len,
                       vdisk_extent *ext, vdisk_error *err);
/* As vdisk_block_status, but resolved through the backing chain (what
 * `qemu-img map` prints). */
int vdisk_block_status_chain(vdisk_image *img, uint64_t off, uint64_t len,
                             vdisk_extent *ext, vdisk_error *err);

/* ---- properties --------------------------------------------------------- */

/* Resolve a backing file name as QEMU does: a relative name is relative to
 * the directory of the image naming it; absolute names and names with a
 * protocol prefix ("nbd:...") are kept, and so is every name an RBD image or
 * NBD export gives (they have no directory).  malloc'ed (caller frees); NULL
 * on ENOMEM. */
char *vdisk_resolve_backing_name(const char *overlay_path, const char *backing);

uint64_t vdisk_get_size(const vdisk_image *img);          /* virtual size in bytes */
vdisk_format vdisk_get_format(const vdisk_image *img);
const char *vdisk_get_filename(const vdisk_image *img);   /* as given to open / as resolved */
uint32_t vdisk_get_cluster_size(const vdisk_image *img);  /* 0 for raw */
vdisk_image *vdisk_get_backing(const vdisk_image *img);   /* NULL if none or not opened */
bool vdisk_is_read_only(const vdisk_image *img);

/* A qcow2 persistent dirty bitmap, as `qemu-img info` lists it. */
typedef struct vdisk_bitmap_info {
    char *name;
    uint32_t granularity;          /* bytes per bit */
    bool in_use;                   /* inconsistent (QEMU's flag "in-use") */
    bool enabled;                  /* tracks writes (QEMU's flag "auto") */
} vdisk_bitmap_info;

typedef struct vdisk_info {
    vdisk_format format;
    uint64_t virtual_size;
    uint64_t actual_size;          /* bytes allocated on the host (st_blocks * 512) */
    bool actual_size_unknown;      /* the protocol cannot tell (NBD): actual_size is 0 */
    uint32_t cluster_size;         /* 0 when the format has none */
    bool dirty;                    /* qcow2 dirty bit (lazy refcounts in use) */
    char *backing_file;            /* as stored in the image; NULL if none */
    char *backing_format;          /* NULL if not recorded */
    char *full_backing_filename;   /* resolved path (relative names against the image's dir) */
    /* qcow2 */
    int qcow2_version;             /* 2 or 3 */
    bool lazy_refcounts;
    int refcount_bits;
    bool corrupt;
    bool extended_l2;
    const char *compression_type;  /* "zlib" or "zstd" (static string) */
    bool encrypted;
    /* Encryption details (LUKS header, key slots); NULL when not encrypted.
     * Owned by the info (vdisk_info_clear frees it). */
    struct vdisk_encrypt_info *encrypt;
    /* Persistent dirty bitmaps (qcow2 v3 with the autoclear bit set), in
     * directory order; owned by the info. */
    vdisk_bitmap_info *bitmaps;
    size_t nbitmaps;
    /* iso (the volume descriptors; times are seconds since the epoch, UTC,
     * INT64_MIN when not recorded) */
    char iso_volume_id[100];
    char iso_system_id[100];
    int64_t iso_creation_time;
    int64_t iso_modification_time;
    uint64_t iso_volume_size;      /* bytes the descriptor claims */
    bool iso_joliet;
    bool iso_rock_ridge;
    bool iso_bootable;             /* El Torito boot entry present */
    /* vmdk: CIDs, create type and extents; NULL for other formats.  Owned
     * by the info. */
    vdisk_vmdk_info *vmdk;
} vdisk_info;

/* Fill *info (free with vdisk_info_clear). */
int vdisk_get_info(vdisk_image *img, vdisk_info *info, vdisk_error *err);
void vdisk_info_clear(vdisk_info *info);

#ifdef __cplusplus
}
#endif
#endif
