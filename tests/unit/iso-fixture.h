/* Helpers of the ISO 9660 unit tests (header only: every test program
 * compiles just fixture.c beside itself).  Include after fixture.h. */
#ifndef VDISK_UNIT_ISO_FIXTURE_H
#define VDISK_UNIT_ISO_FIXTURE_H

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vdisk/vdisk.h>
#include "iso9660/iso9660.h"

#define ISO_FIX_UNUSED __attribute__((unused))

/* Write `len` bytes to host file dir/rel (parents made). */
static ISO_FIX_UNUSED void
iso_fix_file(const char *dir, const char *rel, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* A small source tree under unit_tmpdir/src: files, a subdirectory, a
 * symlink, an executable. Returns the tree's path (static). */
static ISO_FIX_UNUSED const char *
iso_fix_tree(void)
{
    static char src[600];
    snprintf(src, sizeof(src), "%s/src", unit_tmpdir);
    mkdir(src, 0755);
    iso_fix_file(src, "user-data", "#cloud-config\n", 14);
    iso_fix_file(src, "sub/inner/data.bin", "0123456789", 10);
    iso_fix_file(src, "empty", "", 0);
    iso_fix_file(src, "run.sh", "#!/bin/sh\n", 10);
    char p[700];
    snprintf(p, sizeof(p), "%s/run.sh", src);
    chmod(p, 0755);
    snprintf(p, sizeof(p), "%s/sub/link", src);
    assert_int_equal(symlink("../user-data", p), 0);
    return src;
}

/* Build path from the sources with default options and a fixed date. */
static ISO_FIX_UNUSED void
iso_fix_build(const char *path, const char *src, void (*tweak)(vdisk_iso_create_opts *))
{
    vdisk_iso_create_opts o;
    vdisk_iso_create_opts_init(&o);
    o.fixed_date = true;
    o.date = 1700000000;
    if (tweak)
        tweak(&o);
    vdisk_iso_source s = { .src = src };
    vdisk_error err;
    int r = vdisk_iso_create(path, &o, &s, 1, NULL, NULL, &err);
    if (r != 0)
        fail_msg("iso create %s: %s", path, err.message);
}

/* A minimal image: PVD at 16, terminator at 17, root directory at 18
 * holding "." and ".." then the given records (concatenated, within one
 * sector), and `data_sectors` zero sectors after. */
static ISO_FIX_UNUSED void
iso_fix_raw(const char *path, const uint8_t *records, size_t len, unsigned data_sectors)
{
    size_t total = (19 + data_sectors) * ISO_SECTOR;
    uint8_t *img = calloc(1, total);
    uint8_t root[34];
    iso_dirrec_encode(root, 18, ISO_SECTOR, ISO_FLAG_DIR, 0, (const uint8_t *)"\0", 1, NULL, 0);
    iso_vd_spec s = { .type = ISO_VD_PRIMARY, .volume_id = "RAW", .space_size = (uint32_t)(19 + data_sectors),
                      .root_record = root, .date = 1700000000 };
    iso_descriptor_build(img + 16 * ISO_SECTOR, &s);
    iso_terminator_build(img + 17 * ISO_SECTOR);
    uint8_t *d = img + 18 * ISO_SECTOR;
    size_t n = iso_dirrec_encode(d, 18, ISO_SECTOR, ISO_FLAG_DIR, 0, (const uint8_t *)"\0", 1, NULL, 0);
    n += iso_dirrec_encode(d + n, 18, ISO_SECTOR, ISO_FLAG_DIR, 0, (const uint8_t *)"\1", 1, NULL, 0);
    assert_true(n + len <= ISO_SECTOR);
    memcpy(d + n, records, len);
    unit_write_file(path, total, img, total, 0);
    free(img);
}

/* Append one record to buf at *len. */
static ISO_FIX_UNUSED void
iso_fix_rec(uint8_t *buf, size_t *len, uint32_t lba, uint32_t size, uint8_t flags, const char *id,
            const uint8_t *su, size_t su_len)
{
    *len += iso_dirrec_encode(buf + *len, lba, size, flags, 1700000000, (const uint8_t *)id, strlen(id),
                              su, su_len);
}

#endif
