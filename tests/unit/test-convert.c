/* Unit tests for core/convert.c: the copy engine.
 *
 * Sources are written with plain POSIX calls and the targets read back the
 * same way, so the expectations never come from the code under test. */

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

#include <vdisk/vdisk.h>

/* A sparse file of `size` bytes; returns the reference content (caller frees). */
static uint8_t *
make_sparse(const char *path, uint64_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    close(fd);
    uint8_t *ref = calloc(1, size);
    assert_non_null(ref);
    return ref;
}

static void
put(const char *path, uint8_t *ref, uint64_t off, const void *data, size_t len)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, (off_t)off), (ssize_t)len);
    close(fd);
    if (ref)
        memcpy(ref + off, data, len);
}

static void
put_pattern(const char *path, uint8_t *ref, uint64_t off, size_t len, uint32_t seed)
{
    uint8_t *b = malloc(len);
    unit_pattern(b, len, seed);
    put(path, ref, off, b, len);
    free(b);
}

static void
put_zeros(const char *path, uint8_t *ref, uint64_t off, size_t len)
{
    uint8_t *b = calloc(1, len);
    put(path, ref, off, b, len);
    free(b);
}

static uint8_t *
slurp(const char *path, uint64_t *len)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    uint8_t *b = malloc(st.st_size ? st.st_size : 1);
    assert_int_equal(pread(fd, b, st.st_size, 0), st.st_size);
    close(fd);
    *len = (uint64_t)st.st_size;
    return b;
}

/* Is [off, off+len) of the file a hole (no data per SEEK_DATA)? */
static bool
is_hole(const char *path, uint64_t off, uint64_t len)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    off_t d = lseek(fd, (off_t)off, SEEK_DATA);
    close(fd);
    return d < 0 || (uint64_t)d >= off + len;
}

static int
do_convert(const char *src, const char *dst, vdisk_format fmt, int workers, vdisk_error *err)
{
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, fmt);
    vdisk_convert_opts o = { .target = &co, .workers = workers };
    return vdisk_convert(src, dst, &o, err);
}

/* A source with data at unaligned places, explicit zeros and holes
 * (size >= 6 MiB + 777). */
static uint8_t *
make_mixed_source(const char *path, uint64_t size)
{
    assert_true(size >= 6 * MiB + 777);
    uint8_t *ref = make_sparse(path, size);
    put_pattern(path, ref, 0, 4096, 1);
    put_pattern(path, ref, 100 * KiB + 17, 3 * MiB + 5, 2);   /* crosses chunk boundaries */
    put_zeros(path, ref, 4 * MiB, 2 * MiB);                   /* written zeros */
    put_pattern(path, ref, 4 * MiB + 64 * KiB + 1, 1, 3);     /* one byte inside them */
    put_pattern(path, ref, size - 777, 777, 4);               /* the unaligned tail */
    return ref;
}

static void
test_raw_to_raw_content_and_sparseness(void **state)
{
    const uint64_t size = 9 * MiB + 777;
    const char *src = unit_path(0, "src.raw"), *dst = unit_path(1, "dst.raw");
    uint8_t *ref = make_mixed_source(src, size);
    vdisk_error err;
    assert_int_equal(do_convert(src, dst, VDISK_FORMAT_RAW, 0, &err), 0);
    uint64_t len;
    uint8_t *got = slurp(dst, &len);
    /* Sizes are rounded up to whole 512-byte sectors, as qemu-img does. */
    assert_int_equal(len, (size + 511) / 512 * 512);
    assert_memory_equal(got, ref, size);
    for (uint64_t i = size; i < len; i++)
        assert_int_equal(got[i], 0);
    /* Written zeros and holes stay holes in the target. */
    assert_true(is_hole(dst, 4 * MiB + 128 * KiB, 2 * MiB - 128 * KiB));
    assert_true(is_hole(dst, 7 * MiB, 2 * MiB));
    assert_false(is_hole(dst, 4 * MiB + 64 * KiB, 4 * KiB));
    free(got);
    free(ref);
}

static void
test_worker_counts_give_identical_targets(void **state)
{
    const uint64_t size = 6 * MiB + 4096;
    const char *src = unit_path(0, "src.raw");
    uint8_t *ref = make_mixed_source(src, size);
    int counts[] = { 1, 2, 3, 16 };
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        const char *dst = unit_path(1, "dst.raw");
        vdisk_error err;
        assert_int_equal(do_convert(src, dst, VDISK_FORMAT_RAW, counts[i], &err), 0);
        uint64_t len;
        uint8_t *got = slurp(dst, &len);
        assert_int_equal(len, size);
        assert_memory_equal(got, ref, size);
        free(got);
        unlink(dst);
    }
    free(ref);
}

