/* Unit tests for core/qcow2/driver.c: info fields, the lazy-refcounts
 * dirty bit, autoclear bits, opening without the backing file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>
#include "qcow2/qcow2.h"

static uint64_t
header_u64(const char *path, long off)
{
    FILE *f = fopen(path, "rb");
    uint8_t b[8];
    fseek(f, off, SEEK_SET);
    assert_int_equal(fread(b, 1, 8, f), 8);
    fclose(f);
    return qcow2_be64(b);
}

static void
test_info(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "i.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "extended_l2=on,cluster_size=128k,refcount_bits=32,"
                                  "compression_type=zstd,lazy_refcounts=on", 1 << 30, 0);
    vdisk_info info;
    vdisk_error err;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    assert_int_equal(info.format, VDISK_FORMAT_QCOW2);
    assert_int_equal(info.qcow2_version, 3);
    assert_int_equal(info.cluster_size, 131072);
    assert_int_equal(info.refcount_bits, 32);
    assert_true(info.extended_l2);
    assert_true(info.lazy_refcounts);
    assert_false(info.dirty);
    assert_false(info.corrupt);
    assert_string_equal(info.compression_type, "zstd");
    assert_null(info.backing_file);
    vdisk_info_clear(&info);
    assert_int_equal(vdisk_get_cluster_size(img), 131072);
    vdisk_close(img, &err);
    unlink(path);
}

static void
test_lazy_dirty_bit(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "lazy.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "lazy_refcounts=on", 16 << 20, VDISK_OPEN_RDWR);
    vdisk_error err;
    assert_true((header_u64(path, 72) & 1) == 0);
    uint8_t b[1000];
    memset(b, 1, sizeof(b));
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 5000, &err), 0);
    /* Set on disk before the first metadata change... */
    assert_true((header_u64(path, 72) & 1) == 1);
    vdisk_info info;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    assert_true(info.dirty);
    vdisk_info_clear(&info);
    /* ...and another writer is refused while it is set (by the image
     * lock, which a second descriptor meets first). */
    vdisk_open_opts rw = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    vdisk_image *other;
    assert_int_equal(vdisk_open(path, &rw, &other, &err), -EBUSY);
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_true((header_u64(path, 72) & 1) == 0);   /* cleared on clean close */
    assert_int_equal(vdisk_open(path, &rw, &other, &err), 0);
    vdisk_close(other, &err);
    unlink(path);
}

static void
test_no_lazy_no_dirty_bit(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "nolazy.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 16 << 20, VDISK_OPEN_RDWR);
    vdisk_error err;
    uint8_t b[1000];
    memset(b, 1, sizeof(b));
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 5000, &err), 0);
    assert_true((header_u64(path, 72) & 1) == 0);
    vdisk_close(img, &err);
    unlink(path);
}

static void
test_autoclear_cleared_only_when_writable(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "ac.qcow2");
    vdisk_error err;
    vdisk_close(unit_make_qcow2(path, NULL, 16 << 20, 0), &err);
    FILE *f = fopen(path, "r+b");
    uint8_t v[8];
    qcow2_put_be64(v, 3);
    fseek(f, 88, SEEK_SET);
    fwrite(v, 1, 8, f);
    fclose(f);
    vdisk_open_opts ro = { .format = VDISK_FORMAT_QCOW2, .flags = 0 },
                    rw = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    assert_int_equal(vdisk_open(path, &ro, &img, &err), 0);
    vdisk_close(img, &err);
    assert_true(header_u64(path, 88) == 3);
    assert_int_equal(vdisk_open(path, &rw, &img, &err), 0);
    vdisk_close(img, &err);
    /* Bit 0 (bitmaps) without a bitmaps extension goes too. */
    assert_true(header_u64(path, 88) == 0);
    unlink(path);
}

static void
test_missing_backing(void **state)
{
    char base[512], top[512];
    unit_tmpname(base, sizeof(base), "mb-base.qcow2");
    unit_tmpname(top, sizeof(top), "mb-top.qcow2");
    vdisk_error err;
    vdisk_close(unit_make_qcow2(base, NULL, 1 << 20, 0), &err);
    char opts[1100];
    snprintf(opts, sizeof(opts), "backing_file=%s,backing_fmt=qcow2", base);
    vdisk_close(unit_make_qcow2(top, opts, 0, 0), &err);
    unlink(base);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = 0 };
    vdisk_image *img;
    assert_true(vdisk_open(top, &oo, &img, &err) < 0);
    assert_non_null(strstr(err.message, "backing"));
    oo.flags = VDISK_OPEN_NO_BACKING;
    assert_int_equal(vdisk_open(top, &oo, &img, &err), 0);
    assert_null(vdisk_get_backing(img));
    vdisk_close(img, &err);
    unlink(top);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_lazy_dirty_bit),
        cmocka_unit_test(test_no_lazy_no_dirty_bit),
        cmocka_unit_test(test_autoclear_cleared_only_when_writable),
        cmocka_unit_test(test_missing_backing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
