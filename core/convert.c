/* PLACEHOLDER until the convert engine lands. */
#include <errno.h>
#include "driver.h"

int
vdisk_convert(const char *src, const char *dst, const vdisk_convert_opts *opts, vdisk_error *err)
{
    return vdisk_error_set(err, ENOTSUP, "convert not built yet");
}
