/* Unit tests for core/qcow2/snapshot-table.c: entries built byte by byte
 * from docs/interop/qcow2.txt are parsed into the right fields, extra data
 * of every length is read (and unknown extra data kept byte for byte),
 * QEMU's limits are enforced, and formatting writes the spec's layout. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>
#include "qcow2/qcow2.h"

static void
be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void
be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* One entry at p as the spec lays it out; returns its padded length. */
static size_t
entry(uint8_t *p, uint64_t l1, uint32_t l1n, const char *id, const char *name, uint32_t extra,
      const uint8_t *extra_bytes)
{
    size_t il = strlen(id), nl = strlen(name);
    memset(p, 0, 40);
    be64(p, l1);
    be32(p + 8, l1n);
    p[12] = (uint8_t)(il >> 8), p[13] = (uint8_t)il;
    p[14] = (uint8_t)(nl >> 8), p[15] = (uint8_t)nl;
    be32(p + 16, 1700000000u);
    be32(p + 20, 123456000u);
    be64(p + 24, UINT64_C(3723004000000));   /* 1:02:03.004 */
    be32(p + 32, 4096);
    be32(p + 36, extra);
    memcpy(p + 40, extra_bytes, extra);
    memcpy(p + 40 + extra, id, il);
    memcpy(p + 40 + extra + il, name, nl);
    return (40 + extra + il + nl + 7) & ~(size_t)7;
}

static void
test_parse_v3_entry(void **state)
{
    uint8_t buf[256] = { 0 }, x[24];
    be64(x, UINT64_C(5) << 32);        /* vm_state_size_large wins over the 32-bit field */
    be64(x + 8, UINT64_C(1) << 30);    /* disk size */
    be64(x + 16, 77);                  /* icount */
    size_t len = entry(buf, 0x30000, 16, "1", "first", 24, x);
    struct qcow2_snapshot *v;
    size_t tl;
    vdisk_error err = { 0 };
    assert_int_equal(qcow2_snapshot_table_parse("t.qcow2", buf, len, 1, 999, &v, &tl, &err), 0);
    assert_int_equal(tl, 40 + 24 + 1 + 5);
    assert_true(v[0].l1_offset == 0x30000);
    assert_int_equal(v[0].l1_size, 16);
    assert_string_equal(v[0].id, "1");
    assert_string_equal(v[0].name, "first");
    assert_int_equal(v[0].date_sec, 1700000000u);
    assert_int_equal(v[0].date_nsec, 123456000u);
    assert_true(v[0].vm_clock_nsec == UINT64_C(3723004000000));
    assert_true(v[0].vm_state_size == UINT64_C(5) << 32);
    assert_true(v[0].disk_size == UINT64_C(1) << 30);
    assert_true(v[0].icount == 77);
    qcow2_snapshots_free(v, 1);
}

/* Old entries: no extra data, or only part of it. */
static void
test_parse_short_extra(void **state)
{
    uint8_t buf[512] = { 0 }, x[16];
    be64(x, 8192);
    be64(x + 8, 12345);
    size_t a = entry(buf, 0x10000, 1, "1", "none", 0, x);
    size_t b = entry(buf + a, 0x20000, 1, "2", "sixteen", 16, x);
    struct qcow2_snapshot *v;
    size_t tl;
    vdisk_error err = { 0 };
    assert_int_equal(qcow2_snapshot_table_parse("t", buf, a + b, 2, 999, &v, &tl, &err), 0);
    assert_true(v[0].vm_state_size == 4096 && v[0].disk_size == 999);
    assert_true(v[0].icount == UINT64_MAX);
    assert_true(v[1].vm_state_size == 8192 && v[1].disk_size == 12345);
    assert_true(v[1].icount == UINT64_MAX);
    assert_string_equal(v[1].name, "sixteen");
    qcow2_snapshots_free(v, 2);
}

