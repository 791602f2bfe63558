/* libFuzzer target: the VHDX parsers.
 *
 * A VHDX file is mostly zeros between structures at MiB offsets, so an
 * input is not the file itself but its 4 KiB windows at the offsets that
 * matter (file identifier, both headers, both region tables, the start of
 * the log, of the BAT, of the metadata table and items, two payload
 * blocks) laid into an 8 MiB sparse file: a 52 KiB input reaches every
 * structure, and mutations land in them.  make-corpus.sh cuts its seeds the
 * same way from real images (qemu-img's layout for a 1 MiB log puts the
 * BAT and the metadata exactly there).
 *
 * The file is opened as vhdx (named, not probed) without
 * its parent: first read-only, queried as `info`, `map` and `convert`
 * would (info with the parent locator's path, a block-status walk, reads);
 * then read-only with the check flag and checked; then writable, which
 * replays a log the input carries, followed by a few writes, a zeroing and
 * a flush that commits the BAT through the log, and the close.  Files are
 * capped at 256 MiB: a replay that would grow one further fails as on a
 * full disk.  Errors are the expected outcome for most inputs; crashes,
 * leaks and undefined behaviour are what the sanitizers report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/vdisk.h>

#include "fuzz-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WINDOW 4096u
#define FILE_SIZE (8u << 20)

static const uint32_t windows[] = {
    0, 64u << 10, 128u << 10, 192u << 10, 256u << 10,          /* header section */
    1u << 20, (1u << 20) + 4096, (1u << 20) + 8192,            /* log */
    2u << 20, 3u << 20, (3u << 20) + (64u << 10),              /* BAT, metadata */
    4u << 20, 5u << 20,                                        /* payload */
};

/* The windows of the input laid out in a sparse file; its fd or -1. */
static int
windowed_file(const uint8_t *data, size_t size)
{
    int fd = fuzz_input_file("fuzz-vhdx", NULL, 0);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, FILE_SIZE) < 0) {
        close(fd);
        return -1;
    }
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]) && size; i++) {
        size_t n = size < WINDOW ? size : WINDOW;
        if (pwrite(fd, data, n, windows[i]) != (ssize_t)n) {
            close(fd);
            return -1;
        }
        data += n;
        size -= n;
    }
    return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_limit_file_size(256u << 20);
    int fd = windowed_file(data, size);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    fuzz_open_and(path, VDISK_FORMAT_VHDX, 0, fuzz_exercise);
    fuzz_open_and(path, VDISK_FORMAT_VHDX, VDISK_OPEN_CHECK, fuzz_check);
    fuzz_open_and(path, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR, fuzz_exercise_write);
    close(fd);
    return 0;
}
