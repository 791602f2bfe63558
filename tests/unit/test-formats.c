/* Unit tests for core/formats.c: the names of image formats. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/vdisk.h>

static void
test_format_names(void **state)
{
    const vdisk_format fmts[] = { VDISK_FORMAT_RAW, VDISK_FORMAT_QCOW2, VDISK_FORMAT_ISO };
    const char *names[] = { "raw", "qcow2", "iso" };
    for (int i = 0; i < 3; i++) {
        assert_string_equal(vdisk_format_name(fmts[i]), names[i]);
        vdisk_format f = VDISK_FORMAT_UNKNOWN;
        vdisk_error err;
        assert_int_equal(vdisk_format_from_name(names[i], &f, &err), 0);
        assert_int_equal(f, fmts[i]);
    }
    assert_string_equal(vdisk_format_name(VDISK_FORMAT_UNKNOWN), "unknown");
    assert_string_equal(vdisk_format_name((vdisk_format)77), "unknown");
    vdisk_format f;
    vdisk_error err;
    assert_int_equal(vdisk_format_from_name("vmdk2", &f, &err), -EINVAL);
    assert_non_null(strstr(err.message, "vmdk2"));
    /* qemu-img's names of other hypervisors' formats are known names. */
    assert_int_equal(vdisk_format_from_name("vpc", &f, &err), 0);
    assert_int_equal(f, VDISK_FORMAT_VPC);
    assert_int_equal(vdisk_format_from_name("RAW", &f, &err), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