static void
test_empty_and_all_hole_sources(void **state)
{
    const char *src = unit_path(0, "empty.raw"), *dst = unit_path(1, "dst.raw");
    free(make_sparse(src, 0));
    vdisk_error err;
    assert_int_equal(do_convert(src, dst, VDISK_FORMAT_RAW, 0, &err), 0);
    uint64_t len;
    free(slurp(dst, &len));
    assert_int_equal(len, 0);

    free(make_sparse(src, 64 * MiB));
    assert_int_equal(do_convert(src, dst, VDISK_FORMAT_RAW, 0, &err), 0);
    struct stat st;
    assert_int_equal(stat(dst, &st), 0);
    assert_int_equal(st.st_size, 64 * MiB);
    assert_true(st.st_blocks * 512 < 64 * KiB);
}

typedef struct progress_log {
    uint64_t last, total, calls;
    bool monotonic;
    uint64_t cancel_after;   /* 0: never */
} progress_log;

static int
log_progress(void *opaque, uint64_t done, uint64_t total)
{
    progress_log *p = opaque;
    if (done < p->last || done > total)
        p->monotonic = false;
    p->last = done;
    p->total = total;
    p->calls++;
    return p->cancel_after && p->calls >= p->cancel_after;
}

static void
test_progress_reaches_source_size(void **state)
{
    const uint64_t size = 8 * MiB + 512;
    const char *src = unit_path(0, "src.raw"), *dst = unit_path(1, "dst.raw");
    free(make_mixed_source(src, size));
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, VDISK_FORMAT_RAW);
    progress_log log = { .monotonic = true };
    vdisk_convert_opts o = { .target = &co, .workers = 4, .progress = log_progress, .opaque = &log };
    vdisk_error err;
    assert_int_equal(vdisk_convert(src, dst, &o, &err), 0);
    assert_true(log.monotonic);
    /* As qemu-img: over the data to copy (the holes of the mixed source
     * take no part), and it ends with all of it done. */
    assert_true(log.total > 0 && log.total < size);
    assert_int_equal(log.last, log.total);
}

static void
test_cancel_removes_target(void **state)
{
    const char *src = unit_path(0, "src.raw"), *dst = unit_path(1, "dst.raw");
    uint8_t *ref = make_sparse(src, 32 * MiB);
    for (int i = 0; i < 16; i++)
        put_pattern(src, ref, (uint64_t)i * 2 * MiB, MiB, 10 + i);
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, VDISK_FORMAT_RAW);
    progress_log log = { .monotonic = true, .cancel_after = 2 };
    vdisk_convert_opts o = { .target = &co, .workers = 2, .progress = log_progress, .opaque = &log };
    vdisk_error err;
    assert_int_equal(vdisk_convert(src, dst, &o, &err), -ECANCELED);
    assert_int_equal(err.code, -ECANCELED);
    assert_int_equal(access(dst, F_OK), -1);
    /* The source is untouched. */
    uint64_t len;
    uint8_t *got = slurp(src, &len);
    assert_memory_equal(got, ref, 32 * MiB);
    free(got);
    free(ref);
}

static void
test_refuses_to_convert_onto_the_source(void **state)
{
    const char *src = unit_path(0, "src.raw");
    uint8_t *ref = make_sparse(src, MiB);
    put_pattern(src, ref, 0, MiB, 5);
    vdisk_error err;
    assert_int_equal(do_convert(src, src, VDISK_FORMAT_RAW, 0, &err), -EINVAL);
    assert_non_null(strstr(err.message, "source"));
    uint64_t len;
    uint8_t *got = slurp(src, &len);
    assert_int_equal(len, MiB);
    assert_memory_equal(got, ref, MiB);
    /* The same file under another name (hard link) too. */
    const char *alias = unit_path(1, "alias.raw");
    assert_int_equal(link(src, alias), 0);
    assert_int_equal(do_convert(src, alias, VDISK_FORMAT_RAW, 0, &err), -EINVAL);
    free(got);
    got = slurp(src, &len);
    assert_memory_equal(got, ref, MiB);
    free(got);
    free(ref);
}

