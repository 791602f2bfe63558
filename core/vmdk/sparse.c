/* libvdisk — one VMDK sparse extent: its header checks, and reads, writes,
 * zeroes and block status through its grain tables (grain.c).
 *
 * Virtual Disk Format 5.0, "Hosted Sparse Extents": grain g of the extent
 * is described by entry g % numGTEsPerGT of grain table g / numGTEsPerGT,
 * whose sector the grain directory holds.  An entry is the sector of the
 * grain, 0 when the grain was never written (it reads from the parent disk,
 * or as zeros), and 1 in a version-2 extent with the zeroed-grain flag: a
 * grain that reads as zeros even over a parent.
 *
 * Every field of the header is checked before it drives an allocation or a
 * read: grain size, table size and directory length are bounded
 * (vmdk.h), the directories must lie inside the file, and a table or grain
 * that points outside the file is an error naming its offset.  New grains
 * are appended at the end of the file; a write to part of a new grain fills
 * the rest from the parent (or with zeros), under the extent's lock, so two
 * writers never allocate the same grain twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmdk.h"

/* Entries looked up at once (one table at most). */
#define RUN_MAX 512u

static uint64_t
round_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

/* Range checks common to both header kinds; capacity in sectors. */
static int
check_geometry(vmdk_sparse *s, uint64_t capacity, uint64_t grain_sectors, uint64_t gt_entries,
               uint32_t gt_max, vdisk_error *err)
{
    if (capacity > (UINT64_C(1) << 54))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                    "%s: capacity of %" PRIu64 " sectors is too large",
                                    s->name, capacity);
    if (grain_sectors == 0 || grain_sectors > VMDK_MAX_GRAIN / VMDK_SECTOR)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: grain size of %" PRIu64 " sectors is out of range "
                                    "(1 to %u)", s->name, grain_sectors, VMDK_MAX_GRAIN / VMDK_SECTOR);
    if (gt_entries == 0 || gt_entries > gt_max)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: grain tables of %" PRIu64 " entries are out of range "
                                    "(1 to %u)", s->name, gt_entries, gt_max);
    s->capacity = capacity * VMDK_SECTOR;
    s->grain = (uint32_t)(grain_sectors * VMDK_SECTOR);
    s->gt_entries = (uint32_t)gt_entries;
    uint64_t cover = gt_entries * grain_sectors;
    uint64_t need = (capacity + cover - 1) / cover;
    if (need > VMDK_MAX_GD_ENTRIES)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                    "%s: a grain directory of %" PRIu64 " entries is larger "
                                    "than vdisk accepts", s->name, need);
    s->gd_entries = (uint32_t)need;
    return 0;
}

/* A directory of gd_entries entries at byte offset off must lie in the file. */
static int
check_directory(const vmdk_sparse *s, uint64_t off, const char *what, vdisk_error *err)
{
    uint64_t len = (uint64_t)s->gd_entries * 4;
    if (off == 0 || off > s->file_len || len > s->file_len - off)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: %s at 0x%" PRIx64 " (%" PRIu64 " bytes) lies outside "
                                    "the file (%" PRIu64 " bytes)", s->name, what, off, len, s->file_len);
    return 0;
}

static int
load_directory(vmdk_sparse *s, uint64_t off, uint32_t **out, vdisk_error *err)
{
    size_t len = (size_t)s->gd_entries * 4;
    uint32_t *gd = malloc(len ? len : 4);
    if (!gd)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the grain directory", s->name);
    int r = len ? vdisk_file_pread(s->file, gd, len, off, err) : 0;
    if (r < 0) {
        free(gd);
        return r;
    }
    for (uint32_t i = 0; i < s->gd_entries; i++)
        gd[i] = vmdk_le32((const uint8_t *)&gd[i]);
    *out = gd;
    return 0;
}

