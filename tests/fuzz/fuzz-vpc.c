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

#include "fuzz-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_limit_file_size(256u << 20);
    int fd = fuzz_input_file("fuzz-vpc", data, size);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    fuzz_open_and(path, VDISK_FORMAT_VPC, 0, fuzz_exercise);
    fuzz_open_and(path, VDISK_FORMAT_VPC, VDISK_OPEN_RDWR, fuzz_exercise_write);
    close(fd);
    return 0;
}
