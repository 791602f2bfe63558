/* libvdisk — ISO 9660 volume descriptors (ECMA-119 8; Joliet; El Torito).
 *
 * The set starts at sector 16 and ends with a terminator (type 255).  We
 * take the first primary descriptor, the first supplementary descriptor
 * whose escape sequence names UCS-2 (Joliet levels 1-3: "%/@", "%/C",
 * "%/E"), and an El Torito boot record.  Offsets of the fields used:
 *   8 system id (32)  40 volume id (32)  80 space size (both 32)
 *   88 escape sequences (32)  128 block size (both 16)  132 path table size
 *   140 L path table  148 M path table  156 root directory record (34)
 *   574 application id (128)  813 creation date  830 modification date
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iso9660.h"

static bool
is_joliet_escape(const uint8_t *esc)
{
    return esc[0] == '%' && esc[1] == '/' && (esc[2] == '@' || esc[2] == 'C' || esc[2] == 'E');
}

/* Root record of a primary or Joliet descriptor: sane and inside the file. */
static int
read_root(const uint8_t *vd, uint32_t sector, const char *path, uint64_t file_size,
          uint32_t *lba, uint32_t *size, vdisk_error *err)
{
    char where[300];
    snprintf(where, sizeof(where), "%s: root directory record of the volume descriptor at sector %u",
             path, sector);
    iso_dirrec rec;
    int r = iso_dirrec_parse(vd + 156, 34, where, &rec, err);
    if (r < 0)
        return r;
    if (!(rec.flags & ISO_FLAG_DIR))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s is not flagged as a directory", where);
    if (rec.size == 0 || (uint64_t)rec.lba * ISO_SECTOR + rec.size > file_size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: extent at sector %u, %u bytes, lies past the end "
                                    "of the file (%llu bytes)", where, rec.lba, rec.size,
                                    (unsigned long long)file_size);
    *lba = rec.lba;
    *size = rec.size;
    return 0;
}

static void
take_primary(const uint8_t *vd, iso_descriptors *d)
{
    d->space_size = iso_le32(vd + 80);
    d->vol.volume_size = (uint64_t)d->space_size * ISO_SECTOR;
    iso_field_string(vd + 8, 32, d->vol.system_id, sizeof(d->vol.system_id));
    iso_field_string(vd + 40, 32, d->vol.volume_id, sizeof(d->vol.volume_id));
    iso_field_string(vd + 574, 128, d->vol.application_id, sizeof(d->vol.application_id));
    d->vol.creation_time = iso_date17_parse(vd + 813);
    d->vol.modification_time = iso_date17_parse(vd + 830);
}

/* Handle one descriptor; *done at the terminator. */
static int
take_descriptor(const uint8_t *vd, uint32_t s, const char *path, uint64_t file_size,
                iso_descriptors *d, bool *have_pvd, bool *done, vdisk_error *err)
{
    if (memcmp(vd + 1, "CD001", 5) != 0 && s == ISO_VD_FIRST)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: not an ISO 9660 image: no primary volume descriptor "
                                    "at sector 16 (offset 0x8000 has no CD001 identifier)", path);
    if (memcmp(vd + 1, "CD001", 5) != 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: volume descriptor at sector %u (offset 0x%llx) has "
                                    "no CD001 identifier: the descriptor set ends without a terminator",
                                    path, s, (unsigned long long)s * ISO_SECTOR);
    int r = 0;
    switch (vd[0]) {
    case ISO_VD_PRIMARY:
        if (*have_pvd)
            break;
        if (iso_le16(vd + 128) != ISO_SECTOR)
            return vdisk_error_set(err, ENOTSUP, "%s: primary volume descriptor at sector %u has a "
                                   "logical block size of %u (only 2048 is supported)",
                                   path, s, iso_le16(vd + 128));
        r = read_root(vd, s, path, file_size, &d->root_lba, &d->root_size, err);
        take_primary(vd, d);
        d->path_table_size = iso_le32(vd + 132);
        d->path_table_lba = iso_le32(vd + 140);
        *have_pvd = true;
        break;
    case ISO_VD_SUPPLEMENTARY:
        if (d->joliet || !is_joliet_escape(vd + 88))
            break;
        r = read_root(vd, s, path, file_size, &d->joliet_root_lba, &d->joliet_root_size, err);
        if (r == 0) {
            d->joliet = d->vol.joliet = true;
            d->joliet_path_table_size = iso_le32(vd + 132);
            d->joliet_path_table_lba = iso_le32(vd + 140);
            char vid[100];
            iso_field_ucs2(vd + 40, 32, vid, sizeof(vid));
            if (vid[0])
                memcpy(d->vol.volume_id, vid, sizeof(vid));
        }
        break;
    case ISO_VD_BOOT:
        if (!d->boot_record && memcmp(vd + 7, "EL TORITO SPECIFICATION", 23) == 0) {
            d->boot_record = true;
            d->boot_catalog_lba = iso_le32(vd + 71);
        }
        break;
    case ISO_VD_TERMINATOR:
        *done = true;
        break;
    default:
        break;
    }
    return r;
}

