/* libvdisk — zisofs: files stored zlib-compressed in blocks (Rock Ridge ZF
 * "pz", as mkzftree and xorriso write them).
 *
 * The stored data starts with a header: magic 37 E4 53 96 C9 DB D6 07,
 * uncompressed size (LE 32), header size / 4, log2 block size (15-17),
 * 2 reserved bytes; then n + 1 little-endian block pointers (offsets in the
 * stored data) for the n blocks; block i is the zlib stream between pointers
 * i and i + 1, an empty one standing for a block of zeros.  Every pointer is
 * checked against the stored size and every block must inflate to exactly
 * its size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "iso9660.h"

static const uint8_t magic[8] = { 0x37, 0xE4, 0x53, 0x96, 0xC9, 0xDB, 0xD6, 0x07 };

typedef struct zf_file {
    uint64_t stored;            /* bytes on disc */
    uint32_t size;              /* uncompressed */
    uint32_t header;            /* header bytes (before the pointers) */
    uint32_t block;             /* block size */
} zf_file;

static int
bad(vdisk_iso *iso, const vdisk_iso_entry *e, const char *what, vdisk_error *err)
{
    return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                "%s: '%s': zisofs data %s", iso->file->path, e->name, what);
}

static int
read_header(vdisk_iso *iso, const vdisk_iso_entry *e, zf_file *z, vdisk_error *err)
{
    z->stored = 0;
    for (size_t i = 0; i < e->n_extents; i++)
        z->stored += e->extents[i].length;
    uint8_t h[16];
    if (z->stored < sizeof(h))
        return bad(iso, e, "is shorter than its 16-byte header", err);
    int r = iso_read_stored(iso, e, h, sizeof(h), 0, err);
    if (r < 0)
        return r;
    if (memcmp(h, magic, sizeof(magic)) != 0)
        return bad(iso, e, "has no zisofs magic", err);
    z->size = iso_le32(h + 8);
    z->header = (uint32_t)h[12] * 4;
    if (h[13] < 15 || h[13] > 17 || z->header < 16)
        return bad(iso, e, "has a block size or header size zisofs does not allow", err);
    z->block = 1u << h[13];
    if (z->size != e->size)
        return bad(iso, e, "header size disagrees with the Rock Ridge ZF entry", err);
    return 0;
}

/* Inflate block k into out (its uncompressed length is want). */
static int
inflate_block(vdisk_iso *iso, const vdisk_iso_entry *e, const zf_file *z, uint32_t k, uint8_t *out,
              size_t want, vdisk_error *err)
{
    uint8_t ptr[8];
    int r = iso_read_stored(iso, e, ptr, sizeof(ptr), (uint64_t)z->header + 4ull * k, err);
    if (r < 0)
        return r == -EINVAL ? bad(iso, e, "block pointers run past the stored data", err) : r;
    uint32_t start = iso_le32(ptr), end = iso_le32(ptr + 4);
    if (end < start || end > z->stored || end - start > 2 * z->block + 1024)
        return bad(iso, e, "has a block pointer out of order or past the stored data", err);
    if (start == end) {
        memset(out, 0, want);
        return 0;
    }
    uint8_t *in = malloc(end - start);
    if (!in)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", iso->file->path);
    r = iso_read_stored(iso, e, in, end - start, start, err);
    uLongf got = want;
    if (r == 0 && (uncompress(out, &got, in, end - start) != Z_OK || got != want))
        r = bad(iso, e, "has a block that does not inflate to its size", err);
    free(in);
    return r;
}

int
iso_zisofs_pread(vdisk_iso *iso, const vdisk_iso_entry *e, void *buf, size_t len, uint64_t off,
                 vdisk_error *err)
{
    zf_file z = { 0 };
    int r = read_header(iso, e, &z, err);
    if (r < 0 || len == 0)
        return r;
    uint8_t *blk = malloc(z.block);
    if (!blk)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", iso->file->path);
    uint8_t *p = buf;
    while (r == 0 && len > 0) {
        uint32_t k = (uint32_t)(off / z.block);
        uint64_t bstart = (uint64_t)k * z.block;
        size_t want = z.size - bstart < z.block ? (size_t)(z.size - bstart) : z.block;
        r = inflate_block(iso, e, &z, k, blk, want, err);
        size_t in = (size_t)(off - bstart);
        size_t n = want - in < len ? want - in : len;
        if (r == 0)
            memcpy(p, blk + in, n);
        p += n;
        off += n;
        len -= n;
    }
    free(blk);
    return r;
}
