/* Unit tests for core/vpc/bat.c: the BAT of a new disk, allocation (the
 * footer moves behind the new block, the BAT entry follows), and refusals
 * of tables and blocks that do not fit the file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "vhd-fixture.h"
#include "vpc/vpc.h"

/* 10 MiB rounds to 20468 * 512 bytes: 5 blocks of 2 MiB. */
#define SIZE (10u << 20)

static void
test_allocation_moves_footer(void **state)
{
    (void)state;
    const char *p = unit_path(0, "d.vhd");
    vhd_create(p, VDISK_FORMAT_VPC, NULL, SIZE);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 1536 + 512 + 512);   /* footer, header, BAT sector, footer */
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VPC, VDISK_OPEN_RDWR);
    uint8_t buf[512];
    memset(buf, 0x5a, sizeof(buf));
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, buf, sizeof(buf), 3u << 20, &err), 0);   /* block 1 */
    vdisk_close(img, &err);
    /* Block 1 at the old footer's place (2048), bitmap then data; the
     * footer behind it. */
    uint8_t e[4], bitmap[512], head[512], tail[512];
    vhd_peek(p, 1536 + 4, e, 4);
    assert_int_equal(vpc_be32(e), 2048 / 512);
    vhd_peek(p, 2048, bitmap, 512);
    for (int i = 0; i < 512; i++)
        assert_int_equal(bitmap[i], 0xff);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 2048 + 512 + (2u << 20) + 512);
    vhd_peek(p, 0, head, 512);
    vhd_peek(p, -512, tail, 512);
    assert_memory_equal(head, tail, 512);
    vhd_peek(p, 2048 + 512 + (1u << 20), buf, 512);
    assert_int_equal(buf[0], 0x5a);
}

static void
put_be32_at(const char *p, long off, uint32_t v)
{
    uint8_t b[4];
    vpc_put32(b, v);
    vhd_poke(p, off, b, 4);
}

static void
test_bad_entries(void **state)
{
    (void)state;
    const char *p = unit_path(0, "d.vhd");
    vhd_create(p, VDISK_FORMAT_VPC, NULL, SIZE);
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VPC, VDISK_OPEN_RDWR);
    uint8_t buf[512] = { 1 };
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, buf, sizeof(buf), 0, &err), 0);
    assert_int_equal(vdisk_pwrite(img, buf, sizeof(buf), 2u << 20, &err), 0);
    vdisk_close(img, &err);
    uint8_t save[8];
    vhd_peek(p, 1536, save, 8);
    put_be32_at(p, 1536 + 4, vpc_be32(save));   /* block 1 = block 0 */
    vhd_open_fails(p, VDISK_FORMAT_VPC, 0, "overlap");
    put_be32_at(p, 1536 + 4, 0x40000000u);      /* far past the end */
    vhd_open_fails(p, VDISK_FORMAT_VPC, 0, "outside the file");
    put_be32_at(p, 1536 + 4, 2);                /* on the dynamic header */
    vhd_open_fails(p, VDISK_FORMAT_VPC, 0, "overlaps the VHD headers");
    vhd_poke(p, 1536, save, 8);
    vdisk_close(vhd_open(p, VDISK_FORMAT_VPC, 0), NULL);
}

static void
test_bad_tables(void **state)
{
    (void)state;
    const char *p = unit_path(0, "d.vhd");
    vhd_create(p, VDISK_FORMAT_VPC, NULL, SIZE);
    uint8_t hdr[1024];
    vhd_peek(p, 512, hdr, sizeof(hdr));
    static const struct {
        int off;
        uint32_t value;
        const char *want;
    } cases[] = {
        { 28, 4, "too few" },                 /* max table entries */
        { 28, 0x7fffffff, "outside the file" },
        { 32, 1000, "block size" },
        { 32, 256, "block size" },
        { 20, 0, "overlaps the VHD headers" },  /* BAT at 0 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t h[1024];
        memcpy(h, hdr, sizeof(h));
        vpc_put32(h + cases[i].off, cases[i].value);
        vpc_put32(h + 36, vpc_checksum(h, sizeof(h), 36));
        vhd_poke(p, 512, h, sizeof(h));
        vhd_open_fails(p, VDISK_FORMAT_VPC, 0, cases[i].want);
    }
}

static int
setup(void **state)
{
    return unit_setup(state);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_allocation_moves_footer, setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_entries, setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_tables, setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