/* "KDMV": hosted sparse and streamOptimized. */
static int
open_hosted(vmdk_sparse *s, const uint8_t *sector, vdisk_error *err)
{
    vmdk_header *h = &s->h;
    vmdk_header_decode(sector, h);
    int r = 0;
    if (h->gd_offset == VMDK_GD_AT_END) {
        r = vmdk_stream_read_footer(s->file, s->name, s->file_len, h, err);
        s->gd_at_end = true;
    }
    if (r < 0)
        return r;
    if (h->version < 1 || h->version > 3)
        return vdisk_error_set(err, ENOTSUP, "%s: unsupported VMDK version %" PRIu32, s->name, h->version);
    if (h->compress > VMDK_COMPRESS_DEFLATE)
        return vdisk_error_set(err, ENOTSUP, "%s: unsupported grain compression %u", s->name, h->compress);
    s->compressed = h->compress == VMDK_COMPRESS_DEFLATE;
    s->markers = h->flags & VMDK_FLAG_MARKERS;
    s->zeroed_grain = h->flags & VMDK_FLAG_ZEROED_GRAIN;
    /* VMware KB 2064959: version 3 adds changed block tracking, which a
     * reader may ignore but a writer would break. */
    if (h->version == 3 && s->writable && !s->compressed)
        return vdisk_error_set(err, EROFS, "%s: VMDK version 3 must be read only", s->name);
    r = check_geometry(s, h->capacity, h->grain_sectors, h->gt_entries, VMDK_MAX_GT_ENTRIES, err);
    if (r < 0 || s->gd_entries == 0)
        return r;
    if (h->gd_offset > UINT32_MAX || (h->rgd_offset > UINT32_MAX && (h->flags & VMDK_FLAG_RGD)))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: grain directory offset out of range", s->name);
    s->gd_offset = h->gd_offset * VMDK_SECTOR;
    r = check_directory(s, s->gd_offset, "grain directory", err);
    if (r == 0 && (h->flags & VMDK_FLAG_RGD) && !s->gd_at_end) {
        s->rgd_offset = h->rgd_offset * VMDK_SECTOR;
        r = check_directory(s, s->rgd_offset, "redundant grain directory", err);
    }
    if (r == 0 && h->overhead * VMDK_SECTOR > s->file_len)
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                 "%s: file truncated, expecting at least %" PRIu64 " bytes",
                                 s->name, h->overhead * VMDK_SECTOR);
    return r;
}

/* "COWD": ESX 2/3 sparse extents (vmfsSparse delta disks), 4096-entry
 * tables, directory size in the header. */
static int
open_cowd(vmdk_sparse *s, const uint8_t *sector, vdisk_error *err)
{
    vmdk_cowd_header c;
    vmdk_cowd_decode(sector, &c);
    s->cowd = true;
    if (s->writable)
        return vdisk_error_set(err, EROFS, "%s: ESX sparse (COWD) extents are read-only in vdisk",
                               s->name);
    int r = check_geometry(s, c.capacity, c.grain_sectors, VMDK_COWD_GT_ENTRIES,
                           VMDK_COWD_GT_ENTRIES, err);
    if (r < 0 || s->gd_entries == 0)
        return r;
    if (c.gd_entries < s->gd_entries)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: a grain directory of %" PRIu32 " entries cannot map "
                                    "%" PRIu32 " sectors", s->name, c.gd_entries, c.capacity);
    s->gd_offset = (uint64_t)c.gd_offset * VMDK_SECTOR;
    return check_directory(s, s->gd_offset, "grain directory", err);
}

static int
sparse_setup(vmdk_sparse *s, vdisk_error *err)
{
    uint8_t sector[VMDK_SECTOR];
    int r = vdisk_file_get_length(s->file, &s->file_len, err);
    if (r == 0 && s->file_len < VMDK_SECTOR)
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                 "%s: file too small (%" PRIu64 " bytes) for a VMDK header",
                                 s->name, s->file_len);
    if (r == 0)
        r = vdisk_file_pread(s->file, sector, sizeof(sector), 0, err);
    if (r < 0)
        return r;
    if (vmdk_is_sparse_magic(sector))
        r = open_hosted(s, sector, err);
    else if (vmdk_is_cowd_magic(sector))
        r = open_cowd(s, sector, err);
    else
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                 "%s: not a VMDK sparse extent (no KDMV or COWD magic)", s->name);
    if (r < 0 || s->gd_entries == 0)
        return r;
    if (s->compressed && s->writable && !s->markers)
        return vdisk_error_set(err, ENOTSUP, "%s: compressed grains without markers cannot be written",
                               s->name);
    r = load_directory(s, s->gd_offset, &s->gd, err);
    if (r == 0 && s->rgd_offset)
        r = load_directory(s, s->rgd_offset, &s->rgd, err);
    if (r == 0)
        r = vmdk_gt_cache_init(s, err);
    s->alloc = round_up(s->file_len, s->compressed ? VMDK_SECTOR : s->grain);
    /* A stream is read front to back, by several workers at nearby
     * offsets: ask for the larger read-ahead of sequential files. */
    if (s->compressed)
        vdisk_file_advise_sequential(s->file);
    if (r == 0 && s->writable && s->gd_at_end)
        r = vmdk_stream_find_tail(s, err);
    return r;
}

