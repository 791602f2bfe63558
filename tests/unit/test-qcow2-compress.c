/* Unit tests for core/qcow2/compress.c: zlib raw deflate and zstd round
 * trips, padding after the stream, incompressible input, compressed
 * writes through the public API. */
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
#include <zlib.h>

#include <vdisk/vdisk.h>
#include "qcow2/qcow2.h"

static void
test_roundtrip(void **state)
{
    for (int type = 0; type <= 1; type++) {
        uint8_t in[65536], out[65536], back[65536];
        memset(in, 0, sizeof(in));
        memcpy(in + 100, "hello qcow2", 11);
        size_t n;
        assert_int_equal(qcow2_compress(type, in, sizeof(in), out, sizeof(in) - 1, &n), 0);
        assert_true(n < 1000);
        /* Sector padding (garbage) after the stream does not matter. */
        memset(out + n, 0x5a, 512);
        assert_int_equal(qcow2_decompress(type, out, n + 512, back, sizeof(back)), 0);
        assert_memory_equal(in, back, sizeof(in));
        /* A truncated stream is an error, not a short cluster. */
        assert_int_not_equal(qcow2_decompress(type, out, n / 2, back, sizeof(back)), 0);
    }
}

/* zlib's own raw deflate (windowBits -12, as QEMU writes) decompresses. */
static void
test_zlib_raw_deflate_from_zlib(void **state)
{
    uint8_t in[4096], out[8192], back[4096];
    unit_fill(in, sizeof(in), 1);
    memset(in + 2000, 0, 2000);
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -12, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = in;
    z.avail_in = sizeof(in);
    z.next_out = out;
    z.avail_out = sizeof(out);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = sizeof(out) - z.avail_out;
    deflateEnd(&z);
    assert_int_equal(qcow2_decompress(0, out, n, back, sizeof(back)), 0);
    assert_memory_equal(in, back, sizeof(in));
}

static void
test_incompressible(void **state)
{
    uint8_t in[4096], out[4096];
    srand(7);
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)rand();
    size_t n;
    assert_int_equal(qcow2_compress(0, in, sizeof(in), out, sizeof(in) - 1, &n), -ENOSPC);
    assert_int_equal(qcow2_compress(1, in, sizeof(in), out, sizeof(in) - 1, &n), -ENOSPC);
}

static void
check_image(const char *opts)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "c.qcow2");
    vdisk_image *img = unit_make_qcow2(path, opts, (8u << 20) + 1000000, VDISK_OPEN_RDWR);
    vdisk_error err;
    uint32_t cs = vdisk_get_cluster_size(img);
    uint8_t *buf = calloc(1, 4 * cs), *back = malloc(4 * cs);
    memset(buf, 'a', cs);                       /* compressible */
    srand(3);
    for (uint32_t i = cs; i < 2 * cs; i++)      /* incompressible */
        buf[i] = (uint8_t)rand();
    memcpy(buf + 2 * cs + 5, "tail", 4);
    assert_int_equal(vdisk_pwrite_compressed(img, buf, 3 * cs, 0, &err), 0);
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 0, cs, &e, &err), 0);
    assert_true(e.flags & VDISK_EXTENT_COMPRESSED);
    assert_int_equal(vdisk_block_status(img, cs, cs, &e, &err), 0);
    assert_false(e.flags & VDISK_EXTENT_COMPRESSED);
    assert_true(e.flags & VDISK_EXTENT_DATA);
    /* The image's partial last cluster may be written compressed too (the
     * size is whatever creation made of it, e.g. rounded to sectors). */
    uint64_t size = vdisk_get_size(img);
    uint64_t last = size / cs * cs;
    memset(buf, 'z', size - last);
    if (vdisk_pwrite_compressed(img, buf, size - last, last, &err) < 0)
        fail_msg("%s", err.message);
    /* Unaligned offsets are refused. */
    assert_int_equal(vdisk_pwrite_compressed(img, buf, cs, 100, &err), -EINVAL);
    assert_int_equal(vdisk_close(img, &err), 0);
    vdisk_open_opts ro = { .format = VDISK_FORMAT_QCOW2, .flags = 0 };
    assert_int_equal(vdisk_open(path, &ro, &img, &err), 0);
    assert_int_equal(vdisk_pread(img, back, 3 * cs, 0, &err), 0);
    memset(buf, 'a', cs);
    assert_memory_equal(buf, back, cs);
    assert_memory_equal(back + 2 * cs + 5, "tail", 4);
    assert_int_equal(vdisk_pread(img, back, size - last, last, &err), 0);
    for (uint64_t i = 0; i < size - last; i++)
        assert_int_equal(back[i], 'z');
    vdisk_close(img, &err);
    free(buf);
    free(back);
    unlink(path);
}

static void
test_compressed_write_zlib(void **state)
{
    check_image(NULL);
    check_image("cluster_size=512");
}

static void
test_compressed_write_zstd(void **state)
{
    check_image("compression_type=zstd");
    check_image("compression_type=zstd,cluster_size=2M");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_zlib_raw_deflate_from_zlib),
        cmocka_unit_test(test_incompressible),
        cmocka_unit_test(test_compressed_write_zlib),
        cmocka_unit_test(test_compressed_write_zstd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
