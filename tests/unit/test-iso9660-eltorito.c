/* Unit tests for core/iso9660/eltorito.c: the El Torito boot catalog. */
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
test_bios_and_efi(void **state)
{
    uint8_t cat[ISO_SECTOR];
    vdisk_iso_boot_entry bios = { .platform = 0, .media = 0, .sector_count = 4, .lba = 30, .system_type = 0x83 };
    vdisk_iso_boot_entry efi = { .platform = 0xEF, .media = 0, .sector_count = 2880, .lba = 31 };
    iso_eltorito_build(cat, &bios, &efi);
    /* Validation entry: header 1, platform, key 55 AA; words sum to 0. */
    assert_int_equal(cat[0], 1);
    assert_int_equal(cat[30], 0x55);
    assert_int_equal(cat[31], 0xAA);
    uint16_t sum = 0;
    for (int i = 0; i < 32; i += 2)
        sum = (uint16_t)(sum + iso_le16(cat + i));
    assert_int_equal(sum, 0);
    assert_int_equal(cat[32], 0x88);
    assert_int_equal(cat[64], 0x91);     /* final section header */
    assert_int_equal(cat[65], 0xEF);
    vdisk_iso_boot_entry *v;
    size_t n;
    vdisk_error err;
    assert_int_equal(iso_eltorito_parse(cat, "cat", &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_true(v[0].bootable && v[1].bootable);
    assert_int_equal(v[0].platform, 0);
    assert_int_equal(v[0].sector_count, 4);
    assert_int_equal(v[0].lba, 30);
    assert_int_equal(v[0].system_type, 0x83);
    assert_int_equal(v[1].platform, 0xEF);
    assert_int_equal(v[1].lba, 31);
    free(v);
}

static void
test_efi_only_and_errors(void **state)
{
    uint8_t cat[ISO_SECTOR];
    vdisk_iso_boot_entry efi = { .platform = 0xEF, .sector_count = 8, .lba = 40 };
    iso_eltorito_build(cat, NULL, &efi);
    assert_int_equal(cat[1], 0xEF);
    vdisk_iso_boot_entry *v;
    size_t n;
    vdisk_error err;
    assert_int_equal(iso_eltorito_parse(cat, "cat", &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].platform, 0xEF);
    free(v);
    cat[4] ^= 1;
    assert_int_equal(iso_eltorito_parse(cat, "cd.iso: catalog", &v, &n, &err), -EINVAL);
    assert_non_null(strstr(err.message, "cd.iso: catalog"));
    assert_non_null(strstr(err.message, "checksum"));
    cat[31] = 0;
    assert_int_equal(iso_eltorito_parse(cat, "cat", &v, &n, &err), -EINVAL);
    assert_non_null(strstr(err.message, "no validation entry"));
}

static void
test_section_count_bounded(void **state)
{
    uint8_t cat[ISO_SECTOR];
    vdisk_iso_boot_entry bios = { .sector_count = 4, .lba = 30 };
    iso_eltorito_build(cat, &bios, NULL);
    /* A section header claiming 65535 entries: parsing stops at the sector end. */
    cat[64] = 0x91;
    cat[66] = 0xFF;
    cat[67] = 0xFF;
    vdisk_iso_boot_entry *v;
    size_t n;
    assert_int_equal(iso_eltorito_parse(cat, "cat", &v, &n, NULL), 0);
    assert_true(n <= ISO_SECTOR / 32);
    free(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bios_and_efi),
        cmocka_unit_test(test_efi_only_and_errors),
        cmocka_unit_test(test_section_count_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
