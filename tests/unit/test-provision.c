/* Unit tests for core/provision/provision.c and provision/raw.c: the
 * refusals every format shares, the exclusive lock, cancelling, and raw
 * inflate / eagerzero / sparsify judged by the host file's own layout
 * (FIEMAP through fiemap.c, st_blocks) and by the bytes read back. */
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

#include "fixture.h"

#include <vdisk/vdisk.h>
#include "driver.h"
#include "fiemap.h"

#define SIZE (4 * MiB)

/* A raw image: data at [1M, 1M+64K), zeros written at [2M, 2M+64K),
 * [3M, 3M+128K) reserved (fallocate), holes elsewhere. */
static const char *
make_raw(void)
{
    const char *path = unit_path(0, "d.raw");
    uint8_t *b = calloc(1, 64 * KiB);
    unit_pattern(b, 64 * KiB, 3);
    unit_write_file(path, SIZE, b, 64 * KiB, MiB);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    memset(b, 0, 64 * KiB);
    assert_int_equal(pwrite(fd, b, 64 * KiB, 2 * MiB), 64 * KiB);
    assert_int_equal(fallocate(fd, FALLOC_FL_KEEP_SIZE, 3 * MiB, 128 * KiB), 0);
    assert_int_equal(fsync(fd), 0);
    close(fd);
    free(b);
    return path;
}

static vdisk_image *
open_raw(const char *path, unsigned flags)
{
    vdisk_open_opts oo = { .format = VDISK_FORMAT_RAW, .flags = flags };
    vdisk_image *img;
    vdisk_error err;
    if (vdisk_open(path, &oo, &img, &err) < 0)
        fail_msg("%s", err.message);
    return img;
}

/* Bytes of each host kind in the file. */
static void
host_kinds(vdisk_image *img, uint64_t out[3])
{
    memset(out, 0, 3 * sizeof(out[0]));
    for (uint64_t pos = 0, end; pos < SIZE; pos = end) {
        vdisk_host_kind k;
        assert_int_equal(vdisk_host_extent(img->file, pos, SIZE, &k, &end, NULL), 0);
        out[k] += end - pos;
    }
}

static uint8_t *
contents(vdisk_image *img)
{
    uint8_t *b = malloc(SIZE);
    assert_int_equal(vdisk_pread(img, b, SIZE, 0, NULL), 0);
    return b;
}

static void
assert_same(vdisk_image *img, const uint8_t *before)
{
    uint8_t *now = contents(img);
    assert_memory_equal(now, before, SIZE);
    free(now);
}

static void
test_raw_inflate_lazy_then_eagerzero(void **state)
{
    vdisk_image *img = open_raw(make_raw(), VDISK_OPEN_RDWR);
    uint8_t *before = contents(img);
    uint64_t k[3];
    vdisk_provision_result dry, res;
    vdisk_error err;
    assert_int_equal(vdisk_inflate(img, VDISK_PROVISION_DRY_RUN, NULL, NULL, &dry, &err), 0);
    host_kinds(img, k);
    assert_int_equal(k[VDISK_HOST_HOLE], SIZE - 256 * KiB);   /* nothing changed */
    assert_int_equal(vdisk_inflate(img, 0, NULL, NULL, &res, &err), 0);
    host_kinds(img, k);
    /* Every hole is reserved; data and zeros written before stay written. */
    assert_int_equal(k[VDISK_HOST_HOLE], 0);
    assert_int_equal(k[VDISK_HOST_DATA], 128 * KiB);
    assert_int_equal(k[VDISK_HOST_UNWRITTEN], SIZE - 128 * KiB);
    assert_int_equal(res.changed, SIZE - 256 * KiB);
    /* st_blocks may count a block of the file system's own (extent tree). */
    assert_in_range(res.host_after, SIZE, SIZE + 64 * KiB);
    assert_int_equal(dry.changed, res.changed);
    assert_int_equal(dry.host_after, SIZE);
    assert_same(img, before);
    /* eagerzero: what is reserved is written. */
    assert_int_equal(vdisk_eagerzero(img, 0, NULL, NULL, &res, &err), 0);
    host_kinds(img, k);
    assert_int_equal(k[VDISK_HOST_DATA], SIZE);
    assert_int_equal(res.zeroed, SIZE - 128 * KiB);
    assert_int_equal(res.thin, 0);
    assert_same(img, before);
    free(before);
    assert_int_equal(vdisk_close(img, NULL), 0);
}

static void
test_raw_inflate_eager_and_eagerzero_thin(void **state)
{
    vdisk_image *img = open_raw(make_raw(), VDISK_OPEN_RDWR);
    uint8_t *before = contents(img);
    uint64_t k[3];
    vdisk_provision_result res;
    /* eagerzero leaves holes alone and says how much is thin. */
    assert_int_equal(vdisk_eagerzero(img, 0, NULL, NULL, &res, NULL), 0);
    assert_int_equal(res.thin, SIZE - 256 * KiB);
    assert_int_equal(res.zeroed, 128 * KiB);
    host_kinds(img, k);
    assert_int_equal(k[VDISK_HOST_HOLE], SIZE - 256 * KiB);
    assert_int_equal(vdisk_inflate(img, VDISK_INFLATE_EAGER, NULL, NULL, &res, NULL), 0);
    host_kinds(img, k);
    assert_int_equal(k[VDISK_HOST_DATA], SIZE);
    assert_same(img, before);
    free(before);
    vdisk_close(img, NULL);
}

