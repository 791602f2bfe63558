/* libvdisk — comparing the guest-visible content of two images, with
 * `qemu-img compare` semantics (qemu-img.c, img_compare):
 *
 *  - both images are walked with block status through their backing
 *    chains; ranges that read as zeros on both sides are not read;
 *  - where one side reads as zeros, only the other side is read and
 *    checked for zeros; otherwise both are read and compared;
 *  - a difference is reported, as qemu-img does, at the start of the
 *    512-byte sector that holds the first differing byte;
 *  - when the sizes differ, the longer image's extra part must read as
 *    zeros (non-strict mode only);
 *  - strict mode (-s): different sizes are a difference, and so is any
 *    difference in block status (allocated, zero, data, offset-valid and
 *    whether the extent reaches the end of the image — the bits qemu-img
 *    compares).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

#define CMP_BUF (2u << 20)   /* qemu-img's IO_BUF_SIZE */
#define SECTOR 512u
/* Status bits strict mode compares beside the VDISK_EXTENT_* flags. */
#define STATUS_EOF (1u << 16)

typedef struct compare_state {
    vdisk_image *img[2];
    uint64_t size[2];
    uint64_t total;           /* the larger size: progress total */
    uint64_t done;
    vdisk_progress_fn progress;
    void *opaque;
    uint8_t *buf[2];
    vdisk_compare_result *res;
} compare_state;

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Index of the first non-zero byte of buf, or len if there is none. */
static uint64_t
first_nonzero(const uint8_t *buf, uint64_t len)
{
    for (uint64_t i = 0; i < len; i += SECTOR) {
        uint64_t n = min_u64(SECTOR, len - i);
        if (vdisk_buffer_is_zero(buf + i, (size_t)n))
            continue;
        while (!buf[i])
            i++;
        return i;
    }
    return len;
}

/* Index of the first byte where a and b differ, or len if none. */
static uint64_t
first_different(const uint8_t *a, const uint8_t *b, uint64_t len)
{
    if (memcmp(a, b, (size_t)len) == 0)
        return len;
    uint64_t i = 0;
    while (i + SECTOR <= len && memcmp(a + i, b + i, SECTOR) == 0)
        i += SECTOR;
    while (a[i] == b[i])
        i++;
    return i;
}

/* Record a difference at guest byte off.  qemu-img reports the start of
 * the 512-byte sector holding it (its sizes and chunks are whole sectors). */
static void
report_difference(compare_state *s, uint64_t off)
{
    s->res->identical = false;
    s->res->first_difference = off / SECTOR * SECTOR;
}

/* Progress in bytes of the larger image; -ECANCELED when asked to stop. */
static int
advance(compare_state *s, uint64_t bytes, vdisk_error *err)
{
    s->done += bytes;
    if (s->progress && s->progress(s->opaque, s->done, s->total))
        return vdisk_error_set(err, ECANCELED, "compare %s and %s: cancelled at offset %llu",
                               vdisk_get_filename(s->img[0]), vdisk_get_filename(s->img[1]),
                               (unsigned long long)s->done);
    return 0;
}

/* Read [off, off+len) of image i (len <= CMP_BUF) and check it reads as
 * zeros.  Returns 1 and records the difference if it does not. */
static int
check_zero(compare_state *s, int i, uint64_t off, uint64_t len, vdisk_error *err)
{
    int r = vdisk_pread(s->img[i], s->buf[i], len, off, err);
    if (r < 0)
        return r;
    uint64_t at = first_nonzero(s->buf[i], len);
    if (at == len)
        return 0;
    report_difference(s, off + at);
    return 1;
}

/* Read [off, off+len) of both images and compare.  Returns 1 and records
 * the difference when they differ. */
static int
check_equal(compare_state *s, uint64_t off, uint64_t len, vdisk_error *err)
{
    for (int i = 0; i < 2; i++) {
        int r = vdisk_pread(s->img[i], s->buf[i], len, off, err);
        if (r < 0)
            return r;
    }
    uint64_t at = first_different(s->buf[0], s->buf[1], len);
    if (at == len)
        return 0;
    report_difference(s, off + at);
    return 1;
}

/* The bits of block status strict mode compares, as qemu-img sees them. */
static unsigned
strict_status(const vdisk_extent *e, uint64_t size)
{
    unsigned st = e->flags & (VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO | VDISK_EXTENT_DATA |
                              VDISK_EXTENT_OFFSET_VALID);
    if (e->offset + e->length == size)
        st |= STATUS_EOF;
    return st;
}

