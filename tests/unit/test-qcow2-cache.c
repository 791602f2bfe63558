/* Unit tests for core/qcow2/cache.c: hits, LRU eviction with write-back,
 * pinning, discard, flush order and the pre-write hook. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "qcow2/qcow2.h"

#define TS 512u

struct fixture {
    char path[512];
    vdisk_file *f;
};

static int
setup(void **state)
{
    static struct fixture fx;
    snprintf(fx.path, sizeof(fx.path), "%s/cache-%d.bin", VDISK_TEST_TMPDIR, (int)getpid());
    vdisk_error err;
    if (vdisk_file_create(fx.path, false, &fx.f, &err) < 0)
        return -1;
    /* Eight tables, table i filled with byte i + 1. */
    for (unsigned i = 0; i < 8; i++) {
        uint8_t t[TS];
        memset(t, (int)i + 1, TS);
        if (vdisk_file_pwrite(fx.f, t, TS, (uint64_t)i * TS, &err) < 0)
            return -1;
    }
    *state = &fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;
    vdisk_file_close(fx->f);
    unlink(fx->path);
    return 0;
}

static uint8_t
on_disk(struct fixture *fx, unsigned i)
{
    uint8_t b;
    vdisk_error err;
    assert_int_equal(vdisk_file_pread(fx->f, &b, 1, (uint64_t)i * TS, &err), 0);
    return b;
}

static void
poke(struct fixture *fx, unsigned i, uint8_t v)
{
    vdisk_error err;
    assert_int_equal(vdisk_file_pwrite(fx->f, &v, 1, (uint64_t)i * TS, &err), 0);
}

static void
test_hit_does_not_reread(void **state)
{
    struct fixture *fx = *state;
    struct qcow2_cache *c = qcow2_cache_new(fx->f, 4, TS, "test table");
    vdisk_error err;
    uint8_t *t;
    assert_int_equal(qcow2_cache_get(c, 0, false, &t, &err), 0);
    assert_int_equal(t[0], 1);
    qcow2_cache_put(c, t);
    poke(fx, 0, 0x77);           /* changed behind the cache's back */
    assert_int_equal(qcow2_cache_get(c, 0, false, &t, &err), 0);
    assert_int_equal(t[0], 1);   /* served from memory */
    qcow2_cache_put(c, t);
    poke(fx, 0, 1);
    qcow2_cache_free(c);
}

static void
test_lru_eviction_writes_back_dirty(void **state)
{
    struct fixture *fx = *state;
    struct qcow2_cache *c = qcow2_cache_new(fx->f, 2, TS, "test table");
    vdisk_error err;
    uint8_t *t;
    assert_int_equal(qcow2_cache_get(c, 0, false, &t, &err), 0);
    t[0] = 0xaa;
    qcow2_cache_mark_dirty(c, t);
    qcow2_cache_put(c, t);
    assert_int_equal(qcow2_cache_get(c, TS, false, &t, &err), 0);
    qcow2_cache_put(c, t);
    assert_int_equal(on_disk(fx, 0), 1);       /* still only in memory */
    /* Touch table 0 again so table 1 is the least recently used. */
    assert_int_equal(qcow2_cache_get(c, 0, false, &t, &err), 0);
    qcow2_cache_put(c, t);
    assert_int_equal(qcow2_cache_get(c, 2 * TS, false, &t, &err), 0);
    qcow2_cache_put(c, t);
    assert_int_equal(on_disk(fx, 0), 1);       /* table 0 survived */
    assert_int_equal(qcow2_cache_get(c, 3 * TS, false, &t, &err), 0);
    qcow2_cache_put(c, t);
    assert_int_equal(on_disk(fx, 0), 0xaa);    /* evicted, written back */
    poke(fx, 0, 1);
    qcow2_cache_free(c);
}

