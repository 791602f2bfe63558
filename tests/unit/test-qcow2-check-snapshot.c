/* Unit tests for core/qcow2/check-snapshot.c: a snapshot table written by
 * hand after the end of an image (entry layout of docs/interop/qcow2.txt),
 * with its L1 table a copy of the active one, so that the check must walk
 * it: the shared clusters then need refcount 2. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "poke.h"

#include <vdisk/vdisk.h>

#define CL (64u * KiB)

/* Append a snapshot L1 (copy of the active one) and a one-entry table;
 * extra: bytes of extra data in the entry.  Returns the table offset. */
static uint64_t
add_snapshot(const char *p, uint32_t extra)
{
    uint64_t l1 = peek_be(p, 40, 8), l1e = peek_be(p, (long)l1, 8);
    uint64_t snap_l1 = poke_file_end(p, CL), table = snap_l1 + CL;
    poke_be(p, (long)snap_l1, 8, l1e & POKE_OFFSET_MASK);
    uint8_t e[64] = { 0 };
    for (int i = 0; i < 8; i++)
        e[i] = (uint8_t)(snap_l1 >> (56 - 8 * i));
    e[11] = 1;                 /* l1_size */
    e[13] = 1;                 /* id length */
    e[15] = 4;                 /* name length */
    e[39] = (uint8_t)extra;
    memcpy(e + 40 + extra, "1snap", 5);
    poke_bytes(p, (long)table, e, sizeof(e));
    poke_be(p, 60, 4, 1);
    poke_be(p, 64, 8, table);
    return table;
}

static const char *
make_image(int slot)
{
    const char *p = unit_path(slot, slot ? "s1.qcow2" : "s.qcow2");
    vdisk_image *img = unit_make_qcow2(p, NULL, 64 * MiB, VDISK_OPEN_RDWR);
    uint8_t b[CL];
    unit_fill(b, sizeof(b), 5);
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 0, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    return p;
}

static void
test_snapshot_l1_is_walked(void **state)
{
    (void)state;
    const char *p = make_image(0);
    add_snapshot(p, 16);
    vdisk_check_result res;
    assert_int_equal(poke_check(p, 0, &res, NULL, NULL), 0);
    /* The snapshot's L1 and table have no refcount (rebuild needed), the L2
     * table and the data cluster are referenced twice with refcount 1. */
    assert_int_equal(res.corruptions >= 4, 1);
    assert_int_equal(poke_check(p, VDISK_CHECK_FIX_LEAKS | VDISK_CHECK_FIX_ERRORS, &res, NULL, NULL), 0);
    assert_int_equal(res.corruptions, 0);
    assert_int_equal(poke_check(p, 0, &res, NULL, NULL), 0);
    assert_int_equal(res.corruptions + res.leaks + res.check_errors, 0);
    /* Shared now: the active L2 entry lost OFLAG_COPIED in the repair. */
    uint64_t l2 = peek_be(p, (long)peek_be(p, 40, 8), 8) & POKE_OFFSET_MASK;
    assert_int_equal(peek_be(p, (long)peek_be(p, 40, 8), 8) >> 63, 0);
    assert_int_equal(peek_be(p, (long)l2, 8) >> 63, 0);
}

static void
test_incomplete_v3_entry(void **state)
{
    (void)state;
    const char *p = make_image(0);
    add_snapshot(p, 8);
    vdisk_check_result res;
    vdisk_check_result with16;
    assert_int_equal(poke_check(p, 0, &res, NULL, NULL), 0);
    /* One more corruption than the same table with complete extra data. */
    const char *p2 = make_image(1);
    add_snapshot(p2, 16);
    assert_int_equal(poke_check(p2, 0, &with16, NULL, NULL), 0);
    assert_int_equal(res.corruptions, with16.corruptions + 1);
}

static void
test_bad_table_offset(void **state)
{
    (void)state;
    const char *p = make_image(0);
    uint64_t t = add_snapshot(p, 16);
    poke_be(p, 64, 8, t + 8);   /* not cluster aligned */
    vdisk_open_opts o = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_CHECK };
    vdisk_image *img;
    vdisk_error err;
    vdisk_check_result res;
    if (vdisk_open(p, &o, &img, &err) < 0)
        return;   /* refusing at open is as good */
    assert_int_equal(vdisk_check(img, 0, &res, NULL, NULL, NULL, &err), -EINVAL);
    assert_int_equal(res.check_errors, 1);
    assert_non_null(strstr(err.message, "snapshot table"));
    vdisk_close(img, &err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snapshot_l1_is_walked, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_incomplete_v3_entry, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_table_offset, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
