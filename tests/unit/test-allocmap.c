/* Unit tests for core/provision/allocmap.c: each kind of the allocation
 * map made on purpose (raw holes, fallocated and written ranges; qcow2
 * data, zero clusters with and without their host cluster, compressed
 * clusters, an overlay's unallocated ranges over and past its backing
 * file), and runs merged and in guest order. */
#include <errno.h>
#include <fcntl.h>
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

#define MAXRUNS 64

struct runs {
    size_t n;
    uint64_t off[MAXRUNS], len[MAXRUNS];
    vdisk_alloc_kind kind[MAXRUNS];
    size_t stop_after;      /* 0: never */
};

static int
collect(void *opaque, uint64_t off, uint64_t len, vdisk_alloc_kind kind)
{
    struct runs *r = opaque;
    assert_true(r->n < MAXRUNS);
    if (r->n) {
        assert_int_equal(r->off[r->n - 1] + r->len[r->n - 1], off);   /* in order, no gap */
        assert_int_not_equal(r->kind[r->n - 1], kind);                /* merged */
    }
    r->off[r->n] = off;
    r->len[r->n] = len;
    r->kind[r->n] = kind;
    r->n++;
    return r->stop_after && r->n >= r->stop_after;
}

/* The kind of the byte at off. */
static vdisk_alloc_kind
kind_at(const struct runs *r, uint64_t off)
{
    for (size_t i = 0; i < r->n; i++)
        if (off >= r->off[i] && off < r->off[i] + r->len[i])
            return r->kind[i];
    fail_msg("offset %llu not mapped", (unsigned long long)off);
    return VDISK_ALLOC_KINDS;
}

static void
test_raw(void **state)
{
    const char *path = unit_path(0, "d.raw");
    uint8_t b[64 * KiB];
    unit_pattern(b, sizeof(b), 1);
    unit_write_file(path, 4 * MiB, b, sizeof(b), MiB);
    int fd = open(path, O_RDWR);
    assert_int_equal(fallocate(fd, FALLOC_FL_KEEP_SIZE, 2 * MiB, MiB), 0);
    close(fd);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_RAW };
    vdisk_image *img;
    assert_int_equal(vdisk_open(path, &oo, &img, NULL), 0);
    struct runs r = { 0 };
    assert_int_equal(vdisk_alloc_map(img, 0, 0, collect, &r, NULL), 0);
    assert_int_equal(r.n, 5);
    assert_int_equal(kind_at(&r, 0), VDISK_ALLOC_UNALLOCATED);
    assert_int_equal(kind_at(&r, MiB), VDISK_ALLOC_DATA);
    assert_int_equal(r.len[1], 64 * KiB);
    assert_int_equal(kind_at(&r, 2 * MiB), VDISK_ALLOC_RESERVED);
    assert_int_equal(r.len[3], MiB);
    assert_int_equal(kind_at(&r, 4 * MiB - 1), VDISK_ALLOC_UNALLOCATED);
    uint64_t sum[VDISK_ALLOC_KINDS];
    assert_int_equal(vdisk_alloc_summary(img, sum, NULL), 0);
    assert_int_equal(sum[VDISK_ALLOC_DATA], 64 * KiB);
    assert_int_equal(sum[VDISK_ALLOC_RESERVED], MiB);
    assert_int_equal(sum[VDISK_ALLOC_UNALLOCATED], 3 * MiB - 64 * KiB);
    /* A sub-range, and a walk stopped by the callback. */
    memset(&r, 0, sizeof(r));
    assert_int_equal(vdisk_alloc_map(img, MiB + 4 * KiB, MiB, collect, &r, NULL), 0);
    assert_int_equal(r.off[0], MiB + 4 * KiB);
    assert_int_equal(r.len[0], 60 * KiB);
    memset(&r, 0, sizeof(r));
    r.stop_after = 1;
    vdisk_error err;
    assert_int_equal(vdisk_alloc_map(img, 0, 0, collect, &r, &err), -ECANCELED);
    assert_int_equal(vdisk_alloc_map(img, 5 * MiB, 0, collect, &r, &err), -EINVAL);
    vdisk_close(img, NULL);
}

static void
test_qcow2(void **state)
{
    vdisk_image *base = unit_make_qcow2(unit_path(1, "base.qcow2"), NULL, 2 * MiB, VDISK_OPEN_RDWR);
    vdisk_close(base, NULL);
    char opts[700];
    snprintf(opts, sizeof(opts), "backing_file=%s,backing_fmt=qcow2", unit_path(1, "base.qcow2"));
    vdisk_image *img = unit_make_qcow2(unit_path(0, "t.qcow2"), opts, 8 * MiB, VDISK_OPEN_RDWR);
    uint8_t b[64 * KiB];
    unit_pattern(b, sizeof(b), 2);
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 0, NULL), 0);               /* data */
    assert_int_equal(vdisk_write_zeroes(img, sizeof(b), 64 * KiB, VDISK_ZERO_MAY_UNMAP, NULL), 0);
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 3 * MiB, NULL), 0);
    assert_int_equal(vdisk_write_zeroes(img, sizeof(b), 3 * MiB, 0, NULL), 0);   /* keeps host */
    memset(b, 'x', sizeof(b));
    assert_int_equal(vdisk_pwrite_compressed(img, b, sizeof(b), 5 * MiB, NULL), 0);
    struct runs r = { 0 };
    assert_int_equal(vdisk_alloc_map(img, 0, 0, collect, &r, NULL), 0);
    assert_int_equal(kind_at(&r, 0), VDISK_ALLOC_DATA);
    assert_int_equal(kind_at(&r, 64 * KiB), VDISK_ALLOC_ZERO);
    assert_int_equal(kind_at(&r, MiB), VDISK_ALLOC_BACKING);
    assert_int_equal(kind_at(&r, 2 * MiB), VDISK_ALLOC_UNALLOCATED);
    assert_int_equal(kind_at(&r, 3 * MiB), VDISK_ALLOC_RESERVED);
    assert_int_equal(kind_at(&r, 5 * MiB), VDISK_ALLOC_COMPRESSED);
    /* The backing file ends at 2 MiB: the backing run stops there. */
    for (size_t i = 0; i < r.n; i++)
        if (r.kind[i] == VDISK_ALLOC_BACKING)
            assert_int_equal(r.off[i] + r.len[i], 2 * MiB);
    vdisk_close(img, NULL);
}

static void
test_names(void **state)
{
    assert_string_equal(vdisk_alloc_kind_name(VDISK_ALLOC_DATA), "data");
    assert_string_equal(vdisk_alloc_kind_name(VDISK_ALLOC_RESERVED), "reserved");
    assert_string_equal(vdisk_alloc_kind_name(VDISK_ALLOC_BACKING), "backing");
    assert_string_equal(vdisk_alloc_kind_name(VDISK_ALLOC_KINDS), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_qcow2, unit_setup, unit_teardown),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
