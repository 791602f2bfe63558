/* Shared by the VMDK unit tests (test-vmdk-*.c): images made through the
 * public API, descriptors written by hand.  Include after cmocka.h and
 * fixture.h. */
#ifndef VDISK_UNIT_VMDK_FIXTURE_H
#define VDISK_UNIT_VMDK_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include <vdisk/vdisk.h>

#include "vmdk/vmdk.h"

/* Create a vmdk of `size` bytes with -o style options (NULL: defaults). */
static inline void
vmdk_make(const char *path, const char *opts, uint64_t size)
{
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VMDK);
    vdisk_error err;
    if (opts && vdisk_create_opts_parse(&o, opts, &err) < 0)
        fail_msg("%s", err.message);
    o.size = size;
    if (vdisk_create(path, &o, NULL, NULL, &err) < 0)
        fail_msg("%s", err.message);
    vdisk_create_opts_clear(&o);
}

/* Open path as vmdk (format named) with flags; fails the test on error. */
static inline vdisk_image *
vmdk_open_named(const char *path, unsigned flags)
{
    vdisk_open_opts oo = { .format = VDISK_FORMAT_VMDK, .flags = flags };
    vdisk_image *img;
    vdisk_error err;
    if (vdisk_open(path, &oo, &img, &err) < 0)
        fail_msg("%s", err.message);
    return img;
}

/* Open expecting failure: returns the error code, err filled. */
static inline int
vmdk_open_fails(const char *path, vdisk_format fmt, vdisk_error *err)
{
    vdisk_open_opts oo = { .format = fmt };
    vdisk_image *img = NULL;
    int r = vdisk_open(path, &oo, &img, err);
    if (r == 0) {
        vdisk_close(img, NULL);
        fail_msg("%s opened, but should not have", path);
    }
    return r;
}

static inline void
vmdk_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Patch bytes of a file in place. */
static inline void
vmdk_patch(const char *path, uint64_t off, const void *data, size_t len)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

#endif
