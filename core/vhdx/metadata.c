/* libvdisk — the VHDX metadata region (spec 2.6): a 64 KiB table
 * (signature "metadata", entry count, then entries of an item GUID, an
 * offset and length inside the region, and IsUser / IsVirtualDisk /
 * IsRequired flags) and the items it points at.  Five items are required
 * of every file: file parameters (block size, LeaveBlocksAllocated,
 * HasParent), virtual disk size, page 83 data, logical and physical sector
 * size; a differencing file adds the parent locator.  An unknown item
 * marked required makes the file unreadable to us, as the spec demands.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "utf16.h"
#include "vhdx.h"

#define M_SIGNATURE 0
#define M_COUNT 10
#define M_ENTRIES 32
#define M_ENTRY_SIZE 32
#define FLAG_REQUIRED 4u
/* Items live after the table. */
#define ITEMS_START VHDX_METADATA_TABLE_SIZE

enum { ITEM_PARAMS, ITEM_SIZE, ITEM_PAGE83, ITEM_LSEC, ITEM_PSEC, ITEM_PARENT, N_ITEMS };

static const struct {
    const vhdx_guid *guid;
    const char *name;
    uint32_t length;            /* 0: variable */
} items[N_ITEMS] = {
    [ITEM_PARAMS] = { &vhdx_meta_file_params, "file parameters", 8 },
    [ITEM_SIZE] = { &vhdx_meta_virtual_size, "virtual disk size", 8 },
    [ITEM_PAGE83] = { &vhdx_meta_page83, "page 83 data", 16 },
    [ITEM_LSEC] = { &vhdx_meta_logical_sector, "logical sector size", 4 },
    [ITEM_PSEC] = { &vhdx_meta_physical_sector, "physical sector size", 4 },
    [ITEM_PARENT] = { &vhdx_meta_parent_locator, "parent locator", 0 },
};

typedef struct item_loc {
    bool present;
    uint32_t offset, length;
} item_loc;

/* Find the known items in the table. */
static int
scan_table(vhdx_state *s, const uint8_t *t, item_loc *loc, vdisk_error *err)
{
    if (memcmp(t + M_SIGNATURE, "metadata", 8) != 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX metadata table has no \"metadata\" signature",
                                    s->name);
    uint16_t n = vhdx_le16(t + M_COUNT);
    if (n > VHDX_MAX_TABLE_ENTRIES)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX metadata table has %u entries (at most %u)", s->name,
                                    n, VHDX_MAX_TABLE_ENTRIES);
    for (uint16_t i = 0; i < n; i++) {
        const uint8_t *e = t + M_ENTRIES + (size_t)i * M_ENTRY_SIZE;
        uint32_t off = vhdx_le32(e + 16), len = vhdx_le32(e + 20), flags = vhdx_le32(e + 24);
        int k = 0;
        while (k < N_ITEMS && memcmp(e, items[k].guid, 16) != 0)
            k++;
        if (k == N_ITEMS) {
            if (!(flags & FLAG_REQUIRED))
                continue;
            vhdx_guid g;
            char text[37];
            memcpy(&g, e, 16);
            vhdx_guid_format(&g, text);
            return vdisk_error_set(err, ENOTSUP, "%s: VHDX metadata item {%s} is required but unknown to "
                                   "vdisk", s->name, text);
        }
        if (loc[k].present)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: VHDX metadata item '%s' appears twice", s->name,
                                        items[k].name);
        if (off < ITEMS_START || len > VHDX_MAX_METADATA_ITEM || off > s->meta_region.length ||
            s->meta_region.length - off < len || (items[k].length && len != items[k].length))
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: VHDX metadata item '%s' at +0x%" PRIx32 " (%" PRIu32
                                        " bytes) is misplaced or has the wrong size", s->name, items[k].name,
                                        off, len);
        loc[k] = (item_loc){ true, off, len };
    }
    for (int k = 0; k < ITEM_PARENT; k++)
        if (!loc[k].present)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: VHDX metadata lacks the required item '%s'", s->name,
                                        items[k].name);
    return 0;
}

