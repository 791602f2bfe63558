/* Unit tests for core/qcow2/amend.c: version changes seen through the
 * header fields on disk (bytes 4..7 version, 80..87 compatible features),
 * zero clusters gone after a downgrade, and qemu-img's refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>
#include "qcow2/qcow2.h"

static void
header(const char *path, uint8_t *h, size_t n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(h, 1, n, f), n);
    fclose(f);
}

static void
test_downgrade_upgrade(void **state)
{
    const char *path = unit_path(0, "a.qcow2");
    vdisk_error err = { 0 };
    vdisk_image *img = unit_make_qcow2(path, NULL, MiB, VDISK_OPEN_RDWR);
    uint8_t d[4096];
    unit_pattern(d, sizeof(d), 3);
    assert_int_equal(vdisk_pwrite(img, d, sizeof(d), 0, &err), 0);
    assert_int_equal(vdisk_write_zeroes(img, 65536, 65536, 0, &err), 0);
    vdisk_amend_opts o = { .qcow2_version = 2, .lazy_refcounts = -1 };
    assert_int_equal(vdisk_amend(img, &o, &err), 0);
    uint64_t e, bm;
    assert_int_equal(qcow2_l2_lookup(img->priv, 1, &e, &bm, &err), 0);
    assert_false(e & QCOW_OFLAG_ZERO);
    assert_int_equal(vdisk_close(img, &err), 0);
    uint8_t h[112];
    header(path, h, sizeof(h));
    assert_int_equal(h[7], 2);
    vdisk_open_opts rw = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    assert_int_equal(vdisk_open(path, &rw, &img, &err), 0);
    uint8_t back[4096];
    assert_int_equal(vdisk_pread(img, back, sizeof(back), 0, &err), 0);
    assert_memory_equal(back, d, sizeof(d));
    o = (vdisk_amend_opts){ .qcow2_version = 3, .lazy_refcounts = 1 };
    assert_int_equal(vdisk_amend(img, &o, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    header(path, h, sizeof(h));
    assert_int_equal(h[7], 3);
    assert_int_equal(h[87], 1);           /* lazy refcounts bit */
    assert_int_equal(h[103], 112);        /* header length */
}

static void
test_refusals(void **state)
{
    vdisk_error err = { 0 };
    vdisk_image *img = unit_make_qcow2(unit_path(0, "r8.qcow2"), "refcount_bits=8", MiB,
                                       VDISK_OPEN_RDWR);
    vdisk_amend_opts o = { .qcow2_version = 2, .lazy_refcounts = -1 };
    assert_int_equal(vdisk_amend(img, &o, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "refcount_bits=16"));
    o = (vdisk_amend_opts){ .qcow2_version = 2, .lazy_refcounts = 1 };
    assert_int_equal(vdisk_amend(img, &o, &err), -EINVAL);
    assert_non_null(strstr(err.message, "Lazy refcounts"));
    vdisk_close(img, &err);
    img = unit_make_qcow2(unit_path(1, "x.qcow2"), "extended_l2=on", MiB, VDISK_OPEN_RDWR);
    o = (vdisk_amend_opts){ .qcow2_version = 2, .lazy_refcounts = -1 };
    assert_int_equal(vdisk_amend(img, &o, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "0x10"));
    vdisk_close(img, &err);
}

/* size and backing_file/backing_format: the resize code, QEMU's refusals. */
static void
test_size_and_backing(void **state)
{
    (void)state;
    const char *path = unit_path(0, "s.qcow2");
    vdisk_error err = { 0 };
    vdisk_image *img = unit_make_qcow2(path, NULL, 4 * MiB, VDISK_OPEN_RDWR);
    uint8_t d[4096], back[4096];
    unit_pattern(d, sizeof(d), 5);
    assert_int_equal(vdisk_pwrite(img, d, sizeof(d), 0, &err), 0);
    vdisk_amend_opts o = { .lazy_refcounts = -1, .size = 8 * MiB };
    assert_int_equal(vdisk_amend(img, &o, &err), 0);
    assert_int_equal(vdisk_get_size(img), 8 * MiB);
    o.size = MiB;   /* amend shrinks without being asked twice, as qemu-img */
    assert_int_equal(vdisk_amend(img, &o, &err), 0);
    assert_int_equal(vdisk_get_size(img), MiB);
    assert_int_equal(vdisk_pread(img, back, sizeof(back), 0, &err), 0);
    assert_memory_equal(back, d, sizeof(d));
    o.size = 1000;
    assert_int_equal(vdisk_amend(img, &o, &err), -EINVAL);
    assert_non_null(strstr(err.message, "multiple of 512"));
    o = (vdisk_amend_opts){ .lazy_refcounts = -1, .backing_file = "b.qcow2" };
    assert_int_equal(vdisk_amend(img, &o, &err), -EINVAL);
    assert_non_null(strstr(err.message, "Cannot amend the backing file"));
    /* Refused before the upgrade that QEMU would already have done. */
    o = (vdisk_amend_opts){ .qcow2_version = 2, .lazy_refcounts = -1, .backing_format = "raw" };
    assert_int_equal(vdisk_amend(img, &o, &err), -EINVAL);
    assert_int_equal(vdisk_close(img, &err), 0);
    uint8_t h[8];
    header(path, h, sizeof(h));
    assert_int_equal(h[7], 3);
}

/* Unlike resize --shrink, amend shrinks an image with snapshots, as qemu-img;
 * the snapshot keeps its size and data. */
static void
test_shrink_with_snapshot(void **state)
{
    (void)state;
    vdisk_error err = { 0 };
    vdisk_image *img = unit_make_qcow2(unit_path(0, "sn.qcow2"), NULL, 4 * MiB, VDISK_OPEN_RDWR);
    uint8_t d[65536], back[65536];
    unit_pattern(d, sizeof(d), 9);
    assert_int_equal(vdisk_pwrite(img, d, sizeof(d), 3 * MiB, &err), 0);
    assert_int_equal(vdisk_snapshot_create(img, "s", &err), 0);
    assert_int_equal(vdisk_resize(img, MiB, true, VDISK_PREALLOC_OFF, NULL, NULL, &err),
                     -ENOTSUP);
    vdisk_amend_opts o = { .lazy_refcounts = -1, .size = MiB };
    assert_int_equal(vdisk_amend(img, &o, &err), 0);
    assert_int_equal(vdisk_get_size(img), MiB);
    vdisk_check_result res;
    assert_int_equal(vdisk_check(img, 0, &res, NULL, NULL, NULL, &err), 0);
    assert_int_equal(res.corruptions + res.leaks, 0);
    assert_int_equal(vdisk_snapshot_apply(img, "s", &err), 0);
    assert_int_equal(vdisk_get_size(img), 4 * MiB);
    assert_int_equal(vdisk_pread(img, back, sizeof(back), 3 * MiB, &err), 0);
    assert_memory_equal(back, d, sizeof(d));
    assert_int_equal(vdisk_close(img, &err), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_downgrade_upgrade, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_size_and_backing, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_shrink_with_snapshot, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
