/* Unit tests for core/qcow2/compress-heuristic.c: random data is called
 * incompressible; text, zeros, skewed bytes, repeated random blocks and
 * random clusters with a small compressible region are not.  The oracle
 * for "conservative" is the compressors themselves (zlib with QEMU's
 * parameters and zstd, through qcow2_compress): whenever the heuristic
 * says incompressible, neither may fit the cluster into cluster - 1 bytes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

#include "qcow2/qcow2.h"

#define CS 65536

/* splitmix64: the test's own random bytes (seeded, reproducible). */
static void
fill_random(uint8_t *b, size_t n, uint64_t seed)
{
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        if (i % 8 == 0) {
            x += 0x9e3779b97f4a7c15ull;
        }
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        b[i] = (uint8_t)(z >> (8 * (i % 8)));
    }
}

/* Neither zlib nor zstd fits the cluster into len - 1 bytes. */
static bool
compressors_fail(const uint8_t *in, size_t len)
{
    uint8_t *out = malloc(len);
    assert_non_null(out);
    bool fail = true;
    for (int type = 0; type <= 1; type++) {
        size_t n;
        int r = qcow2_compress(type, in, len, out, len - 1, &n);
        assert_true(r == 0 || r == -ENOSPC);
        if (r == 0)
            fail = false;
    }
    free(out);
    return fail;
}

static void
test_random_skips(void **state)
{
    static const size_t sizes[] = { 4096, 65536, 2u << 20 };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint8_t *b = malloc(sizes[k]);
        assert_non_null(b);
        int skipped = 0;
        for (uint64_t seed = 1; seed <= 8; seed++) {
            fill_random(b, sizes[k], seed * 1000 + k);
            skipped += qcow2_cluster_incompressible(b, sizes[k]);
            if (seed == 1)
                assert_true(compressors_fail(b, sizes[k]));
        }
        /* Almost always: a chance repeat may send one to the compressor. */
        assert_true(skipped >= 7);
        free(b);
    }
}

static void
test_small_cluster_compresses(void **state)
{
    uint8_t b[2048];
    fill_random(b, sizeof(b), 7);
    assert_false(qcow2_cluster_incompressible(b, sizeof(b)));
    assert_false(qcow2_cluster_incompressible(b, 512));
}

static void
test_text_and_zeros_compress(void **state)
{
    static uint8_t b[CS];
    memset(b, 0, sizeof(b));
    assert_false(qcow2_cluster_incompressible(b, CS));
    const char *t = "the quick brown fox jumps over the lazy qcow2 cluster; ";
    for (size_t i = 0; i < CS; i++)
        b[i] = (uint8_t)t[i % strlen(t)];
    assert_false(qcow2_cluster_incompressible(b, CS));
    /* A "binary": small integers in 32-bit little-endian words. */
    fill_random(b, CS, 3);
    for (size_t i = 0; i < CS; i += 4)
        b[i + 2] = b[i + 3] = 0;
    assert_false(qcow2_cluster_incompressible(b, CS));
}

/* Random bytes with a region each test must notice. */
static void
test_mixed_compress(void **state)
{
    static uint8_t b[CS];
    /* 64 zero bytes somewhere in random data. */
    fill_random(b, CS, 11);
    memset(b + 40000, 0, 64);
    assert_false(qcow2_cluster_incompressible(b, CS));
    /* A random 4 KiB block written twice, 20 KiB apart (zstd's window). */
    fill_random(b, CS, 12);
    memcpy(b + 30000, b + 10000, 4096);
    assert_false(qcow2_cluster_incompressible(b, CS));
    /* 32 random bytes repeated 1000 bytes later (deflate's window). */
    fill_random(b, CS, 13);
    memcpy(b + 51000, b + 50000, 32);
    assert_false(qcow2_cluster_incompressible(b, CS));
    /* 1 KiB of hex digits (16 symbols, no repeats to speak of). */
    fill_random(b, CS, 14);
    for (size_t i = 0; i < 1024; i++)
        b[8192 + i] = (uint8_t)"0123456789abcdef"[b[8192 + i] & 15];
    assert_false(qcow2_cluster_incompressible(b, CS));
    /* Slightly skewed bytes everywhere: 7 bits in 8 of the bytes random. */
    fill_random(b, CS, 15);
    for (size_t i = 0; i < CS; i += 8)
        b[i] &= 0x7f;
    assert_false(qcow2_cluster_incompressible(b, CS));
}

/* 2 MiB clusters are scanned in 64 KiB segments: repeats across a segment
 * boundary (within deflate's window) and far inside one are still seen. */
static void
test_large_cluster_repeats(void **state)
{
    size_t len = 2u << 20;
    uint8_t *b = malloc(len);
    assert_non_null(b);
    static const size_t at[] = { 65536 + 100, 3 * 65536 - 4096 + 8, 20 * 65536 + 30000 };
    static const size_t back[] = { 2000, 3000, 25000 };
    for (size_t k = 0; k < 3; k++) {
        fill_random(b, len, 40 + k);
        for (size_t j = 0; j < 32; j++)   /* 32 repeats of 64 bytes */
            memcpy(b + at[k] + j * 128, b + at[k] + j * 128 - back[k], 64);
        assert_false(qcow2_cluster_incompressible(b, len));
    }
    free(b);
}

/* Conservative: for random clusters with compressible regions of growing
 * size, whenever the heuristic skips, both compressors fail too. */
static void
test_skip_only_when_compressors_fail(void **state)
{
    static uint8_t b[CS];
    static const size_t lens[] = { 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256 };
    int checked = 0;
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        for (int kind = 0; kind < 3; kind++) {
            fill_random(b, CS, 100 + k * 3 + (size_t)kind);
            size_t at = 1000 + k * 5000;
            if (kind == 0)
                memset(b + at, 0, lens[k]);
            else if (kind == 1)
                memcpy(b + at, b + at - 3000, lens[k]);   /* within 4 KiB */
            else
                memcpy(b + at, b + at / 2, lens[k]);      /* far back */
            if (qcow2_cluster_incompressible(b, CS)) {
                assert_true(compressors_fail(b, CS));
                checked++;
            }
        }
    }
    /* The smallest regions are skipped (or this checks nothing). */
    assert_true(checked > 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_skips),
        cmocka_unit_test(test_small_cluster_compresses),
        cmocka_unit_test(test_text_and_zeros_compress),
        cmocka_unit_test(test_mixed_compress),
        cmocka_unit_test(test_large_cluster_repeats),
        cmocka_unit_test(test_skip_only_when_compressors_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
