/* Unit tests for core/file.c: the host-file layer. */
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

#include "file.h"

static vdisk_file *
create(const char *name)
{
    vdisk_file *f = NULL;
    vdisk_error err;
    assert_int_equal(vdisk_file_create(unit_path(0, name), false, &f, &err), 0);
    return f;
}

static struct stat
fst(vdisk_file *f)
{
    struct stat st;
    assert_int_equal(fstat(vdisk_file_host_fd(f), &st), 0);
    return st;
}

static void
test_open_errors_name_the_file(void **state)
{
    vdisk_file *f;
    vdisk_error err;
    assert_int_equal(vdisk_file_open(unit_path(0, "missing.raw"), 0, &f, &err), -ENOENT);
    assert_non_null(strstr(err.message, "missing.raw"));
    assert_int_equal(vdisk_file_open(unit_tmpdir, 0, &f, &err), -EISDIR);
}

static void
test_full_write_read_and_eof_zero_fill(void **state)
{
    vdisk_file *f = create("a.raw");
    uint8_t w[3000], r[5000];
    unit_pattern(w, sizeof(w), 1);
    vdisk_error err;
    assert_int_equal(vdisk_file_pwrite(f, w, sizeof(w), 1000, &err), 0);
    uint64_t len;
    assert_int_equal(vdisk_file_get_length(f, &len, &err), 0);
    assert_int_equal(len, 4000);
    memset(r, 0xee, sizeof(r));
    /* 1000 bytes before, the data, 1000 past EOF. */
    assert_int_equal(vdisk_file_pread(f, r, sizeof(r), 0, &err), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(r[i], 0);
    assert_memory_equal(r + 1000, w, sizeof(w));
    for (int i = 4000; i < 5000; i++)
        assert_int_equal(r[i], 0);
    /* Entirely past EOF. */
    memset(r, 0xee, sizeof(r));
    assert_int_equal(vdisk_file_pread(f, r, 100, 1 << 30, &err), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(r[i], 0);
    vdisk_file_close(f);
}

static void
test_read_only_refuses_writes(void **state)
{
    vdisk_file_close(create("ro.raw"));
    vdisk_file *f;
    vdisk_error err;
    assert_int_equal(vdisk_file_open(unit_path(0, "ro.raw"), 0, &f, &err), 0);
    uint8_t b[16] = { 1 };
    assert_int_equal(vdisk_file_pwrite(f, b, sizeof(b), 0, &err), -EROFS);
    assert_non_null(strstr(err.message, "ro.raw"));
    assert_int_equal(vdisk_file_zero(f, 0, 4096, true, &err), -EROFS);
    assert_int_equal(vdisk_file_flush(f, &err), 0);
    vdisk_file_close(f);
}

static void
test_truncate_allocate_and_allocated(void **state)
{
    vdisk_file *f = create("t.raw");
    vdisk_error err;
    assert_int_equal(vdisk_file_truncate(f, 8 * MiB, &err), 0);
    uint64_t len, alloc;
    assert_int_equal(vdisk_file_get_length(f, &len, &err), 0);
    assert_int_equal(len, 8 * MiB);
    assert_int_equal(vdisk_file_allocated(f, &alloc, &err), 0);
    assert_true(alloc < 64 * KiB);
    int r = vdisk_file_allocate(f, 0, 8 * MiB, &err);
    if (r == -ENOTSUP) {
        vdisk_file_close(f);
        skip();
    }
    assert_int_equal(r, 0);
    assert_int_equal(vdisk_file_allocated(f, &alloc, &err), 0);
    assert_true(alloc >= 8 * MiB);
    assert_int_equal((uint64_t)fst(f).st_blocks * 512, alloc);
    /* Allocation past the end extends the file. */
    assert_int_equal(vdisk_file_allocate(f, 8 * MiB, MiB, &err), 0);
    assert_int_equal(vdisk_file_get_length(f, &len, &err), 0);
    assert_int_equal(len, 9 * MiB);
    vdisk_file_close(f);
}

static void
assert_zeros(vdisk_file *f, uint64_t off, size_t len)
{
    uint8_t *b = malloc(len);
    vdisk_error err;
    assert_int_equal(vdisk_file_pread(f, b, len, off, &err), 0);
    for (size_t i = 0; i < len; i++)
        if (b[i])
            fail_msg("byte %zu at 0x%llx is 0x%02x, expected 0", i, (unsigned long long)off, b[i]);
    free(b);
}

static void
fill(vdisk_file *f, uint64_t off, size_t len, uint32_t seed)
{
    uint8_t *b = malloc(len);
    unit_pattern(b, len, seed);
    vdisk_error err;
    assert_int_equal(vdisk_file_pwrite(f, b, len, off, &err), 0);
    free(b);
}

static void
test_zero_and_punch(void **state)
{
    vdisk_file *f = create("z.raw");
    vdisk_error err;
    fill(f, 0, 4 * MiB, 2);
    uint64_t before;
    assert_int_equal(vdisk_file_allocated(f, &before, &err), 0);
    /* Zero without unmapping: reads zeros, blocks stay. */
    assert_int_equal(vdisk_file_zero(f, MiB, MiB, false, &err), 0);
    assert_zeros(f, MiB, MiB);
    uint64_t after;
    assert_int_equal(vdisk_file_allocated(f, &after, &err), 0);
    assert_true(after >= before - 64 * KiB);
    /* Zero with unmapping: a hole. */
    assert_int_equal(vdisk_file_zero(f, 2 * MiB, MiB, true, &err), 0);
    assert_zeros(f, 2 * MiB, MiB);
    bool data;
    uint64_t end;
    assert_int_equal(vdisk_file_extent(f, 2 * MiB, 4 * MiB, &data, &end, &err), 0);
    assert_false(data);
    assert_int_equal(end, 3 * MiB);
    /* Unaligned punch zeroes exactly the range. */
    uint8_t edge[2];
    assert_int_equal(vdisk_file_punch_hole(f, 100, 5000, &err), 0);
    assert_zeros(f, 100, 5000);
    assert_int_equal(vdisk_file_pread(f, edge, 1, 99, &err), 0);
    assert_int_equal(vdisk_file_pread(f, edge + 1, 1, 5100, &err), 0);
    assert_true(edge[0] != 0 && edge[1] != 0);
    /* Zeroing past EOF extends the file. */
    assert_int_equal(vdisk_file_zero(f, 4 * MiB, MiB, true, &err), 0);
    uint64_t len;
    assert_int_equal(vdisk_file_get_length(f, &len, &err), 0);
    assert_int_equal(len, 5 * MiB);
    assert_zeros(f, 4 * MiB, MiB);
    vdisk_file_close(f);
}

typedef struct prog {
    uint64_t last;
    int calls, cancel_at;
} prog;

static int
on_progress(void *opaque, uint64_t done, uint64_t total)
{
    prog *p = opaque;
    assert_true(done > p->last && done <= total);
    p->last = done;
    return ++p->calls == p->cancel_at;
}

static void
test_write_zeroes_full(void **state)
{
    vdisk_file *f = create("full.raw");
    vdisk_error err;
    prog p = { 0 };
    assert_int_equal(vdisk_file_write_zeroes_full(f, 0, 9 * MiB + 100, on_progress, &p, &err), 0);
    assert_int_equal(p.last, 9 * MiB + 100);
    uint64_t len, alloc;
    assert_int_equal(vdisk_file_get_length(f, &len, &err), 0);
    assert_int_equal(len, 9 * MiB + 100);
    assert_int_equal(vdisk_file_allocated(f, &alloc, &err), 0);
    assert_true(alloc >= 9 * MiB);
    assert_zeros(f, 0, 9 * MiB + 100);
    /* Really written: SEEK_DATA sees data, not unwritten extents as holes. */
    bool data;
    uint64_t end;
    assert_int_equal(vdisk_file_extent(f, 0, len, &data, &end, &err), 0);
    assert_true(data);
    prog c = { .cancel_at = 1 };
    assert_int_equal(vdisk_file_write_zeroes_full(f, 0, 16 * MiB, on_progress, &c, &err), -ECANCELED);
    vdisk_file_close(f);
}

static void
test_extents_follow_seek_data(void **state)
{
    vdisk_file *f = create("e.raw");
    vdisk_error err;
    assert_int_equal(vdisk_file_truncate(f, 8 * MiB, &err), 0);
    fill(f, MiB, MiB, 3);
    fill(f, 4 * MiB, 64 * KiB, 4);
    struct { uint64_t off, end; bool data; } want[] = {
        { 0, MiB, false }, { MiB, 2 * MiB, true }, { 2 * MiB, 4 * MiB, false },
        { 4 * MiB, 4 * MiB + 64 * KiB, true }, { 4 * MiB + 64 * KiB, 8 * MiB, false },
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        bool data;
        uint64_t end;
        assert_int_equal(vdisk_file_extent(f, want[i].off, 8 * MiB, &data, &end, &err), 0);
        assert_int_equal(data, want[i].data);
        assert_int_equal(end, want[i].end);
    }
    /* The limit caps the extent; at or past the limit: empty hole. */
    bool data;
    uint64_t end;
    assert_int_equal(vdisk_file_extent(f, MiB, MiB + 4096, &data, &end, &err), 0);
    assert_true(data);
    assert_int_equal(end, MiB + 4096);
    assert_int_equal(vdisk_file_extent(f, 8 * MiB, 8 * MiB, &data, &end, &err), 0);
    assert_false(data);
    assert_int_equal(end, 8 * MiB);
    vdisk_file_close(f);
}

static void
test_buffer_is_zero(void **state)
{
    uint8_t *b = calloc(1, 8192 + 64);
    assert_true(vdisk_buffer_is_zero(b, 0));
    size_t lens[] = { 1, 15, 16, 17, 31, 32, 33, 4095, 4096, 8192 };
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t n = lens[i];
        for (size_t shift = 0; shift < 3; shift++) {   /* unaligned starts */
            uint8_t *p = b + shift;
            assert_true(vdisk_buffer_is_zero(p, n));
            size_t where[] = { 0, n / 2, 15, 16, n - 1 };
            for (size_t w = 0; w < 5; w++) {
                if (where[w] >= n)
                    continue;
                p[where[w]] = 0x80;
                assert_false(vdisk_buffer_is_zero(p, n));
                p[where[w]] = 0;
            }
            /* A non-zero byte just past the end does not count. */
            p[n] = 1;
            assert_true(vdisk_buffer_is_zero(p, n));
            p[n] = 0;
        }
    }
    free(b);
}

static void
test_alloc_aligned(void **state)
{
    for (size_t len = 0; len < 3 * 4096; len += 1111) {
        uint8_t *p = vdisk_alloc_aligned(len, true);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 4096, 0);
        assert_true(vdisk_buffer_is_zero(p, len));
        free(p);
    }
}

