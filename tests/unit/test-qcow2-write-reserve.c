/* Unit tests for core/qcow2/write-reserve.c: writes in two steps
 * (vdisk_write_reserve) lay an image out as the same writes made one after
 * another in the order of the reservations, whatever order their data is
 * written in; a reservation given up leaks nothing; images the split does
 * not cover say so (-ENOTSUP) and keep nothing reserved. */
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
#include "driver.h"

#define SIZE (16u << 20)

/* Ranges as convert's jobs make them: cluster-aligned runs with holes
 * between, one ending at the image end. */
static const struct { uint64_t off, len; } ranges[] = {
    { 0, 64 << 10 },
    { 192 << 10, 1 << 20 },
    { (4 << 20) + (64 << 10), 128 << 10 },
    { 8 << 20, 3 << 20 },
    { SIZE - (256 << 10), 256 << 10 },
};
#define NRANGES (sizeof(ranges) / sizeof(ranges[0]))

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void
test_layout_as_writes_in_order(void **state)
{
    (void)state;
    char split[512], plain[512];
    unit_tmpname(split, sizeof(split), "split.qcow2");
    unit_tmpname(plain, sizeof(plain), "plain.qcow2");
    vdisk_image *a = unit_make_qcow2(split, NULL, SIZE, VDISK_OPEN_RDWR);
    vdisk_image *b = unit_make_qcow2(plain, NULL, SIZE, VDISK_OPEN_RDWR);
    uint8_t *data = malloc(SIZE);
    unit_fill(data, SIZE, 7);
    vdisk_error err;
    vdisk_reservation *res[NRANGES];
    for (size_t i = 0; i < NRANGES; i++)
        assert_int_equal(vdisk_write_reserve(a, ranges[i].len, ranges[i].off, &res[i], &err), 0);
    /* the data in the reverse order of the reservations */
    for (size_t i = NRANGES; i-- > 0;)
        assert_int_equal(vdisk_write_reserved(a, res[i], data + ranges[i].off, &err), 0);
    for (size_t i = 0; i < NRANGES; i++)
        assert_int_equal(vdisk_pwrite(b, data + ranges[i].off, ranges[i].len, ranges[i].off, &err), 0);
    uint8_t *got = malloc(SIZE);
    assert_int_equal(vdisk_pread(a, got, SIZE, 0, &err), 0);
    for (size_t i = 0; i < NRANGES; i++)
        assert_memory_equal(got + ranges[i].off, data + ranges[i].off, ranges[i].len);
    unit_assert_clean(a);
    assert_int_equal(vdisk_close(a, &err), 0);
    assert_int_equal(vdisk_close(b, &err), 0);
    size_t la, lb;
    uint8_t *fa = read_file(split, &la), *fb = read_file(plain, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(fa, fb, la);
    free(fa);
    free(fb);
    free(got);
    free(data);
    unlink(split);
    unlink(plain);
}

static void
test_overwrite_in_place_and_preallocated(void **state)
{
    (void)state;
    char path[512];
    unit_tmpname(path, sizeof(path), "meta.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "preallocation=metadata", SIZE, VDISK_OPEN_RDWR);
    uint8_t *data = malloc(SIZE);
    unit_fill(data, SIZE, 9);
    vdisk_error err;
    /* a first copy fills clusters that preallocation made, a second one
     * writes them in place; both split */
    for (int pass = 0; pass < 2; pass++) {
        vdisk_reservation *res[NRANGES];
        for (size_t i = 0; i < NRANGES; i++)
            assert_int_equal(vdisk_write_reserve(img, ranges[i].len, ranges[i].off, &res[i], &err), 0);
        for (size_t i = NRANGES; i-- > 0;)
            assert_int_equal(vdisk_write_reserved(img, res[i], data + ranges[i].off, &err), 0);
        unit_fill(data, SIZE, 10);
    }
    uint8_t *got = malloc(SIZE);
    assert_int_equal(vdisk_pread(img, got, SIZE, 0, &err), 0);
    for (size_t i = 0; i < NRANGES; i++)
        assert_memory_equal(got + ranges[i].off, data + ranges[i].off, ranges[i].len);
    unit_assert_clean(img);
    assert_int_equal(vdisk_close(img, &err), 0);
    free(got);
    free(data);
    unlink(path);
}

static void
test_cancel_leaks_nothing(void **state)
{
    (void)state;
    char path[512];
    unit_tmpname(path, sizeof(path), "cancel.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, SIZE, VDISK_OPEN_RDWR);
    vdisk_error err;
    vdisk_reservation *res;
    assert_int_equal(vdisk_write_reserve(img, 2 << 20, 1 << 20, &res, &err), 0);
    vdisk_write_cancel(img, res);
    /* the range reads as before, and a plain write of it does not wait
     * for the reservation given up */
    uint8_t *buf = malloc(2 << 20);
    assert_int_equal(vdisk_pread(img, buf, 2 << 20, 1 << 20, &err), 0);
    for (size_t i = 0; i < 2 << 20; i++)
        if (buf[i])
            fail_msg("byte %zu of a cancelled range reads %u", i, buf[i]);
    unit_fill(buf, 2 << 20, 3);
    assert_int_equal(vdisk_pwrite(img, buf, 2 << 20, 1 << 20, &err), 0);
    unit_assert_clean(img);
    assert_int_equal(vdisk_close(img, &err), 0);
    free(buf);
    unlink(path);
}

static void
test_unsplittable_images(void **state)
{
    (void)state;
    char path[512];
    unit_tmpname(path, sizeof(path), "ext.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "extended_l2=on", SIZE, VDISK_OPEN_RDWR);
    vdisk_error err;
    vdisk_reservation *res = (vdisk_reservation *)&err;
    assert_int_equal(vdisk_write_reserve(img, 1 << 20, 0, &res, &err), -ENOTSUP);
    assert_null(res);
    unit_assert_clean(img);
    assert_int_equal(vdisk_close(img, &err), 0);
    unlink(path);
    /* read-only handles are refused as writes are */
    img = unit_make_qcow2(path, NULL, SIZE, 0);
    assert_int_equal(vdisk_write_reserve(img, 1 << 20, 0, &res, &err), -EROFS);
    assert_int_equal(vdisk_close(img, &err), 0);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_as_writes_in_order),
        cmocka_unit_test(test_overwrite_in_place_and_preallocated),
        cmocka_unit_test(test_cancel_leaks_nothing),
        cmocka_unit_test(test_unsplittable_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
