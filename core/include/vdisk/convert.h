/* libvdisk — copying and comparing images.
 *
 * vdisk_convert opens its own handles and may run in several threads on
 * different files; vdisk_compare needs its two handles to itself: no
 * other call on them meanwhile (image.h, "Thread safety").
 */
#ifndef VDISK_CONVERT_H
#define VDISK_CONVERT_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/create.h>
#include <vdisk/error.h>
#include <vdisk/image.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most parallel copy workers a convert takes (qemu-img's -m limit). */
#define VDISK_CONVERT_MAX_WORKERS 16

typedef struct vdisk_convert_opts {
    vdisk_format src_format;          /* UNKNOWN: probe the source */
    unsigned src_flags;               /* extra VDISK_OPEN_* flags for the source (e.g. FORCE_SHARE) */
    const vdisk_create_opts *target;  /* target format and options; its size is ignored
                                         (the source's size is used) */
    int workers;                      /* parallel copy workers; 0 = default for this machine */
    bool compress;                    /* -c: write compressed clusters (qcow2 target) */
    bool direct;                      /* O_DIRECT on the target */
    bool no_flush;                    /* -t unsafe (qemu-img convert's default cache mode):
                                         do not wait for the target to reach the disk */
    vdisk_progress_fn progress;       /* (done, total): bytes copied as data of those to copy,
                                         as qemu-img counts its progress (ranges skipped as
                                         zeros or left to a backing file do not count) */
    void *opaque;
    const char *src_snapshot;         /* NULL, or the internal snapshot of the source to copy
                                         (ID or name, as qemu-img convert -l) */
    const void *src_secret;           /* passphrase of an encrypted source (not owned); the
                                         target's is target->encrypt.secret */
    size_t src_secret_len;
    bool out_of_order;                /* -W: write each piece as soon as it is read, not in
                                         guest order (the target's host layout may then
                                         differ from the guest's order, as qemu-img -W) */
    const vdisk_backing_policy *src_backing_policy;  /* NULL, or how the source's backing
                                         files are opened (vdisk_open_opts) */
    bool existing_target;             /* -n: write into dst as it is, of format
                                         target->format (no creation; on failure it is
                                         left as it is); it must be as large as the source */
    bool target_is_zero;              /* --target-is-zero (with existing_target): dst reads
                                         as zeros, so zero ranges need no write */
    bool fully_allocate;              /* -S 0: write every byte, zeros too (no sparseness) */
    uint32_t sparse_size;             /* -S N: zero-detection unit in bytes (a multiple of
                                         512; 0: the target's cluster size, or 4 KiB) */
    uint64_t rate_limit;              /* -r: bytes per second written into the target at
                                         most, data and zeros alike (0: no limit) */
    bool salvage;                     /* --salvage: a source range that cannot be read is
                                         read again 512 bytes at a time and each sector that
                                         still fails is copied as zeros; a range whose block
                                         status fails is narrowed the same way and taken as
                                         data.  Each such sector is reported through
                                         salvage_warn (NULL: not reported), from any worker */
    void (*salvage_warn)(void *opaque, bool block_status, uint64_t offset, int errnum);
    void *salvage_opaque;
} vdisk_convert_opts;

/* Copy the content of src into a newly created image dst (or, with
 * existing_target, into dst as it is).  Holes and all-zero blocks of the
 * source are skipped, so the target stays sparse (unless its preallocation
 * or fully_allocate says otherwise).  A target with a backing file
 * (target->backing_file, qemu-img convert -B) gets, as qemu-img does, only
 * what the source's own top layer defines: ranges the source leaves to its
 * backing chain are left to the target's.  On failure a dst created here
 * is removed. */
int vdisk_convert(const char *src, const char *dst,
                  const vdisk_convert_opts *opts, vdisk_error *err);

typedef struct vdisk_compare_result {
    bool identical;
    bool size_mismatch;          /* strict mode only: sizes differ */
    uint64_t first_difference;   /* guest offset of the first differing byte, when !identical */
    bool status_mismatch;        /* strict mode: the difference found is in block status
                                    (allocation, zero, data), not in content */
} vdisk_compare_result;

/* Compare the guest-visible content of two images, as `qemu-img compare`:
 * when sizes differ, the longer image's extra part must read as zeros (in
 * strict mode, differing sizes or allocation states are differences too). */
int vdisk_compare(vdisk_image *a, vdisk_image *b, bool strict,
                  vdisk_progress_fn progress, void *opaque,
                  vdisk_compare_result *res, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
