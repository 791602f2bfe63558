/* Unit tests for core/qcow2/write.c: allocating writes, copy-on-write from
 * the backing file, in-place overwrites, subcluster writes, and several
 * threads writing one handle. */
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
test_sequential_write_one_host_run(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "seq.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 64 << 20, VDISK_OPEN_RDWR);
    vdisk_error err;
    size_t n = 8 << 20;
    uint8_t *buf = malloc(n), *back = malloc(n);
    unit_fill(buf, n, 1);
    assert_int_equal(vdisk_pwrite(img, buf, n, 1 << 20, &err), 0);
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 1 << 20, n, &e, &err), 0);
    assert_int_equal(e.length, n);   /* one contiguous host run */
    assert_true(e.flags & VDISK_EXTENT_DATA);
    assert_int_equal(vdisk_pread(img, back, n, 1 << 20, &err), 0);
    assert_memory_equal(buf, back, n);
    /* Overwriting in place keeps the mapping. */
    uint64_t host = e.host_offset;
    unit_fill(buf, 4096, 2);
    assert_int_equal(vdisk_pwrite(img, buf, 4096, (1 << 20) + 12345, &err), 0);
    assert_int_equal(vdisk_block_status(img, 1 << 20, n, &e, &err), 0);
    assert_int_equal(e.host_offset, host);
    assert_int_equal(e.length, n);
    free(buf);
    free(back);
    vdisk_close(img, &err);
    unlink(path);
}

static void
test_partial_write_cow_from_backing(void **state)
{
    char base[512], top[512];
    unit_tmpname(base, sizeof(base), "base.qcow2");
    unit_tmpname(top, sizeof(top), "top.qcow2");
    vdisk_image *b = unit_make_qcow2(base, NULL, 4 << 20, VDISK_OPEN_RDWR);
    vdisk_error err;
    uint8_t *data = malloc(4 << 20), *got = malloc(4 << 20);
    unit_fill(data, 4 << 20, 3);
    assert_int_equal(vdisk_pwrite(b, data, 4 << 20, 0, &err), 0);
    vdisk_close(b, &err);
    char opts[1100];
    snprintf(opts, sizeof(opts), "backing_file=%s,backing_fmt=qcow2", base);
    vdisk_image *t = unit_make_qcow2(top, opts, 0, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_get_size(t), 4 << 20);
    /* 100 bytes in the middle of a cluster: the rest must come from below. */
    memset(data + 70000, 0xee, 100);
    assert_int_equal(vdisk_pwrite(t, data + 70000, 100, 70000, &err), 0);
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(t, 65536, 65536, &e, &err), 0);
    assert_true(e.flags & VDISK_EXTENT_ALLOCATED);
    assert_int_equal(vdisk_block_status(t, 0, 65536, &e, &err), 0);
    assert_false(e.flags & VDISK_EXTENT_ALLOCATED);
    assert_int_equal(vdisk_close(t, &err), 0);
    vdisk_open_opts ro = { .format = VDISK_FORMAT_QCOW2, .flags = 0 };
    assert_int_equal(vdisk_open(top, &ro, &t, &err), 0);
    assert_int_equal(vdisk_pread(t, got, 4 << 20, 0, &err), 0);
    assert_memory_equal(data, got, 4 << 20);
    /* Without the backing file, only the copied cluster has content. */
    vdisk_close(t, &err);
    vdisk_open_opts nb = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_NO_BACKING };
    assert_int_equal(vdisk_open(top, &nb, &t, &err), 0);
    assert_int_equal(vdisk_pread(t, got, 65536, 65536, &err), 0);
    assert_memory_equal(data + 65536, got, 65536);
    assert_int_equal(vdisk_pread(t, got, 100, 0, &err), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(got[i], 0);
    vdisk_close(t, &err);
    free(data);
    free(got);
    unlink(top);
    unlink(base);
}

