/* Unit tests for plugin/volume.c: probing (lookup), finding by path,
 * delete, refusing symlinks and non-files, error renaming. */
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

#include <vdisk/create.h>
#include <vdisk/volume.h>

#include "fixture.h"
#include "pool-fixture.h"
#include "pool-internal.h"

static void
test_lookup_probes_qcow2(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    vdisk_image *img = unit_make_qcow2(unit_path(0, "p/disk.qcow2"), "compat=0.10,cluster_size=4096",
                                       16 * MiB, 0);
    vdisk_close(img, NULL);
    vdisk_vol_def d;
    assert_int_equal(vdisk_vol_lookup(p, "disk.qcow2", &d, NULL), 0);
    assert_string_equal(d.name, "disk.qcow2");
    assert_string_equal(d.key, unit_path(0, "p/disk.qcow2"));
    assert_int_equal(d.format, VDISK_FORMAT_QCOW2);
    assert_int_equal(d.capacity, 16 * MiB);
    assert_string_equal(d.compat, "0.10");
    assert_int_equal(d.cluster_size, 4096);
    struct stat st;
    stat(unit_path(0, "p/disk.qcow2"), &st);
    assert_int_equal(d.physical, (uint64_t)st.st_size);
    assert_int_equal(d.allocation, (uint64_t)st.st_blocks * 512);
    assert_int_equal(d.perms.mode, st.st_mode & 07777);
    vdisk_vol_def_clear(&d);
    pf_close(reg, p);
}

static void
test_lookup_resolves_relative_backing_against_pool(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    vdisk_close(unit_make_qcow2(unit_path(0, "p/base.qcow2"), NULL, MiB, 0), NULL);
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    assert_int_equal(vdisk_create_opts_parse(&o, "backing_file=base.qcow2,backing_fmt=qcow2", NULL), 0);
    assert_int_equal(vdisk_create(unit_path(0, "p/top.qcow2"), &o, NULL, NULL, NULL), 0);
    vdisk_create_opts_clear(&o);
    vdisk_vol_def d;
    assert_int_equal(vdisk_vol_lookup(p, "top.qcow2", &d, NULL), 0);
    assert_string_equal(d.backing_path, unit_path(0, "p/base.qcow2"));
    assert_int_equal(d.backing_format, VDISK_FORMAT_QCOW2);
    assert_int_equal(d.capacity, MiB);
    vdisk_vol_def_clear(&d);
    pf_close(reg, p);
}

static void
test_missing_symlink_and_fifo_refused(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    vdisk_vol_def d;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_lookup(p, "none", &d, &err), -ENOENT);
    assert_non_null(strstr(err.message, "no storage vol with matching name 'none'"));
    unit_write_file(unit_path(0, "secret"), 100, "x", 1, 0);
    assert_int_equal(symlink(unit_path(0, "secret"), unit_path(1, "p/link")), 0);
    assert_int_equal(vdisk_vol_lookup(p, "link", &d, NULL), -ELOOP);
    assert_int_equal(vdisk_vol_delete(p, "link", NULL), -ELOOP);
    struct stat st;
    assert_int_equal(stat(unit_path(0, "secret"), &st), 0);    /* the target is untouched */
    assert_int_equal(mkfifo(unit_path(0, "p/fifo"), 0600), 0);
    assert_int_equal(vdisk_vol_open_fd(p, "fifo", O_RDONLY, NULL), -EINVAL);
    assert_int_equal(vdisk_vol_lookup(p, "../secret", &d, NULL), -EINVAL);
    pf_close(reg, p);
}

static void
test_find_by_path_and_delete(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    unit_write_file(unit_path(0, "p/v.img"), MiB, NULL, 0, 0);
    vdisk_pool *found;
    char *name;
    char path[600];
    snprintf(path, sizeof(path), "%s/p/../p/v.img", unit_tmpdir);
    assert_int_equal(vdisk_vol_find_by_path(reg, path, &found, &name, NULL), 0);
    assert_string_equal(name, "v.img");
    assert_string_equal(vdisk_pool_name(found), "p");
    free(name);
    vdisk_pool_free(found);
    assert_int_equal(vdisk_vol_find_by_path(reg, unit_path(0, "elsewhere/v.img"), &found, &name, NULL),
                     -ENOENT);
    assert_int_equal(vdisk_vol_delete(p, "v.img", NULL), 0);
    assert_int_equal(access(unit_path(0, "p/v.img"), F_OK), -1);
    pf_close(reg, p);
}

static void
test_error_rename_whole_paths_only(void **state)
{
    vdisk_error err = { 0 };
    vdisk_error_set(&err, EIO, "/proc/self/fd/5: bad; /proc/self/fd/57: other");
    vdisk_error_rename(&err, "/proc/self/fd/5", "/pool/disk");
    assert_string_equal(err.message, "/pool/disk: bad; /proc/self/fd/57: other");
    char *path = NULL;
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    path = vdisk_vol_path(p, "x");
    assert_string_equal(path, unit_path(0, "p/x"));
    free(path);
    pf_close(reg, p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lookup_probes_qcow2, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_lookup_resolves_relative_backing_against_pool, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_missing_symlink_and_fifo_refused, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_find_by_path_and_delete, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_error_rename_whole_paths_only, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
