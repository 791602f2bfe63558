/* Unit tests for core/probe.c: format detection by magic. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

#include "fixture.h"

/* Write a file of `size` bytes (sparse) with `len` bytes of data at off. */

#include <vdisk/vdisk.h>
#include "probe.h"

static void
test_probe_buffer(void **state)
{
    uint8_t buf[VDISK_PROBE_LEN];
    memset(buf, 0, sizeof(buf));
    assert_int_equal(vdisk_probe_buffer(buf, sizeof(buf)), VDISK_FORMAT_RAW);
    memcpy(buf, "QFI\xfb\0\0\0\3", 8);
    assert_int_equal(vdisk_probe_buffer(buf, sizeof(buf)), VDISK_FORMAT_QCOW2);
    /* qcow version 1 too: the qcow2 driver refuses it with a message. */
    buf[7] = 1;
    assert_int_equal(vdisk_probe_buffer(buf, sizeof(buf)), VDISK_FORMAT_QCOW2);
    /* Too short to hold the magic: raw. */
    assert_int_equal(vdisk_probe_buffer(buf, 3), VDISK_FORMAT_RAW);
    assert_int_equal(vdisk_probe_buffer(buf, 0), VDISK_FORMAT_RAW);
    /* One byte off: raw. */
    buf[3] = 0xfa;
    assert_int_equal(vdisk_probe_buffer(buf, sizeof(buf)), VDISK_FORMAT_RAW);
}

static void
test_probe_iso_needs_the_volume_descriptor(void **state)
{
    uint8_t buf[VDISK_PROBE_LEN];
    memset(buf, 0, sizeof(buf));
    memcpy(buf + 0x8000, "\1CD001", 6);
    assert_int_equal(vdisk_probe_buffer(buf, sizeof(buf)), VDISK_FORMAT_ISO);
    assert_int_equal(vdisk_probe_buffer(buf, sizeof(buf) - 1), VDISK_FORMAT_RAW);
    /* "CD001" anywhere else means nothing. */
    memset(buf, 0, sizeof(buf));
    memcpy(buf + 0x7ff0, "\1CD001", 6);
    assert_int_equal(vdisk_probe_buffer(buf, sizeof(buf)), VDISK_FORMAT_RAW);
}

static void
test_probe_luks_is_other_magic(void **state)
{
    uint8_t buf[VDISK_PROBE_LEN];
    memset(buf, 0, sizeof(buf));
    bool other = true;
    assert_int_equal(vdisk_probe_buffer_ex(buf, sizeof(buf), &other), VDISK_FORMAT_RAW);
    assert_false(other);
    memcpy(buf, "LUKS\xba\xbe\0\1", 8);
    /* LUKS images probe as luks (as in QEMU) and still count as other magic. */
    assert_int_equal(vdisk_probe_buffer_ex(buf, sizeof(buf), &other), VDISK_FORMAT_LUKS);
    assert_true(other);
    assert_int_equal(vdisk_probe_buffer_ex(buf, 5, &other), VDISK_FORMAT_RAW);
    assert_false(other);
    assert_int_equal(vdisk_probe_buffer_ex(buf, sizeof(buf), NULL), VDISK_FORMAT_LUKS);
}

static void
test_probe_files(void **state)
{
    vdisk_format fmt;
    vdisk_error err;
    unit_write_file(unit_path(0, "q"), 1 * MiB, "QFI\xfb", 4, 0);
    assert_int_equal(vdisk_probe(unit_path(0, "q"), &fmt, &err), 0);
    assert_int_equal(fmt, VDISK_FORMAT_QCOW2);
    unit_write_file(unit_path(0, "r"), 1 * MiB, "QFI\xfb", 4, 512);
    assert_int_equal(vdisk_probe(unit_path(0, "r"), &fmt, &err), 0);
    assert_int_equal(fmt, VDISK_FORMAT_RAW);
    unit_write_file(unit_path(0, "i"), 64 * KiB, "\1CD001\1", 7, 0x8000);
    assert_int_equal(vdisk_probe(unit_path(0, "i"), &fmt, &err), 0);
    assert_int_equal(fmt, VDISK_FORMAT_ISO);
    /* A file shorter than the probe window, and an empty one. */
    unit_write_file(unit_path(0, "s"), 3, "QFI", 3, 0);
    assert_int_equal(vdisk_probe(unit_path(0, "s"), &fmt, &err), 0);
    assert_int_equal(fmt, VDISK_FORMAT_RAW);
    unit_write_file(unit_path(0, "e"), 0, NULL, 0, 0);
    assert_int_equal(vdisk_probe(unit_path(0, "e"), &fmt, &err), 0);
    assert_int_equal(fmt, VDISK_FORMAT_RAW);
    assert_int_equal(vdisk_probe(unit_path(0, "missing"), &fmt, &err), -ENOENT);
    assert_non_null(strstr(err.message, "missing"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_buffer),
        cmocka_unit_test(test_probe_iso_needs_the_volume_descriptor),
        cmocka_unit_test(test_probe_luks_is_other_magic),
        cmocka_unit_test_setup_teardown(test_probe_files, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
