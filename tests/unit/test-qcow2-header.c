/* Unit tests for core/qcow2/header.c: header building (checked at the
 * spec's byte offsets), parsing back, feature checks and refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>
#include "qcow2/qcow2.h"

static void
test_build_fields(void **state)
{
    uint8_t buf[65536];
    memset(buf, 0, sizeof(buf));
    struct qcow2_header_params p = {
        .version = 3, .cluster_bits = 16, .size = 1 << 30, .l1_offset = 0x30000, .l1_size = 2,
        .reftable_offset = 0x10000, .reftable_clusters = 1, .refcount_order = 4,
        .incompat = QCOW2_INCOMPAT_EXTL2, .compat = QCOW2_COMPAT_LAZY_REFCOUNTS,
        .backing_file = "base.img", .backing_format = "raw",
    };
    vdisk_error err;
    assert_int_equal(qcow2_header_build(&p, buf, &err), 0);
    assert_memory_equal(buf, "QFI\xfb\0\0\0\3", 8);
    assert_int_equal(qcow2_be32(buf + 20), 16);
    assert_true(qcow2_be64(buf + 24) == 1 << 30);
    assert_int_equal(qcow2_be32(buf + 36), 2);
    assert_true(qcow2_be64(buf + 40) == 0x30000);
    assert_true(qcow2_be64(buf + 72) == QCOW2_INCOMPAT_EXTL2);
    assert_true(qcow2_be64(buf + 80) == 1);
    assert_int_equal(qcow2_be32(buf + 96), 4);
    assert_int_equal(qcow2_be32(buf + 100), 112);
    /* First extension: backing format, padded to 8 bytes. */
    assert_int_equal(qcow2_be32(buf + 112), QCOW2_EXT_BACKING_FORMAT);
    assert_int_equal(qcow2_be32(buf + 116), 3);
    assert_memory_equal(buf + 120, "raw", 3);
    assert_int_equal(qcow2_be32(buf + 128), QCOW2_EXT_FEATURE_TABLE);
    uint64_t name_off = qcow2_be64(buf + 8);
    assert_int_equal(qcow2_be32(buf + 16), 8);
    assert_memory_equal(buf + name_off, "base.img", 8);
}

static void
test_small_cluster_has_no_feature_table(void **state)
{
    uint8_t buf[4096];
    memset(buf, 0, sizeof(buf));
    struct qcow2_header_params p = { .version = 3, .cluster_bits = 12, .refcount_order = 4 };
    vdisk_error err;
    assert_int_equal(qcow2_header_build(&p, buf, &err), 0);
    assert_int_equal(qcow2_be32(buf + 112), QCOW2_EXT_END);
}

static void
test_name_too_long(void **state)
{
    uint8_t buf[512];
    memset(buf, 0, sizeof(buf));
    char name[600];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    struct qcow2_header_params p = { .version = 3, .cluster_bits = 9, .refcount_order = 4,
                                     .backing_file = name };
    vdisk_error err;
    assert_int_equal(qcow2_header_build(&p, buf, &err), -ENOSPC);
    assert_non_null(strstr(err.message, "too long"));
}

static void
test_open_reads_back(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "h.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "refcount_bits=8,lazy_refcounts=on,compression_type=zstd",
                                  12345 << 16, 0);
    qcow2_state *s = img->priv;
    assert_int_equal(s->version, 3);
    assert_int_equal(s->refcount_order, 3);
    assert_int_equal(s->compression_type, 1);
    assert_true(s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS);
    assert_true(s->incompat & QCOW2_INCOMPAT_COMPRESSION);
    assert_int_equal(s->l1_size, 2);
    assert_int_equal(s->nfeatures, 8);
    assert_string_equal(s->features[4].name, "extended L2 entries");
    vdisk_error err;
    vdisk_close(img, &err);
    unlink(path);
}

static void
test_feature_checks(void **state)
{
    qcow2_state s;
    memset(&s, 0, sizeof(s));
    s.name = "disk.qcow2";
    vdisk_error err;
    struct qcow2_feature f = { 0, 7, "time travel" };
    s.features = &f;
    s.nfeatures = 1;
    s.incompat = UINT64_C(1) << 7;
    assert_int_equal(qcow2_header_check_features(&s, false, &err), -ENOTSUP);
    /* QEMU's words (iotest 036): the names the table gives, then the mask
     * of the bits it does not name */
    assert_string_equal(err.message, "disk.qcow2: Unsupported qcow2 feature(s): time travel");
    s.incompat = (UINT64_C(1) << 7) | (UINT64_C(1) << 60) | (UINT64_C(1) << 8);
    assert_int_equal(qcow2_header_check_features(&s, false, &err), -ENOTSUP);
    assert_string_equal(err.message, "disk.qcow2: Unsupported qcow2 feature(s): time travel, "
                        "Unknown incompatible feature: 1000000000000100");
    s.incompat = QCOW2_INCOMPAT_DIRTY;
    assert_int_equal(qcow2_header_check_features(&s, false, &err), 0);
    /* Dirty: a writable open repairs it (driver.c), so it is accepted. */
    assert_int_equal(qcow2_header_check_features(&s, true, &err), 0);
    s.incompat = QCOW2_INCOMPAT_CORRUPT;
    assert_int_equal(qcow2_header_check_features(&s, false, &err), 0);
    assert_int_equal(qcow2_header_check_features(&s, true, &err), -EROFS);
    s.incompat = QCOW2_INCOMPAT_DATA_FILE;
    assert_int_equal(qcow2_header_check_features(&s, false, &err), -ENOTSUP);
}

static void
patch32(const char *path, long off, uint32_t v)
{
    FILE *f = fopen(path, "r+b");
    uint8_t b[4];
    qcow2_put_be32(b, v);
    fseek(f, off, SEEK_SET);
    fwrite(b, 1, 4, f);
    fclose(f);
}

static void
test_refusals(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "bad.qcow2");
    vdisk_error err;
    vdisk_image *img = unit_make_qcow2(path, NULL, 1 << 20, 0);
    vdisk_close(img, &err);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = 0 };
    struct { long off; uint32_t v; const char *want; } cases[] = {
        { 4, 1, "version 1" },
        { 20, 30, "cluster_bits" },
        { 32, 1, "a passphrase is required" },
        { 32, 3, "unknown encryption method 3" },
        { 36, 1u << 30, "too large" },
        { 56, 0, "no refcount table" },
        { 96, 9, "refcount_order" },
        { 100, 8, "header_length" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        FILE *f = fopen(path, "rb");
        uint8_t save[4];
        fseek(f, cases[i].off, SEEK_SET);
        assert_int_equal(fread(save, 1, 4, f), 4);
        fclose(f);
        patch32(path, cases[i].off, cases[i].v);
        assert_true(vdisk_open(path, &oo, &img, &err) < 0);
        if (!strstr(err.message, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].want);
        patch32(path, cases[i].off, qcow2_be32(save));
    }
    assert_int_equal(vdisk_open(path, &oo, &img, &err), 0);
    vdisk_close(img, &err);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_fields),
        cmocka_unit_test(test_small_cluster_has_no_feature_table),
        cmocka_unit_test(test_name_too_long),
        cmocka_unit_test(test_open_reads_back),
        cmocka_unit_test(test_feature_checks),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
