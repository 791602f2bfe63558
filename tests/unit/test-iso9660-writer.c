/* Unit tests for core/iso9660/writer.c: vdisk_iso_create. */
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
#include <dirent.h>

#include "fixture.h"
#include "iso-fixture.h"
#include "iso9660/build.h"

static uint8_t *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *b = malloc(*len);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void
test_reproducible(void **state)
{
    const char *src = iso_fix_tree();
    iso_fix_build(unit_path(0, "a.iso"), src, NULL);
    iso_fix_build(unit_path(1, "b.iso"), src, NULL);
    size_t la, lb;
    uint8_t *a = slurp(unit_path(0, "a.iso"), &la), *b = slurp(unit_path(1, "b.iso"), &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_int_equal(la % ISO_SECTOR, 0);
    assert_memory_equal(a + 0x8001, "CD001", 5);
    free(a);
    free(b);
}

static void
no_ext(vdisk_iso_create_opts *o)
{
    o->rock_ridge = o->joliet = false;
}

static void
test_read_back_without_extensions(void **state)
{
    iso_fix_build(unit_path(0, "p.iso"), iso_fix_tree(), no_ext);
    vdisk_iso *h;
    vdisk_error err;
    assert_int_equal(vdisk_iso_open(unit_path(0, "p.iso"), 0, &h, &err), 0);
    assert_false(vdisk_iso_get_volume(h)->joliet);
    assert_false(vdisk_iso_get_volume(h)->rock_ridge);
    vdisk_iso_entry e;
    assert_int_equal(vdisk_iso_stat(h, "/SUB/INNER/DATA.BIN", &e, &err), 0);
    char buf[11] = { 0 };
    assert_int_equal(vdisk_iso_pread(h, &e, buf, 10, 0, &err), 0);
    assert_string_equal(buf, "0123456789");
    vdisk_iso_entry_clear(&e);
    vdisk_iso_close(h);
}

static void
test_failure_leaves_nothing(void **state)
{
    const char *out = unit_path(0, "keep.iso");
    unit_write_file(out, 4, "keep", 4, 0);
    vdisk_iso_create_opts o;
    vdisk_iso_create_opts_init(&o);
    vdisk_iso_source s = { unit_path(1, "missing"), NULL };
    vdisk_error err;
    assert_int_equal(vdisk_iso_create(out, &o, &s, 1, NULL, NULL, &err), -ENOENT);
    assert_non_null(strstr(err.message, "keep.iso"));
    size_t len;
    uint8_t *b = slurp(out, &len);
    assert_int_equal(len, 4);
    free(b);
    o.volume_id = "0123456789012345678901234567890123";
    s.src = iso_fix_tree();
    assert_int_equal(vdisk_iso_create(out, &o, &s, 1, NULL, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "volume id"));
    o.volume_id = NULL;
    o.boot_image = s.src;   /* a directory is no boot image */
    assert_int_equal(vdisk_iso_create(out, &o, &s, 1, NULL, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "boot image"));
    /* No temporary file is left beside it. */
    DIR *d = opendir(unit_tmpdir);
    struct dirent *de;
    while ((de = readdir(d)))
        assert_null(strstr(de->d_name, ".tmp-"));
    closedir(d);
}

static int
cancel_after_first(void *opaque, uint64_t done, uint64_t total)
{
    (*(int *)opaque)++;
    return 1;
}

static void
test_progress_cancel(void **state)
{
    vdisk_iso_create_opts o;
    vdisk_iso_create_opts_init(&o);
    vdisk_iso_source s = { iso_fix_tree(), NULL };
    int calls = 0;
    vdisk_error err;
    const char *out = unit_path(0, "c.iso");
    assert_int_equal(vdisk_iso_create(out, &o, &s, 1, cancel_after_first, &calls, &err), -ECANCELED);
    assert_int_equal(calls, 1);
    assert_int_equal(access(out, F_OK), -1);
}

static void
test_boot_info_table_in_tree(void **state)
{
    const char *src = iso_fix_tree();
    uint8_t body[3000];
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t)(i * 13 + 1);
    iso_fix_file(src, "boot/loader.bin", body, sizeof(body));
    char loader[700];
    snprintf(loader, sizeof(loader), "%s/boot/loader.bin", src);
    vdisk_iso_create_opts o;
    vdisk_iso_create_opts_init(&o);
    o.boot_image = loader;
    o.boot_no_emul = true;
    o.boot_info_table = true;
    vdisk_iso_source s = { src, NULL };
    vdisk_error err;
    const char *out = unit_path(0, "b.iso");
    assert_int_equal(vdisk_iso_create(out, &o, &s, 1, NULL, NULL, &err), 0);
    vdisk_iso *h;
    assert_int_equal(vdisk_iso_open(out, 0, &h, &err), 0);
    vdisk_iso_entry e;
    assert_int_equal(vdisk_iso_stat(h, "/boot/loader.bin", &e, &err), 0);
    vdisk_iso_boot_entry *b;
    size_t n;
    assert_int_equal(vdisk_iso_get_boot(h, &b, &n, &err), 0);
    assert_int_equal(b[0].lba, e.extents[0].lba);   /* the tree's file, not a hidden copy */
    uint8_t got[64];
    assert_int_equal(vdisk_iso_pread(h, &e, got, 64, 0, &err), 0);
    uint32_t sum = 0;
    for (size_t i = 64; i < sizeof(body); i += 4)
        sum += (uint32_t)body[i] | (uint32_t)body[i + 1] << 8 | (uint32_t)body[i + 2] << 16 |
               (uint32_t)(i + 3 < sizeof(body) ? body[i + 3] : 0) << 24;
    assert_int_equal(iso_le32(got + 8), 16);
    assert_int_equal(iso_le32(got + 12), e.extents[0].lba);
    assert_int_equal(iso_le32(got + 16), sizeof(body));
    assert_int_equal(iso_le32(got + 20), sum);
    assert_memory_equal(got, body, 8);
    free(b);
    vdisk_iso_entry_clear(&e);
    vdisk_iso_close(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reproducible, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_read_back_without_extensions, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_failure_leaves_nothing, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_progress_cancel, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_boot_info_table_in_tree, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
