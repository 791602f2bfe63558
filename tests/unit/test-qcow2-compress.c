/* Unit tests for core/qcow2/compress.c: zlib raw deflate and zstd round
 * trips, padding after the stream, incompressible input, compressed
 * writes through the public API, compression ahead of an ordered store
 * (what convert's workers do) with contexts reused between clusters. */
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
#include <zstd.h>

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

/* Decompress with the libraries themselves (not our code): raw deflate
 * with QEMU's 4 KiB window, or a zstd frame. */
static void
oracle_decompress(int type, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    if (type == 1) {
        assert_int_equal(ZSTD_getFrameContentSize(in, in_len), out_len);
        assert_int_equal(ZSTD_decompress(out, out_len, in, in_len), out_len);
        return;
    }
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, -12), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)in_len;
    z.next_out = out;
    z.avail_out = (uInt)out_len;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.avail_out, 0);
    inflateEnd(&z);
}

/* Compress ahead, then store: each cluster's bytes are the libraries'
 * stream for it (a reused context leaves nothing behind from the cluster
 * before), the one that does not shrink is marked for a plain write, and
 * the image reads back. */
static void
check_ahead(const char *opts, int type)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "ahead.qcow2");
    vdisk_image *img = unit_make_qcow2(path, opts, 8 * MiB, VDISK_OPEN_RDWR);
    vdisk_error err;
    uint32_t cs = vdisk_get_cluster_size(img);
    uint8_t *buf = malloc(4 * cs), *out = malloc(4 * cs), *back = malloc(4 * cs);
    uint32_t clen[4];
    memset(buf, 'a', cs);
    srand(7);
    for (uint32_t i = cs; i < 2 * cs; i++)
        buf[i] = (uint8_t)rand();
    for (uint32_t i = 2 * cs; i < 4 * cs; i++)
        buf[i] = (uint8_t)("the quick brown fox "[i % 20] + (i / cs));
    vdisk_precompressed c = { .off = cs, .len = 4 * cs, .data = buf, .out = out, .clen = clen };
    assert_int_equal(vdisk_compress_ahead(img, &c, &err), 0);
    assert_int_equal(clen[1], 0);   /* random data does not shrink */
    for (int i = 0; i < 4; i++) {
        if (i == 1)
            continue;
        assert_true(clen[i] > 0 && clen[i] < cs);
        oracle_decompress(type, out + (size_t)i * cs, clen[i], back, cs);
        assert_memory_equal(back, buf + (size_t)i * cs, cs);
        /* The same bytes as a fresh context gives. */
        size_t n;
        uint8_t *fresh = malloc(cs);
        assert_int_equal(qcow2_compress(type, buf + (size_t)i * cs, cs, fresh, cs - 1, &n), 0);
        assert_int_equal(n, clen[i]);
        assert_memory_equal(fresh, out + (size_t)i * cs, n);
        free(fresh);
    }
    assert_int_equal(vdisk_pwrite_precompressed(img, &c, &err), 0);
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, cs, cs, &e, &err), 0);
    assert_true(e.flags & VDISK_EXTENT_COMPRESSED);
    assert_int_equal(vdisk_block_status(img, 2 * cs, cs, &e, &err), 0);
    assert_false(e.flags & VDISK_EXTENT_COMPRESSED);
    assert_int_equal(vdisk_pread(img, back, 4 * cs, cs, &err), 0);
    assert_memory_equal(back, buf, 4 * cs);
    /* Not whole clusters: refused before anything is compressed. */
    c.off = 512;
    assert_int_equal(vdisk_compress_ahead(img, &c, &err), -EINVAL);
    assert_non_null(strstr(err.message, "not whole clusters"));
    assert_int_equal(vdisk_close(img, &err), 0);
    free(buf);
    free(out);
    free(back);
    unlink(path);
}

static void
test_compress_ahead_zlib(void **state)
{
    check_ahead(NULL, 0);
    check_ahead("cluster_size=4096", 0);
}

static void
test_compress_ahead_zstd(void **state)
{
    check_ahead("compression_type=zstd", 1);
}

/* A read-only image refuses compression ahead as it refuses writes. */
static void
test_compress_ahead_read_only(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "ro.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, MiB, 0);
    vdisk_error err;
    uint8_t buf[512], out[512];
    uint32_t clen;
    vdisk_precompressed c = { .off = 0, .len = 512, .data = buf, .out = out, .clen = &clen };
    assert_int_equal(vdisk_compress_ahead(img, &c, &err), -EROFS);
    vdisk_close(img, &err);
    unlink(path);
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
        cmocka_unit_test(test_compress_ahead_zlib),
        cmocka_unit_test(test_compress_ahead_zstd),
        cmocka_unit_test(test_compress_ahead_read_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
