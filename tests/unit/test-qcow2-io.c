/* Unit tests for core/qcow2/io.c: reads of every cluster kind, reads
 * through a shorter backing file, block status, and concurrent readers
 * and writers on one handle. */
#include <errno.h>
#include <pthread.h>
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
test_unallocated_reads_zero(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "u.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 10 << 20, 0);
    vdisk_error err;
    uint8_t *b = malloc(10 << 20);
    memset(b, 0xff, 10 << 20);
    assert_int_equal(vdisk_pread(img, b, 10 << 20, 0, &err), 0);
    for (size_t i = 0; i < 10 << 20; i++)
        if (b[i])
            fail_msg("byte %zu not zero", i);
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 0, 10 << 20, &e, &err), 0);
    assert_int_equal(e.flags, 0);
    assert_int_equal(e.length, 10 << 20);
    /* Past the end: refused by the handle. */
    assert_int_equal(vdisk_pread(img, b, 2, (10 << 20) - 1, &err), -EINVAL);
    free(b);
    vdisk_close(img, &err);
    unlink(path);
}

static void
test_short_backing_reads_zero_past_its_end(void **state)
{
    char base[512], top[512];
    unit_tmpname(base, sizeof(base), "sb.qcow2");
    unit_tmpname(top, sizeof(top), "st.qcow2");
    vdisk_image *b = unit_make_qcow2(base, NULL, 100000, VDISK_OPEN_RDWR);
    vdisk_error err;
    uint8_t d[100000];
    unit_fill(d, sizeof(d), 5);
    assert_int_equal(vdisk_pwrite(b, d, sizeof(d), 0, &err), 0);
    vdisk_close(b, &err);
    char opts[1100];
    snprintf(opts, sizeof(opts), "backing_file=%s,backing_fmt=qcow2", base);
    vdisk_image *t = unit_make_qcow2(top, opts, 1 << 20, VDISK_OPEN_RDWR);
    uint8_t got[200000];
    assert_int_equal(vdisk_pread(t, got, sizeof(got), 0, &err), 0);
    assert_memory_equal(got, d, sizeof(d));
    for (size_t i = sizeof(d); i < sizeof(got); i++)
        assert_int_equal(got[i], 0);
    /* A COW in the cluster that straddles the backing end. */
    assert_int_equal(vdisk_pwrite(t, "x", 1, 99990, &err), 0);
    assert_int_equal(vdisk_pread(t, got, sizeof(got), 0, &err), 0);
    d[99990] = 'x';
    assert_memory_equal(got, d, sizeof(d));
    for (size_t i = sizeof(d); i < sizeof(got); i++)
        assert_int_equal(got[i], 0);
    vdisk_close(t, &err);
    unlink(top);
    unlink(base);
}

struct rw {
    vdisk_image *img;
    int id;
    int failures;
};

/* Writers fill distinct 64 KiB slots with a pattern naming the slot;
 * readers check that any slot they read is all zeros or its pattern. */
static void *
writer(void *arg)
{
    struct rw *w = arg;
    uint8_t b[65536];
    vdisk_error err;
    for (int k = w->id; k < 512; k += 4) {
        memset(b, (k % 250) + 1, sizeof(b));
        if (vdisk_pwrite(w->img, b, sizeof(b), (uint64_t)k * sizeof(b), &err) < 0)
            w->failures++;
    }
    return NULL;
}

static void *
reader(void *arg)
{
    struct rw *w = arg;
    uint8_t b[65536];
    vdisk_error err;
    for (int round = 0; round < 2000; round++) {
        int k = (round * 37 + w->id) % 512;
        if (vdisk_pread(w->img, b, sizeof(b), (uint64_t)k * sizeof(b), &err) < 0) {
            w->failures++;
            continue;
        }
        uint8_t v = b[0];
        if (v != 0 && v != (k % 250) + 1)
            w->failures++;
        for (size_t i = 1; i < sizeof(b); i++)
            if (b[i] != v) {
                w->failures++;
                break;
            }
    }
    return NULL;
}

static void
test_concurrent_readers_and_writers(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "c.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 32 << 20, VDISK_OPEN_RDWR);
    pthread_t th[8];
    struct rw w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (struct rw){ img, i % 4, 0 };
        pthread_create(&th[i], NULL, i < 4 ? writer : reader, &w[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    vdisk_error err;
    uint8_t b[65536];
    for (int k = 0; k < 512; k++) {
        assert_int_equal(vdisk_pread(img, b, sizeof(b), (uint64_t)k * sizeof(b), &err), 0);
        assert_int_equal(b[0], (k % 250) + 1);
        assert_int_equal(b[65535], (k % 250) + 1);
    }
    vdisk_close(img, &err);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unallocated_reads_zero),
        cmocka_unit_test(test_short_backing_reads_zero_past_its_end),
        cmocka_unit_test(test_concurrent_readers_and_writers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
