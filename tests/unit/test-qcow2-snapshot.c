/* Unit tests for core/qcow2/snapshot.c: what create, apply and delete do
 * to refcounts and COPIED flags (as docs/interop/qcow2.txt prescribes),
 * that a write after a snapshot copies only the shared cluster, that a
 * snapshot opened read-only shows its own content, and the refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>
#include "qcow2/qcow2.h"

#define CS 65536u

static qcow2_state *
st(vdisk_image *img)
{
    return (qcow2_state *)img->priv;
}

/* L2 entry of guest cluster gc, and the refcount of its host cluster. */
static void
entry_of(vdisk_image *img, uint64_t gc, uint64_t *entry, uint64_t *rc)
{
    vdisk_error err = { 0 };
    uint64_t bm;
    assert_int_equal(qcow2_l2_lookup(st(img), gc, entry, &bm, &err), 0);
    assert_int_equal(qcow2_refcount_get(st(img), (*entry & L2E_OFFSET_MASK) >> 16, rc, &err), 0);
}

static vdisk_image *
image_with_data(const char *path, uint8_t *data, size_t len)
{
    vdisk_error err = { 0 };
    vdisk_image *img = unit_make_qcow2(path, NULL, 4 * MiB, VDISK_OPEN_RDWR);
    unit_pattern(data, len, 7);
    assert_int_equal(vdisk_pwrite(img, data, len, 0, &err), 0);
    return img;
}

static void
test_create_shares_clusters(void **state)
{
    const char *path = unit_path(0, "a.qcow2");
    static uint8_t data[4 * CS];
    vdisk_error err = { 0 };
    vdisk_image *img = image_with_data(path, data, sizeof(data));
    uint64_t e, rc;
    entry_of(img, 1, &e, &rc);
    assert_true(e & QCOW_OFLAG_COPIED);
    assert_int_equal(rc, 1);
    assert_int_equal(vdisk_snapshot_create(img, "s1", &err), 0);
    entry_of(img, 1, &e, &rc);
    assert_false(e & QCOW_OFLAG_COPIED);
    assert_int_equal(rc, 2);
    assert_false(st(img)->l1[0] & QCOW_OFLAG_COPIED);
    /* The write copies the one cluster (and the L2 table), not the rest. */
    uint64_t before = e & L2E_OFFSET_MASK, e2, rc2;
    uint8_t x[512];
    memset(x, 0xab, sizeof(x));
    assert_int_equal(vdisk_pwrite(img, x, sizeof(x), CS + 100, &err), 0);
    entry_of(img, 1, &e, &rc);
    assert_true((e & L2E_OFFSET_MASK) != before);
    assert_true(e & QCOW_OFLAG_COPIED);
    assert_int_equal(rc, 1);
    entry_of(img, 2, &e2, &rc2);
    assert_int_equal(rc2, 2);
    assert_true(st(img)->l1[0] & QCOW_OFLAG_COPIED);
    uint8_t back[CS];
    assert_int_equal(vdisk_pread(img, back, CS, CS, &err), 0);
    assert_memory_equal(back, data + CS, 100);
    assert_memory_equal(back + 100, x, sizeof(x));
    assert_memory_equal(back + 612, data + CS + 612, CS - 612);
    assert_int_equal(vdisk_close(img, &err), 0);
}

static void
test_apply_and_delete_restore_refcounts(void **state)
{
    const char *path = unit_path(0, "b.qcow2");
    static uint8_t data[2 * CS], now[2 * CS];
    vdisk_error err = { 0 };
    vdisk_image *img = image_with_data(path, data, sizeof(data));
    assert_int_equal(vdisk_snapshot_create(img, "s", &err), 0);
    memset(now, 0x5c, sizeof(now));
    assert_int_equal(vdisk_pwrite(img, now, sizeof(now), 0, &err), 0);
    assert_int_equal(vdisk_snapshot_apply(img, "s", &err), 0);
    uint8_t back[2 * CS];
    assert_int_equal(vdisk_pread(img, back, sizeof(back), 0, &err), 0);
    assert_memory_equal(back, data, sizeof(data));
    uint64_t e, rc;
    entry_of(img, 0, &e, &rc);
    assert_int_equal(rc, 2);   /* active and snapshot again */
    assert_false(e & QCOW_OFLAG_COPIED);
    assert_int_equal(vdisk_snapshot_delete(img, "1", &err), 0);   /* by ID */
    entry_of(img, 0, &e, &rc);
    assert_int_equal(rc, 1);
    assert_true(e & QCOW_OFLAG_COPIED);
    assert_true(st(img)->l1[0] & QCOW_OFLAG_COPIED);
    assert_int_equal(st(img)->nb_snapshots, 0);
    assert_int_equal(vdisk_close(img, &err), 0);
}

