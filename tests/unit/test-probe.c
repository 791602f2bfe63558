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
    /* qcow version 1 is its own format; versions qcow2 does not know still
     * go to the qcow2 driver, which refuses them with a message. */
    buf[7] = 1;
    assert_int_equal(vdisk_probe_buffer(buf, sizeof(buf)), VDISK_FORMAT_QCOW);
    buf[7] = 0;
    assert_int_equal(vdisk_probe_buffer(buf, sizeof(buf)), VDISK_FORMAT_QCOW2);
    buf[7] = 4;
    assert_int_equal(vdisk_probe_buffer(buf, sizeof(buf)), VDISK_FORMAT_QCOW2);
    buf[7] = 1;
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

/* Put `magic` at `off` of a zeroed probe buffer and probe it. */
static vdisk_format
probe_magic(const void *magic, size_t len, size_t off)
{
    static uint8_t buf[VDISK_PROBE_LEN];
    memset(buf, 0, sizeof(buf));
    memcpy(buf + off, magic, len);
    return vdisk_probe_buffer(buf, sizeof(buf));
}

/* The magics and offsets of each format's specification (VMware's Virtual
 * Disk Format 5.0, Microsoft's VHDX and VHD specifications, QEMU's
 * docs/interop for qed and parallels, VirtualBox's VDI header). */
static void
test_probe_foreign_formats(void **state)
{
    assert_int_equal(probe_magic("KDMV\1\0\0\0", 8, 0), VDISK_FORMAT_VMDK);
    assert_int_equal(probe_magic("COWD", 4, 0), VDISK_FORMAT_VMDK);
    assert_int_equal(probe_magic("vhdxfile", 8, 0), VDISK_FORMAT_VHDX);
    assert_int_equal(probe_magic("conectix", 8, 0), VDISK_FORMAT_VPC);
    assert_int_equal(probe_magic("QED\0", 4, 0), VDISK_FORMAT_QED);
    assert_int_equal(probe_magic("\x7f\x10\xda\xbe", 4, 0x40), VDISK_FORMAT_VDI);
    assert_int_equal(probe_magic("WithoutFreeSpace\2\0\0\0", 20, 0), VDISK_FORMAT_PARALLELS);
    assert_int_equal(probe_magic("WithouFreSpacExt\2\0\0\0", 20, 0), VDISK_FORMAT_PARALLELS);
    /* Parallels needs version 2. */
    assert_int_equal(probe_magic("WithoutFreeSpace\3\0\0\0", 20, 0), VDISK_FORMAT_RAW);
    static const char cloop[] = "#!/bin/sh\n#V2.0 Format\n"
                                "modprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n";
    assert_int_equal(probe_magic(cloop, sizeof(cloop) - 1, 0), VDISK_FORMAT_CLOOP);
    uint8_t bochs[68] = "Bochs Virtual HD Image";
    memcpy(bochs + 32, "Redolog", 8);
    memcpy(bochs + 48, "Growing", 8);
    memcpy(bochs + 64, "\0\0\2\0", 4);
    assert_int_equal(probe_magic(bochs, sizeof(bochs), 0), VDISK_FORMAT_BOCHS);
    bochs[66] = 3;
    assert_int_equal(probe_magic(bochs, sizeof(bochs), 0), VDISK_FORMAT_RAW);
    /* One byte off: raw. */
    assert_int_equal(probe_magic("KDMW", 4, 0), VDISK_FORMAT_RAW);
    assert_int_equal(probe_magic("vhdxfilf", 8, 0), VDISK_FORMAT_RAW);
    assert_int_equal(probe_magic("\x7f\x10\xda\xbe", 4, 0x44), VDISK_FORMAT_RAW);
}

