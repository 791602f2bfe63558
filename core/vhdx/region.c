/* libvdisk — the VHDX region table (spec 2.2.3): signature "regi", CRC-32C
 * over the 64 KiB table, entry count (at most 2047), then entries of a GUID,
 * a file offset and a length (multiples of 1 MiB, the offset at least
 * 1 MiB) and a Required bit.  The BAT and the metadata region must each
 * appear once; a required region of another kind makes the file unreadable
 * to us, as the spec demands.  No region may overlap another, the header
 * section or the log.
 *
 * The table has two copies; the second one is used when the first fails
 * its signature or checksum (QEMU reads only the first).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vhdx.h"

#define R_SIGNATURE 0
#define R_CHECKSUM 4
#define R_COUNT 8
#define R_ENTRIES 16
#define R_ENTRY_SIZE 32

static bool
overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

bool
vhdx_overlaps_metadata(const vhdx_state *s, uint64_t off, uint64_t len)
{
    const vhdx_header *h = vhdx_cur(s);
    return overlaps(off, len, 0, VHDX_HEADER_SECTION) || overlaps(off, len, h->log_offset, h->log_length) ||
           overlaps(off, len, s->bat_region.offset, s->bat_region.length) ||
           overlaps(off, len, s->meta_region.offset, s->meta_region.length);
}

/* One entry: placement rules, then what it is. */
static int
take_entry(vhdx_state *s, const uint8_t *e, uint64_t file_len, bool *have_bat, bool *have_meta,
           vdisk_error *err)
{
    vhdx_guid g;
    memcpy(&g, e, 16);
    uint64_t off = vhdx_le64(e + 16);
    uint32_t len = vhdx_le32(e + 24);
    bool required = vhdx_le32(e + 28) & 1;
    char text[37];
    vhdx_guid_format(&g, text);
    if (off % VHDX_MIB || off < VHDX_MIB || len % VHDX_MIB)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX region {%s} at 0x%" PRIx64 " (%" PRIu32 " bytes) is "
                                    "not aligned to 1 MiB", s->name, text, off, len);
    vhdx_region *slot;
    bool *seen;
    if (vhdx_guid_equal(&g, &vhdx_region_bat)) {
        slot = &s->bat_region;
        seen = have_bat;
    } else if (vhdx_guid_equal(&g, &vhdx_region_metadata)) {
        slot = &s->meta_region;
        seen = have_meta;
    } else if (required) {
        return vdisk_error_set(err, ENOTSUP, "%s: VHDX region {%s} is required but unknown to vdisk",
                               s->name, text);
    } else {
        return 0;   /* optional and unknown: not ours to use */
    }
    if (*seen)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX region {%s} appears twice", s->name, text);
    *seen = true;
    if (off > file_len || file_len - off < len)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX region {%s} at 0x%" PRIx64 " (%" PRIu32 " bytes) "
                                    "lies outside the file (%" PRIu64 " bytes)", s->name, text, off, len,
                                    file_len);
    const vhdx_header *h = vhdx_cur(s);
    if (overlaps(off, len, 0, VHDX_HEADER_SECTION) || overlaps(off, len, h->log_offset, h->log_length))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX region {%s} at 0x%" PRIx64 " overlaps the headers or "
                                    "the log", s->name, text, off);
    slot->offset = off;
    slot->length = len;
    return 0;
}

static bool
table_intact(const uint8_t *buf)
{
    return memcmp(buf + R_SIGNATURE, "regi", 4) == 0 &&
           vhdx_le32(buf + R_CHECKSUM) == vhdx_checksum(buf, VHDX_REGION_TABLE_SIZE, R_CHECKSUM);
}

static int
parse_table(vhdx_state *s, const uint8_t *buf, uint64_t file_len, vdisk_error *err)
{
    uint32_t n = vhdx_le32(buf + R_COUNT);
    if (n > VHDX_MAX_TABLE_ENTRIES)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX region table has %" PRIu32 " entries (at most %u)",
                                    s->name, n, VHDX_MAX_TABLE_ENTRIES);
    bool have_bat = false, have_meta = false;
    memset(&s->bat_region, 0, sizeof(s->bat_region));
    memset(&s->meta_region, 0, sizeof(s->meta_region));
    for (uint32_t i = 0; i < n; i++) {
        int r = take_entry(s, buf + R_ENTRIES + (size_t)i * R_ENTRY_SIZE, file_len, &have_bat, &have_meta,
                           err);
        if (r < 0)
            return r;
    }
    if (!have_bat || !have_meta)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX region table lacks the %s region", s->name,
                                    have_bat ? "metadata" : "BAT");
    if (overlaps(s->bat_region.offset, s->bat_region.length, s->meta_region.offset, s->meta_region.length))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: the VHDX BAT and metadata regions overlap", s->name);
    return 0;
}

int
vhdx_regions_load(vhdx_state *s, uint64_t file_len, vdisk_error *err)
{
    uint8_t *buf = malloc(VHDX_REGION_TABLE_SIZE);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    /* The second copy stands in for a first one a torn write damaged;
     * an intact first table is the one that counts, right or wrong. */
    int r = vdisk_file_pread(s->file, buf, VHDX_REGION_TABLE_SIZE, VHDX_REGION1_OFFSET, err);
    if (r == 0 && !table_intact(buf))
        r = vdisk_file_pread(s->file, buf, VHDX_REGION_TABLE_SIZE, VHDX_REGION2_OFFSET, err);
    if (r == 0 && !table_intact(buf))
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                 "%s: both VHDX region tables have a bad signature or checksum",
                                 s->name);
    if (r == 0)
        r = parse_table(s, buf, file_len, err);
    free(buf);
    return r;
}

void
vhdx_region_table_build(const vhdx_region *bat, const vhdx_region *meta, uint8_t *buf)
{
    memset(buf, 0, VHDX_REGION_TABLE_SIZE);
    memcpy(buf + R_SIGNATURE, "regi", 4);
    vhdx_put32(buf + R_COUNT, 2);
    const vhdx_region *r[2] = { bat, meta };
    const vhdx_guid *g[2] = { &vhdx_region_bat, &vhdx_region_metadata };
    for (int i = 0; i < 2; i++) {
        uint8_t *e = buf + R_ENTRIES + i * R_ENTRY_SIZE;
        memcpy(e, g[i], 16);
        vhdx_put64(e + 16, r[i]->offset);
        vhdx_put32(e + 24, r[i]->length);
        vhdx_put32(e + 28, 1);   /* required, as the spec lists both */
    }
    vhdx_checksum_store(buf, VHDX_REGION_TABLE_SIZE, R_CHECKSUM);
}
