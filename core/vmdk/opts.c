/* libvdisk — the creation options of VMDK images: the driver's table
 * (vdisk/options.h), in the order of qemu-img 7.2's "Formatting" line
 * ("-o help" lists it by name, as qemu-img does), and the checks of their
 * combination.
 *
 * Provisioning.  qemu-img 7.2 accepts preallocation=off|falloc|full for
 * vmdk and ignores it (it reaches only the empty files it creates; the
 * extents stay sparse), and refuses metadata.  vdisk implements it, with
 * VMware's words as synonyms (vmkfstools -d):
 *   thin              = off     flat extents sparse; sparse extents grow
 *   zeroedthick       = falloc  flat extents fallocated; sparse extents get
 *                               every grain mapped and fallocated
 *   eagerzeroedthick  = full    the same, with zeros written
 * metadata is refused as qemu-img does (grain tables are always
 * preallocated); a streamOptimized image, a compressed stream, takes only
 * off; a sparse child of a parent takes only off (mapped grains would hide
 * the parent).
 */
#include <errno.h>
#include <string.h>

#include "options.h"
#include "opts.h"
#include "vmdk.h"

static const char *const subformat_names[] = {
    [VDISK_VMDK_MONOLITHIC_SPARSE] = "monolithicSparse",
    [VDISK_VMDK_MONOLITHIC_FLAT] = "monolithicFlat",
    [VDISK_VMDK_TWOGB_SPARSE] = "twoGbMaxExtentSparse",
    [VDISK_VMDK_TWOGB_FLAT] = "twoGbMaxExtentFlat",
    [VDISK_VMDK_STREAM_OPTIMIZED] = "streamOptimized",
};

static const char *const adapter_names[] = {
    [VDISK_VMDK_ADAPTER_IDE] = "ide",
    [VDISK_VMDK_ADAPTER_LSILOGIC] = "lsilogic",
    [VDISK_VMDK_ADAPTER_BUSLOGIC] = "buslogic",
    [VDISK_VMDK_ADAPTER_LEGACYESX] = "legacyESX",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *
vdisk_vmdk_subformat_name(vdisk_vmdk_subformat s)
{
    return (unsigned)s < COUNT(subformat_names) ? subformat_names[s] : NULL;
}

const char *
vdisk_vmdk_adapter_name(vdisk_vmdk_adapter a)
{
    return (unsigned)a < COUNT(adapter_names) ? adapter_names[a] : NULL;
}

/* Index of value in names, or -1. */
static int
lookup(const char *const *names, size_t n, const char *value)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], value) == 0)
            return (int)i;
    return -1;
}

static int
bad_value(const char *key, const char *value, const char *expected, vdisk_error *err)
{
    return vdisk_error_set(err, EINVAL, "Parameter '%s' does not accept value '%s' (expected %s)",
                           key, value, expected);
}

/* A value written between quotes into the descriptor: printable, no '"'. */
static int
set_text(const char *key, const char *value, char *out, size_t cap, vdisk_error *err)
{
    if (strlen(value) >= cap || !vmdk_descriptor_value_ok(value, cap - 1))
        return vdisk_error_set(err, EINVAL, "Parameter '%s': '%s' is not a value the descriptor can "
                               "hold (at most %zu printable characters, no '\"')", key, value, cap - 1);
    strcpy(out, value);
    return 0;
}

/* -o subformat=... */
static int
set_subformat(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    int i = lookup(subformat_names, COUNT(subformat_names), value);
    if (i < 0)
        return bad_value(key, value, "monolithicSparse, monolithicFlat, twoGbMaxExtentSparse, "
                         "twoGbMaxExtentFlat or streamOptimized", err);
    o->vmdk.subformat = (vdisk_vmdk_subformat)i;
    return 0;
}

/* -o adapter_type=... */
static int
set_adapter(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    int i = lookup(adapter_names, COUNT(adapter_names), value);
    if (i < 0)
        return bad_value(key, value, "ide, lsilogic, buslogic or legacyESX", err);
    o->vmdk.adapter_type = (vdisk_vmdk_adapter)i;
    return 0;
}

/* -o hwversion=... ("undefined" is qemu-img's word for the default) */
static int
set_hwversion(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    if (strcmp(value, "undefined") == 0) {
        o->vmdk.hwversion[0] = '\0';
        return 0;
    }
    return set_text(key, value, o->vmdk.hwversion, sizeof(o->vmdk.hwversion), err);
}

/* -o toolsversion=... */
static int
set_toolsversion(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    return set_text(key, value, o->vmdk.toolsversion, sizeof(o->vmdk.toolsversion), err);
}

/* -o compat6=on|off */
static int
set_compat6(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    return vdisk_opt_parse_bool(key, value, &o->vmdk.compat6, err);
}

/* -o zeroed_grain=on|off */
static int
set_zeroed_grain(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    return vdisk_opt_parse_bool(key, value, &o->vmdk.zeroed_grain, err);
}

/* -o preallocation=thin|zeroedthick|eagerzeroedthick (VMware's words) or
 * one of the values every format takes. */