static void
test_raw_sparsify(void **state)
{
    vdisk_image *img = open_raw(make_raw(), VDISK_OPEN_RDWR);
    uint8_t *before = contents(img);
    uint64_t k[3];
    vdisk_provision_result dry, res;
    /* Without zero detection only the reservation goes. */
    assert_int_equal(vdisk_sparsify(img, 0, NULL, NULL, &res, NULL), 0);
    host_kinds(img, k);
    assert_int_equal(k[VDISK_HOST_UNWRITTEN], 0);
    assert_int_equal(k[VDISK_HOST_DATA], 128 * KiB);
    assert_int_equal(res.changed, 128 * KiB);
    /* With it, the written zeros go too; the data stays. */
    unsigned f = VDISK_SPARSIFY_ZERO_DETECT;
    assert_int_equal(vdisk_sparsify(img, f | VDISK_PROVISION_DRY_RUN, NULL, NULL, &dry, NULL), 0);
    assert_int_equal(vdisk_sparsify(img, f, NULL, NULL, &res, NULL), 0);
    host_kinds(img, k);
    assert_int_equal(k[VDISK_HOST_DATA], 64 * KiB);
    assert_int_equal(res.changed, 64 * KiB);
    assert_int_equal(dry.changed, res.changed);
    assert_same(img, before);
    free(before);
    vdisk_close(img, NULL);
}

static void
test_raw_sparsify_from_offset_zero(void **state)
{
    /* Zeros written at the very start of the file are punched too. */
    const char *path = unit_path(0, "z.raw");
    uint8_t *b = calloc(1, MiB);
    unit_write_file(path, MiB, b, MiB, 0);
    free(b);
    vdisk_image *img = open_raw(path, VDISK_OPEN_RDWR);
    vdisk_provision_result res;
    assert_int_equal(vdisk_sparsify(img, VDISK_SPARSIFY_ZERO_DETECT, NULL, NULL, &res, NULL), 0);
    assert_int_equal(res.changed, MiB);
    uint64_t bytes;
    assert_int_equal(vdisk_host_allocated(img->file, 0, MiB, &bytes, NULL), 0);
    assert_int_equal(bytes, 0);
    vdisk_close(img, NULL);
}

static void
test_refusals(void **state)
{
    const char *path = make_raw();
    vdisk_image *img = open_raw(path, 0);
    vdisk_error err;
    vdisk_provision_result res;
    /* Read-only: only a dry run. */
    assert_int_equal(vdisk_inflate(img, 0, NULL, NULL, &res, &err), -EROFS);
    assert_int_equal(vdisk_inflate(img, VDISK_PROVISION_DRY_RUN, NULL, NULL, &res, &err), 0);
    assert_int_equal(vdisk_sparsify(img, VDISK_INFLATE_EAGER, NULL, NULL, &res, &err), -EINVAL);
    assert_int_equal(vdisk_eagerzero(img, VDISK_SPARSIFY_ZERO_DETECT, NULL, NULL, &res, &err), -EINVAL);
    vdisk_close(img, NULL);
    img = open_raw(path, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_sparsify(img, VDISK_SPARSIFY_TRUNCATE, NULL, NULL, &res, &err), -EINVAL);
    assert_non_null(strstr(err.message, "qcow2 only"));
    vdisk_close(img, NULL);
    /* A format without provisioning callbacks is refused by name. */
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VMDK);
    o.size = MiB;
    const char *vmdk = unit_path(1, "d.vmdk");
    assert_int_equal(vdisk_create(vmdk, &o, NULL, NULL, &err), 0);
    vdisk_create_opts_clear(&o);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_VMDK, .flags = VDISK_OPEN_RDWR };
    assert_int_equal(vdisk_open(vmdk, &oo, &img, &err), 0);
    assert_int_equal(vdisk_inflate(img, 0, NULL, NULL, &res, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "vmdk"));
    vdisk_close(img, NULL);
}

static void
test_in_use_refused(void **state)
{
    /* Another open file description writing the image (as a VM would):
     * the exclusive lock cannot be had, and nothing changes. */
    const char *path = make_raw();
    vdisk_image *a = open_raw(path, VDISK_OPEN_RDWR), *b = open_raw(path, VDISK_OPEN_RDWR);
    vdisk_error err;
    uint64_t k[3];
    assert_int_equal(vdisk_inflate(a, 0, NULL, NULL, NULL, &err), -EBUSY);
    assert_non_null(strstr(err.message, "in use"));
    host_kinds(a, k);
    assert_int_equal(k[VDISK_HOST_HOLE], SIZE - 256 * KiB);
    vdisk_close(b, NULL);
    /* Alone again, it works; and the lock is back to normal afterwards, so
     * another writer may open the image again. */
    assert_int_equal(vdisk_inflate(a, 0, NULL, NULL, NULL, &err), 0);
    b = open_raw(path, VDISK_OPEN_RDWR);
    vdisk_close(b, NULL);
    vdisk_close(a, NULL);
}

static int
cancel_at_once(void *opaque, uint64_t done, uint64_t total)
{
    (void)done;
    (void)total;
    ++*(int *)opaque;
    return 1;
}

static void
test_cancel(void **state)
{
    vdisk_image *img = open_raw(make_raw(), VDISK_OPEN_RDWR);
    int calls = 0;
    vdisk_error err;
    assert_int_equal(vdisk_inflate(img, 0, cancel_at_once, &calls, NULL, &err), -ECANCELED);
    assert_int_equal(calls, 1);
    assert_non_null(strstr(err.message, "cancelled"));
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_inflate_lazy_then_eagerzero, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_raw_inflate_eager_and_eagerzero_thin, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_raw_sparsify, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_raw_sparsify_from_offset_zero, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_in_use_refused, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_cancel, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