/* Extra data past the known fields comes back out unchanged. */
static void
test_unknown_extra_roundtrip(void **state)
{
    uint8_t buf[512] = { 0 }, x[40];
    for (int i = 0; i < 40; i++)
        x[i] = (uint8_t)(i + 1);
    be64(x, 4096);   /* as the 32-bit field, so that the writer repeats both */
    size_t a = entry(buf, 0x10000, 2, "1", "odd-len", 40, x);
    entry(buf + a, 0x40000, 3, "12", "b", 24, x);
    struct qcow2_snapshot *v;
    size_t tl;
    vdisk_error err = { 0 };
    assert_int_equal(qcow2_snapshot_table_parse("t", buf, sizeof(buf), 2, 0, &v, &tl, &err), 0);
    assert_int_equal(v[0].extra_size, 40);
    assert_memory_equal(v[0].unknown_extra, x + 24, 16);
    assert_int_equal(qcow2_snapshot_table_size(v, 2), tl);
    uint8_t out[512] = { 0 };
    qcow2_snapshot_table_format(v, 2, out);
    assert_memory_equal(out, buf, tl);
    qcow2_snapshots_free(v, 2);
}

static void
test_limits(void **state)
{
    uint8_t buf[2048] = { 0 }, x[1100] = { 0 };
    struct qcow2_snapshot *v;
    size_t tl;
    vdisk_error err = { 0 };
    size_t len = entry(buf, 0x10000, 1, "1", "big", 1025, x);
    assert_int_equal(qcow2_snapshot_table_parse("t.qcow2", buf, len, 1, 0, &v, &tl, &err), -EFBIG);
    assert_non_null(strstr(err.message, "t.qcow2"));
    assert_non_null(strstr(err.message, "extra data"));
    /* Truncated buffers ask for more without an error message. */
    len = entry(buf, 0x10000, 1, "1", "name", 24, x);
    vdisk_error_clear(&err);
    assert_int_equal(qcow2_snapshot_table_parse("t", buf, len - 5, 1, 0, &v, &tl, &err), -ENODATA);
    assert_int_equal(qcow2_snapshot_table_parse("t", buf, len, 2, 0, &v, &tl, &err), -ENODATA);
    assert_int_equal(qcow2_snapshot_table_parse("t", buf, 10, 1, 0, &v, &tl, &err), -ENODATA);
    assert_int_equal(qcow2_snapshot_table_parse("t", buf, len, QCOW2_MAX_SNAPSHOTS + 1, 0, &v,
                                                &tl, &err), -EINVAL);
    /* A NUL inside the name. */
    buf[40 + 24 + 1 + 2] = 0;
    assert_int_equal(qcow2_snapshot_table_parse("t", buf, len, 1, 0, &v, &tl, &err), -EINVAL);
}

/* The writer: 24 bytes of extra data always, 32-bit VM state zero when
 * the size does not fit, entries 8-byte aligned. */
static void
test_format_layout(void **state)
{
    struct qcow2_snapshot v[2] = {
        { .l1_offset = 0x50000, .l1_size = 2, .id = "1", .name = "abc", .date_sec = 5,
          .date_nsec = 6, .vm_clock_nsec = 7, .vm_state_size = UINT64_C(1) << 33,
          .disk_size = 1 << 20, .icount = UINT64_MAX, .extra_size = 0 },
        { .l1_offset = 0x60000, .l1_size = 1, .id = "2", .name = "", .extra_size = 16 },
    };
    size_t n = qcow2_snapshot_table_size(v, 2);
    assert_int_equal(n, 72 + 40 + 24 + 1);   /* 68 padded to 72, then 65 */
    uint8_t out[256];
    memset(out, 0xee, sizeof(out));
    qcow2_snapshot_table_format(v, 2, out);
    assert_int_equal(out[13], 1);
    assert_int_equal(out[15], 3);
    assert_memory_equal(out + 32, "\0\0\0\0", 4);
    assert_memory_equal(out + 36, "\0\0\0\x18", 4);
    assert_memory_equal(out + 40, "\0\0\0\x02\0\0\0\0", 8);
    assert_memory_equal(out + 56, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    assert_memory_equal(out + 64, "1abc", 4);
    assert_memory_equal(out + 68, "\0\0\0\0", 4);   /* padding */
    assert_memory_equal(out + 72, "\0\0\0\0\0\x06\0\0", 8);
    assert_int_equal(out[72 + 64], '2');
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_v3_entry),
        cmocka_unit_test(test_parse_short_extra),
        cmocka_unit_test(test_unknown_extra_roundtrip),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_format_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