int
iso_descriptors_read(vdisk_file *f, uint64_t file_size, iso_descriptors *d, vdisk_error *err)
{
    memset(d, 0, sizeof(*d));
    d->vol.creation_time = d->vol.modification_time = VDISK_ISO_TIME_UNSET;
    if (file_size < (uint64_t)(ISO_VD_FIRST + 1) * ISO_SECTOR)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: file of %llu bytes is too small for an ISO 9660 "
                                    "image (the primary volume descriptor is at offset 0x8000)",
                                    f->path, (unsigned long long)file_size);
    bool have_pvd = false, done = false;
    uint8_t vd[ISO_SECTOR];
    for (uint32_t s = ISO_VD_FIRST; !done; s++) {
        if (s >= ISO_VD_FIRST + ISO_VD_MAX || (uint64_t)(s + 1) * ISO_SECTOR > file_size) {
            if (have_pvd)
                break;   /* tolerate a missing terminator once we have what we need */
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: no primary volume descriptor in sectors %u-%u",
                                        f->path, ISO_VD_FIRST, s - 1);
        }
        int r = vdisk_file_pread(f, vd, sizeof(vd), (uint64_t)s * ISO_SECTOR, err);
        if (r < 0)
            return r;
        if (s > ISO_VD_FIRST && have_pvd && memcmp(vd + 1, "CD001", 5) != 0)
            break;
        r = take_descriptor(vd, s, f->path, file_size, d, &have_pvd, &done, err);
        if (r < 0)
            return r;
    }
    if (!have_pvd)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: the volume descriptor set has no primary volume "
                                    "descriptor", f->path);
    return 0;
}

/* Space-padded a-characters, or UCS-2 for a Joliet descriptor. */
static void
put_field(uint8_t *p, size_t len, const char *s, bool ucs2)
{
    if (!ucs2) {
        memset(p, ' ', len);
        size_t n = s ? strlen(s) : 0;
        memcpy(p, s, n < len ? n : len);
        return;
    }
    for (size_t i = 0; i + 1 < len; i += 2)
        iso_put_be16(p + i, ' ');
    if (s)
        iso_utf8_to_ucs2(s, p, len / 2);
}

void
iso_descriptor_build(uint8_t *vd, const iso_vd_spec *s)
{
    bool j = s->type == ISO_VD_SUPPLEMENTARY;
    memset(vd, 0, ISO_SECTOR);
    vd[0] = s->type;
    memcpy(vd + 1, "CD001", 5);
    vd[6] = 1;
    put_field(vd + 8, 32, s->system_id, j);
    put_field(vd + 40, 32, s->volume_id, j);
    iso_put_both32(vd + 80, s->space_size);
    if (j)
        memcpy(vd + 88, "%/E", 3);
    iso_put_both16(vd + 120, 1);
    iso_put_both16(vd + 124, 1);
    iso_put_both16(vd + 128, ISO_SECTOR);
    iso_put_both32(vd + 132, s->path_table_size);
    iso_put_le32(vd + 140, s->l_path_lba);
    iso_put_be32(vd + 148, s->m_path_lba);
    memcpy(vd + 156, s->root_record, 34);
    put_field(vd + 190, 128, NULL, j);     /* volume set */
    put_field(vd + 318, 128, NULL, j);     /* publisher */
    put_field(vd + 446, 128, NULL, j);     /* preparer */
    put_field(vd + 574, 128, s->application_id, j);
    put_field(vd + 702, 37, NULL, j);      /* copyright, abstract, bibliographic files */
    put_field(vd + 739, 37, NULL, j);
    put_field(vd + 776, 37, NULL, j);
    iso_date17_format(vd + 813, s->date);
    iso_date17_format(vd + 830, s->date);
    iso_date17_format(vd + 847, VDISK_ISO_TIME_UNSET);
    iso_date17_format(vd + 864, s->date);
    vd[881] = 1;
}

void
iso_boot_record_build(uint8_t *vd, uint32_t catalog_lba)
{
    memset(vd, 0, ISO_SECTOR);
    vd[0] = ISO_VD_BOOT;
    memcpy(vd + 1, "CD001", 5);
    vd[6] = 1;
    memcpy(vd + 7, "EL TORITO SPECIFICATION", 23);
    iso_put_le32(vd + 71, catalog_lba);
}

void
iso_terminator_build(uint8_t *vd)
{
    memset(vd, 0, ISO_SECTOR);
    vd[0] = ISO_VD_TERMINATOR;
    memcpy(vd + 1, "CD001", 5);
    vd[6] = 1;
}
