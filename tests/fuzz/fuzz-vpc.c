/* libFuzzer target: the VHD (vpc) parsers.
 *
 * Each input is an image file, opened as vpc (named, not probed, so a
 * fixed disk's footer at the end is found too) without its parent: first
 * read-only, queried as `info` (with the parent locators' paths), `map` and
 * `convert` would; then writable, with a few writes that allocate blocks
 * (moving the footer), a zeroing and a flush.  Files are capped at 256 MiB.
 * Errors are the expected outcome for most inputs; crashes, leaks and
 * undefined behaviour are what the sanitizers report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/vdisk.h>

#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EXTENTS 16
#define MAX_READ (64u * 1024)

static void
exercise_read(vdisk_image *img)
{
    static uint8_t buf[MAX_READ];
    vdisk_error err;
    vdisk_info info;
    if (vdisk_get_info(img, &info, &err) == 0)
        vdisk_info_clear(&info);
    uint64_t size = vdisk_get_size(img), off = 0;
    for (int i = 0; i < MAX_EXTENTS && off < size; i++) {
        vdisk_extent ext;
        if (vdisk_block_status(img, off, size - off, &ext, &err) < 0 || ext.length == 0)
            break;
        if (ext.length > size - off)
            abort();
        uint64_t n = ext.length < MAX_READ ? ext.length : MAX_READ;
        (void)vdisk_pread(img, buf, n, off, &err);
        off += ext.length;
    }
    if (size >= MAX_READ)
        (void)vdisk_pread(img, buf, MAX_READ, size - MAX_READ, &err);
}

static void
exercise_write(vdisk_image *img)
{
    static uint8_t buf[8192];
    vdisk_error err;
    uint64_t size = vdisk_get_size(img);
    memset(buf, 0x5a, sizeof(buf));
    if (size >= sizeof(buf)) {
        (void)vdisk_pwrite(img, buf, sizeof(buf), size / 3 / 512 * 512, &err);
        (void)vdisk_pwrite(img, buf, sizeof(buf), size - sizeof(buf), &err);
        (void)vdisk_write_zeroes(img, 4096, size / 2 / 512 * 512, VDISK_ZERO_MAY_UNMAP, &err);
    }
    (void)vdisk_flush(img, &err);
    exercise_read(img);
}

static void
open_and(const char *path, unsigned flags, void (*fn)(vdisk_image *))
{
    vdisk_open_opts opts = { .format = VDISK_FORMAT_VPC, .flags = flags | VDISK_OPEN_NO_BACKING };
    vdisk_image *img = NULL;
    vdisk_error err;
    if (vdisk_open(path, &opts, &img, &err) == 0) {
        fn(img);
        vdisk_close(img, &err);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_limit_file_size(256u << 20);
    int fd = fuzz_input_file("fuzz-vpc", data, size);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    open_and(path, 0, exercise_read);
    open_and(path, VDISK_OPEN_RDWR, exercise_write);
    close(fd);
    return 0;
}
