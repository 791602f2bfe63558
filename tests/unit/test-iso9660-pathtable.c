/* Unit tests for core/iso9660/pathtable.c: the path table reader. */
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

static void
test_read_table(void **state)
{
    const char *iso = unit_path(0, "p.iso");
    iso_fix_build(iso, iso_fix_tree(), NULL);
    vdisk_iso *h;
    vdisk_error err;
    assert_int_equal(vdisk_iso_open(iso, VDISK_ISO_NAMES_AUTO, &h, &err), 0);
    vdisk_iso_path_entry *v;
    size_t n;
    assert_int_equal(vdisk_iso_get_path_table(h, &v, &n, &err), 0);
    assert_int_equal(n, 3);   /* /, SUB, INNER */
    assert_string_equal(v[0].name, "");
    assert_int_equal(v[0].parent, 1);
    assert_string_equal(v[1].name, "SUB");
    assert_int_equal(v[1].parent, 1);
    assert_string_equal(v[2].name, "INNER");
    assert_int_equal(v[2].parent, 2);
    /* The table agrees with the directory records. */
    vdisk_iso_entry e;
    assert_int_equal(vdisk_iso_stat(h, "/sub/inner", &e, &err), 0);
    assert_int_equal(v[2].lba, e.extents[0].lba);
    vdisk_iso_entry_clear(&e);
    vdisk_iso_path_table_free(v, n);
    vdisk_iso_close(h);
    assert_int_equal(vdisk_iso_open(iso, VDISK_ISO_NAMES_JOLIET, &h, &err), 0);
    assert_int_equal(vdisk_iso_get_path_table(h, &v, &n, &err), 0);
    assert_string_equal(v[2].name, "inner");
    vdisk_iso_path_table_free(v, n);
    vdisk_iso_close(h);
}

/* Patch the L path table of a built image and expect an error. */
static void
expect_bad(const char *iso, size_t off_in_table, const void *bytes, size_t len, const char *what)
{
    vdisk_iso *h;
    vdisk_error err;
    assert_int_equal(vdisk_iso_open(iso, 0, &h, &err), 0);
    uint32_t lba = h->d.path_table_lba;
    vdisk_iso_close(h);
    int fd = open(iso, O_RDWR);
    uint8_t save[8];
    assert_int_equal(pread(fd, save, len, (off_t)lba * 2048 + off_in_table), (ssize_t)len);
    assert_int_equal(pwrite(fd, bytes, len, (off_t)lba * 2048 + off_in_table), (ssize_t)len);
    assert_int_equal(vdisk_iso_open(iso, 0, &h, &err), 0);
    vdisk_iso_path_entry *v;
    size_t n;
    assert_int_equal(vdisk_iso_get_path_table(h, &v, &n, &err), -EINVAL);
    assert_non_null(strstr(err.message, "p.iso: path table record"));
    assert_non_null(strstr(err.message, what));
    vdisk_iso_close(h);
    assert_int_equal(pwrite(fd, save, len, (off_t)lba * 2048 + off_in_table), (ssize_t)len);
    close(fd);
}

static void
test_bad_tables(void **state)
{
    const char *iso = unit_path(0, "p.iso");
    iso_fix_build(iso, iso_fix_tree(), NULL);
    /* Record 2 (at byte 10) names itself as its parent. */
    const uint8_t self[2] = { 2, 0 };
    expect_bad(iso, 10 + 6, self, 2, "not an earlier directory");
    /* Record 3 (at byte 22) claims a 200-byte identifier. */
    const uint8_t len = 200;
    expect_bad(iso, 22, &len, 1, "runs past the end");
    /* Record 2's extent far past the end of the file. */
    const uint8_t far[4] = { 0xff, 0xff, 0xff, 0x0f };
    expect_bad(iso, 10 + 2, far, 4, "past the end of the file");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_table, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_tables, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
