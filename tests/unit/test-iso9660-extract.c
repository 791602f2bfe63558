/* Unit tests for core/iso9660/extract.c: safe extraction. */
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
built(void)
{
    const char *iso = unit_path(0, "x.iso");
    iso_fix_build(iso, iso_fix_tree(), NULL);
    vdisk_iso *h;
    vdisk_error err;
    assert_int_equal(vdisk_iso_open(iso, 0, &h, &err), 0);
    return h;
}

static const char *
out_dir(const char *name)
{
    const char *p = unit_path(1, name);
    mkdir(p, 0755);
    return p;
}

static void
read_back(const char *dir, const char *rel, const char *want)
{
    char p[1024], buf[64] = { 0 };
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof(buf) - 1), (ssize_t)strlen(want));
    close(fd);
    assert_string_equal(buf, want);
}

static void
test_extract_all(void **state)
{
    vdisk_iso *h = built();
    const char *out = out_dir("all");
    vdisk_error err;
    assert_int_equal(vdisk_iso_extract(h, NULL, 0, out, &err), 0);
    read_back(out, "sub/inner/data.bin", "0123456789");
    read_back(out, "user-data", "#cloud-config\n");
    char p[1024], l[64] = { 0 };
    snprintf(p, sizeof(p), "%s/sub/link", out);
    assert_true(readlink(p, l, sizeof(l)) > 0);
    assert_string_equal(l, "../user-data");
    struct stat st;
    snprintf(p, sizeof(p), "%s/run.sh", out);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0555);
    /* Host files are newer than the fixed date: their times were clamped. */
    assert_int_equal(st.st_mtime, 1700000000);
    vdisk_iso_close(h);
}

static void
test_extract_some(void **state)
{
    vdisk_iso *h = built();
    const char *out = out_dir("some");
    const char *paths[] = { "/sub/inner" };
    vdisk_error err;
    assert_int_equal(vdisk_iso_extract(h, paths, 1, out, &err), 0);
    read_back(out, "sub/inner/data.bin", "0123456789");
    char p[1024];
    snprintf(p, sizeof(p), "%s/user-data", out);
    assert_int_equal(access(p, F_OK), -1);
    const char *missing[] = { "/nope" };
    assert_int_equal(vdisk_iso_extract(h, missing, 1, out, &err), -ENOENT);
    assert_int_equal(vdisk_iso_extract(h, NULL, 0, unit_path(1, "no-such-dir"), &err), -ENOENT);
    assert_non_null(strstr(err.message, "destination"));
    vdisk_iso_close(h);
}

static void
test_symlink_in_destination_refused(void **state)
{
    vdisk_iso *h = built();
    const char *out = out_dir("trap");
    const char *outside = out_dir("outside");
    char p[1024];
    snprintf(p, sizeof(p), "%s/sub", out);
    assert_int_equal(symlink(outside, p), 0);
    vdisk_error err;
    int r = vdisk_iso_extract(h, NULL, 0, out, &err);
    assert_true(r == -ELOOP || r == -ENOTDIR);
    assert_non_null(strstr(err.message, "symlink"));
    snprintf(p, sizeof(p), "%s/inner", outside);
    assert_int_equal(access(p, F_OK), -1);
    vdisk_iso_close(h);
}

static void
test_hard_link_not_written_through(void **state)
{
    vdisk_iso *h = built();
    const char *out = out_dir("hl");
    const char *victim = unit_path(2, "victim");
    unit_write_file(victim, 8, "precious", 8, 0);
    char p[1024];
    snprintf(p, sizeof(p), "%s/user-data", out);
    assert_int_equal(link(victim, p), 0);
    vdisk_error err;
    assert_int_equal(vdisk_iso_extract(h, NULL, 0, out, &err), 0);
    read_back(unit_tmpdir, "victim", "precious");
    read_back(out, "user-data", "#cloud-config\n");
    vdisk_iso_close(h);
}

static void
test_bad_names_refused(void **state)
{
    /* An ISO identifier ".." ("." after the trailing dot goes) and "A/B". */
    uint8_t recs[256];
    size_t len = 0;
    iso_fix_rec(recs, &len, 19, 1, 0, "..", NULL, 0);
    const char *iso = unit_path(0, "dots.iso");
    iso_fix_raw(iso, recs, len, 1);
    vdisk_iso *h;
    vdisk_error err;
    assert_int_equal(vdisk_iso_open(iso, 0, &h, &err), 0);
    assert_int_equal(vdisk_iso_extract(h, NULL, 0, out_dir("d1"), &err), -EINVAL);
    assert_non_null(strstr(err.message, "not a plain file name"));
    vdisk_iso_close(h);
    len = 0;
    iso_fix_rec(recs, &len, 19, 1, 0, "A/B", NULL, 0);
    iso_fix_raw(iso, recs, len, 1);
    assert_int_equal(vdisk_iso_open(iso, 0, &h, &err), 0);
    assert_int_equal(vdisk_iso_extract(h, NULL, 0, out_dir("d2"), &err), -EINVAL);
    char p[1024];
    snprintf(p, sizeof(p), "%s/A", unit_path(1, "d2"));
    assert_int_equal(access(p, F_OK), -1);
    vdisk_iso_close(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_extract_all, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_extract_some, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_symlink_in_destination_refused, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_hard_link_not_written_through, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_names_refused, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
