/* libvdisk — replay of the VHDX log (spec 2.3).
 *
 * The log is a circular buffer of 4 KiB sectors holding entries: a header
 * ("loge", CRC-32C over the whole entry, length, tail, sequence number,
 * descriptor count, log GUID, flushed and last file offsets), descriptors
 * ("desc": one 4 KiB update whose first 8 and last 4 bytes are kept in the
 * descriptor; "zero": a range to zero), then one data sector per data
 * descriptor ("data", the sequence number split around the middle 4084
 * bytes of the update).
 *
 * An entry is valid when every one of those checks out and its GUID is the
 * current header's LogGuid (a GUID of zero means the log is empty).  The
 * active sequence ends at the valid entry with the highest sequence number
 * and goes back through entries that end where the next one starts, one
 * sequence number apart; it is replayed from the entry its head names as
 * tail (the whole sequence when that entry is gone, as QEMU replays it).
 * Replay refuses a file shorter than an entry's FlushedFileOffset
 * (truncated), writes each update, extends the file to LastFileOffset,
 * flushes, and then empties the log by zeroing the header's LogGuid.
 *
 * Replay needs a writable open.  A read-only open of a file with a log to
 * replay is refused, as QEMU refuses it, with the way to replay it: also
 * with force-share (-U), which is read-only by definition.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vhdx.h"

#define L_SIGNATURE 0
#define L_CHECKSUM 4
#define L_LENGTH 8
#define L_TAIL 12
#define L_SEQ 16
#define L_COUNT 24
#define L_GUID 32
#define L_FLUSHED 48
#define L_LAST 56
#define HDR_SIZE 64u
#define DESC_SIZE 32u
/* A LastFileOffset past this is no VHDX's size: refuse it. */
#define MAX_FILE_END (UINT64_C(1) << 47)

typedef struct log_ctx {
    vhdx_state *s;
    uint64_t off;               /* of the log in the file */
    uint32_t len;
    vhdx_guid guid;
    uint8_t sec[VHDX_LOG_SECTOR];
    uint64_t cached;            /* log position of sec, or UINT64_MAX */
} log_ctx;

typedef struct entry_info {
    uint32_t pos, length, tail, ndesc, desc_sectors;
    uint64_t seq, flushed, last;
} entry_info;

/* Sector at log position pos (wrapping), through a one-sector cache. */
static int
sector_at(log_ctx *c, uint64_t pos, const uint8_t **out, vdisk_error *err)
{
    pos %= c->len;
    if (c->cached != pos) {
        int r = vdisk_file_pread(c->s->file, c->sec, VHDX_LOG_SECTOR, c->off + pos, err);
        if (r < 0) {
            c->cached = UINT64_MAX;
            return r;
        }
        c->cached = pos;
    }
    *out = c->sec;
    return 0;
}

/* Descriptor k of entry e (32 bytes copied into d). */
static int
descriptor(log_ctx *c, const entry_info *e, uint32_t k, uint8_t *d, vdisk_error *err)
{
    uint64_t at = HDR_SIZE + (uint64_t)k * DESC_SIZE;
    const uint8_t *sec;
    int r = sector_at(c, e->pos + at / VHDX_LOG_SECTOR * VHDX_LOG_SECTOR, &sec, err);
    if (r == 0)
        memcpy(d, sec + at % VHDX_LOG_SECTOR, DESC_SIZE);
    return r;
}

