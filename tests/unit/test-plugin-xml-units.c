/* Unit tests for plugin/xml-units.c: every unit libvirt accepts, in any
 * case; overflow and unknown units are errors that cite the element. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/storage-xml.h>

#include "xml-internal.h"

static uint64_t
scaled(const char *number, const char *unit)
{
    vdisk_error err = {0};
    uint64_t v = 0;

    assert_int_equal(vdisk_scale_parse(number, unit, &v, &err), 0);
    return v;
}

static void
test_bytes(void **state)
{
    assert_int_equal(scaled("294912", NULL), 294912);
    assert_int_equal(scaled("7", ""), 7);
    assert_int_equal(scaled("7", "b"), 7);
    assert_int_equal(scaled("7", "B"), 7);
    assert_int_equal(scaled("7", "byte"), 7);
    assert_int_equal(scaled("7", "bytes"), 7);
    assert_int_equal(scaled("7", "Bytes"), 7);
}

/* libvirt's documentation: KB = 10^3, K = KiB = 2^10, and so on to E. */
static void
test_decimal_and_binary_units(void **state)
{
    static const struct { const char *letter; uint64_t dec, bin; } units[] = {
        { "K", 1000ULL, 1024ULL },
        { "M", 1000000ULL, 1048576ULL },
        { "G", 1000000000ULL, 1073741824ULL },
        { "T", 1000000000000ULL, 1099511627776ULL },
        { "P", 1000000000000000ULL, 1125899906842624ULL },
        { "E", 1000000000000000000ULL, 1152921504606846976ULL },
    };
    char unit[8];

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        snprintf(unit, sizeof(unit), "%s", units[i].letter);
        assert_int_equal(scaled("1", unit), units[i].bin);
        unit[0] = (char)(unit[0] | 0x20);           /* k, m, g ... */
        assert_int_equal(scaled("1", unit), units[i].bin);
        snprintf(unit, sizeof(unit), "%siB", units[i].letter);
        assert_int_equal(scaled("1", unit), units[i].bin);
        snprintf(unit, sizeof(unit), "%sB", units[i].letter);
        assert_int_equal(scaled("1", unit), units[i].dec);
        snprintf(unit, sizeof(unit), "%sb", units[i].letter);
        assert_int_equal(scaled("1", unit), units[i].dec);
    }
    /* figures from libvirt's own test data (storagevolxml2xmlout) */
    assert_int_equal(scaled("5", "G"), 5368709120ULL);
    assert_int_equal(scaled("1", "TiB"), 1099511627776ULL);
    assert_int_equal(scaled("10", "GB"), 10000000000ULL);
    assert_int_equal(scaled("128", "KiB"), 131072);
}

static void
test_unknown_units(void **state)
{
    static const char *bad[] = { "XB", "KiBB", "Ki", "kibibytes", "q", "KBB", "iB", "MiB ", NULL };
    vdisk_error err = {0};
    uint64_t v;

    for (const char **u = bad; *u; u++) {
        assert_int_equal(vdisk_scale_parse("1", *u, &v, &err), -EINVAL);
        assert_non_null(strstr(err.message, "unknown unit"));
    }
}

static void
test_bad_numbers(void **state)
{
    static const char *bad[] = { "", "-1", "1.5", "0x10", "12abc", "1 2", NULL };
    vdisk_error err = {0};
    uint64_t v;

    for (const char **n = bad; *n; n++)
        assert_int_equal(vdisk_scale_parse(*n, "KiB", &v, &err), -EINVAL);
    assert_int_equal(scaled(" 42\n", "bytes"), 42);
}

static void
test_overflow(void **state)
{
    vdisk_error err = {0};
    uint64_t v;

    /* 2^63 - 1 is the largest file; 8 EiB is 2^63 */
    assert_int_equal(scaled("9223372036854775807", NULL), 9223372036854775807ULL);
    assert_int_equal(vdisk_scale_parse("9223372036854775808", NULL, &v, &err), -ERANGE);
    assert_int_equal(vdisk_scale_parse("8", "EiB", &v, &err), -ERANGE);
    assert_int_equal(scaled("7", "EiB"), 7ULL << 60);
    assert_int_equal(vdisk_scale_parse("18446744073709551616", "b", &v, &err), -ERANGE);
    assert_int_equal(vdisk_scale_parse("99999999999999999999999", "k", &v, &err), -ERANGE);
    assert_non_null(strstr(err.message, "too large"));
}

/* In a document, the error cites the line and the element. */
static void
test_element_errors(void **state)
{
    const char *text = "<volume>\n  <name>v</name>\n  <capacity unit='XB'>5</capacity>\n"
                       "  <allocation unit='EiB'>16</allocation>\n  <physical>x</physical>\n</volume>";
    vdisk_error err = {0};
    vdisk_xml_doc d;
    xmlNode *cap, *alloc, *phys;
    uint64_t v;

    assert_int_equal(vdisk_xml_doc_read(&d, text, strlen(text), "volume.xml", "volume", &err), 0);
    assert_int_equal(vdisk_xml_child(&d, d.root, "capacity", NULL, &cap, &err), 0);
    assert_int_equal(vdisk_xml_child(&d, d.root, "allocation", NULL, &alloc, &err), 0);
    assert_int_equal(vdisk_xml_child(&d, d.root, "physical", NULL, &phys, &err), 0);
    assert_int_equal(vdisk_xml_scaled(&d, cap, UINT64_MAX, &v, &err), -EINVAL);
    assert_string_equal(err.message, "volume.xml:3: <capacity unit='XB'>: unknown unit");
    assert_int_equal(vdisk_xml_scaled(&d, alloc, UINT64_MAX, &v, &err), -ERANGE);
    assert_non_null(strstr(err.message, "volume.xml:4: <allocation unit='EiB'>: value too large"));
    assert_int_equal(vdisk_xml_scaled(&d, phys, UINT64_MAX, &v, &err), -EINVAL);
    assert_non_null(strstr(err.message, "volume.xml:5: <physical>:"));
    vdisk_xml_doc_close(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_decimal_and_binary_units),
        cmocka_unit_test(test_unknown_units),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_element_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
