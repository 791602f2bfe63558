/* PLACEHOLDER until compare lands. */
#include <errno.h>
#include "driver.h"

int
vdisk_compare(vdisk_image *a, vdisk_image *b, bool strict, vdisk_progress_fn progress, void *opaque,
              vdisk_compare_result *res, vdisk_error *err)
{
    return vdisk_error_set(err, ENOTSUP, "compare not built yet");
}
