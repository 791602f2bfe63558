/* Unit tests for core/error.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/error.h>

static void
test_set_returns_negative_errno(void **state)
{
    vdisk_error err;
    assert_int_equal(vdisk_error_set(&err, EINVAL, "disk.qcow2: L2 table at 0x%x is not aligned", 0x50000),
                     -EINVAL);
    assert_int_equal(err.code, -EINVAL);
    assert_string_equal(err.message, "disk.qcow2: L2 table at 0x50000 is not aligned");
}

static void
test_set_null_error_is_allowed(void **state)
{
    assert_int_equal(vdisk_error_set(NULL, EIO, "ignored"), -EIO);
}

static void
test_set_errno_appends_strerror(void **state)
{
    vdisk_error err;
    vdisk_error_set_errno(&err, ENOENT, "pread: %s", "x.raw");
    assert_string_equal(err.message, "pread: x.raw: No such file or directory");
}

static void
test_prefix(void **state)
{
    vdisk_error err;
    vdisk_error_set(&err, EIO, "inner");
    vdisk_error_prefix(&err, "outer %d", 1);
    assert_string_equal(err.message, "outer 1: inner");
}

static void
test_prefix_keeps_buffer_terminated(void **state)
{
    vdisk_error err;
    char big[VDISK_ERROR_MAX * 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    vdisk_error_set(&err, EIO, "%s", big);
    vdisk_error_prefix(&err, "%s", "ctx");
    assert_int_equal(strlen(err.message), VDISK_ERROR_MAX - 1);
    assert_memory_equal(err.message, "ctx: aaa", 8);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_returns_negative_errno),
        cmocka_unit_test(test_set_null_error_is_allowed),
        cmocka_unit_test(test_set_errno_appends_strerror),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_prefix_keeps_buffer_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
