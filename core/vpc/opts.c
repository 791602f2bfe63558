/* libvdisk — creation options of the VHD (vpc) format, as qemu-img 7.2
 * takes them: subformat=dynamic|fixed and force_size=on|off, with
 * qemu-img's messages.  preallocation (falloc, full) applies to the data
 * of a fixed disk only: a dynamic disk has nothing to preallocate. */
#include <errno.h>
#include <string.h>

#include "options.h"
#include "opts.h"

/* The common options, then vpc's own in qemu-img's order; a backing file
 * is refused by name (vpc_opts_set). */
const vdisk_option vpc_options[] = {
    VDISK_OPTIONS_COMMON,
    { "subformat", VDISK_OPTION_STRING, VDISK_OPTION_CM, 0, NULL,
      "Type of virtual hard disk format. Supported formats are {dynamic (default) | fixed} ",
      vpc_opts_set, NULL },
    { "force_size", VDISK_OPTION_BOOL, VDISK_OPTION_CM, 0, NULL,
      "Force disk size calculation to use the actual size specified, rather than using the nearest "
      "CHS-based calculation", vpc_opts_set, NULL },
    { "backing_file", VDISK_OPTION_STRING, VDISK_OPTION_CM, VDISK_OPTION_HIDDEN, NULL, NULL,
      vpc_opts_set, NULL },
    { "backing_fmt", VDISK_OPTION_STRING, VDISK_OPTION_CM, VDISK_OPTION_HIDDEN, NULL, NULL,
      vpc_opts_set, NULL },
    VDISK_OPTIONS_END,
};

int
vpc_opts_set(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    if (strcmp(key, "subformat") == 0) {
        if (strcmp(value, "dynamic") == 0)
            o->vpc.fixed = false;
        else if (strcmp(value, "fixed") == 0)
            o->vpc.fixed = true;
        else
            return vdisk_error_set(err, EINVAL, "Parameter 'subformat' does not accept value '%s' "
                                   "(expected dynamic or fixed)", value);
        return 0;
    }
    if (strcmp(key, "force_size") == 0)
        return vdisk_opt_parse_bool(key, value, &o->vpc.force_size, err);
    if (strcmp(key, "backing_file") == 0 || strcmp(key, "backing_fmt") == 0)
        return vdisk_error_set(err, EINVAL, "Backing file not supported for file format 'vpc'");
    return -ENOENT;
}

int
vpc_opts_validate(const vdisk_create_opts *o, vdisk_error *err)
{
    if (o->backing_file)
        return vdisk_error_set(err, ENOTSUP, "Backing file not supported for file format 'vpc'");
    if (!o->vpc.fixed && o->prealloc != VDISK_PREALLOC_OFF)
        return vdisk_error_set(err, ENOTSUP, "preallocation=%s needs subformat=fixed: a dynamic VHD "
                               "grows as it is written", vdisk_prealloc_name(o->prealloc));
    if (o->prealloc == VDISK_PREALLOC_METADATA)
        return vdisk_error_set(err, ENOTSUP, "Unsupported preallocation mode: metadata (a fixed VHD "
                               "takes off, falloc or full)");
    return 0;
}
