/* libvdisk — provisioning a raw image in place: the raw driver's inflate,
 * eagerzero and sparsify callbacks.
 *
 * A raw image is its file, so each is a walk over the file's host extents
 * (fiemap.h: hole, unwritten, data):
 *   inflate    holes are reserved (fallocate), or written with zeros (eager);
 *              eager also writes zeros over unwritten extents
 *   eagerzero  unwritten extents get their zeros; holes stay holes
 *   sparsify   unwritten extents are punched; with zero detection, the
 *              file-system blocks of the data that hold only zeros too
 * None of these changes a byte the guest reads, so an interruption at any
 * point leaves a valid image: there is no metadata to keep in order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fiemap.h"
#include "provision/provision.h"

/* Work per step: progress and cancellation points come this often. */
#define RAW_STEP (UINT64_C(64) << 20)
/* Zero detection reads this much at once (a multiple of any block size). */
#define RAW_SCAN (UINT64_C(1) << 20)
/* Punch granularity of zero detection: the file system's block. */
#define RAW_BLOCK 4096u

/* The work of one step on [off, end) of kind k (returns 0 or -errno). */
typedef int (*raw_step_fn)(vdisk_image *img, vdisk_provision_req *req, vdisk_host_kind k,
                           uint64_t off, uint64_t end, vdisk_error *err);

/* Walk the file in steps of one host kind, at most RAW_STEP long. */
static int
walk(vdisk_image *img, vdisk_provision_req *req, raw_step_fn fn, vdisk_error *err)
{
    uint64_t len;
    int r = vdisk_file_get_length(img->file, &len, err);
    uint64_t pos = 0;
    while (r == 0 && pos < len) {
        uint64_t limit = len - pos < RAW_STEP ? len : pos + RAW_STEP, end;
        vdisk_host_kind k;
        r = vdisk_host_extent(img->file, pos, limit, &k, &end, err);
        if (r == 0)
            r = fn(img, req, k, pos, end, err);
        if (r == 0)
            r = vdisk_provision_step(req, img, end, len, err);
        pos = end;
    }
    return r;
}

/* Real zeros over [off, end) (already reserved or not). */
static int
write_zeros(vdisk_image *img, vdisk_provision_req *req, uint64_t off, uint64_t end,
            vdisk_error *err)
{
    req->res->zeroed += end - off;
    if (vdisk_provision_dry(req))
        return 0;
    return vdisk_file_write_zeroes_full(img->file, off, end - off, NULL, NULL, err);
}

/* inflate: holes get space; eager: everything not written gets zeros. */
static int
inflate_step(vdisk_image *img, vdisk_provision_req *req, vdisk_host_kind k, uint64_t off,
             uint64_t end, vdisk_error *err)
{
    bool eager = req->flags & VDISK_INFLATE_EAGER;
    if (k == VDISK_HOST_DATA || (k == VDISK_HOST_UNWRITTEN && !eager))
        return 0;
    req->res->changed += end - off;
    if (k == VDISK_HOST_HOLE)
        req->res->host_after += end - off;
    if (eager)
        return write_zeros(img, req, off, end, err);
    if (vdisk_provision_dry(req))
        return 0;
    int r = vdisk_file_allocate(img->file, off, end - off, err);
    /* A file system without fallocate reserves by writing. */
    return r == -ENOTSUP ? write_zeros(img, req, off, end, err) : r;
}

int
vdisk_raw_inflate(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err)
{
    req->res->host_after = req->res->host_before;
    return walk(img, req, inflate_step, err);
}

/* eagerzero: unwritten extents are written; holes are thin, left alone. */
static int
eagerzero_step(vdisk_image *img, vdisk_provision_req *req, vdisk_host_kind k, uint64_t off,
               uint64_t end, vdisk_error *err)
{
    if (k == VDISK_HOST_HOLE)
        req->res->thin += end - off;
    if (k != VDISK_HOST_UNWRITTEN)
        return 0;
    req->res->changed += end - off;
    return write_zeros(img, req, off, end, err);
}

int
vdisk_raw_eagerzero(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err)
{
    req->res->host_after = req->res->host_before;
    return walk(img, req, eagerzero_step, err);
}

/* Give [off, end) back to the file system. */
static int
punch(vdisk_image *img, vdisk_provision_req *req, uint64_t off, uint64_t end, vdisk_error *err)
{
    req->res->changed += end - off;
    req->res->host_after -= end - off < req->res->host_after ? end - off : req->res->host_after;
    if (vdisk_provision_dry(req))
        return 0;
    return vdisk_file_punch_hole(img->file, off, end - off, err);
}

/* Punch the whole blocks of buf (the file's bytes at off) that are zeros. */
static int
punch_zero_blocks(vdisk_image *img, vdisk_provision_req *req, const uint8_t *buf, uint64_t n,
                  uint64_t off, vdisk_error *err)
{
    uint64_t first = (off + RAW_BLOCK - 1) / RAW_BLOCK * RAW_BLOCK, run = 0;
    bool in_run = false;
    int r = 0;
    for (uint64_t b = first; r == 0 && b + RAW_BLOCK <= off + n; b += RAW_BLOCK) {
        if (vdisk_buffer_is_zero(buf + (b - off), RAW_BLOCK)) {
            if (!in_run)
                run = b;
            in_run = true;
            continue;
        }
        if (in_run)
            r = punch(img, req, run, b, err);
        in_run = false;
    }
    uint64_t stop = (off + n) / RAW_BLOCK * RAW_BLOCK;
    if (r == 0 && in_run && stop > run)
        r = punch(img, req, run, stop, err);
    return r;
}

/* sparsify, data: read it and punch its all-zero blocks. */
static int
sparsify_data(vdisk_image *img, vdisk_provision_req *req, uint64_t off, uint64_t end,
              vdisk_error *err)
{
    uint8_t *buf = vdisk_alloc_aligned(RAW_SCAN, false);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    int r = 0;
    /* Chunks start on block boundaries so that no zero block is cut in two. */
    for (uint64_t pos = off; r == 0 && pos < end;) {
        uint64_t stop = (pos / RAW_SCAN + 1) * RAW_SCAN;
        uint64_t n = (stop < end ? stop : end) - pos;
        r = vdisk_file_pread(img->file, buf, (size_t)n, pos, err);
        if (r == 0)
            r = punch_zero_blocks(img, req, buf, n, pos, err);
        pos += n;
    }
    free(buf);
    return r;
}

/* sparsify: unwritten extents are punched; data only with zero detection. */
static int
sparsify_step(vdisk_image *img, vdisk_provision_req *req, vdisk_host_kind k, uint64_t off,
              uint64_t end, vdisk_error *err)
{
    if (k == VDISK_HOST_UNWRITTEN)
        return punch(img, req, off, end, err);
    if (k == VDISK_HOST_DATA && (req->flags & VDISK_SPARSIFY_ZERO_DETECT))
        return sparsify_data(img, req, off, end, err);
    return 0;
}

int
vdisk_raw_sparsify(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err)
{
    if (req->flags & VDISK_SPARSIFY_TRUNCATE)
        return vdisk_error_set(err, EINVAL, "%s: sparsify cannot truncate a raw image (its length "
                               "is the disk's size); truncation is for qcow2 only", img->filename);
    req->res->host_after = req->res->host_before;
    return walk(img, req, sparsify_step, err);
}
