/* libFuzzer target: the qcow2 bitmap directory, bitmap tables and their
 * storing at close (core/qcow2/bitmap-dir.c, bitmap.c, bitmap-store.c).
 *
 * Each input is an image file, put in an in-memory file and opened for
 * writing as qcow2 without its backing file: the bitmaps extension is
 * found, the directory validated and the bitmaps loaded and marked in_use.
 * Then a write, a zero write and a discard mark them, a resize resizes
 * them, bitmaps are added, merged and removed (qemu-img bitmap), and the
 * close stores them (new tables, new directory, old clusters freed).
 * Errors are the expected outcome for most inputs; the sanitizers report
 * crashes, leaks and undefined behaviour.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vdisk/vdisk.h>

#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SIZE (UINT64_C(1) << 32)   /* larger disks: bitmaps of hundreds of MiB */

static void
exercise(vdisk_image *img)
{
    vdisk_error err;
    uint64_t size = vdisk_get_size(img);
    static uint8_t buf[4096];
    memset(buf, 0x5a, sizeof(buf));
    if (size >= sizeof(buf))
        (void)vdisk_pwrite(img, buf, sizeof(buf), size / 3 & ~UINT64_C(511), &err);
    if (size >= 2 * sizeof(buf)) {
        (void)vdisk_write_zeroes(img, sizeof(buf), size / 2 & ~UINT64_C(511), 0, &err);
        (void)vdisk_discard(img, sizeof(buf), 0, &err);
    }
    if (size && size <= MAX_SIZE / 2)
        (void)vdisk_resize(img, size + (1u << 20), false, VDISK_PREALLOC_OFF, NULL, NULL, &err);
    /* Edits: a new bitmap merged from the first one ("on" in the seeds),
     * then one removed, so the directory and the header extension change. */
    vdisk_bitmap_op add = { .action = VDISK_BITMAP_ADD, .name = "fuzz", .granularity = 4096 };
    vdisk_bitmap_op mrg = { .action = VDISK_BITMAP_MERGE, .name = "fuzz", .src_name = "on" };
    vdisk_bitmap_op rm = { .action = VDISK_BITMAP_REMOVE, .name = "off" };
    if (size <= MAX_SIZE / 8 && vdisk_bitmap(img, &add, &err) == 0)
        (void)vdisk_bitmap(img, &mrg, &err);
    (void)vdisk_bitmap(img, &rm, &err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = fuzz_input_file("fuzz-qcow2-bitmap", data, size);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    vdisk_open_opts o = { .format = VDISK_FORMAT_QCOW2,
                          .flags = VDISK_OPEN_RDWR | VDISK_OPEN_NO_BACKING };
    vdisk_image *img;
    vdisk_error err;
    if (vdisk_open(path, &o, &img, &err) == 0) {
        if (vdisk_get_size(img) <= MAX_SIZE)
            exercise(img);
        vdisk_close(img, &err);
    }
    close(fd);
    return 0;
}
