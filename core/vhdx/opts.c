/* libvdisk — creation options of the VHDX format, as qemu-img 7.2 takes
 * them: subformat=dynamic|fixed, block_size (rounded up to 1 MiB; 0 picks
 * it by the disk size; capped at 256 MiB), log_size (rounded up to 1 MiB),
 * block_state_zero, with qemu-img's messages.  preallocation (falloc,
 * full) applies to a fixed file's payload only. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "options.h"
#include "opts.h"
#include "vhdx.h"

#define DEFAULT_LOG_SIZE VHDX_MIB

/* The common options, then vhdx's own in qemu-img's order; a backing file
 * is refused by name (vhdx_opts_set). */
const vdisk_option vhdx_options[] = {
    VDISK_OPTIONS_COMMON,
    { "log_size", VDISK_OPTION_SIZE, VDISK_OPTION_CM, 0, "1048576", "Log size; min 1MB.",
      vhdx_opts_set, NULL },
    { "block_size", VDISK_OPTION_SIZE, VDISK_OPTION_CM, 0, "0",
      "Block Size; min 1MB, max 256MB. 0 means auto-calculate based on image size.",
      vhdx_opts_set, NULL },
    { "subformat", VDISK_OPTION_STRING, VDISK_OPTION_CM, 0, NULL,
      "VHDX format type, can be either 'dynamic' or 'fixed'. Default is 'dynamic'.",
      vhdx_opts_set, NULL },
    { "block_state_zero", VDISK_OPTION_BOOL, VDISK_OPTION_CM, 0, NULL,
      "Force use of payload blocks of type 'ZERO'. Non-standard, but default.  Do not set to 'off' when "
      "using 'qemu-img convert' with subformat=dynamic.", vhdx_opts_set, NULL },
    { "backing_file", VDISK_OPTION_STRING, VDISK_OPTION_CM, VDISK_OPTION_HIDDEN, NULL, NULL,
      vhdx_opts_set, NULL },
    { "backing_fmt", VDISK_OPTION_STRING, VDISK_OPTION_CM, VDISK_OPTION_HIDDEN, NULL, NULL,
      vhdx_opts_set, NULL },
    VDISK_OPTIONS_END,
};

void
vhdx_opts_init(vdisk_create_opts *o)
{
    o->vhdx.log_size = DEFAULT_LOG_SIZE;
    o->vhdx.block_state_zero = true;
}

static uint64_t
round_mib(uint64_t v)
{
    return v > UINT64_MAX - (VHDX_MIB - 1) ? UINT64_MAX : (v + VHDX_MIB - 1) / VHDX_MIB * VHDX_MIB;
}

int
vhdx_opts_set(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    uint64_t n;
    int r;
    if (strcmp(key, "subformat") == 0) {
        if (strcmp(value, "dynamic") == 0)
            o->vhdx.fixed = false;
        else if (strcmp(value, "fixed") == 0)
            o->vhdx.fixed = true;
        else
            return vdisk_error_set(err, EINVAL, "Parameter 'subformat' does not accept value '%s' "
                                   "(expected dynamic or fixed)", value);
        return 0;
    }
    if (strcmp(key, "block_state_zero") == 0)
        return vdisk_opt_parse_bool(key, value, &o->vhdx.block_state_zero, err);
    if (strcmp(key, "block_size") == 0) {
        /* As qemu-img: up to whole MiB, at most 256 MiB, 0 for automatic. */
        r = vdisk_opt_parse_size(key, value, &n, err);
        if (r == 0)
            o->vhdx.block_size = n > VHDX_MAX_BLOCK ? VHDX_MAX_BLOCK : round_mib(n);
        return r;
    }
    if (strcmp(key, "log_size") == 0) {
        r = vdisk_opt_parse_size(key, value, &n, err);
        if (r == 0)
            o->vhdx.log_size = round_mib(n);
        return r;
    }
    if (strcmp(key, "backing_file") == 0 || strcmp(key, "backing_fmt") == 0)
        return vdisk_error_set(err, EINVAL, "Backing file not supported for file format 'vhdx'");
    return -ENOENT;
}

int
vhdx_opts_validate(const vdisk_create_opts *o, vdisk_error *err)
{
    const vdisk_vhdx_opts *v = &o->vhdx;
    if (o->backing_file)
        return vdisk_error_set(err, ENOTSUP, "Backing file not supported for file format 'vhdx'");
    if (o->size > VHDX_MAX_SIZE)
        return vdisk_error_set(err, EINVAL, "Image size too large; max of 64TB");
    if (v->log_size > UINT32_MAX)
        return vdisk_error_set(err, EINVAL, "Log size must be smaller than 4 GB");
    if (v->log_size < VHDX_MIB)
        return vdisk_error_set(err, EINVAL, "Log size must be a multiple of 1 MB");
    if (v->block_size & (v->block_size - 1))
        return vdisk_error_set(err, EINVAL, "Block size must be a power of two");
    if (!v->fixed && o->prealloc != VDISK_PREALLOC_OFF)
        return vdisk_error_set(err, ENOTSUP, "preallocation=%s needs subformat=fixed: a dynamic VHDX "
                               "grows as it is written", vdisk_prealloc_name(o->prealloc));
    if (o->prealloc == VDISK_PREALLOC_METADATA)
        return vdisk_error_set(err, ENOTSUP, "Unsupported preallocation mode: metadata (a fixed VHDX "
                               "takes off, falloc or full)");
    return 0;
}
