/* Unit tests for core/iso9660/reader.c: open, volume, boot catalog, reads. */
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
with_boot(vdisk_iso_create_opts *o)
{
    static char boot[600];
    snprintf(boot, sizeof(boot), "%s/boot.bin", unit_tmpdir);
    uint8_t b[2048];
    memset(b, 0xB0, sizeof(b));
    unit_write_file(boot, sizeof(b), b, sizeof(b), 0);
    o->boot_image = boot;
    o->boot_no_emul = true;
    o->volume_id = "MY_VOL";
}

static void
test_open_and_volume(void **state)
{
    const char *iso = unit_path(0, "r.iso");
    iso_fix_build(iso, iso_fix_tree(), with_boot);
    vdisk_iso *h;
    vdisk_error err;
    assert_int_equal(vdisk_iso_open(iso, VDISK_ISO_NAMES_AUTO, &h, &err), 0);
    const vdisk_iso_volume *v = vdisk_iso_get_volume(h);
    assert_string_equal(v->volume_id, "MY_VOL");
    assert_true(v->joliet && v->rock_ridge && v->bootable);
    assert_int_equal(v->names, VDISK_ISO_NAMES_ROCK);
    assert_int_equal(v->creation_time, 1700000000);
    struct stat st;
    stat(iso, &st);
    assert_int_equal(v->volume_size, st.st_size);
    vdisk_iso_boot_entry *b;
    size_t n;
    assert_int_equal(vdisk_iso_get_boot(h, &b, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(b[0].sector_count, 4);
    uint8_t sec[2048];
    int fd = open(iso, O_RDONLY);
    assert_int_equal(pread(fd, sec, sizeof(sec), (off_t)b[0].lba * 2048), 2048);
    close(fd);
    assert_int_equal(sec[0], 0xB0);
    free(b);
    vdisk_iso_close(h);
}

static void
test_pread(void **state)
{
    const char *iso = unit_path(0, "r.iso");
    iso_fix_build(iso, iso_fix_tree(), NULL);
    vdisk_iso *h;
    vdisk_error err;
    assert_int_equal(vdisk_iso_open(iso, VDISK_ISO_NAMES_AUTO, &h, &err), 0);
    vdisk_iso_entry e;
    assert_int_equal(vdisk_iso_stat(h, "/sub/inner/data.bin", &e, &err), 0);
    char buf[16] = { 0 };
    assert_int_equal(vdisk_iso_pread(h, &e, buf, 4, 3, &err), 0);
    assert_string_equal(buf, "3456");
    assert_int_equal(vdisk_iso_pread(h, &e, buf, 8, 5, &err), -EINVAL);
    assert_non_null(strstr(err.message, "data.bin"));
    /* An extent past the end of the file is refused at read time. */
    e.extents[0].lba = 0x00FFFFFF;
    assert_int_equal(vdisk_iso_pread(h, &e, buf, 1, 0, &err), -EINVAL);
    assert_non_null(strstr(err.message, "past the end of the file"));
    vdisk_iso_entry_clear(&e);
    vdisk_iso_close(h);
}

static void
test_name_modes(void **state)
{
    vdisk_iso_names m;
    vdisk_error err;
    assert_int_equal(vdisk_iso_names_from_name("joliet", &m, &err), 0);
    assert_int_equal(m, VDISK_ISO_NAMES_JOLIET);
    assert_int_equal(vdisk_iso_names_from_name("udf", &m, &err), -EINVAL);
    assert_non_null(strstr(err.message, "udf"));
    /* Asking for Joliet on an image without it. */
    const char *raw = unit_path(0, "plain.iso");
    iso_fix_raw(raw, NULL, 0, 0);
    vdisk_iso *h;
    assert_int_equal(vdisk_iso_open(raw, VDISK_ISO_NAMES_JOLIET, &h, &err), -ENOENT);
    assert_non_null(strstr(err.message, "plain.iso"));
    assert_int_equal(vdisk_iso_open(raw, VDISK_ISO_NAMES_AUTO, &h, &err), 0);
    assert_int_equal(vdisk_iso_get_volume(h)->names, VDISK_ISO_NAMES_PLAIN);
    assert_false(vdisk_iso_get_volume(h)->bootable);
    vdisk_iso_close(h);
    assert_int_equal(vdisk_iso_open(unit_path(0, "missing.iso"), 0, &h, &err), -ENOENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_and_volume, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_pread, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_name_modes, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
