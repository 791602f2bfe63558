/* Unit tests for core/parallels/ (header.c, driver.c, check.c): images laid
 * out by hand from QEMU's docs/interop/parallels.txt, with both magics
 * (BAT in clusters or in sectors), the in-use mark and bad entries. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/vdisk.h>

#include "fixture.h"
#include "poke.h"

#define CS 4096u        /* 8 sectors per cluster */

static void
le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* 4 clusters; data area from cluster 1 of the file: guest cluster 0 at file
 * cluster 2 (0xc2), guest cluster 2 at file cluster 1 (0xc1). */
static const char *
make_hdd(bool old_magic, uint32_t inuse)
{
    static uint8_t f[3 * CS];
    memset(f, 0, sizeof(f));
    memcpy(f, old_magic ? "WithoutFreeSpace" : "WithouFreSpacExt", 16);
    le(f + 16, 2, 4);
    le(f + 28, CS / 512, 4);
    le(f + 32, 4, 4);
    le(f + 36, 4 * CS / 512, 8);
    le(f + 44, inuse, 4);
    le(f + 48, CS / 512, 4);
    uint32_t unit = old_magic ? 512 : CS;
    le(f + 64, 2 * CS / unit, 4);
    le(f + 72, 1 * CS / unit, 4);
    memset(f + CS, 0xc1, CS);
    memset(f + 2 * CS, 0xc2, CS);
    const char *path = unit_path(0, "t.hdd");
    unit_write_file(path, sizeof(f), f, sizeof(f), 0);
    return path;
}

static int
open_hdd(const char *path, unsigned flags, vdisk_image **img, vdisk_error *err)
{
    vdisk_open_opts o = { .format = VDISK_FORMAT_PARALLELS, .flags = flags };
    return vdisk_open(path, &o, img, err);
}

static void
reads(bool old_magic)
{
    vdisk_image *img;
    assert_int_equal(open_hdd(make_hdd(old_magic, 0), 0, &img, NULL), 0);
    static uint8_t buf[4 * CS];
    assert_int_equal(vdisk_pread(img, buf, sizeof(buf), 0, NULL), 0);
    for (size_t i = 0; i < sizeof(buf); i++) {
        uint8_t want = i < CS ? 0xc2 : i >= 2 * CS && i < 3 * CS ? 0xc1 : 0;
        if (buf[i] != want)
            fail_msg("byte %zu: %#x, want %#x", i, buf[i], want);
    }
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 0, 4 * CS, &e, NULL), 0);
    assert_int_equal(e.host_offset, 2 * CS);
    assert_int_equal(e.length, CS);
    vdisk_close(img, NULL);
}

static void
test_both_magics(void **state)
{
    reads(false);
    reads(true);
}

static void
test_in_use_and_check(void **state)
{
    vdisk_image *img;
    assert_int_equal(open_hdd(make_hdd(false, 0x746f6e59), 0, &img, NULL), 0);  /* read as it is */
    vdisk_check_result res;
    assert_int_equal(vdisk_check(img, 0, &res, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(res.corruptions, 1);
    assert_int_equal(res.allocated_clusters, 2);
    assert_int_equal(res.fragmented_clusters, 0);   /* prev entry was free */
    assert_int_equal(res.image_end_offset, 3 * CS);
    assert_int_equal(res.leaks, 0);
    vdisk_close(img, NULL);
}

static void
test_bad_entry(void **state)
{
    const char *path = make_hdd(false, 0);
    uint8_t b[4];
    le(b, 1000, 4);                                  /* cluster 1000: past the file */
    poke_bytes(path, 68, b, 4);
    vdisk_image *img;
    vdisk_error err = { 0 };
    assert_int_equal(open_hdd(path, 0, &img, &err), -EINVAL);
    assert_non_null(strstr(err.message, "BAT entry 1 points at"));
    assert_int_equal(open_hdd(path, VDISK_OPEN_CHECK, &img, NULL), 0);
    vdisk_check_result res;
    assert_int_equal(vdisk_check(img, 0, &res, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(res.corruptions, 1);
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_both_magics, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_in_use_and_check, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_entry, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
