/* Unit tests for core/qcow2/cluster.c: L2 entry types (standard and
 * extended, per the spec's tables), mappings, compressed ranges to free,
 * (the ordered write-back is test-qcow2-ordering.c's). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>
#include "qcow2/qcow2.h"

static void
test_standard_types(void **state)
{
    qcow2_state s;
    memset(&s, 0, sizeof(s));
    s.cluster_bits = 16;
    assert_int_equal(qcow2_sc_type(&s, 0, 0, 0), QCOW2_SC_UNALLOCATED);
    assert_int_equal(qcow2_sc_type(&s, QCOW_OFLAG_ZERO, 0, 0), QCOW2_SC_ZERO_PLAIN);
    assert_int_equal(qcow2_sc_type(&s, 0x50000 | QCOW_OFLAG_ZERO | QCOW_OFLAG_COPIED, 0, 0),
                     QCOW2_SC_ZERO_ALLOC);
    assert_int_equal(qcow2_sc_type(&s, 0x50000 | QCOW_OFLAG_COPIED, 0, 0), QCOW2_SC_NORMAL);
    assert_int_equal(qcow2_sc_type(&s, 0x50000, 0, 0), QCOW2_SC_NORMAL);
    assert_int_equal(qcow2_sc_type(&s, QCOW_OFLAG_COMPRESSED | 0x12345, 0, 0), QCOW2_SC_COMPRESSED);
}

static void
test_extended_types(void **state)
{
    qcow2_state s;
    memset(&s, 0, sizeof(s));
    s.cluster_bits = 16;
    s.ext_l2 = true;
    uint64_t host = 0x50000 | QCOW_OFLAG_COPIED;
    uint64_t bm = (UINT64_C(1) << 3) | (UINT64_C(1) << (32 + 4));
    assert_int_equal(qcow2_sc_type(&s, host, bm, 3), QCOW2_SC_NORMAL);
    assert_int_equal(qcow2_sc_type(&s, host, bm, 4), QCOW2_SC_ZERO_ALLOC);
    assert_int_equal(qcow2_sc_type(&s, host, bm, 5), QCOW2_SC_UNALLOCATED_ALLOC);
    assert_int_equal(qcow2_sc_type(&s, 0, bm, 4), QCOW2_SC_ZERO_PLAIN);
    assert_int_equal(qcow2_sc_type(&s, 0, 0, 5), QCOW2_SC_UNALLOCATED);
    /* Allocated without a host cluster, or allocated and zero: invalid. */
    assert_int_equal(qcow2_sc_type(&s, 0, bm, 3), QCOW2_SC_INVALID);
    uint64_t both = (UINT64_C(1) << 7) | (UINT64_C(1) << 39);
    assert_int_equal(qcow2_sc_type(&s, host, both, 7), QCOW2_SC_INVALID);
    /* In extended entries bit 0 is no zero flag. */
    assert_int_equal(qcow2_sc_type(&s, host | 1, UINT64_C(1), 0), QCOW2_SC_NORMAL);
}

static void
test_compressed_free_range(void **state)
{
    qcow2_state s;
    memset(&s, 0, sizeof(s));
    s.name = "x";
    s.cluster_bits = 16;
    s.cluster_size = 65536;
    s.csize_shift = 62 - (16 - 8);
    s.csize_mask = (UINT64_C(1) << 8) - 1;
    s.coffset_mask = (UINT64_C(1) << s.csize_shift) - 1;
    /* Data at 0x1fe00 + 0x100 spanning 3 extra sectors: 0x1fe00..0x20600,
     * i.e. host clusters 1 and 2. */
    uint64_t e = QCOW_OFLAG_COMPRESSED | (UINT64_C(3) << s.csize_shift) | 0x1ff00;
    struct qcow2_freelist fl = { 0 };
    vdisk_error err;
    assert_int_equal(qcow2_freelist_add_entry(&s, &fl, e, &err), 0);
    assert_int_equal(fl.n, 1);
    assert_true(fl.v[0].off == 0x10000);
    assert_true(fl.v[0].len == 0x20000);
    /* Adjacent standard clusters merge into one range. */
    assert_int_equal(qcow2_freelist_add_entry(&s, &fl, 0x80000 | QCOW_OFLAG_COPIED, &err), 0);
    assert_int_equal(qcow2_freelist_add_entry(&s, &fl, 0x90000 | QCOW_OFLAG_COPIED, &err), 0);
    assert_int_equal(fl.n, 2);
    assert_true(fl.v[1].len == 0x20000 && fl.v[1].punch);
    free(fl.v);
}

static void
test_mapping_merges_contiguous_runs(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "m.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 64 << 20, VDISK_OPEN_RDWR);
    vdisk_error err;
    uint8_t *b = calloc(1, 1 << 20);
    assert_int_equal(vdisk_pwrite(img, b, 1 << 20, 0, &err), 0);
    assert_int_equal(vdisk_pwrite(img, b, 65536, 4 << 20, &err), 0);
    qcow2_state *s = img->priv;
    struct qcow2_map m;
    pthread_mutex_lock(&s->lock);
    assert_int_equal(qcow2_get_mapping(s, 1000, 8 << 20, &m, &err), 0);
    assert_int_equal(m.type, QCOW2_SC_NORMAL);
    assert_int_equal(m.len, (1 << 20) - 1000);
    assert_int_equal(qcow2_get_mapping(s, 1 << 20, 8 << 20, &m, &err), 0);
    assert_int_equal(m.type, QCOW2_SC_UNALLOCATED);
    assert_int_equal(m.len, 3 << 20);
    pthread_mutex_unlock(&s->lock);
    free(b);
    vdisk_close(img, &err);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_types),
        cmocka_unit_test(test_extended_types),
        cmocka_unit_test(test_compressed_free_range),
        cmocka_unit_test(test_mapping_merges_contiguous_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
