/* libvdisk — VHDX metadata updates through the log (spec 2.3).
 *
 * vdisk changes one kind of metadata: BAT entries, when a write allocates
 * a payload block.  They are kept in memory and their 4 KiB pages marked;
 * a flush (or the close) commits them as QEMU commits each update, but in
 * one go:
 *   1. flush the file: the new blocks' data is stable before anything
 *      points at it;
 *   2. a fresh LogGuid in the headers, then one log entry at the start of
 *      the log holding the changed pages, flushed;
 *   3. the pages written in place, flushed;
 *   4. the LogGuid zeroed again: the log is empty.
 * A crash before 2 completes loses the allocations (their data was never
 * flushed either); after it, the next writable open replays the entry
 * (log.c).  A commit larger than the log is split into several.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vhdx.h"

#define BAT_PAGE 4096u

static uint32_t
desc_sectors(size_t n)
{
    return (uint32_t)((64 + 32 * (uint64_t)n + VHDX_LOG_SECTOR - 1) / VHDX_LOG_SECTOR);
}

size_t
vhdx_log_entry_size(size_t n)
{
    return ((size_t)desc_sectors(n) + n) * VHDX_LOG_SECTOR;
}

void
vhdx_log_entry_build(const vhdx_guid *log_guid, uint64_t seq, uint32_t tail, uint64_t flushed,
                     uint64_t last, const vhdx_log_update *u, size_t n, uint8_t *buf)
{
    size_t size = vhdx_log_entry_size(n);
    uint32_t ds = desc_sectors(n);
    memset(buf, 0, size);
    memcpy(buf, "loge", 4);
    vhdx_put32(buf + 8, (uint32_t)size);
    vhdx_put32(buf + 12, tail);
    vhdx_put64(buf + 16, seq);
    vhdx_put32(buf + 24, (uint32_t)n);
    memcpy(buf + 32, log_guid, 16);
    vhdx_put64(buf + 48, flushed);
    vhdx_put64(buf + 56, last);
    for (size_t i = 0; i < n; i++) {
        uint8_t *d = buf + 64 + 32 * i;
        uint8_t *sec = buf + (ds + i) * VHDX_LOG_SECTOR;
        memcpy(d, "desc", 4);
        memcpy(d + 4, u[i].data + 4092, 4);   /* trailing bytes */
        memcpy(d + 8, u[i].data, 8);          /* leading bytes */
        vhdx_put64(d + 16, u[i].file_offset);
        vhdx_put64(d + 24, seq);
        memcpy(sec, "data", 4);
        vhdx_put32(sec + 4, (uint32_t)(seq >> 32));
        memcpy(sec + 8, u[i].data + 8, 4084);
        vhdx_put32(sec + 4092, (uint32_t)seq);
    }
    vhdx_checksum_store(buf, size, 4);
}

/* Commit n pages (their numbers, their on-disk bytes): one log cycle. */
static int
commit_batch(vhdx_state *s, const uint64_t *pages, size_t n, const uint8_t *data, vdisk_error *err)
{
    vhdx_log_update *u = calloc(n, sizeof(*u));
    size_t size = vhdx_log_entry_size(n);
    uint8_t *entry = malloc(size);
    vhdx_guid guid;
    int r = (!u || !entry) ? vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name) : 0;
    if (r == 0 && vhdx_guid_generate(&guid) < 0)
        r = vdisk_error_set(err, EIO, "%s: no random bytes for a VHDX log GUID", s->name);
    uint64_t file_len = 0;
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r == 0)
        r = vdisk_file_get_length(s->file, &file_len, err);
    if (r == 0)
        r = vhdx_headers_update(s, false, &guid, err);
    for (size_t i = 0; r == 0 && i < n; i++) {
        u[i].file_offset = s->bat_region.offset + pages[i] * BAT_PAGE;
        u[i].data = data + i * BAT_PAGE;
    }
    if (r == 0) {
        vhdx_log_entry_build(&guid, s->log_seq++, 0, file_len, file_len, u, n, entry);
        r = vdisk_file_pwrite(s->file, entry, size, vhdx_cur(s)->log_offset, err);
    }
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = vdisk_file_pwrite(s->file, u[i].data, BAT_PAGE, u[i].file_offset, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    static const vhdx_guid empty;
    if (r == 0)
        r = vhdx_headers_update(s, false, &empty, err);
    free(u);
    free(entry);
    return r;
}

/* The listed BAT pages as they go to disk (zeros past the last entry). */
static uint8_t *
bat_pages(const vhdx_state *s, const uint64_t *pages, size_t n)
{
    const uint64_t per_page = BAT_PAGE / 8;
    uint8_t *b = calloc(n, BAT_PAGE);
    for (size_t i = 0; b && i < n; i++) {
        uint64_t first = pages[i] * per_page, end = first + per_page;
        for (uint64_t e = first; e < s->bat_entries && e < end; e++)
            vhdx_put64(b + i * BAT_PAGE + 8 * (e - first), s->bat[e]);
    }
    return b;
}

int
vhdx_log_commit(vhdx_state *s, vdisk_error *err)
{
    if (!s->bat_dirty)
        return 0;
    size_t npages = (size_t)((s->bat_entries * 8 + BAT_PAGE - 1) / BAT_PAGE);
    uint64_t *pages = malloc((npages ? npages : 1) * sizeof(*pages));
    size_t n = 0;
    for (size_t p = 0; pages && p < npages; p++)
        if (s->bat_dirty[p])
            pages[n++] = p;
    if (n == 0 || !pages) {
        free(pages);
        return pages ? 0 : vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    }
    uint8_t *bat_le = bat_pages(s, pages, n);
    int r = bat_le ? 0 : vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    /* As many pages per entry as the log holds. */
    size_t per = 1;
    while (vhdx_log_entry_size(per + 1) <= vhdx_cur(s)->log_length && per < n)
        per++;
    if (r == 0 && vhdx_log_entry_size(1) > vhdx_cur(s)->log_length)
        r = vdisk_error_set(err, ENOSPC, "%s: the VHDX log (%" PRIu32 " bytes) cannot hold an update",
                            s->name, vhdx_cur(s)->log_length);
    for (size_t i = 0; r == 0 && i < n; i += per)
        r = commit_batch(s, pages + i, n - i < per ? n - i : per, bat_le + i * BAT_PAGE, err);
    if (r == 0)
        memset(s->bat_dirty, 0, npages);
    free(bat_le);
    free(pages);
    return r;
}
