/* Unit tests for core/iso9660/dirrec.c: directory records. */
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
test_round_trip(void **state)
{
    uint8_t buf[256];
    const uint8_t su[] = { 'P', 'X', 4, 1 };
    size_t n = iso_dirrec_encode(buf, 1234, 5678, ISO_FLAG_MULTI, 1700000000, (const uint8_t *)"AB;1", 4, su, 4);
    assert_int_equal(n, iso_dirrec_size(4, 4));
    assert_int_equal(n % 2, 0);
    iso_dirrec r;
    vdisk_error err;
    assert_int_equal(iso_dirrec_parse(buf, n, "x", &r, &err), 0);
    assert_int_equal(r.len, n);
    assert_int_equal(r.lba, 1234);
    assert_int_equal(r.size, 5678);
    assert_int_equal(r.flags, ISO_FLAG_MULTI);
    assert_int_equal(iso_date7_parse(r.date), 1700000000);
    assert_int_equal(r.name_len, 4);
    assert_memory_equal(r.name, "AB;1", 4);
    assert_int_equal(r.su_len, n - 38);
    assert_memory_equal(r.su, su, 4);
    /* Both byte orders are written. */
    assert_int_equal(iso_be32(buf + 6), 1234);
    assert_int_equal(iso_be32(buf + 14), 5678);
}

static void
test_bad_records(void **state)
{
    uint8_t buf[256];
    size_t n = iso_dirrec_encode(buf, 1, 2, 0, 0, (const uint8_t *)"NAME", 4, NULL, 0);
    iso_dirrec r;
    vdisk_error err;
    assert_int_equal(iso_dirrec_parse(buf, n - 1, "cd.iso: here", &r, &err), -EINVAL);
    assert_non_null(strstr(err.message, "cd.iso: here"));
    assert_non_null(strstr(err.message, "crosses the end"));
    buf[0] = 20;
    assert_int_equal(iso_dirrec_parse(buf, sizeof(buf), "x", &r, &err), -EINVAL);
    assert_non_null(strstr(err.message, "minimum"));
    buf[0] = (uint8_t)n;
    buf[32] = 200;
    assert_int_equal(iso_dirrec_parse(buf, sizeof(buf), "x", &r, &err), -EINVAL);
    assert_non_null(strstr(err.message, "identifier length 200"));
    buf[32] = 0;
    assert_int_equal(iso_dirrec_parse(buf, sizeof(buf), "x", &r, &err), -EINVAL);
}

static void
test_extended_attribute_record(void **state)
{
    uint8_t buf[64];
    size_t n = iso_dirrec_encode(buf, 100, 10, 0, 0, (const uint8_t *)"F", 1, NULL, 0);
    buf[1] = 2;   /* two sectors of extended attributes before the data */
    iso_dirrec r;
    assert_int_equal(iso_dirrec_parse(buf, n, "x", &r, NULL), 0);
    assert_int_equal(r.lba, 102);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_extended_attribute_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
