/* Unit tests for core/vmdk/descriptor.c: the text descriptor parser, the
 * writer (whose expected text is what qemu-img 7.2 writes for the same
 * disk) and the CID rewrite. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmdk/vmdk.h"

/* `qemu-img create -f vmdk -o subformat=monolithicFlat c.vmdk 100M`. */
static const char qemu_flat[] =
    "# Disk DescriptorFile\n"
    "version=1\n"
    "CID=f3b28caf\n"
    "parentCID=ffffffff\n"
    "createType=\"monolithicFlat\"\n"
    "\n"
    "# Extent description\n"
    "RW 204800 FLAT \"c-flat.vmdk\" 0\n"
    "\n"
    "# The Disk Data Base\n"
    "#DDB\n"
    "\n"
    "ddb.virtualHWVersion = \"4\"\n"
    "ddb.geometry.cylinders = \"203\"\n"
    "ddb.geometry.heads = \"16\"\n"
    "ddb.geometry.sectors = \"63\"\n"
    "ddb.adapterType = \"ide\"\n"
    "ddb.toolsVersion = \"2147483647\"\n";

static int
parse(const char *text, vmdk_descriptor *d, vdisk_error *err)
{
    return vmdk_descriptor_parse(text, strlen(text), "t.vmdk", true, d, err);
}

static void
test_parse_qemu_descriptor(void **state)
{
    (void)state;
    vmdk_descriptor d;
    vdisk_error err;
    assert_int_equal(parse(qemu_flat, &d, &err), 0);
    assert_true(d.has_cid);
    assert_int_equal(d.cid, 0xf3b28caf);
    assert_int_equal(d.parent_cid, 0xffffffff);
    assert_string_equal(d.create_type, "monolithicFlat");
    assert_null(d.parent_hint);
    assert_int_equal(d.nextents, 1);
    assert_int_equal(d.extents[0].access, VMDK_ACCESS_RW);
    assert_int_equal(d.extents[0].sectors, 204800);
    assert_string_equal(d.extents[0].type, "FLAT");
    assert_string_equal(d.extents[0].filename, "c-flat.vmdk");
    assert_int_equal(d.extents[0].offset, 0);
    assert_int_equal(d.extents[0].line, 8);
    vmdk_descriptor_clear(&d);
}

/* ESXi, Workstation and ovftool spellings: CRLF, unquoted values, extra
 * keys, RDONLY, ZERO, VMFS and split extents, a parent hint. */
static void
test_parse_variants(void **state)
{
    (void)state;
    static const char text[] =
        "# Disk DescriptorFile\r\nversion=1\r\nencoding=\"UTF-8\"\r\nCID=0000abcd\r\n"
        "parentCID = 12345678\r\nisNativeSnapshot=\"no\"\r\ncreateType=vmfsSparse\r\n"
        "parentFileNameHint=\"base dir/base.vmdk\"\r\n"
        "RDONLY 100 VMFSSPARSE \"d-delta.vmdk\"\r\n  RW 50 ZERO\r\n"
        "RW 8 VMFS \"d-flat.vmdk\"\r\nRW 16 FLAT \"x.bin\" 99\r\n"
        "ddb.deletable = \"true\"\r\nddb.longContentID = \"abc\"\r\n";
    vmdk_descriptor d;
    vdisk_error err;
    assert_int_equal(parse(text, &d, &err), 0);
    assert_int_equal(d.cid, 0xabcd);
    assert_int_equal(d.parent_cid, 0x12345678);
    assert_string_equal(d.create_type, "vmfsSparse");
    assert_string_equal(d.parent_hint, "base dir/base.vmdk");
    assert_int_equal(d.nextents, 4);
    assert_int_equal(d.extents[0].access, VMDK_ACCESS_RDONLY);
    assert_string_equal(d.extents[1].type, "ZERO");
    assert_null(d.extents[1].filename);
    assert_string_equal(d.extents[2].type, "VMFS");
    assert_int_equal(d.extents[3].offset, 99);
    vmdk_descriptor_clear(&d);
    /* Embedded descriptors: extent lines are not read at all. */
    assert_int_equal(vmdk_descriptor_parse("CID=1\nRW 1 BOGUS\n", 17, "e", false, &d, &err), 0);
    assert_int_equal(d.nextents, 0);
    vmdk_descriptor_clear(&d);
    /* Text ends at the first NUL (a padded embedded descriptor). */
    static const char padded[] = "CID=2\n\0RW 1 BOGUS\n";
    assert_int_equal(vmdk_descriptor_parse(padded, sizeof(padded), "e", true, &d, &err), 0);
    assert_int_equal(d.cid, 2);
    vmdk_descriptor_clear(&d);
}

static void
expect_bad(const char *line, const char *word)
{
    char text[512];
    snprintf(text, sizeof(text), "CID=1\ncreateType=\"vmfs\"\n%s\n", line);
    vmdk_descriptor d;
    vdisk_error err;
    assert_int_equal(parse(text, &d, &err), -EINVAL);
    if (!strstr(err.message, word))
        fail_msg("'%s': message '%s' lacks '%s'", line, err.message, word);
    assert_non_null(strstr(err.message, "line 3"));
}