/* O_DIRECT file, or NULL when the file system cannot do O_DIRECT. */
static vdisk_file *
open_direct(const char *name)
{
    vdisk_file *f = NULL;
    vdisk_error err;
    int r = vdisk_file_open(unit_path(0, name), VDISK_OPEN_RDWR | VDISK_OPEN_DIRECT, &f, &err);
    if (r == -EINVAL)
        return NULL;
    assert_int_equal(r, 0);
    assert_true(f->direct);
    return f;
}

static void
test_direct_unaligned_io(void **state)
{
    /* A 5000-byte file: not a multiple of the alignment. */
    vdisk_file *b = create("d.raw");
    uint8_t ref[16384] = { 0 };
    unit_pattern(ref, 5000, 7);
    vdisk_error err;
    assert_int_equal(vdisk_file_pwrite(b, ref, 5000, 0, &err), 0);
    vdisk_file_close(b);
    vdisk_file *f = open_direct("d.raw");
    if (!f)
        skip();
    uint8_t got[16384];
    /* Unaligned offset, length and buffer, spanning EOF. */
    memset(got, 0xee, sizeof(got));
    assert_int_equal(vdisk_file_pread(f, got + 1, 6000, 3, &err), 0);
    assert_memory_equal(got + 1, ref + 3, 4997);
    for (int i = 4997; i < 6000; i++)
        assert_int_equal(got[1 + i], 0);
    /* Aligned request whose end is past EOF. */
    uint8_t *al = vdisk_alloc_aligned(8192, false);
    assert_int_equal(vdisk_file_pread(f, al, 8192, 0, &err), 0);
    assert_memory_equal(al, ref, 5000);
    assert_true(vdisk_buffer_is_zero(al + 5000, 8192 - 5000));
    free(al);
    /* Unaligned write inside the file: neighbours kept. */
    uint8_t w[300];
    unit_pattern(w, sizeof(w), 8);
    assert_int_equal(vdisk_file_pwrite(f, w, sizeof(w), 4000, &err), 0);
    memcpy(ref + 4000, w, sizeof(w));
    /* Unaligned write past EOF: the length ends where buffered I/O puts it. */
    assert_int_equal(vdisk_file_pwrite(f, w, 100, 9000, &err), 0);
    memcpy(ref + 9000, w, 100);
    uint64_t len;
    assert_int_equal(vdisk_file_get_length(f, &len, &err), 0);
    assert_int_equal(len, 9100);
    memset(got, 0xee, sizeof(got));
    assert_int_equal(vdisk_file_pread(f, got, 9100, 0, &err), 0);
    assert_memory_equal(got, ref, 9100);
    vdisk_file_close(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_errors_name_the_file, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_full_write_read_and_eof_zero_fill, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_refuses_writes, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_truncate_allocate_and_allocated, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_zero_and_punch, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_write_zeroes_full, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_extents_follow_seek_data, unit_setup, unit_teardown),
        cmocka_unit_test(test_buffer_is_zero),
        cmocka_unit_test(test_alloc_aligned),
        cmocka_unit_test_setup_teardown(test_direct_unaligned_io, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
