/* Unit tests for core/vmdk/extent.c: extent files resolved against the
 * descriptor's directory, the path policy (confined unless the format of
 * the top image is named), extent kinds, and the offset lookup. */
#include <errno.h>
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
#include "vmdk-fixture.h"

static void
descriptor(const char *path, const char *extents)
{
    char text[1024];
    snprintf(text, sizeof(text), "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\n"
             "createType=\"vmfs\"\n%s", extents);
    vmdk_write_text(path, text);
}

static void
expect_policy(const char *path, const char *word)
{
    vdisk_error err;
    assert_int_equal(vmdk_open_fails(path, VDISK_FORMAT_UNKNOWN, &err), -EPERM);
    if (!strstr(err.message, word) || !strstr(err.message, "-f vmdk"))
        fail_msg("'%s' lacks '%s'", err.message, word);
    vdisk_image *img = vmdk_open_named(path, 0);   /* named: followed */
    vdisk_close(img, NULL);
}

static void
test_policy(void **state)
{
    (void)state;
    assert_int_equal(mkdir(unit_path(0, "in"), 0755), 0);
    unit_write_file(unit_path(0, "outside.bin"), 4096, "x", 1, 0);
    descriptor(unit_path(0, "in/up.vmdk"), "RW 8 VMFS \"../outside.bin\"\n");
    expect_policy(unit_path(0, "in/up.vmdk"), "'..'");
    char abs[600], line[700];
    snprintf(abs, sizeof(abs), "%s", unit_path(0, "outside.bin"));
    snprintf(line, sizeof(line), "RW 8 VMFS \"%s\"\n", abs);
    descriptor(unit_path(0, "in/abs.vmdk"), line);
    expect_policy(unit_path(0, "in/abs.vmdk"), "absolute path");
    assert_int_equal(symlink(abs, unit_path(0, "in/link.bin")), 0);
    descriptor(unit_path(0, "in/link.vmdk"), "RW 8 VMFS \"link.bin\"\n");
    expect_policy(unit_path(0, "in/link.vmdk"), "symbolic link");
    assert_int_equal(symlink("/dev/null", unit_path(0, "in/null.bin")), 0);
    descriptor(unit_path(0, "in/dev.vmdk"), "RW 8 VMFS \"null.bin\"\n");
    expect_policy(unit_path(0, "in/dev.vmdk"), "device");
    /* Inside the directory (a subdirectory too): fine when probed. */
    assert_int_equal(mkdir(unit_path(0, "in/sub"), 0755), 0);
    unit_write_file(unit_path(0, "in/sub/d.bin"), 4096, "y", 1, 0);
    descriptor(unit_path(0, "in/ok.vmdk"), "RW 8 VMFS \"sub/d.bin\"\n");
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(unit_path(0, "in/ok.vmdk"), NULL, &img, &err), 0);
    uint8_t b;
    assert_int_equal(vdisk_pread(img, &b, 1, 0, &err), 0);
    assert_int_equal(b, 'y');
    vdisk_close(img, NULL);
}

static void
test_kinds_and_lookup(void **state)
{
    (void)state;
    unit_write_file(unit_path(0, "a.bin"), 8192, "A", 1, 0);
    unit_write_file(unit_path(0, "b.bin"), 8192, "B", 1, 1024);
    descriptor(unit_path(0, "k.vmdk"),
               "RW 4 FLAT \"a.bin\" 0\nRW 0 FLAT \"a.bin\" 0\nRW 6 ZERO\nRDONLY 2 FLAT \"b.bin\" 2\n");
    vdisk_image *img = vmdk_open_named(unit_path(0, "k.vmdk"), 0);
    vmdk_state *st = img->priv;
    assert_int_equal(st->nextents, 3);   /* the empty extent is skipped */
    assert_int_equal(vdisk_get_size(img), 12 * 512);
    assert_ptr_equal(vmdk_extent_find(st, 0), &st->extents[0]);
    assert_ptr_equal(vmdk_extent_find(st, 2047), &st->extents[0]);
    assert_ptr_equal(vmdk_extent_find(st, 2048), &st->extents[1]);
    assert_ptr_equal(vmdk_extent_find(st, 5119), &st->extents[1]);
    assert_ptr_equal(vmdk_extent_find(st, 5120), &st->extents[2]);
    assert_null(vmdk_extent_find(st, 6144));
    assert_int_equal(st->extents[1].kind, VMDK_EXTENT_ZERO);
    assert_true(st->extents[2].read_only);
    uint8_t b;
    vdisk_error err;
    assert_int_equal(vdisk_pread(img, &b, 1, 5120, &err), 0);   /* b.bin at offset 1024 */
    assert_int_equal(b, 'B');
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_policy, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_kinds_and_lookup, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
