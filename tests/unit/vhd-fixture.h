/* Helpers of the VHD and VHDX unit tests: create through the public API,
 * open, poke bytes.  Include after cmocka.h and fixture.h. */
#ifndef VDISK_UNIT_VHD_FIXTURE_H
#define VDISK_UNIT_VHD_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include <vdisk/vdisk.h>

/* Create `path` in format fmt with "-o" style options; fails the test on
 * error. */
static inline void
vhd_create(const char *path, vdisk_format fmt, const char *opts, uint64_t size)
{
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, fmt);
    o.size = size;
    vdisk_error err;
    if ((opts && *opts && vdisk_create_opts_parse(&o, opts, &err) < 0) ||
        vdisk_create(path, &o, NULL, NULL, &err) < 0)
        fail_msg("create %s: %s", path, err.message);
    vdisk_create_opts_clear(&o);
}

/* Open or fail; flags VDISK_OPEN_*. */
static inline vdisk_image *
vhd_open(const char *path, vdisk_format fmt, unsigned flags)
{
    vdisk_open_opts oo = { .format = fmt, .flags = flags };
    vdisk_image *img;
    vdisk_error err;
    if (vdisk_open(path, &oo, &img, &err) < 0)
        fail_msg("open %s: %s", path, err.message);
    return img;
}

/* Open that must fail with `want` in the message; returns the errno. */
static inline int
vhd_open_fails(const char *path, vdisk_format fmt, unsigned flags, const char *want)
{
    vdisk_open_opts oo = { .format = fmt, .flags = flags };
    vdisk_image *img = NULL;
    vdisk_error err;
    int r = vdisk_open(path, &oo, &img, &err);
    if (r == 0) {
        vdisk_close(img, NULL);
        fail_msg("open %s succeeded; expected '%s'", path, want);
    }
    if (!strstr(err.message, want))
        fail_msg("'%s' lacks '%s'", err.message, want);
    return r;
}

static inline void
vhd_poke(const char *path, long off, const void *data, size_t len)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, off, off < 0 ? SEEK_END : SEEK_SET), 0);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static inline void
vhd_peek(const char *path, long off, void *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, off, off < 0 ? SEEK_END : SEEK_SET), 0);
    assert_int_equal(fread(data, 1, len, f), len);
    fclose(f);
}

#endif
