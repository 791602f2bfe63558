/* Unit tests for core/vhdx/log.c and log-write.c: entries as the writer
 * builds them (fields at the spec's offsets), replay on a writable open
 * (the active sequence, its tail, truncated files, updates that may not be
 * applied), refusal on a read-only open, and commits. */
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
#include "vhdx/vhdx.h"

#define MIB (1u << 20)
#define LOG MIB
#define BAT (2 * MIB)
#define END (8 * MIB)    /* block_size=1M, 8 MiB: the file's length */

static void
test_entry_layout(void **state)
{
    (void)state;
    uint8_t page[4096], *buf = malloc(vhdx_log_entry_size(1));
    for (int i = 0; i < 4096; i++)
        page[i] = (uint8_t)(i * 7 + 1);
    vhdx_guid g;
    assert_int_equal(vhdx_guid_generate(&g), 0);
    vhdx_log_update u = { 0x300000, page };
    assert_int_equal(vhdx_log_entry_size(1), 8192);
    assert_int_equal(vhdx_log_entry_size(126), 127 * 4096);    /* 126 descriptors fit the first sector */
    assert_int_equal(vhdx_log_entry_size(127), 129 * 4096);
    vhdx_log_entry_build(&g, 0x100000002ull, 0, 1000, 2000, &u, 1, buf);
    assert_memory_equal(buf, "loge", 4);
    assert_int_equal(vhdx_le32(buf + 8), 8192);
    assert_true(vhdx_le64(buf + 16) == 0x100000002ull);
    assert_int_equal(vhdx_le32(buf + 24), 1);
    assert_memory_equal(buf + 32, g.b, 16);
    assert_true(vhdx_le64(buf + 48) == 1000 && vhdx_le64(buf + 56) == 2000);
    assert_int_equal(vhdx_le32(buf + 4), vhdx_checksum(buf, 8192, 4));
    const uint8_t *d = buf + 64, *sec = buf + 4096;
    assert_memory_equal(d, "desc", 4);
    assert_memory_equal(d + 4, page + 4092, 4);   /* trailing bytes */
    assert_memory_equal(d + 8, page, 8);          /* leading bytes */
    assert_true(vhdx_le64(d + 16) == 0x300000);
    assert_memory_equal(sec, "data", 4);
    assert_int_equal(vhdx_le32(sec + 4), 1);      /* sequence, high half */
    assert_memory_equal(sec + 8, page + 8, 4084);
    assert_int_equal(vhdx_le32(sec + 4092), 2);   /* low half */
    free(buf);
}

/* The current headers get LogGuid g (sequence numbers kept). */
static void
set_log_guid(const char *p, const vhdx_guid *g)
{
    for (int i = 1; i <= 2; i++) {
        uint8_t h[4096];
        vhdx_header hd;
        vhd_peek(p, (64 << 10) * i, h, sizeof(h));
        assert_true(vhdx_header_parse(h, &hd));
        hd.log_guid = *g;
        vhdx_header_build(&hd, h);
        vhd_poke(p, (64 << 10) * i, h, sizeof(h));
    }
}

/* An entry making block 2 present at END, its first 4 KiB 0x5c. */
static size_t
block2_entry(const char *p, const vhdx_guid *g, uint64_t seq, uint32_t tail, uint64_t flushed,
             uint8_t **out)
{
    static uint8_t page[4096], data[4096];
    vhd_peek(p, BAT, page, sizeof(page));
    vhdx_put64(page + 16, END | VHDX_PAYLOAD_FULLY_PRESENT);
    memset(data, 0x5c, sizeof(data));
    vhdx_log_update u[2] = { { BAT, page }, { END, data } };
    size_t n = vhdx_log_entry_size(2);
    *out = malloc(n);
    vhdx_log_entry_build(g, seq, tail, flushed, END + MIB, u, 2, *out);
    return n;
}

static void
image(const char *p)
{
    vhd_create(p, VDISK_FORMAT_VHDX, "block_size=1M", 8u << 20);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, END);
}

static void
assert_block2(const char *p, uint8_t want)
{
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VHDX, 0);
    uint8_t b[4096];
    vdisk_error err;
    assert_int_equal(vdisk_pread(img, b, sizeof(b), 2 * MIB, &err), 0);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(b[i], want);
    vdisk_close(img, NULL);
}

static void
test_replay(void **state)
{
    (void)state;
    const char *p = unit_path(0, "l.vhdx");
    image(p);
    vhdx_guid g;
    assert_int_equal(vhdx_guid_generate(&g), 0);
    uint8_t *e;
    size_t n = block2_entry(p, &g, 5, 0, END, &e);
    vhd_poke(p, LOG, e, n);
    free(e);
    set_log_guid(p, &g);
    int r = vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "needs to be replayed");
    assert_int_equal(r, -EPERM);
    vhd_open_fails(p, VDISK_FORMAT_VHDX, VDISK_OPEN_FORCE_SHARE, "needs to be replayed");
    vdisk_close(vhd_open(p, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR), NULL);
    assert_block2(p, 0x5c);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, END + MIB);   /* extended to LastFileOffset */
    /* The log is empty now: the GUID is zero again. */
    uint8_t h[4096];
    vhd_peek(p, 128 << 10, h, sizeof(h));
    for (int i = 48; i < 64; i++)
        assert_int_equal(h[i], 0);
}

