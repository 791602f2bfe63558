/* Unit tests for core/vmdk/header.c: the sparse extent header, the COWD
 * header and stream markers, against the byte offsets of Virtual Disk
 * Format 5.0 (SparseExtentHeader is packed, little endian). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmdk/vmdk.h"

static void
test_header_layout(void **state)
{
    (void)state;
    vmdk_header h = {
        .version = 1, .flags = VMDK_FLAG_RGD | VMDK_FLAG_NL_DETECT, .capacity = 0x0102030405060708ull,
        .grain_sectors = 128, .desc_offset = 1, .desc_size = 20, .gt_entries = 512, .rgd_offset = 21,
        .gd_offset = 0x1234, .overhead = 128, .unclean = 0, .compress = 1,
    };
    uint8_t s[VMDK_SECTOR];
    vmdk_header_encode(&h, s);
    /* The spec's offsets: magic, version@4, flags@8, capacity@12, grainSize@20,
     * descriptorOffset@28, descriptorSize@36, numGTEsPerGT@44, rgdOffset@48,
     * gdOffset@56, overHead@64, uncleanShutdown@72, "\n \r\n"@73, compress@77. */
    assert_memory_equal(s, "KDMV", 4);
    assert_int_equal(s[4], 1);
    assert_int_equal(s[8], 3);
    assert_memory_equal(s + 12, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
    assert_int_equal(s[20], 128);
    assert_int_equal(s[28], 1);
    assert_int_equal(s[36], 20);
    assert_memory_equal(s + 44, "\x00\x02\x00\x00", 4);
    assert_int_equal(s[48], 21);
    assert_memory_equal(s + 56, "\x34\x12", 2);
    assert_int_equal(s[64], 128);
    assert_memory_equal(s + 73, "\n \r\n", 4);
    assert_int_equal(s[77], 1);
    for (unsigned i = 79; i < VMDK_SECTOR; i++)
        assert_int_equal(s[i], 0);
    vmdk_header back;
    vmdk_header_decode(s, &back);
    assert_int_equal(back.version, h.version);
    assert_int_equal(back.flags, h.flags);
    assert_int_equal(back.capacity, h.capacity);
    assert_int_equal(back.grain_sectors, h.grain_sectors);
    assert_int_equal(back.desc_offset, h.desc_offset);
    assert_int_equal(back.desc_size, h.desc_size);
    assert_int_equal(back.gt_entries, h.gt_entries);
    assert_int_equal(back.rgd_offset, h.rgd_offset);
    assert_int_equal(back.gd_offset, h.gd_offset);
    assert_int_equal(back.overhead, h.overhead);
    assert_int_equal(back.compress, h.compress);
    assert_true(vmdk_is_sparse_magic(s));
    assert_false(vmdk_is_cowd_magic(s));
}

static void
test_cowd_and_markers(void **state)
{
    (void)state;
    uint8_t s[VMDK_SECTOR] = "COWD\1\0\0\0\3\0\0\0\0\0\x10\0\x40\0\0\0\4\0\0\0\x20\0\0\0";
    vmdk_cowd_header c;
    vmdk_cowd_decode(s, &c);
    assert_true(vmdk_is_cowd_magic(s));
    assert_int_equal(c.version, 1);
    assert_int_equal(c.flags, 3);
    assert_int_equal(c.capacity, 0x100000);
    assert_int_equal(c.grain_sectors, 64);
    assert_int_equal(c.gd_offset, 4);
    assert_int_equal(c.gd_entries, 32);
    /* A metadata marker: numSectors, size 0, type; the rest zero. */
    vmdk_marker_encode_meta(4, VMDK_MARKER_GT, s);
    assert_memory_equal(s, "\4\0\0\0\0\0\0\0\0\0\0\0\1\0\0\0", 16);
    vmdk_marker m;
    vmdk_marker_decode(s, &m);
    assert_int_equal(m.value, 4);
    assert_int_equal(m.size, 0);
    assert_int_equal(m.type, VMDK_MARKER_GT);
    /* A grain marker: lba, then the compressed size. */
    static const uint8_t g[16] = { 0x80, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x27, 0, 0, 0x78, 0x9c, 0, 0 };
    vmdk_marker_decode(g, &m);
    assert_int_equal(m.value, 128);
    assert_int_equal(m.size, 10000);
}

static void
test_little_endian_helpers(void **state)
{
    (void)state;
    uint8_t b[8];
    vmdk_put_le64(b, 0x1122334455667788ull);
    assert_memory_equal(b, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
    assert_int_equal(vmdk_le64(b), 0x1122334455667788ull);
    vmdk_put_le32(b, 0xdeadbeef);
    assert_int_equal(vmdk_le32(b), 0xdeadbeef);
    assert_int_equal(b[0], 0xef);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_layout),
        cmocka_unit_test(test_cowd_and_markers),
        cmocka_unit_test(test_little_endian_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
