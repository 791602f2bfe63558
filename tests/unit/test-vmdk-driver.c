/* Unit tests for core/vmdk/driver.c: open of each kind (probed and
 * named), what info reports (create type, CIDs, extents, cluster size,
 * parent), measure (unsupported, as in qemu-img) and odd descriptors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "vmdk-fixture.h"

static void
info_of(const char *path, vdisk_info *info)
{
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(path, NULL, &img, &err), 0);   /* probed */
    assert_int_equal(vdisk_get_format(img), VDISK_FORMAT_VMDK);
    assert_int_equal(vdisk_get_info(img, info, &err), 0);
    vdisk_close(img, NULL);
}

static void
test_info_per_kind(void **state)
{
    (void)state;
    static const struct { const char *opts; const char *type; size_t n; uint32_t cluster; bool comp; } k[] = {
        { "subformat=monolithicSparse", "monolithicSparse", 1, 65536, false },
        { "subformat=streamOptimized", "streamOptimized", 1, 65536, true },
        { "subformat=monolithicFlat", "monolithicFlat", 1, 0, false },
        { "subformat=twoGbMaxExtentSparse", "twoGbMaxExtentSparse", 2, 65536, false },
        { "subformat=twoGbMaxExtentFlat", "twoGbMaxExtentFlat", 2, 0, false },
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "d%zu.vmdk", i);
        const char *p = unit_path(0, name);
        vmdk_make(p, k[i].opts, (2ull << 30) + MiB);
        vdisk_info info;
        info_of(p, &info);
        assert_non_null(info.vmdk);
        assert_string_equal(info.vmdk->create_type, k[i].type);
        assert_int_equal(info.vmdk->parent_cid, 0xffffffff);
        assert_int_equal(info.vmdk->nextents, k[i].n);
        assert_int_equal(info.cluster_size, k[i].cluster);
        assert_int_equal(info.vmdk->extents[0].compressed, k[i].comp);
        assert_int_equal(info.virtual_size, (2ull << 30) + MiB);
        if (k[i].n == 1 && k[i].cluster)
            assert_string_equal(info.vmdk->extents[0].format, "");
        else
            assert_string_equal(info.vmdk->extents[0].format, k[i].cluster ? "SPARSE" : "FLAT");
        assert_null(info.backing_file);
        vdisk_info_clear(&info);
    }
}

static void
test_parent_info_and_no_backing(void **state)
{
    (void)state;
    vmdk_make(unit_path(0, "p.vmdk"), NULL, MiB);
    vmdk_make(unit_path(0, "c.vmdk"), "backing_file=p.vmdk,backing_fmt=vmdk", 0);
    vdisk_info pi, ci;
    info_of(unit_path(0, "p.vmdk"), &pi);
    info_of(unit_path(0, "c.vmdk"), &ci);
    assert_int_equal(ci.vmdk->parent_cid, pi.vmdk->cid);
    assert_string_equal(ci.backing_file, "p.vmdk");
    assert_string_equal(ci.backing_format, "vmdk");
    assert_int_equal(ci.virtual_size, MiB);
    vdisk_info_clear(&pi);
    vdisk_info_clear(&ci);
    vdisk_image *img = vmdk_open_named(unit_path(0, "c.vmdk"), VDISK_OPEN_NO_BACKING);
    assert_null(vdisk_get_backing(img));
    vdisk_close(img, NULL);
    img = vmdk_open_named(unit_path(0, "c.vmdk"), 0);
    assert_non_null(vdisk_get_backing(img));
    vdisk_close(img, NULL);
}

static void
test_measure_and_odd_descriptors(void **state)
{
    (void)state;
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VMDK);
    o.size = MiB;
    vdisk_measure m;
    vdisk_error err;
    assert_int_equal(vdisk_measure_image(&o, NULL, &m, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "does not support size measurement"));
    const char *p = unit_path(0, "odd.vmdk");
    vmdk_write_text(p, "# Disk DescriptorFile\nversion=1\nCID=1\ncreateType=\"fullDevice\"\n");
    assert_int_equal(vmdk_open_fails(p, VDISK_FORMAT_VMDK, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "Unsupported image type 'fullDevice'"));
    vmdk_write_text(p, "# Disk DescriptorFile\nversion=1\nCID=1\n");
    assert_int_equal(vmdk_open_fails(p, VDISK_FORMAT_VMDK, &err), -EINVAL);
    assert_non_null(strstr(err.message, "no createType"));
    vmdk_write_text(p, "# Disk DescriptorFile\nversion=1\ncreateType=\"vmfs\"\n");
    assert_int_equal(vmdk_open_fails(p, VDISK_FORMAT_VMDK, &err), -EINVAL);
    assert_non_null(strstr(err.message, "no CID"));
    vmdk_write_text(p, "abc");
    assert_int_equal(vmdk_open_fails(p, VDISK_FORMAT_VMDK, &err), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_info_per_kind, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_parent_info_and_no_backing, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_measure_and_odd_descriptors, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
