/* Unit tests for core/vmdk/create.c: the layout of new images (computed
 * here from Virtual Disk Format 5.0's rules: 64 KiB grains, 512-entry
 * tables, descriptor at sector 1 for 20 sectors), extent file names, and
 * the cleanup of a failed create. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "vmdk-fixture.h"

static uint64_t
file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static void
read_at(const char *path, uint64_t off, void *buf, size_t len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
    assert_int_equal(fread(buf, 1, len, f), len);
    fclose(f);
}

/* 100 MiB: 1600 grains, 4 tables, a 1-sector directory.  Redundant
 * directory at 21, its tables from 22; directory at 21+1+16 = 38, tables
 * from 39; grains from 55 rounded up to 128. */
static void
test_monolithic_sparse_layout(void **state)
{
    (void)state;
    const char *p = unit_path(0, "m.vmdk");
    vmdk_make(p, NULL, 100 * MiB);
    uint8_t s[512];
    read_at(p, 0, s, sizeof(s));
    vmdk_header h;
    vmdk_header_decode(s, &h);
    assert_true(vmdk_is_sparse_magic(s));
    assert_int_equal(h.version, 1);
    assert_int_equal(h.flags, VMDK_FLAG_RGD | VMDK_FLAG_NL_DETECT);
    assert_int_equal(h.capacity, 204800);
    assert_int_equal(h.grain_sectors, 128);
    assert_int_equal(h.desc_offset, 1);
    assert_int_equal(h.desc_size, 20);
    assert_int_equal(h.gt_entries, 512);
    assert_int_equal(h.rgd_offset, 21);
    assert_int_equal(h.gd_offset, 38);
    assert_int_equal(h.overhead, 128);
    assert_int_equal(file_size(p), 128 * 512);
    uint32_t gd[4], rgd[4];
    read_at(p, 38 * 512, gd, sizeof(gd));
    read_at(p, 21 * 512, rgd, sizeof(rgd));
    for (int i = 0; i < 4; i++) {
        assert_int_equal(vmdk_le32((uint8_t *)&gd[i]), 39 + 4 * i);
        assert_int_equal(vmdk_le32((uint8_t *)&rgd[i]), 22 + 4 * i);
    }
    read_at(p, 512, s, 30);
    assert_memory_equal(s, "# Disk DescriptorFile\nversion=", 30);
}

static void
test_zeroed_grain_header(void **state)
{
    (void)state;
    const char *p = unit_path(0, "z.vmdk");
    vmdk_make(p, "zeroed_grain=on", MiB);
    uint8_t s[512];
    read_at(p, 0, s, sizeof(s));
    vmdk_header h;
    vmdk_header_decode(s, &h);
    assert_int_equal(h.version, 2);
    assert_true(h.flags & VMDK_FLAG_ZEROED_GRAIN);
}

/* An empty stream: header (GD at end), then at 64 KiB the GD marker, the
 * directory, the footer marker, the footer, the end-of-stream marker. */
static void
test_stream_layout(void **state)
{
    (void)state;
    const char *p = unit_path(0, "s.vmdk");
    vmdk_make(p, "subformat=streamOptimized", 3u << 30);
    uint8_t s[512];
    vmdk_header h, f;
    read_at(p, 0, s, sizeof(s));
    vmdk_header_decode(s, &h);
    assert_int_equal(h.version, 3);
    assert_int_equal(h.flags, VMDK_FLAG_NL_DETECT | VMDK_FLAG_COMPRESSED | VMDK_FLAG_MARKERS);
    assert_int_equal(h.compress, 1);
    assert_int_equal(h.gd_offset, VMDK_GD_AT_END);
    assert_int_equal(h.overhead, 128);
    assert_int_equal(file_size(p), 65536 + 5 * 512);
    vmdk_marker m;
    read_at(p, 65536, s, sizeof(s));
    vmdk_marker_decode(s, &m);
    assert_int_equal(m.type, VMDK_MARKER_GD);
    assert_int_equal(m.size, 0);
    assert_int_equal(m.value, 1);   /* 96 entries: one sector */
    read_at(p, 65536 + 1024, s, sizeof(s));
    vmdk_marker_decode(s, &m);
    assert_int_equal(m.type, VMDK_MARKER_FOOTER);
    read_at(p, 65536 + 1536, s, sizeof(s));
    vmdk_header_decode(s, &f);
    assert_int_equal(f.gd_offset, 129);
    assert_int_equal(f.capacity, h.capacity);
    read_at(p, 65536 + 2048, s, sizeof(s));
    for (int i = 0; i < 512; i++)
        assert_int_equal(s[i], 0);
}