static int
set_provisioning(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    static const struct { const char *word; vdisk_prealloc mode; } words[] = {
        { "thin", VDISK_PREALLOC_OFF },
        { "zeroedthick", VDISK_PREALLOC_FALLOC },
        { "eagerzeroedthick", VDISK_PREALLOC_FULL },
    };
    for (size_t i = 0; i < COUNT(words); i++)
        if (strcmp(value, words[i].word) == 0) {
            o->prealloc = words[i].mode;
            return 0;
        }
    return vdisk_opt_set_prealloc(o, key, value, err);
}

#define CM VDISK_OPTION_CM

/* Every option of create -f vmdk, in qemu-img's order: its own, then the
 * protocol's (nocow, preallocation). */
const vdisk_option vmdk_options[] = {
    VDISK_OPTION_ENTRY_SIZE,
    { "adapter_type", VDISK_OPTION_STRING, CM, 0, NULL, "Virtual adapter type, can be one of ide "
      "(default), lsilogic, buslogic or legacyESX", set_adapter, NULL },
    { "backing_file", VDISK_OPTION_STRING, CM, 0, NULL, "File name of a base image",
      vdisk_opt_set_backing_file, NULL },
    { "backing_fmt", VDISK_OPTION_STRING, CM, 0, NULL, "Must be 'vmdk' if present",
      vdisk_opt_set_backing_fmt, NULL },
    { "compat6", VDISK_OPTION_BOOL, CM, 0, "off", "VMDK version 6 image", set_compat6, NULL },
    { "hwversion", VDISK_OPTION_STRING, CM, 0, "undefined", "VMDK hardware version",
      set_hwversion, NULL },
    { "toolsversion", VDISK_OPTION_STRING, CM, 0, NULL, "VMware guest tools version",
      set_toolsversion, NULL },
    { "subformat", VDISK_OPTION_STRING, CM, 0, NULL, "VMDK flat extent format, can be one of "
      "{monolithicSparse (default) | monolithicFlat | twoGbMaxExtentSparse | twoGbMaxExtentFlat | "
      "streamOptimized} ", set_subformat, NULL },
    { "zeroed_grain", VDISK_OPTION_BOOL, CM, 0, NULL, "Enable efficient zero writes using the "
      "zeroed-grain GTE feature", set_zeroed_grain, NULL },
    VDISK_OPTION_ENTRY_NOCOW,
    { "preallocation", VDISK_OPTION_STRING, CM, VDISK_OPTION_COMMON, NULL, "Preallocation mode "
      "(allowed values: off, falloc, full; VMware's thin, zeroedthick, eagerzeroedthick)",
      set_provisioning, NULL },
    VDISK_OPTIONS_END,
};

static bool
is_flat(vdisk_vmdk_subformat s)
{
    return s == VDISK_VMDK_MONOLITHIC_FLAT || s == VDISK_VMDK_TWOGB_FLAT;
}

int
vmdk_opts_validate(const vdisk_create_opts *o, vdisk_error *err)
{
    const vdisk_vmdk_create_opts *v = &o->vmdk;
    if (!vdisk_vmdk_subformat_name(v->subformat) || !vdisk_vmdk_adapter_name(v->adapter_type))
        return vdisk_error_set(err, EINVAL, "invalid vmdk subformat or adapter type");
    if (v->compat6 && v->hwversion[0])
        return vdisk_error_set(err, EINVAL, "compat6 cannot be enabled with hwversion set");
    if (is_flat(v->subformat) && o->backing_file)
        return vdisk_error_set(err, ENOTSUP, "Flat image can't have backing file");
    if (is_flat(v->subformat) && v->zeroed_grain)
        return vdisk_error_set(err, ENOTSUP, "Flat image can't enable zeroed grain");
    if (o->backing_format != VDISK_FORMAT_UNKNOWN && o->backing_format != VDISK_FORMAT_VMDK)
        return vdisk_error_set(err, EINVAL, "backing_file must be a vmdk image");
    if (o->backing_file && !vmdk_descriptor_value_ok(o->backing_file, VMDK_MAX_NAME))
        return vdisk_error_set(err, EINVAL, "backing file name '%s' cannot be written into a VMDK "
                               "descriptor (no '\"' or control characters)", o->backing_file);
    if (o->prealloc == VDISK_PREALLOC_METADATA)
        return vdisk_error_set(err, ENOTSUP, "Unsupported preallocation mode: metadata (vmdk takes "
                               "off, falloc or full: thin, zeroedthick or eagerzeroedthick)");
    if (v->subformat == VDISK_VMDK_STREAM_OPTIMIZED && o->prealloc != VDISK_PREALLOC_OFF)
        return vdisk_error_set(err, ENOTSUP, "preallocation=%s is not possible for a streamOptimized "
                               "image (a compressed stream; use off)", vdisk_prealloc_name(o->prealloc));
    if (o->backing_file && o->prealloc != VDISK_PREALLOC_OFF)
        return vdisk_error_set(err, ENOTSUP, "Backing file and preallocation cannot be used at the "
                               "same time (preallocated grains would hide the parent)");
    return 0;
}