/* A VMDK text descriptor: comments and blank lines, then version=1..3. */
static void
test_probe_vmdk_descriptor(void **state)
{
    static const char desc[] = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\n";
    assert_int_equal(probe_magic(desc, sizeof(desc) - 1, 0), VDISK_FORMAT_VMDK);
    static const char crlf[] = "# Disk DescriptorFile\r\n   \r\nversion=3\r\n";
    assert_int_equal(probe_magic(crlf, sizeof(crlf) - 1, 0), VDISK_FORMAT_VMDK);
    static const char v4[] = "# Disk DescriptorFile\nversion=4\n";
    assert_int_equal(probe_magic(v4, sizeof(v4) - 1, 0), VDISK_FORMAT_RAW);
    static const char text[] = "hello\nversion=1\n";
    assert_int_equal(probe_magic(text, sizeof(text) - 1, 0), VDISK_FORMAT_RAW);
    static const char trailing[] = "version=1 \n";
    assert_int_equal(probe_magic(trailing, sizeof(trailing) - 1, 0), VDISK_FORMAT_RAW);
}

/* Every recognised format, with or without a driver, makes a probed-raw
 * image refuse a write that would give it that header. */
static void
test_probed_raw_refuses_foreign_headers(void **state)
{
    static const struct { const char *magic; size_t len, off; } heads[] = {
        { "KDMV", 4, 0 }, { "vhdxfile", 8, 0 }, { "conectix", 8, 0 }, { "QED", 4, 0 },
        { "\x7f\x10\xda\xbe", 4, 0x40 }, { "WithoutFreeSpace\2", 17, 0 },
        { "QFI\xfb\0\0\0\1", 8, 0 }, { "# Disk DescriptorFile\nversion=1\n", 32, 0 },
    };
    const char *p = unit_path(0, "guest.raw");
    unit_write_file(p, 1 * MiB, NULL, 0, 0);
    vdisk_open_opts o = { .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(p, &o, &img, &err), 0);
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        uint8_t sector[512] = { 0 };
        memcpy(sector + heads[i].off, heads[i].magic, heads[i].len);
        assert_int_equal(vdisk_pwrite(img, sector, sizeof(sector), 0, &err), -EPERM);
        assert_non_null(strstr(err.message, "probed as raw"));
    }
    assert_int_equal(vdisk_close(img, &err), 0);
}

/* A recognised format without a driver is refused by name, not read as raw. */
static void
test_unreadable_format_refused_by_name(void **state)
{
    uint8_t bochs[512] = "Bochs Virtual HD Image";
    memcpy(bochs + 32, "Redolog", 8);
    memcpy(bochs + 48, "Growing", 8);
    memcpy(bochs + 64, "\0\0\2\0", 4);
    const char *p = unit_path(0, "old.img");
    unit_write_file(p, 1 * MiB, bochs, sizeof(bochs), 0);
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(p, NULL, &img, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "old.img"));
    assert_non_null(strstr(err.message, "bochs"));
    assert_false(vdisk_format_supported(VDISK_FORMAT_BOCHS));
    assert_true(vdisk_format_supported(VDISK_FORMAT_QCOW2));
    /* dmg: by the name, as QEMU probes it, or by the koly trailer. */
    vdisk_format fmt;
    const char *d = unit_path(0, "mac.dmg");
    unit_write_file(d, 64 * KiB, NULL, 0, 0);
    assert_int_equal(vdisk_probe(d, &fmt, &err), 0);
    assert_int_equal(fmt, VDISK_FORMAT_DMG);
    const char *k = unit_path(0, "mac.img");
    unit_write_file(k, 64 * KiB, "koly", 4, 64 * KiB - 512);
    assert_int_equal(vdisk_probe(k, &fmt, &err), 0);
    assert_int_equal(fmt, VDISK_FORMAT_DMG);
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
        cmocka_unit_test(test_probe_foreign_formats),
        cmocka_unit_test(test_probe_vmdk_descriptor),
        cmocka_unit_test_setup_teardown(test_probed_raw_refuses_foreign_headers, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_format_refused_by_name, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_probe_files, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
