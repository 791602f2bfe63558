/* Unit tests for core/vmdk/io.c: requests cut across extents of every
 * kind, read-only and zero extents, the CID update on the first write,
 * and reads through a parent (with its CID check). */
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
#include "vmdk-fixture.h"

/* 4 KiB flat | 2 KiB zero | 1 MiB sparse | 1 KiB read-only flat. */
static void
mixed_descriptor(void)
{
    unit_write_file(unit_path(0, "f.bin"), 8192, NULL, 0, 0);
    unit_write_file(unit_path(0, "r.bin"), 1024, "ro", 2, 0);
    vmdk_make(unit_path(0, "sp.vmdk"), NULL, MiB);
    vmdk_write_text(unit_path(0, "m.vmdk"),
                    "# Disk DescriptorFile\nversion=1\nCID=1234abcd\nparentCID=ffffffff\n"
                    "createType=\"monolithicFlat\"\n# Extent description\n"
                    "RW 8 FLAT \"f.bin\" 8\nRW 4 ZERO\nRW 2048 SPARSE \"sp.vmdk\"\n"
                    "RDONLY 2 FLAT \"r.bin\" 0\n");
}

static void
test_across_extents(void **state)
{
    (void)state;
    mixed_descriptor();
    vdisk_image *img = vmdk_open_named(unit_path(0, "m.vmdk"), VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_get_size(img), 4096 + 2048 + MiB + 1024);
    uint8_t buf[8192], back[8192];
    unit_pattern(buf, sizeof(buf), 3);
    vdisk_error err;
    /* Flat then zero extent: refused at the zero extent... */
    assert_int_equal(vdisk_pwrite(img, buf, 6000, 0, &err), -EROFS);
    assert_non_null(strstr(err.message, "ZERO extent"));
    /* ...zeros may be written there, and data around it. */
    assert_int_equal(vdisk_write_zeroes(img, 8192, 0, 0, &err), 0);
    assert_int_equal(vdisk_pwrite(img, buf, 4096, 0, &err), 0);
    assert_int_equal(vdisk_pwrite(img, buf, 5000, 6144 - 0, &err), 0);
    assert_int_equal(vdisk_pread(img, back, 8192, 0, &err), 0);
    assert_memory_equal(back, buf, 4096);
    for (int i = 4096; i < 6144; i++)
        assert_int_equal(back[i], 0);
    assert_memory_equal(back + 6144, buf, 2048);
    /* The read-only extent at the end. */
    uint64_t ro = 4096 + 2048 + MiB;
    assert_int_equal(vdisk_pread(img, back, 2, ro, &err), 0);
    assert_memory_equal(back, "ro", 2);
    assert_int_equal(vdisk_pwrite(img, buf, 512, ro, &err), -EROFS);
    assert_non_null(strstr(err.message, "RDONLY"));
    /* The flat extent starts 8 sectors into its file. */
    FILE *f = fopen(unit_path(0, "f.bin"), "rb");
    assert_int_equal(fseek(f, 4096, SEEK_SET), 0);
    assert_int_equal(fread(back, 1, 4096, f), 4096);
    fclose(f);
    assert_memory_equal(back, buf, 4096);
    /* Block status names the extent's own file. */
    vdisk_extent ext;
    assert_int_equal(vdisk_block_status(img, 6144, MiB, &ext, &err), 0);
    assert_non_null(strstr(ext.filename, "sp.vmdk"));
    assert_int_equal(ext.host_offset, 65536);
    vdisk_close(img, NULL);
}

static uint32_t
cid_of(const char *path)
{
    vdisk_image *img = vmdk_open_named(path, 0);
    vdisk_info info;
    vdisk_error err;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    uint32_t cid = info.vmdk->cid;
    vdisk_info_clear(&info);
    vdisk_close(img, NULL);
    return cid;
}

static void
test_cid_changes_once_per_open(void **state)
{
    (void)state;
    mixed_descriptor();
    const char *m = unit_path(0, "m.vmdk");
    assert_int_equal(cid_of(m), 0x1234abcd);
    vdisk_image *img = vmdk_open_named(m, VDISK_OPEN_RDWR);
    uint8_t b[512] = { 1 };
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, b, 512, 0, &err), 0);
    uint32_t first = ((vmdk_state *)img->priv)->cid;
    assert_int_equal(vdisk_pwrite(img, b, 512, 512, &err), 0);
    assert_int_equal(((vmdk_state *)img->priv)->cid, first);
    vdisk_close(img, NULL);
    assert_int_equal(cid_of(m), first);
    assert_true(first != 0x1234abcd);
    /* Inside a sparse file too (the embedded descriptor). */
    const char *s = unit_path(1, "sp.vmdk");
    uint32_t before = cid_of(s);
    img = vmdk_open_named(s, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_pwrite(img, b, 512, 0, &err), 0);
    vdisk_close(img, NULL);
    assert_true(cid_of(s) != before);
}

static void
test_parent_reads_and_cid_check(void **state)
{
    (void)state;
    const char *p = unit_path(0, "p.vmdk"), *c = unit_path(1, "c.vmdk");
    vmdk_make(p, NULL, 2 * MiB);
    vdisk_image *img = vmdk_open_named(p, VDISK_OPEN_RDWR);
    uint8_t buf[65536];
    memset(buf, 0xab, sizeof(buf));
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, buf, sizeof(buf), 0, &err), 0);
    vdisk_close(img, NULL);
    vmdk_make(c, "backing_file=p.vmdk,backing_fmt=vmdk", 4 * MiB);
    img = vmdk_open_named(c, VDISK_OPEN_RDWR);
    memset(buf, 0xcd, 100);
    assert_int_equal(vdisk_pwrite(img, buf, 100, 1000, &err), 0);   /* copy on write */
    assert_int_equal(vdisk_pread(img, buf, sizeof(buf), 0, &err), 0);
    assert_int_equal(buf[999], 0xab);
    assert_int_equal(buf[1000], 0xcd);
    assert_int_equal(buf[1100], 0xab);
    assert_int_equal(vdisk_pread(img, buf, 512, 3 * MiB, &err), 0);   /* past the parent */
    assert_int_equal(buf[0], 0);
    vdisk_close(img, NULL);
    /* The parent changes: reads through it fail, by name. */
    img = vmdk_open_named(p, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_pwrite(img, buf, 512, MiB, &err), 0);
    vdisk_close(img, NULL);
    img = vmdk_open_named(c, 0);
    assert_int_equal(vdisk_pread(img, buf, 512, 0, &err), 0);   /* written in the child */
    assert_int_equal(vdisk_pread(img, buf, 512, 70000, &err), -EINVAL);
    assert_non_null(strstr(err.message, "parent CID"));
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_across_extents, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_cid_changes_once_per_open, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_parent_reads_and_cid_check, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
