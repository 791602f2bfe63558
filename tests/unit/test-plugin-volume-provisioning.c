/* Unit tests for plugin/volume-provisioning.c: the pool's rules around
 * inflate / eagerzero / sparsify (free space measured before, a volume in
 * use refused, nothing written on refusal), the volume map and the pool's
 * usage figures (pool-info --details) before and after. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <vdisk/volume-provisioning.h>
#include <vdisk/volume.h>

#include "fixture.h"
#include "pool-fixture.h"

static uint64_t
blocks(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_blocks * 512;
}

static const vdisk_vol_usage *
find(const vdisk_pool_usage *u, const char *name)
{
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->vols[i].name, name) == 0)
            return &u->vols[i];
    fail_msg("volume %s not listed", name);
    return NULL;
}

static void
test_inflate_sparsify_and_usage(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "v.qcow2", VDISK_FORMAT_QCOW2, 8 * MiB, 0);
    pf_create(p, "r.raw", VDISK_FORMAT_RAW, 4 * MiB, 4 * MiB);   /* thick, lazy */
    vdisk_pool_usage u;
    assert_int_equal(vdisk_pool_usage_get(p, &u, NULL), 0);
    assert_int_equal(u.n, 2);
    assert_string_equal(find(&u, "v.qcow2")->kind, "thin");
    assert_string_equal(find(&u, "r.raw")->kind, "lazy-zeroed thick");
    assert_int_equal(u.capacity, 12 * MiB);
    assert_int_equal(u.unbacked, 8 * MiB);
    vdisk_pool_usage_clear(&u);

    vdisk_provision_result res;
    vdisk_error err;
    assert_int_equal(vdisk_vol_inflate(p, "v.qcow2", VDISK_INFLATE_EAGER, NULL, NULL, &res, &err), 0);
    assert_int_equal(res.changed, 8 * MiB);
    assert_true(blocks(unit_path(0, "p/v.qcow2")) >= 8 * MiB);
    assert_int_equal(vdisk_vol_eagerzero(p, "r.raw", 0, NULL, NULL, &res, &err), 0);
    assert_int_equal(res.zeroed, 4 * MiB);
    assert_int_equal(vdisk_pool_usage_get(p, &u, NULL), 0);
    assert_string_equal(find(&u, "v.qcow2")->kind, "eager-zeroed thick");
    assert_string_equal(find(&u, "r.raw")->kind, "eager-zeroed thick");
    assert_int_equal(u.unbacked, 0);
    vdisk_pool_usage_clear(&u);

    assert_int_equal(vdisk_vol_sparsify(p, "v.qcow2", VDISK_SPARSIFY_ZERO_DETECT, NULL, NULL, &res,
                                        &err), 0);
    assert_int_equal(res.changed, 8 * MiB);
    assert_true(blocks(unit_path(0, "p/v.qcow2")) < MiB);
    assert_int_equal(vdisk_pool_usage_get(p, &u, NULL), 0);
    assert_int_equal(u.unbacked, 8 * MiB);
    vdisk_pool_usage_clear(&u);
    pf_close(reg, p);
}

static void
test_inflate_past_free_space_refused(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    vdisk_pool_info info;
    assert_int_equal(vdisk_pool_fs_info(p, &info, NULL), 0);
    /* A thin volume larger than the free space: creating it is fine... */
    uint64_t cap = (info.available + 64 * MiB) / MiB * MiB;
    pf_create(p, "big.raw", VDISK_FORMAT_RAW, cap, 0);
    /* ... inflating it is refused before a byte is written. */
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_inflate(p, "big.raw", 0, NULL, NULL, NULL, &err), -ENOSPC);
    assert_non_null(strstr(err.message, "big.raw"));
    assert_non_null(strstr(err.message, "available"));
    assert_int_equal(blocks(unit_path(0, "p/big.raw")), 0);
    /* The dry run still reports. */
    vdisk_provision_result res;
    assert_int_equal(vdisk_vol_inflate(p, "big.raw", VDISK_PROVISION_DRY_RUN, NULL, NULL, &res,
                                       &err), 0);
    assert_int_equal(res.changed, cap);
    assert_int_equal(blocks(unit_path(0, "p/big.raw")), 0);
    pf_close(reg, p);
}

static void
test_in_use_refused(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "v.qcow2", VDISK_FORMAT_QCOW2, 4 * MiB, 0);
    /* A writer (as a running guest) holds the volume. */
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    vdisk_image *guest;
    assert_int_equal(vdisk_open(unit_path(0, "p/v.qcow2"), &oo, &guest, NULL), 0);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_inflate(p, "v.qcow2", 0, NULL, NULL, NULL, &err), -EBUSY);
    assert_non_null(strstr(err.message, "in use"));
    assert_int_equal(vdisk_vol_sparsify(p, "v.qcow2", 0, NULL, NULL, NULL, &err), -EBUSY);
    vdisk_close(guest, NULL);
    assert_int_equal(vdisk_vol_inflate(p, "v.qcow2", 0, NULL, NULL, NULL, &err), 0);
    assert_int_equal(vdisk_vol_inflate(p, "missing", 0, NULL, NULL, NULL, &err), -ENOENT);
    pf_close(reg, p);
}

static void
test_kind_names(void **state)
{
    uint64_t b[VDISK_ALLOC_KINDS] = { 0 };
    b[VDISK_ALLOC_DATA] = 1;
    assert_string_equal(vdisk_vol_usage_kind(b), "eager-zeroed thick");
    b[VDISK_ALLOC_RESERVED] = 1;
    assert_string_equal(vdisk_vol_usage_kind(b), "lazy-zeroed thick");
    b[VDISK_ALLOC_ZERO] = 1;
    assert_string_equal(vdisk_vol_usage_kind(b), "mixed");
    b[VDISK_ALLOC_RESERVED] = 0;
    assert_string_equal(vdisk_vol_usage_kind(b), "thin");
    /* What reads from a backing file is not this volume's to provision. */
    memset(b, 0, sizeof(b));
    b[VDISK_ALLOC_BACKING] = 5;
    b[VDISK_ALLOC_RESERVED] = 1;
    assert_string_equal(vdisk_vol_usage_kind(b), "lazy-zeroed thick");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inflate_sparsify_and_usage, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_inflate_past_free_space_refused, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_in_use_refused, unit_setup, unit_teardown),
        cmocka_unit_test(test_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
