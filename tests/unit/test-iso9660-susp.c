/* Unit tests for core/iso9660/susp.c: the SUSP / Rock Ridge parser. */
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

static iso_rr rr;

static int
parse(const iso_buf *b, vdisk_error *err)
{
    return iso_susp_parse(b->data, b->len, NULL, NULL, 0, "cd.iso: rec", &rr, err);
}

static void
test_entries(void **state)
{
    iso_buf b = { 0 };
    iso_rr_attrs a = { .mode = 0120777, .nlink = 1, .mtime = 1700000000, .name = "my-link",
                       .link = "/abs/../x/./y" };
    assert_int_equal(iso_rrip_entries(&b, &a), 0);
    vdisk_error err;
    assert_int_equal(parse(&b, &err), 0);
    assert_true(rr.rr && rr.has_px && rr.has_nm && rr.has_sl);
    assert_int_equal(rr.mode, 0120777);
    assert_int_equal(rr.nlink, 1);
    assert_int_equal(rr.mtime, 1700000000);
    assert_int_equal(rr.atime, 1700000000);
    assert_string_equal(rr.name, "my-link");
    assert_string_equal(rr.link, "/abs/../x/./y");
    iso_buf_free(&b);
}

static void
test_long_name_and_link_continue(void **state)
{
    char name[600], link[1500];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    for (size_t i = 0; i < sizeof(link) - 1; i++)
        link[i] = i % 300 == 299 ? '/' : 'a' + i % 26;
    link[sizeof(link) - 1] = '\0';
    iso_buf b = { 0 };
    iso_rr_attrs a = { .mode = 0120777, .nlink = 1, .name = name, .link = link };
    assert_int_equal(iso_rrip_entries(&b, &a), 0);
    for (size_t i = 0; i < b.len; i += b.data[i + 2])
        assert_true(b.data[i + 2] >= 4);
    assert_int_equal(parse(&b, NULL), 0);
    assert_string_equal(rr.name, name);
    assert_string_equal(rr.link, link);
    iso_buf_free(&b);
}

static void
test_bad_lengths(void **state)
{
    uint8_t e[] = { 'P', 'X', 2, 1, 0, 0 };
    iso_buf b = { e, sizeof(e), sizeof(e) };
    vdisk_error err;
    assert_int_equal(parse(&b, &err), -EINVAL);
    assert_non_null(strstr(err.message, "cd.iso: rec: SUSP entry PX at byte 0 has a length below 4"));
    e[2] = 40;
    assert_int_equal(parse(&b, &err), -EINVAL);
    assert_non_null(strstr(err.message, "runs past"));
    uint8_t px[8] = { 'P', 'X', 8, 1 };
    iso_buf b2 = { px, sizeof(px), sizeof(px) };
    assert_int_equal(parse(&b2, &err), -EINVAL);
    assert_non_null(strstr(err.message, "shorter than 36"));
    /* Zero padding ends the area quietly; so does ST. */
    uint8_t pad[6] = { 0 };
    iso_buf b3 = { pad, sizeof(pad), sizeof(pad) };
    assert_int_equal(parse(&b3, &err), 0);
    assert_false(rr.rr);
}

/* CE reader: serves `area` at any offset. */
static uint8_t area[64];
static size_t area_len;
static int
read_area(void *opaque, void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    memcpy(buf, area, len < area_len ? len : area_len);
    return 0;
}

static void
test_continuation(void **state)
{
    iso_buf nm = { 0 };
    iso_rr_attrs a = { .mode = 0100444, .nlink = 1, .name = "continued" };
    iso_rrip_entries(&nm, &a);
    memcpy(area, nm.data + 62, nm.len - 62);   /* the NM entry */
    area_len = nm.len - 62;
    uint8_t ce[28];
    iso_rrip_ce(ce, 30, 0, (uint32_t)area_len);
    vdisk_error err;
    assert_int_equal(iso_susp_parse(ce, 28, read_area, NULL, 100 * ISO_SECTOR, "x", &rr, &err), 0);
    assert_string_equal(rr.name, "continued");
    /* Past the end of the file. */
    assert_int_equal(iso_susp_parse(ce, 28, read_area, NULL, 10 * ISO_SECTOR, "x", &rr, &err), -EINVAL);
    assert_non_null(strstr(err.message, "past the end"));
    /* An area that continues into itself. */
    iso_rrip_ce(ce, 30, 0, 28);
    memcpy(area, ce, 28);
    area_len = 28;
    assert_int_equal(iso_susp_parse(ce, 28, read_area, NULL, 100 * ISO_SECTOR, "x", &rr, &err), -ELOOP);
    assert_non_null(strstr(err.message, "CE loop"));
    iso_buf_free(&nm);
}

static void
test_sp_er_cl_re(void **state)
{
    iso_buf sp = { 0 }, er = { 0 };
    assert_int_equal(iso_rrip_root_entries(&sp, &er), 0);
    assert_int_equal(sp.len, 7);
    assert_int_equal(parse(&sp, NULL), 0);
    assert_true(rr.sp);
    assert_int_equal(rr.sp_skip, 0);
    assert_int_equal(parse(&er, NULL), 0);
    assert_true(rr.rr);
    uint8_t cl[] = { 'C', 'L', 12, 1, 55, 0, 0, 0, 0, 0, 0, 55, 'R', 'E', 4, 1 };
    iso_buf b = { cl, sizeof(cl), sizeof(cl) };
    assert_int_equal(parse(&b, NULL), 0);
    assert_true(rr.has_cl && rr.relocated);
    assert_int_equal(rr.cl_lba, 55);
    iso_buf_free(&sp);
    iso_buf_free(&er);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries),
        cmocka_unit_test(test_long_name_and_link_continue),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_continuation),
        cmocka_unit_test(test_sp_er_cl_re),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
