/* Unit tests for core/vpc/geometry.c: the spec's CHS algorithm (values
 * worked out by hand from its appendix) and the size of a new disk. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "vpc/vpc.h"

static void
test_chs_by_hand(void **state)
{
    (void)state;
    static const struct {
        uint64_t sectors;
        uint16_t c;
        uint8_t h, s;
    } cases[] = {
        /* 20480: 17 spt, 1204 cyl*heads, heads max(ceil(1204/1024), 4) = 4 */
        { 20480, 301, 4, 17 },
        /* 4194304 (2 GiB): 17 spt gives 246723 >= 16*1024 -> 31 spt, 135300 > 16384 -> 63 spt:
         * 66576 / 16 = 4161 */
        { 4194304, 4161, 16, 63 },
        /* >= 65535*16*63: 255 spt, 16 heads */
        { 65535ull * 16 * 63, 16191, 16, 255 },
        /* capped at the maximum */
        { UINT64_C(1) << 40, 65535, 16, 255 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint16_t c;
        uint8_t h, s;
        vpc_chs_for(cases[i].sectors, &c, &h, &s);
        assert_int_equal(c, cases[i].c);
        assert_int_equal(h, cases[i].h);
        assert_int_equal(s, cases[i].s);
    }
}

static void
test_rounded_size(void **state)
{
    (void)state;
    uint64_t out;
    uint16_t c;
    uint8_t h, s;
    /* Rounded up until the geometry covers the request. */
    assert_int_equal(vpc_rounded_size(10u << 20, false, &out, &c, &h, &s), 0);
    assert_true(out >= 10u << 20);
    assert_true(out == (uint64_t)c * h * s * 512);
    assert_true(out - (10u << 20) < 16 * 255 * 512);   /* less than a cylinder more */
    /* force_size: as given, maximal geometry. */
    assert_int_equal(vpc_rounded_size(1025u << 20, true, &out, &c, &h, &s), 0);
    assert_true(out == 1025u << 20);
    assert_int_equal(c, 65535);
    assert_int_equal(h, 16);
    assert_int_equal(s, 255);
    /* Past the geometry's reach (127.5 GiB): the size itself. */
    assert_int_equal(vpc_rounded_size(UINT64_C(200) << 30, false, &out, &c, &h, &s), 0);
    assert_true(out == UINT64_C(200) << 30);
    /* 2040 GiB is the limit. */
    assert_int_equal(vpc_rounded_size(UINT64_C(2040) << 30, false, &out, &c, &h, &s), 0);
    assert_int_equal(vpc_rounded_size((UINT64_C(2040) << 30) + 512, true, &out, &c, &h, &s), -EFBIG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chs_by_hand),
        cmocka_unit_test(test_rounded_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
