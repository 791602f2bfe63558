/* libvdisk — creating images and estimating their size.
 *
 * Provisioning vocabulary (DESIGN.md):
 *   thin               raw: sparse file        qcow2: preallocation off or metadata
 *   lazy-zeroed thick  raw: fallocate          qcow2: preallocation falloc
 *   eager-zeroed thick raw: zeros written      qcow2: preallocation full
 */
#ifndef VDISK_CREATE_H
#define VDISK_CREATE_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/encrypt.h>
#include <vdisk/error.h>
#include <vdisk/image.h>
#include <vdisk/vmdk.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vdisk_prealloc {
    VDISK_PREALLOC_OFF = 0,    /* thin */
    VDISK_PREALLOC_METADATA,   /* qcow2 only: tables allocated, data clusters not */
    VDISK_PREALLOC_FALLOC,     /* lazy-zeroed thick: space reserved with fallocate */
    VDISK_PREALLOC_FULL,       /* eager-zeroed thick: every block written */
} vdisk_prealloc;

const char *vdisk_prealloc_name(vdisk_prealloc p);  /* "off", "metadata", "falloc", "full" */
int vdisk_prealloc_from_name(const char *name, vdisk_prealloc *p, vdisk_error *err);

typedef enum vdisk_compression {
    VDISK_COMPRESSION_ZLIB = 0,
    VDISK_COMPRESSION_ZSTD = 1,
} vdisk_compression;

/* vpc (VHD): -o subformat=dynamic|fixed, force_size=on|off (core/vpc/opts.c). */
typedef struct vdisk_vpc_opts {
    bool fixed;                   /* subformat=fixed; default dynamic */
    bool force_size;              /* the size as given, not rounded to a CHS geometry */
} vdisk_vpc_opts;

/* vhdx: -o subformat, block_size, log_size, block_state_zero (core/vhdx/opts.c). */
typedef struct vdisk_vhdx_opts {
    bool fixed;                   /* subformat=fixed; default dynamic */
    uint64_t block_size;          /* bytes; 0: chosen by the virtual size, as qemu-img */
    uint64_t log_size;            /* bytes; default 1 MiB */
    bool block_state_zero;        /* blocks start in the ZERO state (default, as qemu-img) */
} vdisk_vhdx_opts;

typedef struct vdisk_create_opts {
    vdisk_format format;          /* RAW, QCOW2, LUKS, VPC or VHDX */
    uint64_t size;                /* virtual size in bytes; 0 with a backing file: the backing file's size */
    vdisk_prealloc prealloc;
    bool nocow;                   /* set FS_NOCOW_FL (btrfs) on the new file */
    /* qcow2 */
    uint32_t cluster_size;        /* 512 B .. 2 MiB, power of two; default 64 KiB */
    int compat;                   /* 2 (compat=0.10) or 3 (compat=1.1, default) */
    int refcount_bits;            /* 1, 2, 4, 8, 16 (default), 32, 64 */
    bool lazy_refcounts;          /* needs compat 1.1 */
    bool extended_l2;             /* subclusters; needs compat 1.1 and cluster_size >= 16 KiB */
    vdisk_compression compression_type;  /* zstd needs compat 1.1 */
    char *backing_file;           /* owned (strdup'ed by _set); NULL if none */
    vdisk_format backing_format;  /* UNKNOWN: probe the backing file and record what it is */
    bool backing_unchecked;       /* record backing_file without opening it (qemu-img create
                                     -u): then backing_format and size must be given */
    /* qcow2 encrypt.* and luks options (see vdisk/encrypt.h) */
    vdisk_encrypt_opts encrypt;
    vdisk_vpc_opts vpc;
    vdisk_vhdx_opts vhdx;
    /* NULL, or how the backing file's own backing chain is opened when it is
     * checked (vdisk_open_opts); not owned */
    const vdisk_backing_policy *backing_policy;
    /* vmdk: -o subformat, adapter_type, hwversion, ... (see vdisk/vmdk.h) */
    vdisk_vmdk_create_opts vmdk;
} vdisk_create_opts;

/* Defaults as qemu-img: raw, thin, 64 KiB clusters, compat 1.1, 16-bit refcounts. */
void vdisk_create_opts_init(vdisk_create_opts *opts, vdisk_format fmt);
/* Free what the options own (backing_file). */
void vdisk_create_opts_clear(vdisk_create_opts *opts);

/* Set one option by its qemu-img name (-o key=value): size, preallocation,
 * cluster_size, compat (0.10, 1.1, v2, v3), refcount_bits, lazy_refcounts,
 * extended_l2, compression_type, nocow, backing_file, backing_fmt.  Values
 * take qemu-img's spellings (sizes with k/M/G/T suffixes; on/off/true/false).
 * Unknown keys and bad values fail with a message naming the key. */
int vdisk_create_opts_set(vdisk_create_opts *opts, const char *key,
                          const char *value, vdisk_error *err);
/* Parse a comma-separated "key=val,key=val" list (as after -o). */
int vdisk_create_opts_parse(vdisk_create_opts *opts, const char *list,
                            vdisk_error *err);
/* Check the combination (format supports the options, sizes in range, compat
 * allows the features).  vdisk_create calls this too. */
int vdisk_create_opts_validate(const vdisk_create_opts *opts, vdisk_error *err);

/* Create a new image at path.  As with qemu-img, an existing file is
 * replaced.  Long preallocation reports progress in bytes.  On failure the
 * file is removed: nothing half-made is left behind. */
int vdisk_create(const char *path, const vdisk_create_opts *opts,
                 vdisk_progress_fn progress, void *opaque, vdisk_error *err);

/* Parse a size as qemu-img does: plain bytes, or a number (decimal fraction
 * allowed) with suffix b, k/K, M, G, T, P, E (powers of 1024). */
int vdisk_parse_size(const char *text, uint64_t *out, vdisk_error *err);

typedef struct vdisk_measure {
    uint64_t required;         /* bytes the new image needs for the given source/size */
    uint64_t fully_allocated;  /* bytes if every cluster were allocated */
} vdisk_measure;

/* What `qemu-img measure` prints: src may be NULL (then opts->size is used);
 * with src, its allocated (non-zero) extents count toward `required` (no
 * other call on src meanwhile: image.h, "Thread safety"). */
int vdisk_measure_image(const vdisk_create_opts *opts, vdisk_image *src,
                        vdisk_measure *out, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