static void
test_parse_errors(void **state)
{
    (void)state;
    expect_bad("RW 10 FLAT \"a\"", "FLAT extent without an offset");
    expect_bad("RW 10 VMFS \"a\" 5", "only FLAT extents take an offset");
    expect_bad("RW 10 SPARSE", "without a file name");
    expect_bad("RW 10 SPARSE \"\"", "without a file name");
    expect_bad("RW x SPARSE \"a\"", "bad extent size");
    expect_bad("RW 99999999999999999999 SPARSE \"a\"", "bad extent size");
    expect_bad("RW 10 SPARSE \"a\" junk", "unexpected text");
    expect_bad("RW 10 SPARSE \"unterminated", "without a file name");
    expect_bad("CID=xyz", "bad CID");
    expect_bad("parentCID=123456789", "bad CID");
}

static void
test_parse_limits(void **state)
{
    (void)state;
    /* 8192 extents at most. */
    size_t n = 8193, len = 0;
    char *text = malloc(n * 32 + 64);
    assert_non_null(text);
    len += (size_t)sprintf(text, "CID=1\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "RW 1 FLAT \"f\" 0\n");
    vmdk_descriptor d;
    vdisk_error err;
    assert_int_equal(vmdk_descriptor_parse(text, len, "t", true, &d, &err), -EINVAL);
    assert_non_null(strstr(err.message, "8192"));
    free(text);
    /* More than 1 MiB of text. */
    size_t big = (1u << 20) + 10;
    text = malloc(big);
    assert_non_null(text);
    memset(text, '#', big);
    assert_int_equal(vmdk_descriptor_parse(text, big, "t", true, &d, &err), -EFBIG);
    free(text);
    /* A name longer than 4096 bytes. */
    text = malloc(5000);
    assert_non_null(text);
    len = (size_t)sprintf(text, "RW 1 SPARSE \"");
    memset(text + len, 'a', 4200);
    strcpy(text + len + 4200, "\"\n");
    assert_int_equal(parse(text, &d, &err), -EINVAL);
    free(text);
}

static void
test_writer_matches_qemu(void **state)
{
    (void)state;
    vmdk_desc_extent e = { .access = VMDK_ACCESS_RW, .sectors = 204800, .type = "FLAT",
                           .filename = (char *)"c-flat.vmdk" };
    vmdk_desc_params p = {
        .cid = 0xf3b28caf, .parent_cid = 0xffffffff, .create_type = "monolithicFlat",
        .extents = &e, .nextents = 1, .hwversion = "4", .adapter = "ide",
        .toolsversion = "2147483647", .cylinders = 203, .heads = 16,
    };
    char *text = vmdk_descriptor_format(&p);
    assert_non_null(text);
    assert_string_equal(text, qemu_flat);
    free(text);
    /* With a parent: the hint right after createType, no blank line. */
    vmdk_desc_extent s = { .access = VMDK_ACCESS_RW, .sectors = 20480, .type = "SPARSE",
                           .filename = (char *)"c.vmdk" };
    p.extents = &s;
    p.create_type = "monolithicSparse";
    p.parent_hint = "p.vmdk";
    text = vmdk_descriptor_format(&p);
    assert_non_null(strstr(text, "createType=\"monolithicSparse\"\nparentFileNameHint=\"p.vmdk\"\n"
                                 "# Extent description\nRW 20480 SPARSE \"c.vmdk\"\n\n"));
    free(text);
}

static void
test_set_cid(void **state)
{
    (void)state;
    char *out;
    size_t len;
    vdisk_error err;
    assert_int_equal(vmdk_descriptor_set_cid(qemu_flat, sizeof(qemu_flat), 0x1234, &out, &len, &err), 0);
    assert_int_equal(len, strlen(qemu_flat));
    assert_non_null(strstr(out, "\nCID=00001234\nparentCID=ffffffff\n"));
    vmdk_descriptor d;
    assert_int_equal(parse(out, &d, &err), 0);
    assert_int_equal(d.cid, 0x1234);
    vmdk_descriptor_clear(&d);
    free(out);
    /* A short CID grows to 8 digits; the parentCID line is left alone. */
    assert_int_equal(vmdk_descriptor_set_cid("parentCID=1\nCID=5\n", 18, 0xabcdef01, &out, &len, &err), 0);
    assert_string_equal(out, "parentCID=1\nCID=abcdef01\n");
    free(out);
    assert_int_equal(vmdk_descriptor_set_cid("version=1\n", 10, 1, &out, &len, &err), -EINVAL);
}

static void
test_value_ok(void **state)
{
    (void)state;
    assert_true(vmdk_descriptor_value_ok("10338", 31));
    assert_false(vmdk_descriptor_value_ok("a\"b", 31));
    assert_false(vmdk_descriptor_value_ok("a\nb", 31));
    assert_false(vmdk_descriptor_value_ok("0123456789", 5));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_qemu_descriptor),
        cmocka_unit_test(test_parse_variants),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_writer_matches_qemu),
        cmocka_unit_test(test_set_cid),
        cmocka_unit_test(test_value_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
