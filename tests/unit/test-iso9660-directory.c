/* Unit tests for core/iso9660/directory.c: entries and path lookup. */
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

static vdisk_iso *
open_iso(const char *path, vdisk_iso_names names)
{
    vdisk_iso *h;
    vdisk_error err;
    if (vdisk_iso_open(path, names, &h, &err) != 0)
        fail_msg("%s", err.message);
    return h;
}

static void
test_lookup_and_list(void **state)
{
    const char *iso = unit_path(0, "d.iso");
    iso_fix_build(iso, iso_fix_tree(), NULL);
    vdisk_iso *h = open_iso(iso, VDISK_ISO_NAMES_AUTO);
    vdisk_iso_entry e;
    vdisk_error err;
    assert_int_equal(vdisk_iso_stat(h, "/", &e, &err), 0);
    assert_true(S_ISDIR(e.mode));
    vdisk_iso_entry_clear(&e);
    assert_int_equal(vdisk_iso_stat(h, "sub/./inner/../link", &e, &err), 0);
    assert_true(S_ISLNK(e.mode));
    assert_string_equal(e.link_target, "../user-data");
    vdisk_iso_entry_clear(&e);
    assert_int_equal(vdisk_iso_stat(h, "/run.sh", &e, &err), 0);
    assert_int_equal(e.mode, S_IFREG | 0555);
    assert_int_equal(e.uid, 0);
    vdisk_iso_entry_clear(&e);
    assert_int_equal(vdisk_iso_stat(h, "/nope", &e, &err), -ENOENT);
    assert_non_null(strstr(err.message, "d.iso: /nope"));
    assert_int_equal(vdisk_iso_stat(h, "/user-data/x", &e, &err), -ENOTDIR);
    vdisk_iso_entry *v;
    size_t n;
    assert_int_equal(vdisk_iso_list(h, "/", &v, &n, &err), 0);
    assert_int_equal(n, 4);   /* empty, run.sh, sub, user-data (in ISO identifier order) */
    assert_string_equal(v[0].name, "empty");
    assert_string_equal(v[3].name, "user-data");
    assert_int_equal(v[3].size, 14);
    vdisk_iso_entries_free(v, n);
    assert_int_equal(vdisk_iso_list(h, "/user-data", &v, &n, &err), 0);
    assert_int_equal(n, 1);
    vdisk_iso_entries_free(v, n);
    vdisk_iso_close(h);
    /* The same tree through Joliet and through the ISO names. */
    h = open_iso(iso, VDISK_ISO_NAMES_JOLIET);
    assert_int_equal(vdisk_iso_stat(h, "/sub/inner/data.bin", &e, &err), 0);
    assert_int_equal(e.mode, S_IFREG | 0444);
    vdisk_iso_entry_clear(&e);
    vdisk_iso_close(h);
    h = open_iso(iso, VDISK_ISO_NAMES_PLAIN);
    assert_int_equal(vdisk_iso_stat(h, "/user_dat", &e, &err), 0);
    assert_string_equal(e.name, "USER_DAT");
    vdisk_iso_entry_clear(&e);
    assert_int_equal(vdisk_iso_stat(h, "/SUB/INNER/DATA.BIN;1", &e, &err), 0);
    assert_int_equal(e.size, 10);
    vdisk_iso_entry_clear(&e);
    vdisk_iso_close(h);
}

static void
test_multi_extent(void **state)
{
    uint8_t recs[256];
    size_t len = 0;
    iso_fix_rec(recs, &len, 19, 2048, ISO_FLAG_MULTI, "BIG;1", NULL, 0);
    iso_fix_rec(recs, &len, 21, 100, 0, "BIG;1", NULL, 0);
    iso_fix_rec(recs, &len, 20, 5, 0, "SMALL;1", NULL, 0);
    const char *iso = unit_path(0, "m.iso");
    iso_fix_raw(iso, recs, len, 3);
    int fd = open(iso, O_WRONLY);
    assert_int_equal(pwrite(fd, "A", 1, 19 * 2048 + 2047), 1);
    assert_int_equal(pwrite(fd, "B", 1, 21 * 2048), 1);
    close(fd);
    vdisk_iso *h = open_iso(iso, VDISK_ISO_NAMES_AUTO);
    vdisk_iso_entry *v;
    size_t n;
    vdisk_error err;
    assert_int_equal(vdisk_iso_list(h, "/", &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "BIG");
    assert_int_equal(v[0].size, 2148);
    assert_int_equal(v[0].n_extents, 2);
    char ab[2];
    assert_int_equal(vdisk_iso_pread(h, &v[0], ab, 2, 2047, &err), 0);
    assert_memory_equal(ab, "AB", 2);
    vdisk_iso_entries_free(v, n);
    vdisk_iso_close(h);
}

static void
test_bad_directory(void **state)
{
    uint8_t recs[256];
    size_t len = 0;
    iso_fix_rec(recs, &len, 0x0FFFFFFF, 2048, ISO_FLAG_DIR, "FAR", NULL, 0);
    const char *iso = unit_path(0, "b.iso");
    iso_fix_raw(iso, recs, len, 0);
    vdisk_iso *h = open_iso(iso, VDISK_ISO_NAMES_AUTO);
    vdisk_iso_entry *v;
    size_t n;
    vdisk_error err;
    assert_int_equal(vdisk_iso_list(h, "/", &v, &n, &err), -EINVAL);
    assert_non_null(strstr(err.message, "b.iso: directory at sector 18, record at byte 68"));
    vdisk_iso_close(h);
    /* A record shorter than the fixed part. */
    len = 0;
    iso_fix_rec(recs, &len, 19, 5, 0, "F;1", NULL, 0);
    iso_fix_raw(iso, recs, len, 1);
    int fd = open(iso, O_WRONLY);
    uint8_t bad = 33;
    assert_int_equal(pwrite(fd, &bad, 1, 18 * 2048 + 68), 1);
    close(fd);
    h = open_iso(iso, VDISK_ISO_NAMES_AUTO);
    assert_int_equal(vdisk_iso_list(h, "/", &v, &n, &err), -EINVAL);
    assert_non_null(strstr(err.message, "b.iso: directory at sector 18, byte 68"));
    assert_non_null(strstr(err.message, "34-byte minimum"));
    vdisk_iso_close(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lookup_and_list, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_multi_extent, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_directory, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
