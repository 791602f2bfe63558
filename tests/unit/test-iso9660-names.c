/* Unit tests for core/iso9660/names.c: ISO 9660 and Joliet names. */
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
plain(const char *id, const char *want)
{
    char out[256];
    iso_name_plain((const uint8_t *)id, strlen(id), out);
    assert_string_equal(out, want);
}

static void
test_plain_names(void **state)
{
    plain("USER_DAT.;1", "USER_DAT");
    plain("A_B.C;1", "A_B.C");
    plain("DIR", "DIR");
    plain("FOO;12", "FOO");
    plain("NOVERSION.TXT", "NOVERSION.TXT");
    plain("A;B", "A;B");
}

static void
test_joliet_decode(void **state)
{
    /* "caf\u00e9;1" and a surrogate pair (U+1F600). */
    const uint8_t id[] = { 0, 'c', 0, 'a', 0, 'f', 0, 0xE9, 0, ';', 0, '1' };
    char out[64];
    assert_int_equal(iso_name_joliet(id, sizeof(id), out, sizeof(out)), 0);
    assert_string_equal(out, "caf\xc3\xa9");
    const uint8_t emoji[] = { 0xD8, 0x3D, 0xDE, 0x00 };
    assert_int_equal(iso_name_joliet(emoji, sizeof(emoji), out, sizeof(out)), 0);
    assert_string_equal(out, "\xf0\x9f\x98\x80");
    assert_int_equal(iso_name_joliet(id, 3, out, sizeof(out)), -EILSEQ);
    /* A lone surrogate becomes U+FFFD. */
    const uint8_t lone[] = { 0xDC, 0x00, 0, 'x' };
    assert_int_equal(iso_name_joliet(lone, sizeof(lone), out, sizeof(out)), 0);
    assert_string_equal(out, "\xef\xbf\xbdx");
}

static void
level1(const char *name, bool dir, unsigned serial, const char *want)
{
    char out[24];
    iso_name_level1(name, dir, serial, out);
    assert_string_equal(out, want);
}

static void
test_level1_names(void **state)
{
    /* What genisoimage makes of these names. */
    level1("user-data", false, 0, "USER_DAT.;1");
    level1("meta-data", false, 0, "META_DAT.;1");
    level1("network-config", false, 0, "NETWORK_.;1");
    level1("a.b.c", false, 0, "A_B.C;1");
    level1("file.txt", false, 0, "FILE.TXT;1");
    level1("sub.dir", true, 0, "SUB_DIR");
    level1(".profile", false, 0, "_PROFILE.;1");
    level1("user-data", false, 1, "USER_001.;1");
    level1("x", false, 12345, "X12345.;1");
    level1("abcdefgh", true, 12345, "ABC12345");
    level1("caf\xc3\xa9", false, 0, "CAF_.;1");
}

static void
test_joliet_encode(void **state)
{
    uint8_t out[128];
    size_t n = iso_name_joliet_encode("a*b:c", 0, out);
    assert_int_equal(n, 10);
    assert_memory_equal(out, "\0a\0_\0b\0_\0c", 10);
    char name[80];
    memset(name, 'x', 70);
    name[70] = '\0';
    assert_int_equal(iso_name_joliet_encode(name, 0, out), 128);
    assert_int_equal(iso_name_joliet_encode(name, 7, out), 128);
    assert_memory_equal(out + 122, "\0000\0000\0007", 6);
    n = iso_name_joliet_encode("file.txt", 2, out);
    assert_memory_equal(out, "\0f\0i\0l\0e\0000\0000\0002\0.\0t\0x\0t", n);
    /* Beyond the BMP: a surrogate pair. */
    n = iso_utf8_to_ucs2("\xf0\x9f\x98\x80", out, 64);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "\xD8\x3D\xDE\x00", 4);
}

static void
test_fields(void **state)
{
    char out[40];
    iso_field_string((const uint8_t *)"CIDATA    ", 10, out, sizeof(out));
    assert_string_equal(out, "CIDATA");
    const uint8_t u[] = { 0, 'c', 0, 'i', 0, ' ', 0, ' ' };
    iso_field_ucs2(u, sizeof(u), out, sizeof(out));
    assert_string_equal(out, "ci");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_names),
        cmocka_unit_test(test_joliet_decode),
        cmocka_unit_test(test_level1_names),
        cmocka_unit_test(test_joliet_encode),
        cmocka_unit_test(test_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
