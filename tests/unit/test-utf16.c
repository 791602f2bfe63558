/* Unit tests for core/utf16.c: UTF-16 (both byte orders) to UTF-8 and
 * back, surrogate pairs, and the refusals (odd lengths, unpaired
 * surrogates, invalid UTF-8, too little room). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "utf16.h"

static void
test_decode_le_be(void **state)
{
    (void)state;
    static const uint8_t le[] = { 'a', 0, '\\', 0, 0xe9, 0, 0xac, 0x20, 0, 0, 'x', 0 };
    static const uint8_t be[] = { 0, 'a', 0, '\\', 0, 0xe9, 0xac, 0x20 };
    char *s;
    assert_int_equal(vdisk_utf16_to_utf8(le, sizeof(le), false, &s), 0);
    assert_string_equal(s, "a\\\xc3\xa9\xe2\x82\xac");   /* stops at the NUL */
    free(s);
    assert_int_equal(vdisk_utf16_to_utf8(be, sizeof(be), true, &s), 0);
    assert_string_equal(s, "a\\\xc3\xa9\xea\xb0\xa0");
    free(s);
}

static void
test_surrogate_pairs(void **state)
{
    (void)state;
    /* U+1F600 = D83D DE00 */
    static const uint8_t pair[] = { 0x3d, 0xd8, 0x00, 0xde };
    char *s;
    assert_int_equal(vdisk_utf16_to_utf8(pair, sizeof(pair), false, &s), 0);
    assert_string_equal(s, "\xf0\x9f\x98\x80");
    free(s);
    static const uint8_t lone_high[] = { 0x3d, 0xd8, 'a', 0 };
    static const uint8_t lone_low[] = { 0x00, 0xde };
    assert_int_equal(vdisk_utf16_to_utf8(lone_high, sizeof(lone_high), false, &s), -EINVAL);
    assert_null(s);
    assert_int_equal(vdisk_utf16_to_utf8(lone_low, sizeof(lone_low), false, &s), -EINVAL);
    assert_int_equal(vdisk_utf16_to_utf8(lone_high, 3, false, &s), -EINVAL);   /* odd length */
}

static void
test_encode_round_trip(void **state)
{
    (void)state;
    const char *text = "C:\\VMs\\\xc3\xa9t\xc3\xa9\xf0\x9f\x98\x80.vhdx";
    uint8_t buf[128];
    size_t n;
    for (int be = 0; be < 2; be++) {
        assert_int_equal(vdisk_utf8_to_utf16(text, be, buf, sizeof(buf), &n), 0);
        assert_int_equal(n, 2 * 17);   /* 15 BMP characters and one pair */
        char *back;
        assert_int_equal(vdisk_utf16_to_utf8(buf, n, be, &back), 0);
        assert_string_equal(back, text);
        free(back);
    }
    assert_int_equal(vdisk_utf8_to_utf16(text, false, buf, 10, &n), -ENOSPC);
}

static void
test_invalid_utf8(void **state)
{
    (void)state;
    uint8_t buf[16];
    size_t n;
    static const char *const bad[] = { "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf8\x88\x80\x80\x80",
                                       "\xc3", "\x80" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(vdisk_utf8_to_utf16(bad[i], false, buf, sizeof(buf), &n), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_le_be),
        cmocka_unit_test(test_surrogate_pairs),
        cmocka_unit_test(test_encode_round_trip),
        cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
