/* Unit tests for plugin/volume-create.c: provisioning plans, space and
 * overcommit refusals before writing, nothing left behind on failure. */
#include <dirent.h>
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

#include <vdisk/volume.h>

#include "fixture.h"
#include "pool-fixture.h"

/* Entries of the pool directory other than . and .. */
static int
count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    /* vdisk's record of the volume formats is no leftover */
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, ".vdisk-volumes"))
            n++;
    closedir(d);
    return n;
}

static uint64_t
blocks_bytes(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_blocks * 512;
}

static void
test_thin_thick_and_reserved_raw(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "thin", VDISK_FORMAT_RAW, 8 * MiB, 0);
    pf_create(p, "thick", VDISK_FORMAT_RAW, 8 * MiB, 8 * MiB);
    pf_create(p, "part", VDISK_FORMAT_RAW, 8 * MiB, 2 * MiB);
    assert_true(blocks_bytes(unit_path(0, "p/thin")) < 64 * KiB);
    assert_true(blocks_bytes(unit_path(0, "p/thick")) >= 8 * MiB);
    uint64_t part = blocks_bytes(unit_path(0, "p/part"));
    assert_true(part >= 2 * MiB && part < 4 * MiB);
    struct stat st;
    assert_int_equal(stat(unit_path(0, "p/part"), &st), 0);
    assert_int_equal(st.st_size, 8 * MiB);
    assert_int_equal(st.st_mode & 0777, 0600);          /* libvirt's default volume mode */
    pf_close(reg, p);
}

static void
test_eager_qcow2_is_full(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_EAGER, 0);
    pf_create(p, "e.qcow2", VDISK_FORMAT_QCOW2, 4 * MiB, 4 * MiB);
    pf_create(p, "t.qcow2", VDISK_FORMAT_QCOW2, 4 * MiB, 0);
    assert_true(blocks_bytes(unit_path(0, "p/e.qcow2")) >= 4 * MiB);
    assert_true(blocks_bytes(unit_path(0, "p/t.qcow2")) < 1 * MiB);
    vdisk_image *img;
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2 };
    assert_int_equal(vdisk_open(unit_path(0, "p/e.qcow2"), &oo, &img, NULL), 0);
    vdisk_extent ext;
    assert_int_equal(vdisk_block_status(img, 0, 4 * MiB, &ext, NULL), 0);
    assert_true(ext.flags & VDISK_EXTENT_DATA);      /* clusters allocated: preallocation=full */
    vdisk_close(img, NULL);
    pf_close(reg, p);
}

static void
test_refusals_write_nothing(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    vdisk_pool_info info;
    assert_int_equal(vdisk_pool_get_info(p, &info, NULL), 0);
    vdisk_error err = { 0 };
    /* Thick past the free space. */
    vdisk_vol_def d = pf_vol("big", VDISK_FORMAT_RAW, info.available + 64 * MiB, info.available + 64 * MiB);
    assert_int_equal(vdisk_vol_create(p, &d, 0, NULL, NULL, &err), -ENOSPC);
    assert_non_null(strstr(err.message, "'big'"));
    vdisk_vol_def_clear(&d);
    /* Invalid qcow2 options: refused by validation. */
    d = pf_vol("bad.qcow2", VDISK_FORMAT_QCOW2, MiB, 0);
    d.cluster_size = 3000;
    assert_true(vdisk_vol_create(p, &d, 0, NULL, NULL, NULL) < 0);
    vdisk_vol_def_clear(&d);
    /* Encryption without a secret refused clearly (test-plugin-volume-encrypt has the rest). */
    d = pf_vol("enc", VDISK_FORMAT_QCOW2, MiB, 0);
    d.encryption.format = VDISK_VOL_ENCRYPTION_LUKS;
    assert_int_equal(vdisk_vol_create(p, &d, 0, NULL, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "no secret provided for luks encryption"));
    vdisk_vol_def_clear(&d);
    /* As libvirt, an 'iso' volume is created as a plain (raw) file. */
    d = pf_vol("x.iso", VDISK_FORMAT_ISO, MiB, 0);
    assert_int_equal(vdisk_vol_create(p, &d, 0, NULL, NULL, NULL), 0);
    vdisk_vol_def_clear(&d);
    struct stat st;
    assert_int_equal(stat(unit_path(0, "p/x.iso"), &st), 0);
    assert_int_equal(st.st_size, MiB);
    assert_int_equal(vdisk_vol_delete(p, "x.iso", NULL), 0);
    /* Bad names. */
    d = pf_vol("a/b", VDISK_FORMAT_RAW, MiB, 0);
    assert_int_equal(vdisk_vol_create(p, &d, 0, NULL, NULL, NULL), -EINVAL);
    vdisk_vol_def_clear(&d);
    assert_int_equal(count_entries(unit_path(0, "p")), 0);
    pf_close(reg, p);
}

