/* Unit tests for core/vhdx/guid.c: the binary form (Data1-3 little
 * endian), the spec's known GUIDs, text forms, random GUIDs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "vhdx/vhdx.h"

static void
test_known_guid_bytes(void **state)
{
    (void)state;
    /* 2DC27766-F623-4200-9D64-115E9BFD4A08 in binary form. */
    static const uint8_t bat[16] = { 0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42,
                                     0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08 };
    assert_memory_equal(vhdx_region_bat.b, bat, 16);
    vhdx_guid g;
    assert_int_equal(vhdx_guid_parse("{8B7CA206-4790-4B9A-B8FE-575F050F886E}", &g), 0);
    assert_true(vhdx_guid_equal(&g, &vhdx_region_metadata));
    assert_int_equal(vhdx_guid_parse("b04aefb7-d19e-4a81-b789-25b8e9445913", &g), 0);
    assert_true(vhdx_guid_equal(&g, &vhdx_parent_type_vhdx));
    char text[37];
    vhdx_guid_format(&vhdx_meta_page83, text);
    assert_string_equal(text, "beca12ab-b2e6-4523-93ef-c309e000c746");
}

static void
test_bad_text(void **state)
{
    (void)state;
    vhdx_guid g;
    static const char *const bad[] = {
        "", "{8B7CA206-4790-4B9A-B8FE-575F050F886E", "8B7CA206-4790-4B9A-B8FE-575F050F886",
        "8B7CA206-4790-4B9A-B8FE-575F050F886E}x", "8B7CA2064790-4B9A-B8FE-575F050F886E-",
        "8B7CA206-4790-4B9A-B8FE-575F050F88XE",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(vhdx_guid_parse(bad[i], &g), -EINVAL);
}

static void
test_generate(void **state)
{
    (void)state;
    vhdx_guid a, b;
    assert_int_equal(vhdx_guid_generate(&a), 0);
    assert_int_equal(vhdx_guid_generate(&b), 0);
    assert_false(vhdx_guid_equal(&a, &b));
    assert_false(vhdx_guid_is_zero(&a));
    assert_int_equal(a.b[7] >> 4, 4);        /* version 4 */
    assert_int_equal(a.b[8] & 0xc0, 0x80);   /* RFC 4122 variant */
    vhdx_guid z;
    memset(&z, 0, sizeof(z));
    assert_true(vhdx_guid_is_zero(&z));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_guid_bytes),
        cmocka_unit_test(test_bad_text),
        cmocka_unit_test(test_generate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
