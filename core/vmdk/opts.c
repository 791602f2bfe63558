/* libvdisk — the creation options of VMDK images: one table, in qemu-img
 * 7.2's order (its help text and "Formatting" line follow it), and the
 * checks of their combination.
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

static int
set_bool(const char *key, const char *value, bool *out, vdisk_error *err)
{
    static const char *const yes[] = { "on", "yes", "true", "y" };
    static const char *const no[] = { "off", "no", "false", "n" };
    if (lookup(yes, COUNT(yes), value) >= 0)
        *out = true;
    else if (lookup(no, COUNT(no), value) >= 0)
        *out = false;
    else
        return vdisk_error_set(err, EINVAL, "Parameter '%s' expects 'on' or 'off' (not '%s')", key, value);
    return 0;
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
    return set_bool(key, value, &o->vmdk.compat6, err);
}

/* -o zeroed_grain=on|off */
static int
set_zeroed_grain(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    return set_bool(key, value, &o->vmdk.zeroed_grain, err);
}

/* -o preallocation=thin|zeroedthick|eagerzeroedthick (VMware's words); the
 * generic values are left to create.c. */
static int
set_provisioning(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    (void)key;
    (void)err;
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
    return -ENOENT;
}

typedef int (*vmdk_option_set)(vdisk_create_opts *o, const char *key, const char *value,
                               vdisk_error *err);

/* Every option of create -f vmdk; set NULL: parsed by create.c for all
 * formats. */
static const struct vmdk_option {
    vdisk_option_desc desc;
    vmdk_option_set set;
} options[] = {
    { { "size", "size", "Virtual disk size", NULL }, NULL },
    { { "adapter_type", "str", "Virtual adapter type, can be one of ide (default), lsilogic, "
        "buslogic or legacyESX", NULL }, set_adapter },
    { { "backing_file", "str", "File name of a base image", NULL }, NULL },
    { { "backing_fmt", "str", "Must be 'vmdk' if present", NULL }, NULL },
    { { "compat6", "bool (on/off)", "VMDK version 6 image", "off" }, set_compat6 },
    { { "hwversion", "str", "VMDK hardware version", "undefined" }, set_hwversion },
    { { "toolsversion", "str", "VMware guest tools version", NULL }, set_toolsversion },
    { { "subformat", "str", "VMDK flat extent format, can be one of {monolithicSparse (default) | "
        "monolithicFlat | twoGbMaxExtentSparse | twoGbMaxExtentFlat | streamOptimized} ", NULL },
      set_subformat },
    { { "zeroed_grain", "bool (on/off)", "Enable efficient zero writes using the zeroed-grain GTE "
        "feature", NULL }, set_zeroed_grain },
    { { "nocow", "bool (on/off)", "Turn off copy-on-write (valid only on btrfs)", NULL }, NULL },
    { { "preallocation", "str", "Preallocation mode (allowed values: off, falloc, full; VMware's "
        "thin, zeroedthick, eagerzeroedthick)", NULL }, set_provisioning },
};

const vdisk_option_desc *
vdisk_vmdk_create_option(size_t i)
{
    return i < COUNT(options) ? &options[i].desc : NULL;
}

int
vmdk_opts_set(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    for (size_t i = 0; i < COUNT(options); i++)
        if (strcmp(options[i].desc.name, key) == 0)
            return options[i].set ? options[i].set(o, key, value, err) : -ENOENT;
    return -ENOENT;
}

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