static void
test_compress_to_raw_is_refused_cleanly(void **state)
{
    const char *src = unit_path(0, "src.raw"), *dst = unit_path(1, "dst.raw");
    free(make_sparse(src, MiB));
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, VDISK_FORMAT_RAW);
    vdisk_convert_opts o = { .target = &co, .compress = true };
    vdisk_error err;
    assert_int_equal(vdisk_convert(src, dst, &o, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "compression"));
    assert_int_equal(access(dst, F_OK), -1);
}

static void
test_bad_arguments(void **state)
{
    const char *src = unit_path(0, "src.raw"), *dst = unit_path(1, "dst.raw");
    free(make_sparse(src, MiB));
    vdisk_error err;
    assert_int_equal(do_convert(src, dst, VDISK_FORMAT_RAW, -1, &err), -EINVAL);
    assert_int_equal(do_convert(src, dst, VDISK_FORMAT_RAW, 17, &err), -EINVAL);
    vdisk_convert_opts o = { .target = NULL };
    assert_int_equal(vdisk_convert(src, dst, &o, &err), -EINVAL);
    assert_int_equal(access(dst, F_OK), -1);
    /* A missing source names the file and leaves no target behind. */
    assert_int_equal(do_convert(unit_path(2, "missing.raw"), dst, VDISK_FORMAT_RAW, 0, &err), -ENOENT);
    assert_non_null(strstr(err.message, "missing.raw"));
    assert_int_equal(access(dst, F_OK), -1);
}

static void
test_failed_create_leaves_existing_device_alone(void **state)
{
    /* A target the engine cannot create (directory) is reported, not removed. */
    const char *src = unit_path(0, "src.raw"), *dir = unit_path(1, "adir");
    free(make_sparse(src, MiB));
    assert_int_equal(mkdir(dir, 0755), 0);
    vdisk_error err;
    assert_true(do_convert(src, dir, VDISK_FORMAT_RAW, 0, &err) < 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

static void
test_preallocation_full_is_honoured(void **state)
{
    const char *src = unit_path(0, "src.raw"), *dst = unit_path(1, "dst.raw");
    uint8_t *ref = make_sparse(src, 4 * MiB);
    put_pattern(src, ref, MiB, 4096, 6);
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, VDISK_FORMAT_RAW);
    co.prealloc = VDISK_PREALLOC_FULL;
    vdisk_convert_opts o = { .target = &co };
    vdisk_error err;
    assert_int_equal(vdisk_convert(src, dst, &o, &err), 0);
    struct stat st;
    assert_int_equal(stat(dst, &st), 0);
    assert_true((uint64_t)st.st_blocks * 512 >= 4 * MiB);
    uint64_t len;
    uint8_t *got = slurp(dst, &len);
    assert_memory_equal(got, ref, 4 * MiB);
    free(got);
    free(ref);
}

static void
test_named_raw_source_is_not_probed(void **state)
{
    /* A raw source whose first bytes look like qcow2: named raw, it is
     * copied byte for byte. */
    const char *src = unit_path(0, "src.raw"), *dst = unit_path(1, "dst.raw");
    uint8_t *ref = make_sparse(src, MiB);
    put(src, ref, 0, "QFI\xfb\0\0\0\3", 8);
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, VDISK_FORMAT_RAW);
    vdisk_convert_opts o = { .target = &co, .src_format = VDISK_FORMAT_RAW };
    vdisk_error err;
    assert_int_equal(vdisk_convert(src, dst, &o, &err), 0);
    uint64_t len;
    uint8_t *got = slurp(dst, &len);
    assert_int_equal(len, MiB);
    assert_memory_equal(got, ref, MiB);
    free(got);
    free(ref);
}

/* raw -> qcow2 -> raw reads back identically. */
static void
test_raw_to_qcow2_roundtrip(void **state)
{
    const uint64_t size = 9 * MiB + 1024;
    const char *src = unit_path(0, "src.raw"), *mid = unit_path(1, "mid.qcow2"), *back = unit_path(2, "back.raw");
    uint8_t *ref = make_mixed_source(src, size);
    vdisk_error err;
    int r = do_convert(src, mid, VDISK_FORMAT_QCOW2, 0, &err);
    assert_int_equal(r, 0);
    vdisk_convert_opts o;
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, VDISK_FORMAT_RAW);
    o = (vdisk_convert_opts){ .target = &co };   /* qcow2 source probed */
    assert_int_equal(vdisk_convert(mid, back, &o, &err), 0);
    uint64_t len;
    uint8_t *got = slurp(back, &len);
    assert_int_equal(len, size);
    assert_memory_equal(got, ref, size);
    free(got);
    free(ref);
}

