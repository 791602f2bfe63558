/* libFuzzer target: the Parallels header and BAT (both magics).
 * Each input is an image file opened as parallels (fuzz-image.h). */
#include <stdint.h>

#include "fuzz-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image("fuzz-parallels", VDISK_FORMAT_PARALLELS, data, size);
}