static void
test_overcommit_cap(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 1.0);
    vdisk_pool_info info;
    assert_int_equal(vdisk_pool_get_info(p, &info, NULL), 0);
    uint64_t half = info.capacity / 2 / MiB * MiB;
    pf_create(p, "a", VDISK_FORMAT_RAW, half, 0);
    vdisk_vol_def d = pf_vol("b", VDISK_FORMAT_RAW, half + 64 * MiB, 0);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_create(p, &d, 0, NULL, NULL, &err), -ENOSPC);
    assert_non_null(strstr(err.message, "overcommit"));
    vdisk_vol_def_clear(&d);
    assert_int_equal(count_entries(unit_path(0, "p")), 1);
    pf_close(reg, p);
}

static void
test_existing_name_and_symlink_not_replaced(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "v", VDISK_FORMAT_RAW, MiB, 0);
    vdisk_vol_def d = pf_vol("v", VDISK_FORMAT_QCOW2, MiB, 0);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_create(p, &d, 0, NULL, NULL, &err), -EEXIST);
    assert_non_null(strstr(err.message, "already in use"));
    vdisk_vol_def_clear(&d);
    unit_write_file(unit_path(0, "victim"), 10, "keep", 4, 0);
    assert_int_equal(symlink(unit_path(0, "victim"), unit_path(1, "p/link")), 0);
    d = pf_vol("link", VDISK_FORMAT_RAW, MiB, MiB);
    assert_int_equal(vdisk_vol_create(p, &d, 0, NULL, NULL, NULL), -EEXIST);
    vdisk_vol_def_clear(&d);
    struct stat st;
    assert_int_equal(stat(unit_path(0, "victim"), &st), 0);
    assert_int_equal(st.st_size, 10);
    pf_close(reg, p);
}

static void
test_backing_and_create_from(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    vdisk_pool *q = pf_pool(reg, "q", VDISK_ZEROING_LAZY, 0);
    unit_write_file(unit_path(0, "p/base.raw"), 2 * MiB, "hello", 5, MiB);
    vdisk_vol_def d = pf_vol("top.qcow2", VDISK_FORMAT_QCOW2, 0, 0);
    d.backing_path = strdup(unit_path(0, "p/base.raw"));
    assert_int_equal(vdisk_vol_create(p, &d, 0, NULL, NULL, NULL), 0);
    vdisk_vol_def_clear(&d);
    vdisk_vol_def got;
    assert_int_equal(vdisk_vol_lookup(p, "top.qcow2", &got, NULL), 0);
    assert_int_equal(got.capacity, 2 * MiB);
    assert_int_equal(got.backing_format, VDISK_FORMAT_RAW);      /* probed */
    vdisk_vol_def_clear(&got);
    /* Copy into another pool, flattening the chain, converted to raw. */
    d = pf_vol("copy.raw", VDISK_FORMAT_RAW, 0, 0);
    assert_int_equal(vdisk_vol_create_from(q, &d, p, "top.qcow2", 0, NULL, NULL, NULL), 0);
    vdisk_vol_def_clear(&d);
    vdisk_image *img;
    vdisk_open_opts oo = { .format = VDISK_FORMAT_RAW };
    assert_int_equal(vdisk_open(unit_path(0, "q/copy.raw"), &oo, &img, NULL), 0);
    char buf[5];
    assert_int_equal(vdisk_pread(img, buf, 5, MiB, NULL), 0);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(vdisk_get_size(img), 2 * MiB);
    vdisk_close(img, NULL);
    vdisk_pool_free(q);
    pf_close(reg, p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_thin_thick_and_reserved_raw, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_eager_qcow2_is_full, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_refusals_write_nothing, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_overcommit_cap, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_existing_name_and_symlink_not_replaced, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_backing_and_create_from, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