int
vmdk_sparse_open(vdisk_file *f, const char *name, bool writable, vmdk_sparse **out,
                 vdisk_error *err)
{
    vmdk_sparse *s = calloc(1, sizeof(*s));
    if (!s)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", name);
    s->file = f;
    s->name = name;
    s->writable = writable;
    pthread_mutex_init(&s->lock, NULL);
    vmdk_zpool_init(&s->zpool);
    int r = sparse_setup(s, err);
    if (r < 0) {
        vmdk_sparse_free(s);
        return r;
    }
    *out = s;
    return 0;
}

void
vmdk_sparse_free(vmdk_sparse *s)
{
    if (!s)
        return;
    vmdk_gt_cache_free(s);
    vmdk_stream_writer_free(s);
    vmdk_zpool_destroy(&s->zpool);
    free(s->gd);
    free(s->rgd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* ---- reads and block status --------------------------------------------- */

typedef enum { G_UNALLOC, G_ZERO, G_DATA, G_COMPRESSED } grain_class;

static grain_class
classify(const vmdk_sparse *s, uint32_t gte)
{
    if (gte == 0)
        return G_UNALLOC;
    if (gte == VMDK_GTE_ZEROED && s->zeroed_grain)
        return G_ZERO;
    return s->compressed ? G_COMPRESSED : G_DATA;
}

/* How many of the n entries from the first are of its class (and, for
 * plain data, contiguous in the file: one read serves them all). */
static uint32_t
run_length(const vmdk_sparse *s, const uint32_t *gte, uint32_t n)
{
    grain_class c = classify(s, gte[0]);
    uint32_t gs = s->grain / VMDK_SECTOR;
    uint32_t i = 1;
    while (i < n && classify(s, gte[i]) == c && (c != G_DATA || gte[i] == gte[i - 1] + gs))
        i++;
    return i;
}

/* The entries of the grains [off, off+len) of the extent touch, from the
 * first: *n of them, *c their class, *bytes the part of len they cover. */
static int
lookup_run(vmdk_sparse *s, uint64_t off, uint64_t len, uint32_t *gte, uint32_t *n, uint64_t *bytes,
           vdisk_error *err)
{
    uint64_t g = off / s->grain, in = off % s->grain;
    uint64_t want = (in + len + s->grain - 1) / s->grain;
    pthread_mutex_lock(&s->lock);
    int r = vmdk_gt_get_run(s, g, want < RUN_MAX ? (uint32_t)want : RUN_MAX, gte, err);
    pthread_mutex_unlock(&s->lock);
    if (r < 0)
        return r;
    *n = run_length(s, gte, (uint32_t)r);
    uint64_t cover = (uint64_t)*n * s->grain - in;
    *bytes = cover < len ? cover : len;
    return 0;
}

/* Is a grain entry's data past the end of the file?  -EINVAL (corrupt) if
 * so, 0 if not.  file_len is read under s->lock: a writer allocating a
 * grain in another thread extends it. */
static int
check_inside(vmdk_sparse *s, uint32_t gte, vdisk_error *err)
{
    pthread_mutex_lock(&s->lock);
    uint64_t file_len = s->file_len;
    bool out = vmdk_gte_outside(s, gte);
    pthread_mutex_unlock(&s->lock);
    if (!out)
        return 0;
    return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                "%s: grain at 0x%" PRIx64 " lies outside the file (%" PRIu64
                                " bytes)", s->name, (uint64_t)gte * VMDK_SECTOR, file_len);
}

/* Read [in, in+bytes) of a run of deflated grains into buf: whole grains
 * inflate straight into buf, partial ones through a grain buffer. */
static int
read_compressed(vmdk_sparse *s, const uint32_t *gte, uint32_t n, uint8_t *buf, uint64_t in,
                uint64_t bytes, vdisk_error *err)
{
    vmdk_inflater f;
    int r = vmdk_inflater_init(&f, s, err);
    if (r < 0)
        return r;
    uint8_t *gbuf = NULL;
    uint32_t windowed = 0;   /* grains [.., windowed) are covered by the last window */
    for (uint32_t i = 0; r == 0 && bytes > 0; i++) {
        if (i == windowed) {
            r = vmdk_inflater_window(&f, gte + i, n - i, err);
            windowed = i + (uint32_t)(r > 0 ? r : 1);
            r = r < 0 ? r : 0;
        }
        uint64_t piece = s->grain - in < bytes ? s->grain - in : bytes;
        bool whole = in == 0 && piece == s->grain;
        if (r == 0 && !whole && !gbuf && !(gbuf = malloc(s->grain)))
            r = vdisk_error_set(err, ENOMEM, "%s: out of memory for a grain", s->name);
        uint32_t got = 0;
        if (r == 0)
            r = vmdk_inflater_grain(&f, gte[i], whole ? buf : gbuf, &got, err);
        if (r == 0 && in + piece > got)
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                     "%s: grain at 0x%" PRIx64 " holds %" PRIu32 " bytes, fewer "
                                     "than the disk needs", s->name, (uint64_t)gte[i] * VMDK_SECTOR, got);
        if (r == 0 && !whole)
            memcpy(buf, gbuf + in, piece);
        buf += piece;
        bytes -= piece;
        in = 0;
    }
    free(gbuf);
    vmdk_inflater_free(&f);
    return r;
}

