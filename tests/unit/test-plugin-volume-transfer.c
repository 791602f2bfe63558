/* Unit tests for plugin/volume-transfer.c: upload and download with
 * offset, length and sparse handling. */
#include <errno.h>
#include <fcntl.h>
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

#include <vdisk/volume.h>

#include "fixture.h"
#include "pool-fixture.h"

static void
test_upload_offset_length_sparse(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "v", VDISK_FORMAT_RAW, 4 * MiB, 4 * MiB);       /* thick: all blocks allocated */
    uint8_t data[8192];
    unit_pattern(data, sizeof(data), 11);
    unit_write_file(unit_path(0, "in"), 3 * MiB, data, sizeof(data), 0);   /* data, then 3 MiB hole */
    int fd = open(unit_path(0, "in"), O_RDONLY);
    assert_int_equal(vdisk_vol_upload(p, "v", fd, MiB, 2 * MiB, true, NULL, NULL, NULL), 0);
    close(fd);
    struct stat st;
    assert_int_equal(stat(unit_path(0, "p/v"), &st), 0);
    assert_int_equal(st.st_size, 4 * MiB);
    /* The uploaded zeros became a hole: about 1 MiB + data less than before. */
    assert_true((uint64_t)st.st_blocks * 512 < 4 * MiB - MiB);
    uint8_t buf[8192];
    FILE *f = fopen(unit_path(0, "p/v"), "rb");
    fseek(f, MiB, SEEK_SET);
    assert_int_equal(fread(buf, 1, sizeof(buf), f), sizeof(buf));
    fclose(f);
    assert_memory_equal(buf, data, sizeof(buf));
    pf_close(reg, p);
}

static void
test_upload_grows_and_download_round_trip(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "v", VDISK_FORMAT_RAW, MiB, 0);
    uint8_t data[4096];
    unit_pattern(data, sizeof(data), 5);
    unit_write_file(unit_path(0, "in"), 2 * MiB, data, sizeof(data), MiB + 4096);
    int fd = open(unit_path(0, "in"), O_RDONLY);
    assert_int_equal(vdisk_vol_upload(p, "v", fd, 0, 0, true, NULL, NULL, NULL), 0);
    close(fd);
    assert_int_equal(pf_file_size(unit_path(0, "p/v")), 2 * MiB);
    int out = open(unit_path(0, "out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(vdisk_vol_download(p, "v", out, MiB, 8192, true, NULL, NULL, NULL), 0);
    close(out);
    assert_int_equal(pf_file_size(unit_path(0, "out")), 8192);
    uint8_t buf[8192], expect[8192] = { 0 };
    memcpy(expect + 4096, data, sizeof(data));
    FILE *f = fopen(unit_path(0, "out"), "rb");
    assert_int_equal(fread(buf, 1, sizeof(buf), f), sizeof(buf));
    fclose(f);
    assert_memory_equal(buf, expect, sizeof(buf));
    pf_close(reg, p);
}

static void
test_download_missing_volume(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    int out = open(unit_path(0, "out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(vdisk_vol_download(p, "none", out, 0, 0, false, NULL, NULL, NULL), -ENOENT);
    close(out);
    pf_close(reg, p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upload_offset_length_sparse, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_upload_grows_and_download_round_trip, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_download_missing_volume, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