static void
test_compressed_qcow2(void **state)
{
    const char *src = unit_path(0, "src.raw"), *dst = unit_path(1, "dst.qcow2"), *back = unit_path(2, "back.raw");
    uint8_t *ref = make_sparse(src, 4 * MiB);
    memset(ref + MiB, 'a', 2 * MiB);   /* compressible */
    put(src, NULL, MiB, ref + MiB, 2 * MiB);
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, VDISK_FORMAT_QCOW2);
    vdisk_convert_opts o = { .target = &co, .compress = true };
    vdisk_error err;
    assert_int_equal(vdisk_convert(src, dst, &o, &err), 0);
    struct stat st;
    assert_int_equal(stat(dst, &st), 0);
    assert_true((uint64_t)st.st_size < MiB);
    vdisk_create_opts_init(&co, VDISK_FORMAT_RAW);
    o = (vdisk_convert_opts){ .target = &co };
    assert_int_equal(vdisk_convert(dst, back, &o, &err), 0);
    uint64_t len;
    uint8_t *got = slurp(back, &len);
    assert_memory_equal(got, ref, 4 * MiB);
    free(got);
    free(ref);
}

/* Compression runs in the workers, but the stores go in guest order: any
 * number of workers gives the very same file as one. */
static void
test_compressed_parallel_is_deterministic(void **state)
{
    const char *src = unit_path(0, "src.raw"), *one = unit_path(1, "one.qcow2");
    const char *many = unit_path(2, "many.qcow2");
    uint8_t *ref = make_sparse(src, 8 * MiB);
    for (size_t i = 0; i < 6 * MiB; i++)
        ref[MiB + i] = (uint8_t)((i % 251) ^ (i >> 13) ^ (i % 7 == 0 ? rand() : 0));
    put(src, NULL, MiB, ref + MiB, 6 * MiB);
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, VDISK_FORMAT_QCOW2);
    vdisk_create_opts_parse(&co, "cluster_size=4096", NULL);
    vdisk_convert_opts o = { .target = &co, .compress = true, .workers = 1 };
    vdisk_error err;
    assert_int_equal(vdisk_convert(src, one, &o, &err), 0);
    o.workers = 8;
    assert_int_equal(vdisk_convert(src, many, &o, &err), 0);
    uint64_t la, lb;
    uint8_t *a = slurp(one, &la), *b = slurp(many, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_true(la < 6 * MiB);   /* it did compress */
    free(a);
    free(b);
    free(ref);
}

/* Open an image (format probed, read-only) or skip while qcow2 cannot. */
static vdisk_image *
open_probed(const char *path)
{
    vdisk_image *img = NULL;
    vdisk_error err;
    int r = vdisk_open(path, NULL, &img, &err);
    if (r != 0)
        fail_msg("open %s: %s", path, err.message);
    return img;
}

static void
test_qcow2_target_layout_follows_guest_order(void **state)
{
    /* Many workers, but the target's clusters are laid out in guest order
     * (qemu-img without -W): host offsets grow with guest offsets. */
    const uint64_t size = 24 * MiB;
    const char *src = unit_path(0, "src.raw"), *dst = unit_path(1, "dst.qcow2");
    uint8_t *ref = make_sparse(src, size);
    for (int i = 0; i < 12; i++)
        put_pattern(src, ref, (uint64_t)i * 2 * MiB + (i % 3) * 4096, MiB + 12345, 20 + i);
    vdisk_error err;
    int r = do_convert(src, dst, VDISK_FORMAT_QCOW2, 8, &err);
    assert_int_equal(r, 0);
    vdisk_image *img = open_probed(dst);
    assert_int_equal(vdisk_get_format(img), VDISK_FORMAT_QCOW2);
    uint64_t last_host = 0;
    uint8_t *got = malloc(size);
    assert_int_equal(vdisk_pread(img, got, size, 0, &err), 0);
    assert_memory_equal(got, ref, size);
    for (uint64_t off = 0; off < size;) {
        vdisk_extent e;
        assert_int_equal(vdisk_block_status(img, off, size - off, &e, &err), 0);
        if (e.flags & VDISK_EXTENT_OFFSET_VALID) {
            assert_true(e.host_offset > last_host);
            last_host = e.host_offset;
        }
        off += e.length;
    }
    vdisk_close(img, NULL);
    free(got);
    free(ref);
}