static void
test_highest_sequence_wins(void **state)
{
    (void)state;
    const char *p = unit_path(0, "l.vhdx");
    image(p);
    vhdx_guid g;
    assert_int_equal(vhdx_guid_generate(&g), 0);
    uint8_t *a, *b;
    size_t na = block2_entry(p, &g, 9, 0, END, &a);
    size_t nb = block2_entry(p, &g, 10, (uint32_t)na, END, &b);
    memset(b + 4096 + 4096 + 8, 0x5d, 4084);                  /* entry 10 writes 0x5d... */
    memset(b + 64 + 32 + 8, 0x5d, 8);
    memset(b + 64 + 32 + 4, 0x5d, 4);
    vhdx_checksum_store(b, nb, 4);
    vhd_poke(p, LOG, a, na);
    vhd_poke(p, LOG + na, b, nb);
    set_log_guid(p, &g);
    vdisk_close(vhd_open(p, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR), NULL);
    assert_block2(p, 0x5d);
    free(a);
    free(b);
}

static void
test_damaged_entries_ignored(void **state)
{
    (void)state;
    const char *p = unit_path(0, "l.vhdx");
    image(p);
    vhdx_guid g, other;
    assert_int_equal(vhdx_guid_generate(&g), 0);
    assert_int_equal(vhdx_guid_generate(&other), 0);
    uint8_t *e;
    size_t n = block2_entry(p, &g, 5, 0, END, &e);
    e[5000] ^= 1;   /* checksum fails */
    vhd_poke(p, LOG, e, n);
    free(e);
    n = block2_entry(p, &other, 6, 0, END, &e);   /* another log's entry */
    vhd_poke(p, LOG + 65536, e, n);
    free(e);
    set_log_guid(p, &g);
    /* Nothing valid to replay: opens read-only; a writable open clears the GUID. */
    vdisk_close(vhd_open(p, VDISK_FORMAT_VHDX, 0), NULL);
    vdisk_close(vhd_open(p, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR), NULL);
    assert_block2(p, 0);
    uint8_t h[4096];
    vhd_peek(p, 128 << 10, h, sizeof(h));
    assert_int_equal(h[48] | h[55] | h[63], 0);
}

static void
test_refused_replays(void **state)
{
    (void)state;
    const char *p = unit_path(0, "l.vhdx");
    vhdx_guid g;
    assert_int_equal(vhdx_guid_generate(&g), 0);
    uint8_t *e;
    /* The log expects a longer file than this one: truncated. */
    image(p);
    size_t n = block2_entry(p, &g, 5, 0, END + MIB, &e);
    vhd_poke(p, LOG, e, n);
    free(e);
    set_log_guid(p, &g);
    vhd_open_fails(p, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR, "truncated");
    /* An update of the header section is not the log's to make. */
    image(p);
    static uint8_t page[4096];
    vhdx_log_update u = { 64 << 10, page };
    e = malloc(vhdx_log_entry_size(1));
    vhdx_log_entry_build(&g, 5, 0, END, END, &u, 1, e);
    vhd_poke(p, LOG, e, vhdx_log_entry_size(1));
    free(e);
    set_log_guid(p, &g);
    vhd_open_fails(p, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR, "outside what a log may change");
}

static void
test_commit_through_log(void **state)
{
    (void)state;
    const char *p = unit_path(0, "l.vhdx");
    image(p);
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR);
    uint8_t b[4096];
    memset(b, 0x6e, sizeof(b));
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 2 * MIB, &err), 0);
    uint8_t e[8];
    vhd_peek(p, BAT + 16, e, 8);
    assert_true(vhdx_le64(e) == VHDX_PAYLOAD_ZERO);   /* not yet committed */
    assert_int_equal(vdisk_flush(img, &err), 0);
    vhd_peek(p, BAT + 16, e, 8);
    assert_true(vhdx_le64(e) == (END | VHDX_PAYLOAD_FULLY_PRESENT));
    uint8_t entry[64];
    vhd_peek(p, LOG, entry, sizeof(entry));
    assert_memory_equal(entry, "loge", 4);   /* the entry that carried it */
    vdisk_close(img, NULL);
    assert_block2(p, 0x6e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_layout),
        cmocka_unit_test_setup_teardown(test_replay, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_highest_sequence_wins, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_entries_ignored, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_refused_replays, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_commit_through_log, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