int
vmdk_sparse_pread(vmdk_state *st, vmdk_sparse *s, uint8_t *buf, uint64_t len, uint64_t off,
                  uint64_t guest_off, vdisk_error *err)
{
    uint32_t gte[RUN_MAX];
    int r = 0;
    while (r == 0 && len > 0) {
        uint32_t n;
        uint64_t bytes, in = off % s->grain;
        r = lookup_run(s, off, len, gte, &n, &bytes, err);
        if (r < 0)
            break;
        switch (classify(s, gte[0])) {
        case G_UNALLOC:
            r = vmdk_read_parent(st, buf, bytes, guest_off, err);
            break;
        case G_ZERO:
            memset(buf, 0, bytes);
            break;
        case G_DATA:
            r = check_inside(s, gte[0], err);
            if (r == 0)
                r = vdisk_file_pread(s->file, buf, bytes, (uint64_t)gte[0] * VMDK_SECTOR + in, err);
            break;
        case G_COMPRESSED:
            r = read_compressed(s, gte, n, buf, in, bytes, err);
            break;
        }
        buf += bytes;
        off += bytes;
        guest_off += bytes;
        len -= bytes;
    }
    return r;
}

int
vmdk_sparse_status(vmdk_sparse *s, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err)
{
    uint32_t gte[RUN_MAX], n;
    uint64_t bytes;
    int r = lookup_run(s, off, len, gte, &n, &bytes, err);
    if (r < 0)
        return r;
    ext->length = bytes;
    switch (classify(s, gte[0])) {
    case G_UNALLOC:
        ext->flags = 0;
        break;
    case G_ZERO:
        ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO;
        break;
    case G_DATA:
        ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA | VDISK_EXTENT_OFFSET_VALID;
        ext->host_offset = (uint64_t)gte[0] * VMDK_SECTOR + off % s->grain;
        break;
    case G_COMPRESSED:
        ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA | VDISK_EXTENT_COMPRESSED;
        break;
    }
    return 0;
}

/* ---- writes --------------------------------------------------------------- */

/* Bytes of grain g that lie in the extent (the last may be short). */
static uint64_t
grain_len(const vmdk_sparse *s, uint64_t g)
{
    uint64_t start = g * s->grain;
    return s->capacity - start < s->grain ? s->capacity - start : s->grain;
}

