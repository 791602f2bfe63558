/* Unit tests for core/iso9660/rrip.c: the Rock Ridge entries written. */
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
#include "iso-fixture.h"

static void
test_px_tf_nm(void **state)
{
    iso_buf b = { 0 };
    iso_rr_attrs a = { .mode = 0100555, .nlink = 1, .mtime = 1700000000, .name = "run.sh" };
    assert_int_equal(iso_rrip_entries(&b, &a), 0);
    /* PX (RRIP 1.09, 36 bytes), TF with 3 short stamps (26), NM (5 + 6). */
    assert_int_equal(b.len, 36 + 26 + 11);
    assert_memory_equal(b.data, "PX\x24\x01", 4);
    assert_int_equal(iso_le32(b.data + 4), 0100555);
    assert_int_equal(iso_be32(b.data + 8), 0100555);
    assert_int_equal(iso_le32(b.data + 20), 0);   /* uid */
    assert_memory_equal(b.data + 36, "TF\x1a\x01\x0e", 5);
    assert_memory_equal(b.data + 62, "NM\x0b\x01\x00run.sh", 11);
    iso_buf_free(&b);
}

static void
test_symlink_components(void **state)
{
    iso_buf b = { 0 };
    iso_rr_attrs a = { .mode = 0120777, .nlink = 1, .link = "/a/../b" };
    assert_int_equal(iso_rrip_entries(&b, &a), 0);
    const uint8_t *sl = b.data + 62;
    /* flags 0; root (0x08), "a", parent (0x04), "b" */
    const uint8_t want[] = { 'S', 'L', 15, 1, 0, 0x08, 0, 0, 1, 'a', 0x04, 0, 0, 1, 'b' };
    assert_int_equal(b.len, 62 + sizeof(want));
    assert_memory_equal(sl, want, sizeof(want));
    iso_buf_free(&b);
}

static void
test_root_and_ce(void **state)
{
    iso_buf sp = { 0 }, er = { 0 };
    assert_int_equal(iso_rrip_root_entries(&sp, &er), 0);
    assert_memory_equal(sp.data, "SP\x07\x01\xbe\xef\x00", 7);
    assert_memory_equal(er.data, "ER", 2);
    assert_int_equal(er.data[2], er.len);
    assert_int_equal(er.data[4], 10);
    assert_memory_equal(er.data + 8, "RRIP_1991A", 10);
    uint8_t ce[28];
    iso_rrip_ce(ce, 40, 100, 237);
    assert_memory_equal(ce, "CE\x1c\x01", 4);
    assert_int_equal(iso_le32(ce + 4), 40);
    assert_int_equal(iso_be32(ce + 16), 100);
    assert_int_equal(iso_le32(ce + 20), 237);
    iso_buf_free(&sp);
    iso_buf_free(&er);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_px_tf_nm),
        cmocka_unit_test(test_symlink_components),
        cmocka_unit_test(test_root_and_ce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
