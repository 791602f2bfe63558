/* Unit tests for core/vhdx/header.c: the header at the spec's offsets, the
 * choice of the current header, and the update procedure. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "vhd-fixture.h"
#include "vhdx/vhdx.h"

static void
test_build_parse(void **state)
{
    (void)state;
    vhdx_header h;
    memset(&h, 0, sizeof(h));
    h.seq = 0x1122334455667788ull;
    h.version = 1;
    h.log_length = 1u << 20;
    h.log_offset = 1u << 20;
    h.data_write.b[0] = 0xdd;
    h.log_guid.b[15] = 0x11;
    uint8_t b[4096];
    vhdx_header_build(&h, b);
    assert_memory_equal(b, "head", 4);
    assert_true(vhdx_le64(b + 8) == 0x1122334455667788ull);
    assert_int_equal(b[32], 0xdd);
    assert_int_equal(b[63], 0x11);
    assert_int_equal(vhdx_le16(b + 66), 1);
    assert_int_equal(vhdx_le32(b + 68), 1u << 20);
    assert_int_equal(vhdx_le32(b + 4), vhdx_checksum(b, 4096, 4));
    vhdx_header back;
    assert_true(vhdx_header_parse(b, &back));
    assert_true(back.seq == h.seq);
    b[4000] ^= 1;   /* the checksum covers the whole 4 KiB */
    assert_false(vhdx_header_parse(b, &back));
    b[4000] ^= 1;
    vhdx_put16(b + 66, 2);
    vhdx_checksum_store(b, 4096, 4);
    assert_false(vhdx_header_parse(b, &back));   /* version 2 */
}

/* Open a new image's state far enough for header work. */
static void
load(vhdx_state *s, vdisk_image *img)
{
    memset(s, 0, sizeof(*s));
    s->img = img;
    s->file = img->file;
    s->name = img->filename;
    vdisk_error err;
    assert_int_equal(vhdx_headers_load(s, &err), 0);
}

static void
test_current_and_update(void **state)
{
    (void)state;
    const char *p = unit_path(0, "h.vhdx");
    vhd_create(p, VDISK_FORMAT_VHDX, NULL, 8u << 20);
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR);
    vhdx_state s;
    load(&s, img);
    assert_int_equal(s.cur, 1);   /* header 2 has the higher sequence number */
    uint64_t seq = s.hdr[1].seq;
    vhdx_guid file_write = s.hdr[1].file_write, data_write = s.hdr[1].data_write, lg;
    assert_int_equal(vhdx_guid_generate(&lg), 0);
    vdisk_error err;
    assert_int_equal(vhdx_headers_update(&s, true, &lg, &err), 0);
    assert_int_equal(s.cur, 1);   /* updated twice: back to header 2 */
    assert_true(s.hdr[0].seq == seq + 1 && s.hdr[1].seq == seq + 2);
    assert_false(vhdx_guid_equal(&s.hdr[1].file_write, &file_write));
    assert_false(vhdx_guid_equal(&s.hdr[1].data_write, &data_write));
    assert_true(vhdx_guid_equal(&s.hdr[0].log_guid, &lg) && vhdx_guid_equal(&s.hdr[1].log_guid, &lg));
    /* A second update in the session keeps the FileWriteGuid. */
    file_write = s.hdr[1].file_write;
    assert_int_equal(vhdx_headers_update(&s, false, NULL, &err), 0);
    assert_true(vhdx_guid_equal(&s.hdr[1].file_write, &file_write));
    vhdx_state again;
    load(&again, img);
    assert_true(again.hdr[again.cur].seq == seq + 4);
    assert_true(vhdx_guid_equal(&again.hdr[again.cur].log_guid, &lg));
    vdisk_close(img, NULL);
}

static void
test_damaged_headers(void **state)
{
    (void)state;
    const char *p = unit_path(0, "h.vhdx");
    vhd_create(p, VDISK_FORMAT_VHDX, NULL, 8u << 20);
    vhd_poke(p, (128 << 10) + 200, "x", 1);   /* header 2 (current) damaged */
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VHDX, 0);
    vhdx_state s;
    load(&s, img);
    assert_int_equal(s.cur, 0);
    vdisk_close(img, NULL);
    vhd_poke(p, (64 << 10) + 200, "x", 1);
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "No valid VHDX header");
    vhd_poke(p, 0, "VHDXFILE", 8);
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "vhdxfile");
}

static void
test_equal_sequence_numbers(void **state)
{
    (void)state;
    const char *p = unit_path(0, "h.vhdx");
    vhd_create(p, VDISK_FORMAT_VHDX, NULL, 8u << 20);
    uint8_t h[4096];
    vhd_peek(p, 128 << 10, h, sizeof(h));
    /* Identical headers (as disk2vhd writes them) are fine... */
    vhd_poke(p, 64 << 10, h, sizeof(h));
    vdisk_close(vhd_open(p, VDISK_FORMAT_VHDX, 0), NULL);
    /* ...different ones with the same number are not. */
    h[100] ^= 1;
    vhdx_checksum_store(h, sizeof(h), 4);
    vhd_poke(p, 64 << 10, h, sizeof(h));
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "same sequence number");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_parse),
        cmocka_unit_test_setup_teardown(test_current_and_update, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_headers, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_equal_sequence_numbers, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
