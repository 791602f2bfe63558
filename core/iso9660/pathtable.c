/* libvdisk — ISO 9660 path tables (ECMA-119 9.4).
 *
 * The L-type table (little endian) lists every directory once, breadth
 * first: identifier length (1), extended attribute length (1), extent (4),
 * parent directory number (2), identifier, a pad byte when the length is
 * odd.  The reader does not need it to walk the tree; it is parsed for
 * `iso-ls --path-table` and checked strictly, since it is read from the
 * image like everything else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iso9660.h"

#define PATH_TABLE_MAX (16u << 20)   /* 65535 directories need far less */

void
vdisk_iso_path_table_free(vdisk_iso_path_entry *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].name);
    free(v);
}

/* One record at p (avail bytes left); appends to *v. */
static int
take(vdisk_iso *iso, const uint8_t *p, size_t avail, size_t at, bool joliet,
     vdisk_iso_path_entry *e, size_t number, vdisk_error *err)
{
    const char *f = iso->file->path;
    if (avail < 8 || p[0] == 0 || 8u + p[0] > avail)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: path table record %zu at byte %zu runs past the end "
                                    "of the table", f, number, at);
    e->lba = iso_le32(p + 2) + p[1];
    e->parent = iso_le16(p + 6);
    if (e->parent == 0 || e->parent > number || (number > 1 && e->parent == number))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: path table record %zu at byte %zu names parent %u, "
                                    "not an earlier directory", f, number, at, e->parent);
    if ((uint64_t)e->lba * ISO_SECTOR >= iso->file_size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: path table record %zu at byte %zu: directory at "
                                    "sector %u lies past the end of the file", f, number, at, e->lba);
    char name[4 * 128 + 1];
    if (number == 1)
        name[0] = '\0';
    else if (joliet)
        iso_name_joliet(p + 8, p[0] & ~1u, name, sizeof(name));
    else {
        memcpy(name, p + 8, p[0]);
        name[p[0]] = '\0';
    }
    if (!(e->name = strdup(name)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", f);
    return 0;
}

static int
parse(vdisk_iso *iso, const uint8_t *t, size_t size, bool joliet, vdisk_iso_path_entry **out,
      size_t *n, vdisk_error *err)
{
    vdisk_iso_path_entry *v = NULL;
    size_t cap = 0, k = 0;
    int r = 0;
    for (size_t at = 0; at < size && r == 0;) {
        if (k == 65535) {
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                     "%s: path table has more than 65535 records", iso->file->path);
            break;
        }
        if (k == cap) {
            cap = cap ? 2 * cap : 64;
            vdisk_iso_path_entry *nv = realloc(v, cap * sizeof(*nv));
            if (!nv) {
                r = vdisk_error_set(err, ENOMEM, "%s: out of memory", iso->file->path);
                break;
            }
            v = nv;
        }
        memset(&v[k], 0, sizeof(v[k]));
        r = take(iso, t + at, size - at, at, joliet, &v[k], k + 1, err);
        if (r == 0)
            at += 8u + t[at] + (t[at] & 1);
        k++;
    }
    if (r < 0) {
        vdisk_iso_path_table_free(v, k);
        return r;
    }
    *out = v;
    *n = k;
    return 0;
}

int
vdisk_iso_get_path_table(vdisk_iso *iso, vdisk_iso_path_entry **entries, size_t *n, vdisk_error *err)
{
    *entries = NULL;
    *n = 0;
    bool joliet = iso->d.vol.names == VDISK_ISO_NAMES_JOLIET;
    uint32_t lba = joliet ? iso->d.joliet_path_table_lba : iso->d.path_table_lba;
    uint32_t size = joliet ? iso->d.joliet_path_table_size : iso->d.path_table_size;
    if (size == 0 || size > PATH_TABLE_MAX || (uint64_t)lba * ISO_SECTOR + size > iso->file_size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: path table at sector %u, %u bytes, is empty, larger "
                                    "than %u bytes or past the end of the file", iso->file->path, lba, size,
                                    PATH_TABLE_MAX);
    uint8_t *t = malloc(size);
    if (!t)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", iso->file->path);
    int r = vdisk_file_pread(iso->file, t, size, (uint64_t)lba * ISO_SECTOR, err);
    if (r == 0)
        r = parse(iso, t, size, joliet, entries, n, err);
    free(t);
    return r;
}