static void
test_out_of_order_qcow2_target_is_consistent(void **state)
{
    /* -W: workers write as soon as their reads finish, in any order; the
     * image holds the source and its metadata is consistent. */
    const uint64_t size = 24 * MiB + 4096;
    const char *src = unit_path(0, "src.raw"), *dst = unit_path(1, "dst.qcow2");
    uint8_t *ref = make_sparse(src, size);
    for (int i = 0; i < 12; i++)
        put_pattern(src, ref, (uint64_t)i * 2 * MiB + (i % 3) * 4096, MiB + 12345, 40 + i);
    put_zeros(src, ref, 5 * MiB, MiB);
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, VDISK_FORMAT_QCOW2);
    vdisk_convert_opts o = { .target = &co, .workers = 16, .out_of_order = true };
    vdisk_error err;
    assert_int_equal(vdisk_convert(src, dst, &o, &err), 0);
    vdisk_image *img = open_probed(dst);
    uint8_t *got = malloc(size);
    assert_int_equal(vdisk_pread(img, got, size, 0, &err), 0);
    assert_memory_equal(got, ref, size);
    vdisk_check_result res;
    assert_int_equal(vdisk_check(img, 0, &res, NULL, NULL, NULL, &err), 0);
    assert_int_equal(res.corruptions, 0);
    assert_int_equal(res.leaks, 0);
    assert_int_equal(res.check_errors, 0);
    vdisk_close(img, NULL);
    free(got);
    free(ref);
}

static void
test_qcow2_to_qcow2_with_option_changes(void **state)
{
    const uint64_t size = 7 * MiB + 512;
    const char *src = unit_path(0, "src.raw"), *mid = unit_path(1, "mid.qcow2"), *dst = unit_path(2, "dst.qcow2");
    uint8_t *ref = make_mixed_source(src, size);
    vdisk_error err;
    int r = do_convert(src, mid, VDISK_FORMAT_QCOW2, 0, &err);
    assert_int_equal(r, 0);
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, VDISK_FORMAT_QCOW2);
    assert_int_equal(vdisk_create_opts_parse(&co, "cluster_size=4k,compat=0.10", &err), 0);
    vdisk_convert_opts o = { .target = &co, .no_flush = true };
    assert_int_equal(vdisk_convert(mid, dst, &o, &err), 0);
    vdisk_image *img = open_probed(dst);
    assert_int_equal(vdisk_get_cluster_size(img), 4096);
    uint8_t *got = malloc(size);
    assert_int_equal(vdisk_pread(img, got, size, 0, &err), 0);
    assert_memory_equal(got, ref, size);
    vdisk_close(img, NULL);
    free(got);
    free(ref);
}

static void
test_target_with_backing_file_hides_it(void **state)
{
    /* -o backing_file=...: the target must still read as the source, so
     * the source's zeros are written, not skipped (the backing data must
     * not show through). */
    const uint64_t size = 4 * MiB;
    const char *src = unit_path(0, "src.raw"), *base = unit_path(1, "base.raw"), *dst = unit_path(2, "dst.qcow2");
    uint8_t *ref = make_sparse(src, size);
    put_pattern(src, ref, MiB, 64 * KiB, 30);
    put_zeros(src, ref, 2 * MiB, 64 * KiB);
    free(make_sparse(base, size));
    put_pattern(base, NULL, 0, size, 31);
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, VDISK_FORMAT_QCOW2);
    co.backing_file = "base.raw";
    co.backing_format = VDISK_FORMAT_RAW;
    vdisk_convert_opts o = { .target = &co };
    vdisk_error err;
    int r = vdisk_convert(src, dst, &o, &err);
    assert_int_equal(r, 0);
    vdisk_image *img = open_probed(dst);
    uint8_t *got = malloc(size);
    assert_int_equal(vdisk_pread(img, got, size, 0, &err), 0);
    assert_memory_equal(got, ref, size);
    vdisk_close(img, NULL);
    free(got);
    free(ref);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_to_raw_content_and_sparseness, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_worker_counts_give_identical_targets, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_all_hole_sources, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_progress_reaches_source_size, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_removes_target, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_refuses_to_convert_onto_the_source, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_compress_to_raw_is_refused_cleanly, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_failed_create_leaves_existing_device_alone, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_preallocation_full_is_honoured, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_named_raw_source_is_not_probed, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_raw_to_qcow2_roundtrip, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_compressed_qcow2, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_qcow2_target_is_consistent, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_compressed_parallel_is_deterministic, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_qcow2_target_layout_follows_guest_order, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_qcow2_to_qcow2_with_option_changes, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_target_with_backing_file_hides_it, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
