/* Unit tests for core/iso9660/date.c: the 7- and 17-byte ISO 9660 dates. */
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

/* 1700000000 is 2023-11-14 22:13:20 UTC (date -u -d @1700000000). */
static void
test_date7(void **state)
{
    const uint8_t d[7] = { 123, 11, 14, 22, 13, 20, 0 };
    assert_int_equal(iso_date7_parse(d), 1700000000);
    /* +1 hour from GMT (4 x 15 minutes): the same wall clock is an hour earlier in UTC. */
    const uint8_t east[7] = { 123, 11, 14, 22, 13, 20, 4 };
    assert_int_equal(iso_date7_parse(east), 1700000000 - 3600);
    uint8_t out[7];
    iso_date7_format(out, 1700000000);
    assert_memory_equal(out, d, 7);
    const uint8_t zero[7] = { 0 };
    assert_true(iso_date7_parse(zero) == VDISK_ISO_TIME_UNSET);
    const uint8_t bad[7] = { 123, 13, 1, 0, 0, 0, 0 };
    assert_true(iso_date7_parse(bad) == VDISK_ISO_TIME_UNSET);
    for (int64_t t = 0; t < 4000000000LL; t += 123456789) {
        iso_date7_format(out, t);
        assert_int_equal(iso_date7_parse(out), t);
    }
}

static void
test_date17(void **state)
{
    uint8_t d[17];
    memcpy(d, "2023111422132000", 16);
    d[16] = 0;
    assert_int_equal(iso_date17_parse(d), 1700000000);
    uint8_t out[17];
    iso_date17_format(out, 1700000000);
    assert_memory_equal(out, d, 17);
    iso_date17_format(out, VDISK_ISO_TIME_UNSET);
    assert_memory_equal(out, "0000000000000000", 16);
    assert_true(iso_date17_parse(out) == VDISK_ISO_TIME_UNSET);
    memcpy(d, "2023x11422132000", 16);
    assert_true(iso_date17_parse(d) == VDISK_ISO_TIME_UNSET);
}

static void
test_days_from_civil(void **state)
{
    assert_int_equal(iso_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(iso_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(iso_days_from_civil(1969, 12, 31), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date7),
        cmocka_unit_test(test_date17),
        cmocka_unit_test(test_days_from_civil),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
