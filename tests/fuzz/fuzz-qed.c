/* libFuzzer target: the QED header, L1 and L2 tables and backing file name.
 * Each input is an image file opened as qed (fuzz-image.h). */
#include <stdint.h>

#include "fuzz-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image("fuzz-qed", VDISK_FORMAT_QED, data, size);
}