static int
read_item(vhdx_state *s, const item_loc *l, void *buf, vdisk_error *err)
{
    return vdisk_file_pread(s->file, buf, l->length, s->meta_region.offset + l->offset, err);
}

static bool
is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* The fixed-size items, checked against the spec's ranges. */
static int
read_values(vhdx_state *s, const item_loc *loc, vdisk_error *err)
{
    uint8_t p[8], size[8], lsec[4], psec[4];
    int r = read_item(s, &loc[ITEM_PARAMS], p, err);
    if (r == 0)
        r = read_item(s, &loc[ITEM_SIZE], size, err);
    if (r == 0)
        r = read_item(s, &loc[ITEM_PAGE83], &s->page83, err);
    if (r == 0)
        r = read_item(s, &loc[ITEM_LSEC], lsec, err);
    if (r == 0)
        r = read_item(s, &loc[ITEM_PSEC], psec, err);
    if (r < 0)
        return r;
    s->block_size = vhdx_le32(p);
    s->leave_allocated = vhdx_le32(p + 4) & 1;
    s->has_parent = vhdx_le32(p + 4) & 2;
    s->virtual_size = vhdx_le64(size);
    s->logical_sector = vhdx_le32(lsec);
    s->physical_sector = vhdx_le32(psec);
    if (!is_pow2(s->block_size) || s->block_size < VHDX_MIN_BLOCK || s->block_size > VHDX_MAX_BLOCK)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX block size %" PRIu32 " is not a power of two "
                                    "between 1 MiB and 256 MiB", s->name, s->block_size);
    if (s->logical_sector != 512 && s->logical_sector != 4096)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX logical sector size %" PRIu32 " (512 or 4096 "
                                    "expected)", s->name, s->logical_sector);
    if (s->physical_sector != 512 && s->physical_sector != 4096)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX physical sector size %" PRIu32 " (512 or 4096 "
                                    "expected)", s->name, s->physical_sector);
    if (s->virtual_size > VHDX_MAX_SIZE || s->virtual_size % s->logical_sector)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX virtual disk size %" PRIu64 " is not a multiple of "
                                    "the logical sector size up to 64 TiB", s->name, s->virtual_size);
    if (s->has_parent && !loc[ITEM_PARENT].present)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: differencing VHDX without a parent locator", s->name);
    return 0;
}

/* One UTF-16LE string of the parent locator, bounds checked. */
static int
locator_string(vhdx_state *s, const uint8_t *item, uint32_t item_len, uint32_t off, uint16_t len,
               char **out, vdisk_error *err)
{
    if (off > item_len || item_len - off < len || len == 0 || len % 2) {
        *out = NULL;
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX parent locator entry at +0x%" PRIx32 " (%u bytes) "
                                    "lies outside the item", s->name, off, len);
    }
    int r = vdisk_utf16_to_utf8(item + off, len, false, out);
    if (r < 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, -r,
                                    "%s: VHDX parent locator entry at +0x%" PRIx32 " is not UTF-16 "
                                    "text", s->name, off);
    return 0;
}

/* The parent locator (spec 2.6.2.6): a type GUID, a count, then key and
 * value offsets and lengths relative to the item. */
static int
read_locator(vhdx_state *s, const item_loc *l, vdisk_error *err)
{
    uint8_t *item = malloc(l->length ? l->length : 1);
    if (!item)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = read_item(s, l, item, err);
    uint16_t n = l->length >= 20 ? vhdx_le16(item + 18) : 0;
    if (r == 0 && (l->length < 20 || (uint64_t)20 + (uint64_t)n * 12 > l->length))
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                 "%s: VHDX parent locator too short for its %u entries", s->name, n);
    else if (r == 0 && memcmp(item, &vhdx_parent_type_vhdx, 16) != 0)
        r = vdisk_error_set(err, ENOTSUP, "%s: VHDX parent locator of a type other than VHDX", s->name);
    if (r == 0 && !(s->locator = calloc(n ? n : 1, sizeof(*s->locator))))
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    for (uint16_t i = 0; r == 0 && i < n; i++) {
        const uint8_t *e = item + 20 + (size_t)i * 12;
        vhdx_kv *kv = &s->locator[i];
        s->nlocator = i + 1u;
        r = locator_string(s, item, l->length, vhdx_le32(e), vhdx_le16(e + 8), &kv->key, err);
        if (r == 0)
            r = locator_string(s, item, l->length, vhdx_le32(e + 4), vhdx_le16(e + 10), &kv->value, err);
    }
    free(item);
    return r;
}

