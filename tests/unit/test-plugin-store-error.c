/* Unit tests for plugin/store-error.c: the kind and subject of an error about
 * a pool, volume or secret, and virsh's words for them.  The words are
 * virsh's (libvirt's virErrorMsg for VIR_ERR_NO_STORAGE_POOL,
 * VIR_ERR_NO_STORAGE_VOL, VIR_ERR_NO_SECRET, VIR_ERR_OPERATION_INVALID). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/pool.h>
#include <vdisk/registry.h>
#include <vdisk/store-error.h>

#include "fixture.h"
#include "pool-fixture.h"

static void
test_set_names_kind_subject_and_detail(void **state)
{
    vdisk_error err;
    assert_int_equal(vdisk_store_error_set(&err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_POOL, ENOENT,
                                           "no storage pool with matching name '%s'", "p"), -ENOENT);
    assert_int_equal(err.code, -ENOENT);
    assert_int_equal(err.kind, VDISK_ERR_NOT_FOUND);
    assert_int_equal(err.subject, VDISK_SUBJECT_POOL);
    assert_string_equal(err.message, "no storage pool with matching name 'p'");
    assert_string_equal(vdisk_store_error_words(&err), "Storage pool not found");
    assert_int_equal(vdisk_store_error_set(NULL, VDISK_ERR_INVALID_STATE, VDISK_SUBJECT_POOL, EBUSY, "x"),
                     -EBUSY);
}

static void
test_words_by_kind_and_subject(void **state)
{
    vdisk_error err;
    vdisk_store_error_set(&err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_VOLUME, ENOENT, "v");
    assert_string_equal(vdisk_store_error_words(&err), "Storage volume not found");
    vdisk_store_error_set(&err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_SECRET, ENOENT, "s");
    assert_string_equal(vdisk_store_error_words(&err), "Secret not found");
    vdisk_store_error_set(&err, VDISK_ERR_INVALID_STATE, VDISK_SUBJECT_POOL, EBUSY, "still active");
    assert_string_equal(vdisk_store_error_words(&err), "Requested operation is not valid");
    /* libvdisk's errors (subject 0) and kinds without words have none. */
    vdisk_error_set(&err, ENOENT, "disk.qcow2: No such file or directory");
    assert_null(vdisk_store_error_words(&err));
    vdisk_store_error_set(&err, VDISK_ERR_INVALID, VDISK_SUBJECT_POOL, EINVAL, "bad");
    assert_null(vdisk_store_error_words(&err));
    assert_null(vdisk_store_error_words(NULL));
}

static void
test_prefix_writes_the_words_in_first(void **state)
{
    vdisk_error err;
    vdisk_store_error_set(&err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_VOLUME, ENOENT,
                          "no storage vol with matching name 'b'");
    vdisk_store_error_prefix(&err, "%s: backing file in pool '%s'", "volume 'o'", "p");
    assert_string_equal(err.message, "volume 'o': backing file in pool 'p': Storage volume not found: "
                                     "no storage vol with matching name 'b'");
    assert_int_equal(err.subject, VDISK_SUBJECT_NONE);
    assert_int_equal(err.kind, VDISK_ERR_NOT_FOUND);
    assert_int_equal(err.code, -ENOENT);
    assert_null(vdisk_store_error_words(&err));
    /* Without a subject it is vdisk_error_prefix. */
    vdisk_error_set(&err, EIO, "inner");
    vdisk_store_error_prefix(&err, "outer");
    assert_string_equal(err.message, "outer: inner");
    vdisk_store_error_prefix(NULL, "ignored");
}

/* The plugin raises its lookups and state checks with kinds and subjects. */
static void
test_pool_errors_carry_kind_and_subject(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = NULL, *pool = pf_pool(reg, "kinds", VDISK_ZEROING_LAZY, 0);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_pool_lookup(reg, "nope", &p, &err), -ENOENT);
    assert_int_equal(err.kind, VDISK_ERR_NOT_FOUND);
    assert_int_equal(err.subject, VDISK_SUBJECT_POOL);
    assert_string_equal(err.message, "no storage pool with matching name 'nope'");
    assert_int_equal(vdisk_pool_start(pool, &err), -EINVAL);
    assert_int_equal(err.kind, VDISK_ERR_INVALID_STATE);
    assert_int_equal(err.subject, VDISK_SUBJECT_POOL);
    assert_string_equal(err.message, "storage pool 'kinds' is already active");
    vdisk_vol_def def;
    assert_int_equal(vdisk_vol_lookup(pool, "none", &def, &err), -ENOENT);
    assert_int_equal(err.subject, VDISK_SUBJECT_VOLUME);
    assert_string_equal(vdisk_store_error_words(&err), "Storage volume not found");
    assert_int_equal(vdisk_pool_stop(pool, &err), 0);
    assert_int_equal(vdisk_pool_delete(pool, &err), 0);
    assert_int_equal(vdisk_pool_undefine(pool, &err), 0);
    pf_close(reg, pool);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_names_kind_subject_and_detail),
        cmocka_unit_test(test_words_by_kind_and_subject),
        cmocka_unit_test(test_prefix_writes_the_words_in_first),
        cmocka_unit_test(test_pool_errors_carry_kind_and_subject),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
