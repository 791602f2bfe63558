/* Unit tests for core/vmdk/grain.c: the grain table cache of a sparse
 * extent -- lookups, new entries written back to both table copies at
 * flush and at eviction, tables placed for directory entries that had
 * none, and a stream's one-table-at-a-time appends. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "vmdk-fixture.h"

typedef struct opened {
    vdisk_file *f;
    vmdk_sparse *s;
} opened;

static opened
open_sparse(const char *path, bool writable)
{
    opened o;
    vdisk_error err;
    assert_int_equal(vdisk_file_open(path, writable ? VDISK_OPEN_RDWR : 0, &o.f, &err), 0);
    if (vmdk_sparse_open(o.f, path, writable, &o.s, &err) < 0)
        fail_msg("%s", err.message);
    return o;
}

static void
close_sparse(opened *o)
{
    vmdk_sparse_free(o->s);
    vdisk_file_close(o->f);
}

static uint32_t
le32_at(vdisk_file *f, uint64_t off)
{
    uint8_t b[4];
    vdisk_error err;
    assert_int_equal(vdisk_file_pread(f, b, 4, off, &err), 0);
    return vmdk_le32(b);
}

static void
test_set_get_flush(void **state)
{
    (void)state;
    const char *p = unit_path(0, "g.vmdk");
    vmdk_make(p, NULL, 100 * MiB);
    opened o = open_sparse(p, true);
    vmdk_sparse *s = o.s;
    vdisk_error err;
    uint32_t gte = 99;
    assert_int_equal(vmdk_gt_get(s, 700, &gte, &err), 0);
    assert_int_equal(gte, 0);
    assert_int_equal(vmdk_gt_set(s, 700, 0x1234, &err), 0);
    assert_int_equal(vmdk_gt_get(s, 700, &gte, &err), 0);
    assert_int_equal(gte, 0x1234);
    uint32_t run[600];
    assert_int_equal(vmdk_gt_get_run(s, 690, 600, run, &err), 1024 - 690);
    assert_int_equal(run[10], 0x1234);
    /* Nothing on disk before the flush; both copies after it.  Grain 700
     * is entry 188 of table 1. */
    uint64_t gt1 = (uint64_t)s->gd[1] * 512, rgt1 = (uint64_t)s->rgd[1] * 512;
    assert_int_equal(le32_at(o.f, gt1 + 188 * 4), 0);
    assert_int_equal(vmdk_gt_flush(s, &err), 0);
    assert_int_equal(le32_at(o.f, gt1 + 188 * 4), 0x1234);
    assert_int_equal(le32_at(o.f, rgt1 + 188 * 4), 0x1234);
    /* Beyond the directory. */
    assert_int_equal(vmdk_gt_get(s, 1u << 20, &gte, &err), -EINVAL);
    close_sparse(&o);
}

/* More tables than the cache holds: evicted dirty tables are written. */
static void
test_eviction_writes_back(void **state)
{
    (void)state;
    const char *p = unit_path(0, "big.vmdk");
    vmdk_make(p, NULL, 129ull << 30);   /* 4128 tables, 4096 cached */
    opened o = open_sparse(p, true);
    vmdk_sparse *s = o.s;
    vdisk_error err;
    assert_true(s->nslots < s->gd_entries);
    for (uint32_t t = 0; t < s->gd_entries; t++)
        assert_int_equal(vmdk_gt_set(s, (uint64_t)t * 512 + 7, t + 1000, &err), 0);
    /* Table 0 was evicted long ago: it is on disk already. */
    assert_int_equal(le32_at(o.f, (uint64_t)s->gd[0] * 512 + 7 * 4), 1000);
    assert_int_equal(vmdk_gt_flush(s, &err), 0);
    uint32_t last = s->gd_entries - 1;
    assert_int_equal(le32_at(o.f, (uint64_t)s->gd[last] * 512 + 7 * 4), last + 1000);
    uint32_t gte;
    assert_int_equal(vmdk_gt_get(s, 7, &gte, &err), 0);
    assert_int_equal(gte, 1000);
    close_sparse(&o);
}

/* A directory entry of 0: the table is placed at the end of the file. */
static void
test_table_without_a_place(void **state)
{
    (void)state;
    const char *p = unit_path(0, "n.vmdk");
    vmdk_make(p, NULL, 100 * MiB);
    vmdk_patch(p, 38 * 512 + 4 * 3, "\0\0\0\0", 4);   /* GD[3] */
    vmdk_patch(p, 21 * 512 + 4 * 3, "\0\0\0\0", 4);   /* RGD[3] */
    opened o = open_sparse(p, true);
    vmdk_sparse *s = o.s;
    vdisk_error err;
    uint64_t end = s->file_len;
    assert_int_equal(vmdk_gt_set(s, 3 * 512 + 1, 0x777, &err), 0);
    assert_int_equal(vmdk_gt_flush(s, &err), 0);
    assert_true((uint64_t)s->gd[3] * 512 >= end);
    assert_true(s->rgd[3] != 0 && s->rgd[3] != s->gd[3]);
    assert_int_equal(le32_at(o.f, 38 * 512 + 12), s->gd[3]);
    assert_int_equal(le32_at(o.f, 21 * 512 + 12), s->rgd[3]);
    assert_int_equal(le32_at(o.f, (uint64_t)s->gd[3] * 512 + 4), 0x777);
    close_sparse(&o);
}

/* A stream keeps one table open: moving on appends the other (marker +
 * table) where the next grain would go. */
static void
test_stream_one_table_at_a_time(void **state)
{
    (void)state;
    const char *p = unit_path(0, "s.vmdk");
    vmdk_make(p, "subformat=streamOptimized", 100 * MiB);
    opened o = open_sparse(p, true);
    vmdk_sparse *s = o.s;
    vdisk_error err;
    assert_true(s->gd_at_end);
    assert_int_equal(s->alloc, 65536);
    assert_int_equal(vmdk_gt_set(s, 5, 200, &err), 0);
    assert_int_equal(s->alloc, 65536);
    assert_int_equal(vmdk_gt_set(s, 600, 300, &err), 0);   /* table 1: table 0 goes out */
    assert_int_equal(s->gd[0], 65536 / 512 + 1);
    assert_int_equal(s->alloc, 65536 + 512 + 2048);
    uint8_t m[16];
    assert_int_equal(vdisk_file_pread(o.f, m, 16, 65536, &err), 0);
    vmdk_marker mk;
    vmdk_marker_decode(m, &mk);
    assert_int_equal(mk.type, VMDK_MARKER_GT);
    assert_int_equal(mk.value, 4);
    assert_int_equal(le32_at(o.f, 65536 + 512 + 5 * 4), 200);
    close_sparse(&o);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_get_flush, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_eviction_writes_back, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_table_without_a_place, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_stream_one_table_at_a_time, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
