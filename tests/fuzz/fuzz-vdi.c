/* libFuzzer target: the VDI header and block map (VirtualBox).
 * Each input is an image file opened as vdi (fuzz-image.h). */
#include <stdint.h>

#include "fuzz-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image("fuzz-vdi", VDISK_FORMAT_VDI, data, size);
}
