/* Unit tests for core/qcow2/refcount-order.c: every width and back on an
 * image with data and a snapshot (the header's refcount_order field, the
 * data read back, vdisk_check clean), refcounts the new width cannot hold
 * refused with the file untouched, and a cancelled change giving back what
 * it allocated. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>
#include "qcow2/qcow2.h"

static uint32_t
header_order(const char *path)
{
    uint8_t h[104];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(h, 1, sizeof(h), f), sizeof(h));
    fclose(f);
    return qcow2_be32(h + 96);
}

static void
assert_clean(vdisk_image *img)
{
    vdisk_check_result res;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_check(img, 0, &res, NULL, NULL, NULL, &err), 0);
    assert_int_equal(res.corruptions, 0);
    assert_int_equal(res.leaks, 0);
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    char *b = malloc(*len);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void
test_every_width(void **state)
{
    (void)state;
    const char *path = unit_path(0, "w.qcow2");
    vdisk_error err = { 0 };
    vdisk_image *img = unit_make_qcow2(path, "cluster_size=4096", 8 * MiB, VDISK_OPEN_RDWR);
    static uint8_t d[512 * 1024], back[sizeof(d)];
    unit_pattern(d, sizeof(d), 7);
    assert_int_equal(vdisk_pwrite(img, d, sizeof(d), 0, &err), 0);
    assert_int_equal(vdisk_snapshot_create(img, "s", &err), 0);
    assert_int_equal(vdisk_pwrite(img, d, 8192, 4 * MiB, &err), 0);
    static const int widths[] = { 2, 4, 8, 32, 64, 16, 64, 2, 16 };
    for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
        vdisk_amend_opts o = { .lazy_refcounts = -1, .refcount_bits = widths[i] };
        assert_int_equal(vdisk_amend(img, &o, &err), 0);
        assert_clean(img);
        assert_int_equal(vdisk_pread(img, back, sizeof(back), 0, &err), 0);
        assert_memory_equal(back, d, sizeof(d));
        vdisk_info info;
        assert_int_equal(vdisk_get_info(img, &info, &err), 0);
        assert_int_equal(info.refcount_bits, widths[i]);
        vdisk_info_clear(&info);
        assert_int_equal(1u << header_order(path), widths[i]);
    }
    assert_int_equal(vdisk_close(img, &err), 0);
}

static void
test_too_narrow_untouched(void **state)
{
    (void)state;
    const char *path = unit_path(0, "n.qcow2");
    vdisk_error err = { 0 };
    vdisk_image *img = unit_make_qcow2(path, NULL, MiB, VDISK_OPEN_RDWR);
    uint8_t d[65536];
    unit_pattern(d, sizeof(d), 1);
    assert_int_equal(vdisk_pwrite(img, d, sizeof(d), 0, &err), 0);
    assert_int_equal(vdisk_snapshot_create(img, "s", &err), 0);
    assert_int_equal(vdisk_flush(img, &err), 0);
    size_t n1, n2;
    char *before = slurp(path, &n1);
    vdisk_amend_opts o = { .lazy_refcounts = -1, .refcount_bits = 1 };
    assert_int_equal(vdisk_amend(img, &o, &err), -EINVAL);
    assert_non_null(strstr(err.message, "Cannot decrease refcount entry width to 1 bits"));
    assert_non_null(strstr(err.message, "has a refcount of 2"));
    char *after = slurp(path, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(before, after, n1);
    free(before);
    free(after);
    o.refcount_bits = 3;
    assert_int_equal(vdisk_amend(img, &o, &err), -EINVAL);
    assert_non_null(strstr(err.message, "power of two"));
    assert_int_equal(vdisk_close(img, &err), 0);
}

static int
cancel_at_once(void *opaque, uint64_t done, uint64_t total)
{
    (void)opaque, (void)done, (void)total;
    return 1;
}

static void
test_cancel_gives_back(void **state)
{
    (void)state;
    const char *path = unit_path(0, "c.qcow2");
    vdisk_error err = { 0 };
    vdisk_image *img = unit_make_qcow2(path, NULL, MiB, VDISK_OPEN_RDWR);
    uint8_t d[65536];
    unit_pattern(d, sizeof(d), 2);
    assert_int_equal(vdisk_pwrite(img, d, sizeof(d), 0, &err), 0);
    vdisk_amend_opts o = { .lazy_refcounts = -1, .refcount_bits = 8,
                           .progress = cancel_at_once };
    assert_int_equal(vdisk_amend(img, &o, &err), -ECANCELED);
    assert_clean(img);
    assert_int_equal(header_order(path), 4);
    assert_int_equal(vdisk_close(img, &err), 0);
}

static void
test_version2_only_16(void **state)
{
    (void)state;
    vdisk_error err = { 0 };
    vdisk_image *img = unit_make_qcow2(unit_path(0, "v2.qcow2"), "compat=0.10", MiB,
                                       VDISK_OPEN_RDWR);
    vdisk_amend_opts o = { .lazy_refcounts = -1, .refcount_bits = 8 };
    assert_int_equal(vdisk_amend(img, &o, &err), -EINVAL);
    assert_non_null(strstr(err.message, "compatibility level 1.1"));
    o = (vdisk_amend_opts){ .qcow2_version = 3, .lazy_refcounts = -1, .refcount_bits = 8 };
    assert_int_equal(vdisk_amend(img, &o, &err), 0);
    assert_clean(img);
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_int_equal(header_order(unit_path(0, "v2.qcow2")), 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_width, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_too_narrow_untouched, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_gives_back, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_version2_only_16, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