/* A new grain for g holding buf at [in, in+n): the rest comes from the
 * parent (an unwritten grain) or is zeros (a zeroed one).  Lock held. */
static int
allocate_grain(vmdk_state *st, vmdk_sparse *s, uint64_t g, uint32_t old, const uint8_t *buf,
               uint64_t in, uint64_t n, uint64_t guest_grain, vdisk_error *err)
{
    uint64_t glen = grain_len(s, g);
    if (s->compressed) {
        if (in != 0 || n != glen)
            return vdisk_error_set(err, EINVAL, "%s: a streamOptimized image takes whole grains "
                                   "(%" PRIu32 " bytes at a grain boundary)", s->name, s->grain);
        return vmdk_stream_write_grain(s, g, buf, (uint32_t)n, Z_DEFAULT_COMPRESSION, err);
    }
    uint64_t host = s->alloc;
    if (host / VMDK_SECTOR + s->grain / VMDK_SECTOR > UINT32_MAX)
        return vdisk_error_set(err, ENOSPC, "%s: the extent is full (a sparse extent ends at 2 TiB)",
                               s->name);
    int r;
    if (n == s->grain) {
        r = vdisk_file_pwrite(s->file, buf, n, host, err);
    } else {
        uint8_t *whole = calloc(1, s->grain);
        if (!whole)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory for a grain", s->name);
        r = old == 0 ? vmdk_read_parent(st, whole, glen, guest_grain, err) : 0;
        memcpy(whole + in, buf, n);
        if (r == 0)
            r = vdisk_file_pwrite(s->file, whole, s->grain, host, err);
        free(whole);
    }
    if (r < 0)
        return r;
    s->alloc = host + s->grain;
    if (s->alloc > s->file_len)
        s->file_len = s->alloc;
    return vmdk_gt_set(s, g, (uint32_t)(host / VMDK_SECTOR), err);
}

/* Write [in, in+n) of grain g. */
static int
write_grain(vmdk_state *st, vmdk_sparse *s, uint64_t g, const uint8_t *buf, uint64_t in,
            uint64_t n, uint64_t guest_grain, vdisk_error *err)
{
    uint32_t gte;
    pthread_mutex_lock(&s->lock);
    int r = vmdk_gt_get(s, g, &gte, err);
    grain_class c = r == 0 ? classify(s, gte) : G_UNALLOC;
    if (r == 0 && (c == G_UNALLOC || c == G_ZERO))
        r = allocate_grain(st, s, g, gte, buf, in, n, guest_grain, err);
    pthread_mutex_unlock(&s->lock);
    if (r < 0 || c == G_UNALLOC || c == G_ZERO)
        return r;
    if (c == G_COMPRESSED)
        return vdisk_error_set(err, EINVAL, "%s: grain %" PRIu64 " is written already: a "
                               "streamOptimized image is append-only", s->name, g);
    r = check_inside(s, gte, err);
    if (r < 0)
        return r;
    /* A written grain never moves: its data is rewritten in place. */
    return vdisk_file_pwrite(s->file, buf, n, (uint64_t)gte * VMDK_SECTOR + in, err);
}

int
vmdk_sparse_pwrite(vmdk_state *st, vmdk_sparse *s, const uint8_t *buf, uint64_t len, uint64_t off,
                   uint64_t guest_off, vdisk_error *err)
{
    if (!s->writable)
        return vdisk_error_set(err, EROFS, "%s: extent opened read-only", s->name);
    while (len > 0) {
        uint64_t g = off / s->grain, in = off % s->grain;
        uint64_t n = s->grain - in < len ? s->grain - in : len;
        int r = write_grain(st, s, g, buf, in, n, guest_off - in, err);
        if (r < 0)
            return r;
        buf += n;
        off += n;
        guest_off += n;
        len -= n;
    }
    return 0;
}

