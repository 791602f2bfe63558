/* libvdisk — El Torito boot catalog (El Torito 1.0, 2.0-2.4).
 *
 * A 2048-byte sector of 32-byte entries: the validation entry (header id
 * 1, platform, id string, checksum making the 16 words sum to zero, 55 AA),
 * the initial/default entry, then section headers (0x90 more follow, 0x91
 * last; platform, entry count) each followed by their section entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iso9660.h"

#define ENTRY 32u
#define N_ENTRIES (ISO_SECTOR / ENTRY)

static uint16_t
word_sum(const uint8_t *e)
{
    uint16_t s = 0;
    for (unsigned i = 0; i < ENTRY; i += 2)
        s = (uint16_t)(s + iso_le16(e + i));
    return s;
}

static void
take(const uint8_t *e, uint8_t platform, vdisk_iso_boot_entry *out)
{
    memset(out, 0, sizeof(*out));
    out->platform = platform;
    out->bootable = e[0] == 0x88;
    out->media = e[1] & 0x0F;
    out->load_segment = iso_le16(e + 2);
    out->system_type = e[4];
    out->sector_count = iso_le16(e + 6);
    out->lba = iso_le32(e + 8);
}

int
iso_eltorito_parse(const uint8_t *cat, const char *where, vdisk_iso_boot_entry **entries,
                   size_t *n, vdisk_error *err)
{
    *entries = NULL;
    *n = 0;
    if (cat[0] != 1 || cat[30] != 0x55 || cat[31] != 0xAA)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: boot catalog has no validation entry "
                                    "(header id %u, key %02x %02x)", where, cat[0], cat[30], cat[31]);
    if (word_sum(cat) != 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: boot catalog validation entry checksum is wrong", where);
    vdisk_iso_boot_entry *v = calloc(N_ENTRIES, sizeof(*v));
    if (!v)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", where);
    size_t k = 0;
    take(cat + ENTRY, cat[1], &v[k++]);
    /* Sections: a header, then its entries (extension entries 0x44 skipped). */
    for (unsigned i = 2; i < N_ENTRIES;) {
        const uint8_t *h = cat + i * ENTRY;
        if (h[0] != 0x90 && h[0] != 0x91)
            break;
        unsigned count = iso_le16(h + 2);
        uint8_t platform = h[1];
        i++;
        for (unsigned j = 0; j < count && i < N_ENTRIES; i++) {
            const uint8_t *e = cat + i * ENTRY;
            if (e[0] == 0x44)
                continue;
            take(e, platform, &v[k++]);
            j++;
        }
        if (h[0] == 0x91)
            break;
    }
    *entries = v;
    *n = k;
    return 0;
}

static void
put_entry(uint8_t *e, const vdisk_iso_boot_entry *b)
{
    e[0] = 0x88;
    e[1] = b->media;
    iso_put_le16(e + 2, b->load_segment);
    /* System type: the partition type of a hard disk image; 0 otherwise. */
    e[4] = b->system_type;
    iso_put_le16(e + 6, b->sector_count);
    iso_put_le32(e + 8, b->lba);
}

void
iso_eltorito_build(uint8_t *cat, const vdisk_iso_boot_entry *bios, const vdisk_iso_boot_entry *efi)
{
    memset(cat, 0, ISO_SECTOR);
    const vdisk_iso_boot_entry *first = bios ? bios : efi;
    cat[0] = 1;
    cat[1] = first->platform;
    cat[30] = 0x55;
    cat[31] = 0xAA;
    iso_put_le16(cat + 28, (uint16_t)(0x10000 - word_sum(cat)));
    put_entry(cat + ENTRY, first);
    if (bios && efi) {
        uint8_t *h = cat + 2 * ENTRY;
        h[0] = 0x91;
        h[1] = efi->platform;
        iso_put_le16(h + 2, 1);
        put_entry(cat + 3 * ENTRY, efi);
    }
}