/* The header of the entry at pos, checked on its own. */
static bool
header_ok(log_ctx *c, const uint8_t *h, uint32_t pos, entry_info *e)
{
    if (memcmp(h + L_SIGNATURE, "loge", 4) != 0 || memcmp(h + L_GUID, &c->guid, 16) != 0)
        return false;
    e->pos = pos;
    e->length = vhdx_le32(h + L_LENGTH);
    e->tail = vhdx_le32(h + L_TAIL);
    e->seq = vhdx_le64(h + L_SEQ);
    e->ndesc = vhdx_le32(h + L_COUNT);
    e->flushed = vhdx_le64(h + L_FLUSHED);
    e->last = vhdx_le64(h + L_LAST);
    uint64_t desc_bytes = HDR_SIZE + (uint64_t)e->ndesc * DESC_SIZE;
    e->desc_sectors = (uint32_t)((desc_bytes + VHDX_LOG_SECTOR - 1) / VHDX_LOG_SECTOR);
    return e->length % VHDX_LOG_SECTOR == 0 && e->length >= VHDX_LOG_SECTOR && e->length <= c->len &&
           e->seq != 0 && e->tail % VHDX_LOG_SECTOR == 0 && e->tail < c->len &&
           desc_bytes <= e->length;
}

/* CRC-32C of the whole entry, its checksum field as zero. */
static int
entry_crc(log_ctx *c, const entry_info *e, uint32_t *crc, vdisk_error *err)
{
    *crc = 0;
    for (uint32_t k = 0; k < e->length / VHDX_LOG_SECTOR; k++) {
        const uint8_t *sec;
        int r = sector_at(c, (uint64_t)e->pos + (uint64_t)k * VHDX_LOG_SECTOR, &sec, err);
        if (r < 0)
            return r;
        if (k == 0) {
            uint8_t first[VHDX_LOG_SECTOR];
            memcpy(first, sec, sizeof(first));
            memset(first + L_CHECKSUM, 0, 4);
            *crc = vhdx_crc32c_update(*crc, first, sizeof(first));
        } else {
            *crc = vhdx_crc32c_update(*crc, sec, VHDX_LOG_SECTOR);
        }
    }
    return 0;
}

/* Descriptors and data sectors agree with the header. */
static int
parts_ok(log_ctx *c, const entry_info *e, bool *ok, vdisk_error *err)
{
    uint32_t data_sectors = e->length / VHDX_LOG_SECTOR - e->desc_sectors, ndata = 0;
    *ok = false;
    for (uint32_t k = 0; k < e->ndesc; k++) {
        uint8_t d[DESC_SIZE];
        int r = descriptor(c, e, k, d, err);
        if (r < 0)
            return r;
        bool zero = memcmp(d, "zero", 4) == 0;
        if ((!zero && memcmp(d, "desc", 4) != 0) || vhdx_le64(d + 24) != e->seq ||
            vhdx_le64(d + 16) % VHDX_LOG_SECTOR || (zero && vhdx_le64(d + 8) % VHDX_LOG_SECTOR))
            return 0;
        ndata += !zero;
    }
    if (ndata != data_sectors)
        return 0;
    for (uint32_t k = 0; k < data_sectors; k++) {
        const uint8_t *sec;
        uint64_t at = (uint64_t)e->pos + (uint64_t)(e->desc_sectors + k) * VHDX_LOG_SECTOR;
        int r = sector_at(c, at, &sec, err);
        if (r < 0)
            return r;
        uint64_t seq = (uint64_t)vhdx_le32(sec + 4) << 32 | vhdx_le32(sec + 4092);
        if (memcmp(sec, "data", 4) != 0 || seq != e->seq)
            return 0;
    }
    *ok = true;
    return 0;
}

/* Is there a valid entry at pos?  1 yes (*e filled), 0 no, <0 I/O error. */
static int
entry_at(log_ctx *c, uint32_t pos, entry_info *e, vdisk_error *err)
{
    const uint8_t *sec;
    int r = sector_at(c, pos, &sec, err);
    if (r < 0)
        return r;
    uint8_t h[HDR_SIZE];
    memcpy(h, sec, sizeof(h));
    if (!header_ok(c, h, pos, e))
        return 0;
    uint32_t crc;
    bool ok;
    r = entry_crc(c, e, &crc, err);
    if (r == 0 && crc == vhdx_le32(h + L_CHECKSUM))
        r = parts_ok(c, e, &ok, err);
    else
        ok = false;
    return r < 0 ? r : ok;
}