static void
test_list_and_load(void **state)
{
    const char *path = unit_path(0, "c.qcow2");
    static uint8_t data[CS];
    vdisk_error err = { 0 };
    vdisk_image *img = image_with_data(path, data, sizeof(data));
    assert_int_equal(vdisk_snapshot_create(img, "one", &err), 0);
    uint8_t z[CS] = { 0 };
    assert_int_equal(vdisk_pwrite(img, z, sizeof(z), 0, &err), 0);
    assert_int_equal(vdisk_snapshot_create(img, "two", &err), 0);
    vdisk_snapshot_info *l;
    size_t n;
    assert_int_equal(vdisk_snapshot_list(img, &l, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].id, "1");
    assert_string_equal(l[1].name, "two");
    assert_true(l[1].disk_size == 4 * MiB && l[1].icount == 0 && l[1].vm_state_size == 0);
    vdisk_snapshot_list_free(l, n);
    assert_int_equal(vdisk_close(img, &err), 0);

    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .snapshot = "one" };
    assert_int_equal(vdisk_open(path, &oo, &img, &err), 0);
    uint8_t back[CS];
    assert_int_equal(vdisk_pread(img, back, CS, 0, &err), 0);
    assert_memory_equal(back, data, CS);
    assert_int_equal(vdisk_close(img, &err), 0);
    oo.snapshot = "nope";
    assert_int_equal(vdisk_open(path, &oo, &img, &err), -ENOENT);
    assert_non_null(strstr(err.message, "nope"));
    oo.snapshot = "one";
    oo.flags = VDISK_OPEN_RDWR;
    assert_int_equal(vdisk_open(path, &oo, &img, &err), -EINVAL);
}

static void
test_refusals(void **state)
{
    const char *path = unit_path(0, "d.qcow2");
    vdisk_error err = { 0 };
    vdisk_image *img = unit_make_qcow2(path, NULL, MiB, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_snapshot_apply(img, "x", &err), -ENOENT);
    assert_non_null(strstr(err.message, "d.qcow2"));
    assert_int_equal(vdisk_snapshot_delete(img, "x", &err), -ENOENT);
    assert_int_equal(vdisk_snapshot_create(img, "", &err), -EINVAL);
    assert_int_equal(vdisk_snapshot_create(img, "ok", &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    vdisk_open_opts ro = { .format = VDISK_FORMAT_QCOW2 };
    assert_int_equal(vdisk_open(path, &ro, &img, &err), 0);
    assert_int_equal(vdisk_snapshot_create(img, "ro", &err), -EROFS);
    assert_int_equal(vdisk_snapshot_delete(img, "ok", &err), -EROFS);
    assert_int_equal(vdisk_close(img, &err), 0);
    /* refcount_bits=1 cannot count a second reference */
    img = unit_make_qcow2(unit_path(1, "e.qcow2"), "refcount_bits=1", MiB, VDISK_OPEN_RDWR);
    uint8_t x[512] = { 1 };
    assert_int_equal(vdisk_pwrite(img, x, sizeof(x), 0, &err), 0);
    assert_int_equal(vdisk_snapshot_create(img, "s", &err), -ERANGE);
    assert_int_equal(st(img)->nb_snapshots, 0);
    vdisk_close(img, &err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_shares_clusters, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_apply_and_delete_restore_refcounts, unit_setup,
                                        unit_teardown),
        cmocka_unit_test_setup_teardown(test_list_and_load, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
