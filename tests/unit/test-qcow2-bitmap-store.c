/* Unit tests for core/qcow2/bitmap-store.c: at close each loaded bitmap
 * gets new clusters (an all-zero data cluster is a zero entry), the
 * directory moves, the old clusters are freed (no leak), and what was set
 * survives the next session. */
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
#include "poke.h"
#include <vdisk/vdisk.h>

#include "bitmap-poke.h"

static void
test_zero_data_is_zero_entry(void **state)
{
    (void)state;
    static const struct bm_spec v[] = { { "z", 16, 2, 0x00, 0 } };   /* a data cluster of zeros */
    const char *p = bm_make_image("z.qcow2", v, 1);
    uint64_t dir = peek_be(p, bm_ext_pos(p) + 24, 8);
    vdisk_error err;
    assert_int_equal(vdisk_close(bm_open_rw(p), &err), 0);
    assert_int_equal(bm_table_entry(p, 0), 0);
    assert_true(peek_be(p, bm_ext_pos(p) + 24, 8) != dir);
    bm_assert_clean(p);
}

static void
test_all_ones_entry_kept(void **state)
{
    (void)state;
    static const struct bm_spec v[] = { { "ones", 16, 0, -1, 1 } };   /* disabled, all ones */
    const char *p = bm_make_image("o.qcow2", v, 1);
    vdisk_error err;
    assert_int_equal(vdisk_close(bm_open_rw(p), &err), 0);
    assert_int_equal(bm_data_byte(p, 0, 0), 0xff);
    assert_int_equal(bm_data_byte(p, 0, 127), 0xff);   /* 1024 bits for 64 MiB */
    assert_int_equal(bm_data_byte(p, 0, 128), 0);
    bm_assert_clean(p);
}

static void
test_sessions_accumulate_without_leaks(void **state)
{
    (void)state;
    static const struct bm_spec v[] = { { "a", 16, 2, 0x10, 0 }, { "b", 20, 2, -1, 0 } };
    const char *p = bm_make_image("s.qcow2", v, 2);
    uint8_t b[512] = { 7 };
    vdisk_error err;
    for (int round = 0; round < 3; round++) {
        vdisk_image *img = bm_open_rw(p);
        assert_int_equal(vdisk_pwrite(img, b, sizeof(b), (uint64_t)round << 20, &err), 0);
        assert_int_equal(vdisk_close(img, &err), 0);
        bm_assert_clean(p);
    }
    /* bits 0, 16, 32 at 64 KiB plus the 0x10 poked into every byte */
    assert_int_equal(bm_data_byte(p, 0, 0), 0x11);
    assert_int_equal(bm_data_byte(p, 0, 2), 0x11);
    assert_int_equal(bm_data_byte(p, 0, 4), 0x11);
    assert_int_equal(bm_data_byte(p, 0, 3), 0x10);
    assert_int_equal(bm_data_byte(p, 1, 0), 0x07);      /* 1 MiB granularity: bits 0-2 */
    assert_int_equal(bm_flags(p, 0), 2);
    assert_int_equal(bm_flags(p, 1), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_zero_data_is_zero_entry, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_all_ones_entry_kept, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_sessions_accumulate_without_leaks, unit_setup,
                                        unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