/* Every valid entry of the log, in position order. */
static int
scan(log_ctx *c, entry_info **out, size_t *n, vdisk_error *err)
{
    *out = NULL;
    *n = 0;
    entry_info *v = malloc((c->len / VHDX_LOG_SECTOR) * sizeof(*v));
    if (!v)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", c->s->name);
    for (uint64_t pos = 0; pos < c->len;) {
        int r = entry_at(c, (uint32_t)pos, &v[*n], err);
        if (r < 0) {
            free(v);
            return r;
        }
        pos += r ? v[(*n)++].length : VHDX_LOG_SECTOR;
    }
    *out = v;
    return 0;
}

/* The entries to replay: from the head's tail to the head, in order.
 * Returns the count (0: nothing to replay) and their indices in `order`. */
static size_t
active_sequence(log_ctx *c, const entry_info *v, size_t n, size_t *order)
{
    if (n == 0)
        return 0;
    size_t head = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i].seq > v[head].seq)
            head = i;
    /* Walk back from the head (built reversed, at the end of `order`). */
    size_t len = 0, cur = head;
    order[n - 1 - len++] = cur;
    while (len < n && v[cur].pos != v[head].tail) {
        size_t prev = n;
        for (size_t i = 0; i < n; i++)
            if (v[i].seq == v[cur].seq - 1 && ((uint64_t)v[i].pos + v[i].length) % c->len == v[cur].pos)
                prev = i;
        if (prev == n)
            break;   /* the tail is gone: replay what remains, as QEMU does */
        cur = prev;
        order[n - 1 - len++] = cur;
    }
    memmove(order, order + n - len, len * sizeof(*order));
    return len;
}

/* May an update of [off, off+len) be applied? */
static bool
target_ok(log_ctx *c, const entry_info *e, uint64_t file_len, uint64_t off, uint64_t len)
{
    uint64_t limit = e->last > file_len ? e->last : file_len;
    return off >= VHDX_HEADER_SECTION && off <= limit && limit - off >= len &&
           (off + len <= c->off || off >= c->off + c->len);
}