static void
test_subcluster_write_touches_only_its_subclusters(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "sub.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "extended_l2=on,cluster_size=128k", 16 << 20, VDISK_OPEN_RDWR);
    vdisk_error err;
    uint8_t buf[4096];
    unit_fill(buf, sizeof(buf), 4);
    /* Subclusters are 4 KiB: write the third one of cluster 1. */
    assert_int_equal(vdisk_pwrite(img, buf, 4096, 131072 + 8192, &err), 0);
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 131072, 131072, &e, &err), 0);
    assert_false(e.flags & VDISK_EXTENT_ALLOCATED);
    assert_int_equal(e.length, 8192);
    assert_int_equal(vdisk_block_status(img, 131072 + 8192, 131072 - 8192, &e, &err), 0);
    assert_true(e.flags & VDISK_EXTENT_DATA);
    assert_int_equal(e.length, 4096);
    qcow2_state *s = img->priv;
    uint64_t entry, bitmap;
    pthread_mutex_lock(&s->lock);
    assert_int_equal(qcow2_l2_lookup(s, 1, &entry, &bitmap, &err), 0);
    pthread_mutex_unlock(&s->lock);
    assert_true(bitmap == (UINT64_C(1) << 2));
    /* A second write into the same cluster reuses its host cluster. */
    assert_int_equal(vdisk_pwrite(img, buf, 100, 131072 + 50000, &err), 0);
    uint64_t entry2;
    pthread_mutex_lock(&s->lock);
    assert_int_equal(qcow2_l2_lookup(s, 1, &entry2, &bitmap, &err), 0);
    pthread_mutex_unlock(&s->lock);
    assert_true((entry2 & L2E_OFFSET_MASK) == (entry & L2E_OFFSET_MASK));
    assert_true(bitmap == ((UINT64_C(1) << 2) | (UINT64_C(1) << 12)));
    uint8_t back[4096];
    assert_int_equal(vdisk_pread(img, back, 4096, 131072 + 8192, &err), 0);
    assert_memory_equal(buf, back, 4096);
    assert_int_equal(vdisk_pread(img, back, 4096, 131072 + 49152, &err), 0);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(back[i], (i >= 848 && i < 948) ? buf[i - 848] : 0);
    vdisk_close(img, &err);
    unlink(path);
}

struct worker {
    vdisk_image *img;
    unsigned id, nthreads;
    int result;
};

/* Each thread owns every nthreads-th 40000-byte stripe: unaligned
 * stripes make neighbouring threads share clusters. */
static void *
work(void *arg)
{
    struct worker *w = arg;
    uint8_t buf[40000];
    vdisk_error err;
    for (unsigned k = w->id; k < 1200; k += w->nthreads) {
        unit_fill(buf, sizeof(buf), k);
        if (vdisk_pwrite(w->img, buf, sizeof(buf), (uint64_t)k * sizeof(buf), &err) < 0) {
            w->result = -1;
            fprintf(stderr, "%s\n", err.message);
            return NULL;
        }
    }
    return NULL;
}

static void
test_threads_share_a_handle(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "mt.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "cluster_size=4k", 64 << 20, VDISK_OPEN_RDWR);
    enum { N = 8 };
    pthread_t th[N];
    struct worker w[N];
    for (unsigned i = 0; i < N; i++) {
        w[i] = (struct worker){ img, i, N, 0 };
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    for (unsigned i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].result, 0);
    }
    vdisk_error err;
    assert_int_equal(vdisk_close(img, &err), 0);
    vdisk_open_opts ro = { .format = VDISK_FORMAT_QCOW2, .flags = 0 };
    assert_int_equal(vdisk_open(path, &ro, &img, &err), 0);
    uint8_t buf[40000], want[40000];
    for (unsigned k = 0; k < 1200; k++) {
        unit_fill(want, sizeof(want), k);
        assert_int_equal(vdisk_pread(img, buf, sizeof(buf), (uint64_t)k * sizeof(buf), &err), 0);
        assert_memory_equal(buf, want, sizeof(buf));
    }
    vdisk_close(img, &err);
    unlink(path);
}

static void
test_write_over_compressed_cluster(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "wc.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 1 << 20, VDISK_OPEN_RDWR);
    vdisk_error err;
    uint8_t *c = calloc(1, 65536), back[65536];
    memset(c + 1000, 'x', 5000);
    assert_int_equal(vdisk_pwrite_compressed(img, c, 65536, 65536, &err), 0);
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 65536, 65536, &e, &err), 0);
    assert_true(e.flags & VDISK_EXTENT_COMPRESSED);
    memset(c + 3000, 'y', 10);
    assert_int_equal(vdisk_pwrite(img, c + 3000, 10, 65536 + 3000, &err), 0);
    assert_int_equal(vdisk_block_status(img, 65536, 65536, &e, &err), 0);
    assert_false(e.flags & VDISK_EXTENT_COMPRESSED);
    assert_int_equal(vdisk_pread(img, back, 65536, 65536, &err), 0);
    assert_memory_equal(c, back, 65536);
    free(c);
    vdisk_close(img, &err);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequential_write_one_host_run),
        cmocka_unit_test(test_partial_write_cow_from_backing),
        cmocka_unit_test(test_subcluster_write_touches_only_its_subclusters),
        cmocka_unit_test(test_threads_share_a_handle),
        cmocka_unit_test(test_write_over_compressed_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
