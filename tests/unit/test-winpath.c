/* Unit tests for core/winpath.c: Windows paths of parent locators as
 * paths of this host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "winpath.h"

static void
test_relative_paths(void **state)
{
    (void)state;
    char a[] = ".\\parent.vhdx", b[] = "..\\base\\parent.vhd", c[] = ".\\.\\x", d[] = "dir/x.vhd";
    assert_true(vdisk_windows_path_to_host(a));
    assert_string_equal(a, "parent.vhdx");
    assert_true(vdisk_windows_path_to_host(b));
    assert_string_equal(b, "../base/parent.vhd");
    assert_true(vdisk_windows_path_to_host(c));
    assert_string_equal(c, "x");
    assert_true(vdisk_windows_path_to_host(d));
    assert_string_equal(d, "dir/x.vhd");
}

static void
test_unusable_paths(void **state)
{
    (void)state;
    char drive[] = "C:\\VMs\\p.vhdx", lower[] = "d:x", unc[] = "\\\\server\\share\\p.vhdx",
         vol[] = "\\\\?\\Volume{26a21bda-a627-11d7-9931-806e6f6e6963}\\p.vhdx", empty[] = ".\\";
    assert_false(vdisk_windows_path_to_host(drive));
    assert_false(vdisk_windows_path_to_host(lower));
    assert_false(vdisk_windows_path_to_host(unc));
    assert_false(vdisk_windows_path_to_host(vol));
    assert_false(vdisk_windows_path_to_host(empty));
}

static void
test_posix_absolute_kept(void **state)
{
    (void)state;
    char p[] = "/srv/images/base.vhdx";
    assert_true(vdisk_windows_path_to_host(p));
    assert_string_equal(p, "/srv/images/base.vhdx");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_unusable_paths),
        cmocka_unit_test(test_posix_absolute_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
