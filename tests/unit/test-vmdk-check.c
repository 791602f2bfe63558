/* Unit tests for core/vmdk/check.c: qemu-img's check of a vmdk (grain
 * entries inside their files), its words, and no repair. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "vmdk-fixture.h"

static char last_line[256];

static void
keep(void *opaque, const char *line)
{
    (void)opaque;
    snprintf(last_line, sizeof(last_line), "%s", line);
}

static void
test_check(void **state)
{
    (void)state;
    const char *p = unit_path(0, "c.vmdk");
    vmdk_make(p, NULL, 8 * MiB);
    vdisk_image *img = vmdk_open_named(p, VDISK_OPEN_RDWR);
    uint8_t b[512] = { 1 };
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, b, 512, 65536 * 3, &err), 0);
    vdisk_close(img, NULL);
    vdisk_check_result res;
    img = vmdk_open_named(p, VDISK_OPEN_CHECK);
    assert_int_equal(vdisk_check(img, 0, &res, keep, NULL, NULL, &err), 0);
    assert_int_equal(res.corruptions, 0);
    vdisk_close(img, NULL);
    /* Grain 3's entry now points past the end (table at sector 27). */
    uint8_t e[4];
    vmdk_put_le32(e, 0x100000);
    vmdk_patch(p, 27 * 512 + 3 * 4, e, 4);
    img = vmdk_open_named(p, VDISK_OPEN_CHECK);
    last_line[0] = '\0';
    assert_int_equal(vdisk_check(img, 0, &res, keep, NULL, NULL, &err), -EINVAL);
    assert_string_equal(last_line, "ERROR: cluster offset for sector 384 points after EOF");
    assert_int_equal(res.corruptions, 1);
    vdisk_close(img, NULL);
    img = vmdk_open_named(p, VDISK_OPEN_CHECK | VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_check(img, VDISK_CHECK_FIX_LEAKS, &res, keep, NULL, NULL, &err), -ENOTSUP);
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_check, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