/* Compare one stretch of the common part starting at off; *chunk is set to
 * how far it reached.  Returns 1 on a difference, 0 if equal, < 0 on error. */
static int
compare_step(compare_state *s, uint64_t off, bool strict, uint64_t *chunk, vdisk_error *err)
{
    vdisk_extent e[2];
    for (int i = 0; i < 2; i++) {
        int r = vdisk_block_status_chain(s->img[i], off, s->size[i] - off, &e[i], err);
        if (r < 0)
            return r;
    }
    *chunk = min_u64(min_u64(e[0].length, e[1].length), s->size[0] < s->size[1] ? s->size[0] - off
                                                                              : s->size[1] - off);
    if (strict && strict_status(&e[0], s->size[0]) != strict_status(&e[1], s->size[1])) {
        report_difference(s, off);
        s->res->status_mismatch = true;
        return 1;
    }
    bool z0 = e[0].flags & VDISK_EXTENT_ZERO, z1 = e[1].flags & VDISK_EXTENT_ZERO;
    if (z0 && z1)
        return 0;
    *chunk = min_u64(*chunk, CMP_BUF);
    /* One side reads as zeros: the other only has to be checked for
     * zeros (qemu-img reads both when both are allocated; same answer). */
    if (z0 || z1)
        return check_zero(s, z0 ? 1 : 0, off, *chunk, err);
    return check_equal(s, off, *chunk, err);
}

/* The part of the longer image past the end of the shorter must read as
 * zeros. */
static int
compare_tail(compare_state *s, uint64_t off, vdisk_error *err)
{
    int over = s->size[0] > s->size[1] ? 0 : 1;
    while (off < s->size[over]) {
        vdisk_extent e;
        int r = vdisk_block_status_chain(s->img[over], off, s->size[over] - off, &e, err);
        if (r < 0)
            return r;
        uint64_t chunk = e.length;
        if (!(e.flags & VDISK_EXTENT_ZERO)) {    /* data, or contents unknown */
            chunk = min_u64(chunk, CMP_BUF);
            r = check_zero(s, over, off, chunk, err);
            if (r != 0)
                return r;
        }
        off += chunk;
        r = advance(s, chunk, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int
compare_all(compare_state *s, bool strict, vdisk_error *err)
{
    uint64_t common = min_u64(s->size[0], s->size[1]);
    uint64_t off = 0;
    while (off < common) {
        uint64_t chunk = 0;
        int r = compare_step(s, off, strict, &chunk, err);
        if (r != 0)
            return r < 0 ? r : 0;
        off += chunk;
        r = advance(s, chunk, err);
        if (r < 0)
            return r;
    }
    if (s->size[0] == s->size[1])
        return 0;
    int r = compare_tail(s, off, err);
    return r < 0 ? r : 0;
}

int
vdisk_compare(vdisk_image *a, vdisk_image *b, bool strict, vdisk_progress_fn progress, void *opaque,
              vdisk_compare_result *res, vdisk_error *err)
{
    memset(res, 0, sizeof(*res));
    res->identical = true;
    compare_state s = {
        .img = { a, b },
        .size = { vdisk_get_size(a), vdisk_get_size(b) },
        .progress = progress,
        .opaque = opaque,
        .res = res,
    };
    s.total = s.size[0] > s.size[1] ? s.size[0] : s.size[1];
    if (strict && s.size[0] != s.size[1]) {
        res->identical = false;
        res->size_mismatch = true;
        res->first_difference = min_u64(s.size[0], s.size[1]);
        return 0;
    }
    s.buf[0] = vdisk_alloc_aligned(CMP_BUF, false);
    s.buf[1] = vdisk_alloc_aligned(CMP_BUF, false);
    int r;
    if (!s.buf[0] || !s.buf[1])
        r = vdisk_error_set(err, ENOMEM, "compare %s and %s: out of memory for %u-byte buffers",
                            vdisk_get_filename(a), vdisk_get_filename(b), CMP_BUF);
    else
        r = compare_all(&s, strict, err);
    free(s.buf[0]);
    free(s.buf[1]);
    if (r < 0)
        memset(res, 0, sizeof(*res));
    return r;
}