static void
test_extent_names(void **state)
{
    (void)state;
    vmdk_make(unit_path(0, "a.vmdk"), "subformat=twoGbMaxExtentSparse", (2ull << 30) + MiB);
    assert_int_equal(access(unit_path(0, "a-s001.vmdk"), F_OK), 0);
    assert_int_equal(access(unit_path(0, "a-s002.vmdk"), F_OK), 0);
    assert_int_equal(access(unit_path(0, "a-s003.vmdk"), F_OK), -1);
    vmdk_make(unit_path(0, "b.img.vmdk"), "subformat=twoGbMaxExtentFlat", 3ull << 30);
    assert_int_equal(file_size(unit_path(0, "b.img-f001.vmdk")), 2ull << 30);
    assert_int_equal(file_size(unit_path(0, "b.img-f002.vmdk")), 1ull << 30);
    vmdk_make(unit_path(0, "noext"), "subformat=monolithicFlat", MiB);
    assert_int_equal(file_size(unit_path(0, "noext-flat")), MiB);
    /* Size 0: a descriptor without extents, as qemu-img makes it. */
    vmdk_make(unit_path(0, "zero.vmdk"), "subformat=monolithicFlat", 0);
    assert_int_equal(access(unit_path(0, "zero-flat.vmdk"), F_OK), -1);
    vdisk_image *img = vmdk_open_named(unit_path(0, "zero.vmdk"), 0);
    assert_int_equal(vdisk_get_size(img), 0);
    vdisk_close(img, NULL);
}

/* The second extent cannot be created: nothing is left behind. */
static void
test_failed_create_cleans_up(void **state)
{
    (void)state;
    assert_int_equal(mkdir(unit_path(0, "c-f002.vmdk"), 0755), 0);
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VMDK);
    vdisk_error err;
    assert_int_equal(vdisk_create_opts_parse(&o, "subformat=twoGbMaxExtentFlat", &err), 0);
    o.size = 3ull << 30;
    assert_true(vdisk_create(unit_path(0, "c.vmdk"), &o, NULL, NULL, &err) < 0);
    assert_int_equal(access(unit_path(0, "c.vmdk"), F_OK), -1);
    assert_int_equal(access(unit_path(0, "c-f001.vmdk"), F_OK), -1);
}

/* Preallocated sparse: every grain mapped, in order, both table copies. */
static void
test_preallocated_sparse(void **state)
{
    (void)state;
    const char *p = unit_path(0, "t.vmdk");
    vmdk_make(p, "preallocation=zeroedthick", 2 * MiB);
    assert_int_equal(file_size(p), 128 * 512 + 2 * MiB);
    uint32_t gte[33], rgte[33];
    read_at(p, (21 + 1 + 4 + 1) * 512, gte, sizeof(gte));
    read_at(p, (21 + 1) * 512, rgte, sizeof(rgte));
    for (int i = 0; i < 32; i++) {
        assert_int_equal(vmdk_le32((uint8_t *)&gte[i]), 128 + 128 * i);
        assert_int_equal(gte[i], rgte[i]);
    }
    assert_int_equal(gte[32], 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_monolithic_sparse_layout, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_zeroed_grain_header, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_stream_layout, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_extent_names, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_failed_create_cleans_up, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_preallocated_sparse, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