int
vmdk_sparse_store_deflated(vmdk_state *st, vmdk_sparse *s, uint64_t off, uint64_t n,
                           const uint8_t *data, const uint8_t *deflated, uint32_t clen,
                           vdisk_error *err)
{
    (void)st;
    uint64_t g = off / s->grain;
    if (!s->writable || !s->compressed)
        return vdisk_error_set(err, EROFS, "%s: not a writable streamOptimized extent", s->name);
    if (off % s->grain || n != grain_len(s, g))
        return vdisk_error_set(err, EINVAL, "%s: a streamOptimized image takes whole grains "
                               "(%" PRIu32 " bytes at a grain boundary)", s->name, s->grain);
    uint32_t gte;
    pthread_mutex_lock(&s->lock);
    int r = vmdk_gt_get(s, g, &gte, err);
    grain_class c = r == 0 ? classify(s, gte) : G_UNALLOC;
    if (r == 0 && c == G_COMPRESSED)
        r = vdisk_error_set(err, EINVAL, "%s: grain %" PRIu64 " is written already: a "
                            "streamOptimized image is append-only", s->name, g);
    else if (r == 0 && clen)
        r = vmdk_stream_store_grain(s, g, deflated, clen, err);
    else if (r == 0)   /* it did not shrink: stored blocks, which cost a copy */
        r = vmdk_stream_write_grain(s, g, data, (uint32_t)n, Z_NO_COMPRESSION, err);
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* Zero whole grain g cheaply if its entry can say so: 1 (zeroed grain),
 * or 0 where nothing shows through.  *done false: write zeros instead. */
static int
zero_entry(vmdk_state *st, vmdk_sparse *s, uint64_t g, bool may_unmap, bool *done, vdisk_error *err)
{
    uint32_t gte;
    pthread_mutex_lock(&s->lock);
    int r = vmdk_gt_get(s, g, &gte, err);
    grain_class c = r == 0 ? classify(s, gte) : G_ZERO;
    *done = true;
    if (r < 0 || c == G_ZERO)
        ;
    else if (s->zeroed_grain)
        r = vmdk_gt_set(s, g, VMDK_GTE_ZEROED, err);
    else if (vmdk_has_parent(st))
        *done = false;
    else if (c != G_UNALLOC && may_unmap)
        r = vmdk_gt_set(s, g, 0, err);   /* the old grain is leaked: VMDK cannot free it */
    else
        *done = c == G_UNALLOC;
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* Does [in, in+n) of grain g read as zeros already? */
static int
reads_as_zero(vmdk_state *st, vmdk_sparse *s, uint64_t g, bool *zero, vdisk_error *err)
{
    uint32_t gte;
    pthread_mutex_lock(&s->lock);
    int r = vmdk_gt_get(s, g, &gte, err);
    pthread_mutex_unlock(&s->lock);
    grain_class c = r == 0 ? classify(s, gte) : G_ZERO;
    *zero = c == G_ZERO || (c == G_UNALLOC && !vmdk_has_parent(st));
    return r;
}

int
vmdk_sparse_zero(vmdk_state *st, vmdk_sparse *s, uint64_t len, uint64_t off, uint64_t guest_off,
                 bool may_unmap, vdisk_error *err)
{
    if (!s->writable)
        return vdisk_error_set(err, EROFS, "%s: extent opened read-only", s->name);
    uint8_t *zeros = NULL;
    int r = 0;
    while (r == 0 && len > 0) {
        uint64_t g = off / s->grain, in = off % s->grain;
        uint64_t n = s->grain - in < len ? s->grain - in : len;
        bool done;
        if (in == 0 && n == grain_len(s, g))
            r = zero_entry(st, s, g, may_unmap, &done, err);
        else
            r = reads_as_zero(st, s, g, &done, err);
        if (r == 0 && !done && !zeros && !(zeros = calloc(1, s->grain)))
            r = vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        if (r == 0 && !done)
            r = write_grain(st, s, g, zeros, in, n, guest_off - in, err);
        off += n;
        guest_off += n;
        len -= n;
    }
    free(zeros);
    return r;
}

int
vmdk_sparse_flush(vmdk_sparse *s, vdisk_error *err)
{
    pthread_mutex_lock(&s->lock);
    int r = vmdk_gt_flush(s, err);
    pthread_mutex_unlock(&s->lock);
    return r < 0 ? r : vdisk_file_flush(s->file, err);
}