static void
test_pinned_never_evicted(void **state)
{
    struct fixture *fx = *state;
    struct qcow2_cache *c = qcow2_cache_new(fx->f, 2, TS, "test table");
    vdisk_error err;
    uint8_t *a, *b, *x;
    assert_int_equal(qcow2_cache_get(c, 0, false, &a, &err), 0);
    assert_int_equal(qcow2_cache_get(c, TS, false, &b, &err), 0);
    assert_int_equal(qcow2_cache_get(c, 2 * TS, false, &x, &err), -ENOSPC);
    assert_non_null(strstr(err.message, "test table"));
    assert_int_equal(a[0], 1);
    assert_int_equal(b[0], 2);
    qcow2_cache_put(c, b);
    assert_int_equal(qcow2_cache_get(c, 2 * TS, false, &x, &err), 0);
    assert_int_equal(x[0], 3);
    assert_int_equal(a[0], 1);
    qcow2_cache_put(c, x);
    qcow2_cache_put(c, a);
    qcow2_cache_free(c);
}

static void
test_fresh_and_discard(void **state)
{
    struct fixture *fx = *state;
    struct qcow2_cache *c = qcow2_cache_new(fx->f, 4, TS, "test table");
    vdisk_error err;
    uint8_t *t;
    assert_int_equal(qcow2_cache_get(c, 5 * TS, true, &t, &err), 0);
    for (unsigned i = 0; i < TS; i++)
        assert_int_equal(t[i], 0);
    qcow2_cache_put(c, t);
    assert_true(qcow2_cache_is_dirty(c));
    /* A discarded dirty table is never written. */
    qcow2_cache_discard(c, 5 * TS);
    assert_false(qcow2_cache_is_dirty(c));
    assert_int_equal(qcow2_cache_flush(c, &err), 0);
    assert_int_equal(on_disk(fx, 5), 6);
    qcow2_cache_free(c);
}

static int hook_calls;
static int
hook(void *opaque, vdisk_error *err)
{
    (void)opaque;
    (void)err;
    hook_calls++;
    return 0;
}

static void
test_flush_runs_hook_and_writes(void **state)
{
    struct fixture *fx = *state;
    struct qcow2_cache *c = qcow2_cache_new(fx->f, 4, TS, "test table");
    qcow2_cache_set_hook(c, hook, NULL);
    vdisk_error err;
    uint8_t *t;
    hook_calls = 0;
    for (unsigned i = 3; i > 0; i--) {
        assert_int_equal(qcow2_cache_get(c, (uint64_t)i * TS, false, &t, &err), 0);
        t[0] = (uint8_t)(0x40 + i);
        qcow2_cache_mark_dirty(c, t);
        qcow2_cache_put(c, t);
    }
    assert_int_equal(qcow2_cache_flush(c, &err), 0);
    assert_true(hook_calls >= 1);
    for (unsigned i = 1; i <= 3; i++) {
        assert_int_equal(on_disk(fx, i), 0x40 + i);
        poke(fx, i, (uint8_t)(i + 1));
    }
    assert_false(qcow2_cache_is_dirty(c));
    qcow2_cache_free(c);
}

static void
test_many_tables_hash(void **state)
{
    /* More distinct offsets than slots, revisited: content always right. */
    struct fixture *fx = *state;
    struct qcow2_cache *c = qcow2_cache_new(fx->f, 3, TS, "test table");
    vdisk_error err;
    for (unsigned round = 0; round < 50; round++) {
        unsigned i = (round * 5) % 8;
        uint8_t *t;
        assert_int_equal(qcow2_cache_get(c, (uint64_t)i * TS, false, &t, &err), 0);
        assert_int_equal(t[0], i + 1);
        qcow2_cache_put(c, t);
    }
    qcow2_cache_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_does_not_reread),
        cmocka_unit_test(test_lru_eviction_writes_back_dirty),
        cmocka_unit_test(test_pinned_never_evicted),
        cmocka_unit_test(test_fresh_and_discard),
        cmocka_unit_test(test_flush_runs_hook_and_writes),
        cmocka_unit_test(test_many_tables_hash),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