int
vhdx_metadata_load(vhdx_state *s, vdisk_error *err)
{
    uint8_t *t = malloc(VHDX_METADATA_TABLE_SIZE);
    if (!t)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    item_loc loc[N_ITEMS];
    memset(loc, 0, sizeof(loc));
    int r = s->meta_region.length < VHDX_METADATA_TABLE_SIZE
                ? vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                       "%s: VHDX metadata region shorter than its table", s->name)
                : vdisk_file_pread(s->file, t, VHDX_METADATA_TABLE_SIZE, s->meta_region.offset, err);
    if (r == 0)
        r = scan_table(s, t, loc, err);
    free(t);
    if (r == 0)
        r = read_values(s, loc, err);
    if (r == 0 && s->has_parent)
        r = read_locator(s, &loc[ITEM_PARENT], err);
    return r;
}

void
vhdx_metadata_free(vhdx_state *s)
{
    for (size_t i = 0; i < s->nlocator; i++) {
        free(s->locator[i].key);
        free(s->locator[i].value);
    }
    free(s->locator);
    s->locator = NULL;
    s->nlocator = 0;
}

const char *
vhdx_locator_get(const vhdx_state *s, const char *key)
{
    for (size_t i = 0; i < s->nlocator; i++)
        if (s->locator[i].key && strcmp(s->locator[i].key, key) == 0)
            return s->locator[i].value;
    return NULL;
}

/* One table entry pointing at an item. */
static void
put_entry(uint8_t *buf, int i, int k, uint32_t off, uint32_t flags)
{
    uint8_t *e = buf + M_ENTRIES + i * M_ENTRY_SIZE;
    memcpy(e, items[k].guid, 16);
    vhdx_put32(e + 16, off);
    vhdx_put32(e + 20, items[k].length);
    vhdx_put32(e + 24, flags);
}

int
vhdx_metadata_build(uint32_t block_size, bool fixed, uint64_t size, uint32_t sector, uint8_t *buf,
                    size_t len)
{
    if (len < ITEMS_START + 40)
        return -EINVAL;
    memset(buf, 0, len);
    memcpy(buf + M_SIGNATURE, "metadata", 8);
    vhdx_put16(buf + M_COUNT, 5);
    /* Items packed after the table, in QEMU's order and with its flags:
     * all required, all but the file parameters about the virtual disk. */
    static const int order[] = { ITEM_PARAMS, ITEM_SIZE, ITEM_PAGE83, ITEM_LSEC, ITEM_PSEC };
    uint32_t off = ITEMS_START;
    for (int i = 0; i < 5; i++) {
        int k = order[i];
        put_entry(buf, i, k, off, FLAG_REQUIRED | (k == ITEM_PARAMS ? 0 : 2u));
        uint8_t *v = buf + off;
        switch (k) {
        case ITEM_PARAMS:
            vhdx_put32(v, block_size);
            vhdx_put32(v + 4, fixed ? 1 : 0);
            break;
        case ITEM_SIZE:
            vhdx_put64(v, size);
            break;
        case ITEM_PAGE83: {
            vhdx_guid g;
            int r = vhdx_guid_generate(&g);
            if (r < 0)
                return r;
            memcpy(v, &g, 16);
            break;
        }
        default:
            vhdx_put32(v, sector);
            break;
        }
        off += items[k].length;
    }
    return 0;
}
