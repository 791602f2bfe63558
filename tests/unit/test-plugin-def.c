/* Unit tests for plugin/def.c: clearing definitions and libvirt-style UUIDs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/storage-def.h>

static void
test_uuid_round_trip(void **state)
{
    unsigned char u[16];
    char s[VDISK_UUID_STRING_LEN];

    assert_int_equal(vdisk_uuid_parse("8AC09C1E-2EFA-4F1B-B0B6-5B9DD6D6C1B2", u), 0);
    vdisk_uuid_format(u, s);
    assert_string_equal(s, "8ac09c1e-2efa-4f1b-b0b6-5b9dd6d6c1b2");
}

static void
test_uuid_dashes_anywhere_or_none(void **state)
{
    unsigned char a[16], b[16];

    assert_int_equal(vdisk_uuid_parse("8ac09c1e2efa4f1bb0b65b9dd6d6c1b2", a), 0);
    assert_int_equal(vdisk_uuid_parse(" 8a-c0-9c1e2efa4f1bb0b65b9dd6d6c1b2 \n", b), 0);
    assert_memory_equal(a, b, 16);
}

static void
test_uuid_rejects_bad_text(void **state)
{
    unsigned char u[16];

    assert_int_equal(vdisk_uuid_parse("8ac09c1e-2efa-4f1b-b0b6-5b9dd6d6c1b", u), -EINVAL);
    assert_int_equal(vdisk_uuid_parse("8ac09c1e-2efa-4f1b-b0b6-5b9dd6d6c1b2ff", u), -EINVAL);
    assert_int_equal(vdisk_uuid_parse("8ac09c1e-2efa-4f1b-b0b6-5b9dd6d6c1bz", u), -EINVAL);
    assert_int_equal(vdisk_uuid_parse("8ac09c1e-2efa-4f1b-b0b6-5b9dd6d6c1b-2", u), -EINVAL);
    assert_int_equal(vdisk_uuid_parse("", u), -EINVAL);
    assert_int_equal(vdisk_uuid_parse(NULL, u), -EINVAL);
}

static void
test_uuid_generate_is_version_4(void **state)
{
    unsigned char a[16], b[16];

    assert_int_equal(vdisk_uuid_generate(a), 0);
    assert_int_equal(vdisk_uuid_generate(b), 0);
    assert_int_equal(a[6] >> 4, 4);
    assert_int_equal(a[8] >> 6, 2);
    assert_memory_not_equal(a, b, 16);
}

static void
test_clear_frees_and_empties(void **state)
{
    vdisk_vol_def *vol = calloc(1, sizeof(*vol));
    vdisk_pool_def pool = {0};

    assert_non_null(vol);
    vol->name = strdup("a.qcow2");
    vol->compat = strdup("1.1");
    vol->perms.label = strdup("system_u:object_r:virt_image_t:s0");
    vol->encryption.cipher_name = strdup("aes");
    vol->capacity = 42;
    vdisk_vol_def_clear(vol);
    assert_null(vol->name);
    assert_null(vol->perms.label);
    assert_int_equal(vol->capacity, 0);
    vol->backing_path = strdup("/x");
    vdisk_vol_def_free(vol);            /* no leak under ASan/valgrind */
    vdisk_vol_def_free(NULL);

    pool.name = strdup("p");
    pool.target_path = strdup("/var/lib/p");
    pool.overcommit_max = 2.0;
    vdisk_pool_def_clear(&pool);
    assert_null(pool.name);
    assert_true(pool.overcommit_max == 0.0);
    vdisk_pool_def_clear(&pool);        /* clearing twice is fine */
    vdisk_pool_def_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_round_trip),
        cmocka_unit_test(test_uuid_dashes_anywhere_or_none),
        cmocka_unit_test(test_uuid_rejects_bad_text),
        cmocka_unit_test(test_uuid_generate_is_version_4),
        cmocka_unit_test(test_clear_frees_and_empties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
