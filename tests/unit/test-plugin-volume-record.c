/* Unit tests for plugin/volume-record.c: a volume keeps the format it was
 * created with whatever its bytes become; a file that appears is probed
 * once; renames and hard links keep the record, a new file under an old
 * name is probed afresh; the record file is hidden, reserved, and goes
 * with the last volume. */
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

/* A qcow2 header naming `backing`, written over the start of `path` (what
 * a guest can do to its raw disk). */
static void
write_fake_qcow2(const char *path, const char *backing)
{
    char opts[256];
    unit_write_file(backing, 4096, "host secret", 11, 0);
    snprintf(opts, sizeof(opts), "backing_file=%s,backing_fmt=raw", backing);
    vdisk_image *img = unit_make_qcow2(unit_path(2, "fake.qcow2"), opts, 4 * MiB, 0);
    vdisk_close(img, NULL);
    uint8_t head[4096];
    int fd = open(unit_path(2, "fake.qcow2"), O_RDONLY);
    assert_int_equal(pread(fd, head, sizeof(head), 0), sizeof(head));
    close(fd);
    fd = open(path, O_WRONLY);
    assert_int_equal(pwrite(fd, head, sizeof(head), 0), sizeof(head));
    close(fd);
}

static vdisk_format
format_of(vdisk_pool *p, const char *name)
{
    vdisk_vol_def d;
    vdisk_error err = { 0 };
    if (vdisk_vol_lookup(p, name, &d, &err) < 0)
        fail_msg("%s", err.message);
    vdisk_format f = d.format;
    bool backing = d.backing_path != NULL;
    vdisk_vol_def_clear(&d);
    assert_false(backing && f == VDISK_FORMAT_RAW);
    return f;
}

static void
test_created_raw_stays_raw(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "guest", VDISK_FORMAT_RAW, 4 * MiB, 0);
    write_fake_qcow2(unit_path(0, "p/guest"), unit_path(1, "host"));
    vdisk_format probed;
    assert_int_equal(vdisk_probe(unit_path(0, "p/guest"), &probed, NULL), 0);
    assert_int_equal(probed, VDISK_FORMAT_QCOW2);           /* what the bytes say */
    assert_int_equal(format_of(p, "guest"), VDISK_FORMAT_RAW);
    /* a new handle (another process, a restarted daemon) reads the same record */
    vdisk_pool_free(p);
    assert_int_equal(vdisk_pool_lookup(reg, "p", &p, NULL), 0);
    assert_int_equal(format_of(p, "guest"), VDISK_FORMAT_RAW);
    vdisk_image *img;
    assert_int_equal(vdisk_vol_open_image(p, "guest", 0, &img, NULL), 0);
    assert_int_equal(vdisk_get_format(img), VDISK_FORMAT_RAW);
    assert_null(vdisk_get_backing(img));
    vdisk_close(img, NULL);
    pf_close(reg, p);
}

static void
test_new_file_probed_once(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    vdisk_image *img = unit_make_qcow2(unit_path(0, "p/copied"), NULL, 2 * MiB, 0);
    vdisk_close(img, NULL);
    assert_int_equal(format_of(p, "copied"), VDISK_FORMAT_QCOW2);
    /* its bytes become raw-looking: the record holds */
    unit_write_file(unit_path(1, "zeros"), 0, NULL, 0, 0);
    int fd = open(unit_path(0, "p/copied"), O_WRONLY);
    assert_int_equal(pwrite(fd, "\0\0\0\0", 4, 0), 4);
    close(fd);
    assert_int_equal(format_of(p, "copied"), VDISK_FORMAT_QCOW2);
    /* a different file under the same name is new: probed afresh */
    assert_int_equal(unlink(unit_path(0, "p/copied")), 0);
    unit_write_file(unit_path(0, "p/copied"), MiB, NULL, 0, 0);
    assert_int_equal(format_of(p, "copied"), VDISK_FORMAT_RAW);
    pf_close(reg, p);
}

static void
test_rename_and_link_keep_the_record(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "a", VDISK_FORMAT_RAW, MiB, 0);
    write_fake_qcow2(unit_path(0, "p/a"), unit_path(1, "host"));
    assert_int_equal(rename(unit_path(0, "p/a"), unit_path(1, "p/b")), 0);
    assert_int_equal(link(unit_path(0, "p/b"), unit_path(1, "p/c")), 0);
    assert_int_equal(format_of(p, "b"), VDISK_FORMAT_RAW);
    assert_int_equal(format_of(p, "c"), VDISK_FORMAT_RAW);
    pf_close(reg, p);
}

static void
test_records_hidden_reserved_and_removed(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "v", VDISK_FORMAT_QCOW2, MiB, 0);
    struct stat st;
    assert_int_equal(stat(unit_path(0, "p/.vdisk-volumes"), &st), 0);
    vdisk_vol_def *vols;
    size_t n;
    assert_int_equal(vdisk_pool_refresh(p, &vols, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(vols[0].name, "v");
    vdisk_pool_volumes_free(vols, n);
    vdisk_vol_def d = pf_vol(".vdisk-volumes", VDISK_FORMAT_RAW, MiB, 0);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_create(p, &d, 0, NULL, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "reserved"));
    vdisk_vol_def_clear(&d);
    assert_int_equal(vdisk_vol_lookup(p, ".vdisk-volumes", &d, NULL), -ENOENT);
    vdisk_vol_def_clear(&d);
    assert_int_equal(vdisk_vol_delete(p, "v", NULL), 0);
    assert_int_equal(stat(unit_path(0, "p/.vdisk-volumes"), &st), -1);
    pf_close(reg, p);
}

static void
test_corrupt_record_refused(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "v", VDISK_FORMAT_RAW, MiB, 0);
    unit_write_file(unit_path(0, "p/.vdisk-volumes"), 0, "qcow9 1 2 3 v\n", 14, 0);
    vdisk_pool_free(p);
    assert_int_equal(vdisk_pool_lookup(reg, "p", &p, NULL), 0);
    vdisk_vol_def d;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_lookup(p, "v", &d, &err), -EINVAL);
    assert_non_null(strstr(err.message, ".vdisk-volumes line 1"));
    vdisk_vol_def_clear(&d);
    pf_close(reg, p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_created_raw_stays_raw, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_new_file_probed_once, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_rename_and_link_keep_the_record, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_records_hidden_reserved_and_removed, unit_setup,
                                        unit_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_record_refused, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