/* Apply one entry's updates. */
static int
apply(log_ctx *c, const entry_info *e, uint64_t file_len, vdisk_error *err)
{
    vhdx_state *s = c->s;
    if (e->flushed > file_len)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: the VHDX log expects a file of at least %" PRIu64 " bytes, "
                                    "this one has %" PRIu64 ": the image has been truncated", s->name,
                                    e->flushed, file_len);
    if (e->last > MAX_FILE_END)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX log entry with an absurd last file offset %" PRIu64,
                                    s->name, e->last);
    uint32_t data = 0;
    for (uint32_t k = 0; k < e->ndesc; k++) {
        uint8_t d[DESC_SIZE], update[VHDX_LOG_SECTOR];
        int r = descriptor(c, e, k, d, err);
        if (r < 0)
            return r;
        bool zero = memcmp(d, "zero", 4) == 0;
        uint64_t off = vhdx_le64(d + 16), len = zero ? vhdx_le64(d + 8) : VHDX_LOG_SECTOR;
        if (!target_ok(c, e, file_len, off, len))
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: VHDX log entry %" PRIu64 " writes to 0x%" PRIx64 " (%"
                                        PRIu64 " bytes), outside what a log may change", s->name, e->seq, off,
                                        len);
        if (zero) {
            r = vdisk_file_zero(s->file, off, len, false, err);
        } else {
            const uint8_t *sec;
            uint64_t at = (uint64_t)e->pos + (uint64_t)(e->desc_sectors + data++) * VHDX_LOG_SECTOR;
            r = sector_at(c, at, &sec, err);
            if (r == 0) {
                memcpy(update, d + 8, 8);
                memcpy(update + 8, sec + 8, 4084);
                memcpy(update + 4092, d + 4, 4);
                r = vdisk_file_pwrite(s->file, update, sizeof(update), off, err);
            }
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* Replay the sequence, extend the file, then mark the log empty. */
static int
replay(log_ctx *c, const entry_info *v, const size_t *order, size_t n, vdisk_error *err)
{
    vhdx_state *s = c->s;
    /* The headers change before anything else does (new FileWriteGuid),
     * keeping the log GUID: a crash during replay replays again. */
    int r = vhdx_headers_update(s, true, NULL, err);
    uint64_t file_len = 0;
    if (r == 0)
        r = vdisk_file_get_length(s->file, &file_len, err);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = apply(c, &v[order[i]], file_len, err);
    uint64_t last = n ? v[order[n - 1]].last : 0;
    if (r == 0 && last > file_len)
        r = vdisk_file_truncate(s->file, (last + VHDX_MIB - 1) / VHDX_MIB * VHDX_MIB, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    static const vhdx_guid empty;
    if (r == 0)
        r = vhdx_headers_update(s, false, &empty, err);
    if (r < 0)
        vdisk_error_prefix(err, "%s: replaying the VHDX log", s->name);
    return r;
}

/* The log's place, checked whether or not it holds anything. */
static int
check_placement(vhdx_state *s, uint64_t file_len, bool *empty, vdisk_error *err)
{
    const vhdx_header *h = vhdx_cur(s);
    if (h->log_version != 0)
        return vdisk_error_set(err, ENOTSUP, "%s: VHDX log version %u is not supported (0 expected)",
                               s->name, h->log_version);
    if (h->log_offset < VHDX_MIB || h->log_offset % VHDX_MIB || h->log_length % VHDX_MIB ||
        h->log_offset > (UINT64_C(1) << 62))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX log at 0x%" PRIx64 " (%" PRIu32 " bytes) is not "
                                    "aligned to 1 MiB", s->name, h->log_offset, h->log_length);
    *empty = vhdx_guid_is_zero(&h->log_guid) || h->log_length == 0;
    if (!*empty && (h->log_offset > file_len || file_len - h->log_offset < h->log_length))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX log at 0x%" PRIx64 " (%" PRIu32 " bytes) lies outside "
                                    "the file (%" PRIu64 " bytes)", s->name, h->log_offset, h->log_length,
                                    file_len);
    return 0;
}

int
vhdx_log_open(vhdx_state *s, vdisk_error *err)
{
    uint64_t file_len;
    bool empty = true;
    int r = vdisk_file_get_length(s->file, &file_len, err);
    if (r == 0)
        r = check_placement(s, file_len, &empty, err);
    if (r < 0 || empty)
        return r;
    log_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    c->s = s;
    c->off = vhdx_cur(s)->log_offset;
    c->len = vhdx_cur(s)->log_length;
    c->guid = vhdx_cur(s)->log_guid;
    c->cached = UINT64_MAX;
    entry_info *v;
    size_t n, *order = NULL;
    r = scan(c, &v, &n, err);
    if (r == 0 && !(order = malloc((n ? n : 1) * sizeof(*order))))
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    size_t count = r == 0 ? active_sequence(c, v, n, order) : 0;
    if (r == 0 && count && !s->writable)
        r = vdisk_error_set(err, EPERM, "%s: VHDX image opened read-only, but contains a log that needs "
                            "to be replayed; to replay the log, open it writable, e.g. with "
                            "'vdisk-virsh check -r all %s'", s->name, s->name);
    if (r == 0 && count) {
        r = replay(c, v, order, count, err);
        s->log_replayed = r == 0;
    }
    if (r == 0 && count)
        s->log_seq = v[order[count - 1]].seq + 1;
    /* A LogGuid with no valid entry (a crash before the entry was
     * written): nothing to replay, but the log is empty only once the GUID
     * says so (QEMU would refuse to write until then). */
    static const vhdx_guid empty_guid;
    if (r == 0 && !count && s->writable)
        r = vhdx_headers_update(s, false, &empty_guid, err);
    free(order);
    free(v);
    free(c);
    return r;
}
