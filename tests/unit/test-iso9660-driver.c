/* Unit tests for core/iso9660/driver.c: the read-only iso format driver. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "iso-fixture.h"
#include "iso9660/build.h"

static void
test_probe_open_read(void **state)
{
    const char *iso = unit_path(0, "cd.iso");
    iso_fix_build(iso, iso_fix_tree(), NULL);
    vdisk_image *img;
    vdisk_error err;
    vdisk_open_opts oo = { .format = VDISK_FORMAT_UNKNOWN, .flags = VDISK_OPEN_RDWR };
    assert_int_equal(vdisk_open(iso, &oo, &img, &err), 0);
    assert_int_equal(vdisk_get_format(img), VDISK_FORMAT_ISO);
    struct stat st;
    stat(iso, &st);
    assert_int_equal(vdisk_get_size(img), st.st_size);
    uint8_t buf[6];
    assert_int_equal(vdisk_pread(img, buf, 6, 0x8000, &err), 0);
    assert_memory_equal(buf, "\1CD001", 6);
    /* Every kind of write is refused, naming the file. */
    assert_int_equal(vdisk_pwrite(img, buf, 6, 0, &err), -EROFS);
    assert_non_null(strstr(err.message, "cd.iso: write refused: ISO 9660 images are read-only"));
    assert_int_equal(vdisk_write_zeroes(img, 512, 0, 0, &err), -EROFS);
    assert_int_equal(vdisk_discard(img, 512, 0, &err), -EROFS);
    assert_int_equal(vdisk_flush(img, &err), 0);
    vdisk_extent ext;
    assert_int_equal(vdisk_block_status(img, 0, vdisk_get_size(img), &ext, &err), 0);
    assert_true(ext.flags & VDISK_EXTENT_ALLOCATED);
    assert_int_equal(vdisk_close(img, &err), 0);
}

static void
vol(vdisk_iso_create_opts *o)
{
    o->volume_id = "cidata";
}

static void
test_info(void **state)
{
    const char *iso = unit_path(0, "seed.iso");
    iso_fix_build(iso, iso_fix_tree(), vol);
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(iso, NULL, &img, &err), 0);
    vdisk_info info;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    assert_int_equal(info.format, VDISK_FORMAT_ISO);
    assert_string_equal(info.iso_volume_id, "cidata");
    assert_string_equal(info.iso_system_id, "LINUX");
    assert_int_equal(info.iso_creation_time, 1700000000);
    assert_true(info.iso_joliet && info.iso_rock_ridge);
    assert_false(info.iso_bootable);
    assert_int_equal(info.cluster_size, 0);
    vdisk_info_clear(&info);
    vdisk_close(img, NULL);
}

static void
test_not_an_iso(void **state)
{
    const char *p = unit_path(0, "fake.iso");
    unit_write_file(p, 64 * KiB, "\1CD001\1", 7, 0x8000);   /* magic, no valid root */
    vdisk_image *img;
    vdisk_error err;
    assert_true(vdisk_open(p, NULL, &img, &err) < 0);
    assert_non_null(strstr(err.message, "fake.iso"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_probe_open_read, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_info, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_not_an_iso, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
