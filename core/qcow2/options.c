/* libvdisk — the qcow2 options (vdisk/options.h): what create, measure and
 * amend take, in the order `create -o help` lists them, how their values
 * are stored, and the checks of their combination for a new image.
 * Create's value messages quote the value; amend's are qemu-img amend's,
 * word for word.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "qcow2.h"

#define HELP_BACKING_FILE "File name of a base image"
#define HELP_BACKING_FMT "Image format of the base image"
#define HELP_COMPAT "Compatibility level (v2 [0.10] or v3 [1.1])"
#define HELP_REFCOUNT_BITS "Width of a reference count entry in bits"
#define HELP_LAZY "Postpone refcount updates"

/* ---- create ------------------------------------------------------------- */

/* cluster_size=SIZE: a size that also fits the 32-bit field. */
static int
set_cluster_size(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    uint64_t n;
    int r = vdisk_opt_parse_size(key, value, &n, err);
    if (r == 0 && n > UINT32_MAX)
        r = vdisk_error_set(err, EINVAL, "Cluster size must be a power of two between 512 and 2048k");
    if (r == 0)
        o->cluster_size = (uint32_t)n;
    return r;
}

/* compat=0.10|1.1 (v2|v3). */
static int
set_compat(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    (void)key;
    if (strcmp(value, "0.10") == 0 || strcmp(value, "v2") == 0)
        o->compat = 2;
    else if (strcmp(value, "1.1") == 0 || strcmp(value, "v3") == 0)
        o->compat = 3;
    else
        return vdisk_error_set(err, EINVAL, "Parameter 'compat' does not accept value '%s' (expected "
                               "0.10 or 1.1)", value);
    return 0;
}

/* refcount_bits=N; widths past 64 are kept as 65 for validate's message. */
static int
set_refcount_bits(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    uint64_t n;
    int r = vdisk_opt_parse_number(key, value, &n, err);
    if (r == 0)
        o->refcount_bits = n > 64 ? 65 : (int)n;
    return r;
}

/* lazy_refcounts=on|off (create's spellings: yes/no, true/false too). */
static int
set_lazy_refcounts(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    return vdisk_opt_parse_bool(key, value, &o->lazy_refcounts, err);
}

/* extended_l2=on|off: subclusters. */
static int
set_extended_l2(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    return vdisk_opt_parse_bool(key, value, &o->extended_l2, err);
}

/* compression_type=zlib|zstd. */
static int
set_compression_type(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    (void)key;
    if (strcmp(value, "zlib") == 0)
        o->compression_type = VDISK_COMPRESSION_ZLIB;
    else if (strcmp(value, "zstd") == 0)
        o->compression_type = VDISK_COMPRESSION_ZSTD;
    else
        return vdisk_error_set(err, EINVAL, "Parameter 'compression_type' does not accept value '%s' "
                               "(expected zlib or zstd)", value);
    return 0;
}

/* encryption=on: qemu-img's old spelling of encrypt.format=aes. */
static int
set_encryption(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    bool on;
    int r = vdisk_opt_parse_bool(key, value, &on, err);
    if (r == 0)
        o->encrypt.format = on ? VDISK_ENCRYPT_AES : VDISK_ENCRYPT_NONE;
    return r;
}

/* ---- amend (qemu-img amend's messages) ---------------------------------- */

/* size=SIZE: the new virtual size. */
static int
amend_size(vdisk_amend_opts *o, const char *key, const char *value, vdisk_error *err)
{
    (void)key;
    if (vdisk_parse_size(value, &o->size, NULL) < 0)
        return vdisk_error_set(err, EINVAL, "Parameter 'size' expects a non-negative number below 2^64\n"
                               "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, "
                               "peta-\nand exabytes, respectively.");
    return 0;
}

/* on|off only, as QEMU's QemuOpts booleans. */
static int
amend_bool(const char *key, const char *value, int *out, vdisk_error *err)
{
    if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
        return vdisk_error_set(err, EINVAL, "Parameter '%s' expects 'on' or 'off'", key);
    *out = strcmp(value, "on") == 0;
    return 0;
}

/* compat=0.10|1.1 (v2|v3): up- or downgrade. */
static int
amend_compat(vdisk_amend_opts *o, const char *key, const char *value, vdisk_error *err)
{
    (void)key;
    if (strcmp(value, "0.10") == 0 || strcmp(value, "v2") == 0)
        o->qcow2_version = 2;
    else if (strcmp(value, "1.1") == 0 || strcmp(value, "v3") == 0)
        o->qcow2_version = 3;
    else
        return vdisk_error_set(err, EINVAL, "Unknown compatibility level %s", value);
    return 0;
}

/* lazy_refcounts=on|off. */
static int
amend_lazy_refcounts(vdisk_amend_opts *o, const char *key, const char *value, vdisk_error *err)
{
    return amend_bool(key, value, &o->lazy_refcounts, err);
}

/* refcount_bits=N as QEMU reads numbers (0x10 and 020 too; "-1" wraps to a
 * width the driver refuses, 0 and widths past 64 get its message). */
static int
amend_refcount_bits(vdisk_amend_opts *o, const char *key, const char *value, vdisk_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 0);
    if (errno || end == value || *end)
        return vdisk_error_set(err, EINVAL, "Parameter '%s' expects a number", key);
    o->refcount_bits = v == 0 ? -1 : v > 64 ? 65 : (int)v;
    return 0;
}

/* backing_file=NAME: only what the image names already (vdisk_amend checks). */
static int
amend_backing_file(vdisk_amend_opts *o, const char *key, const char *value, vdisk_error *err)
{
    (void)key, (void)err;
    o->backing_file = value;
    return 0;
}

/* backing_fmt=FMT: likewise. */
static int
amend_backing_fmt(vdisk_amend_opts *o, const char *key, const char *value, vdisk_error *err)
{
    (void)key, (void)err;
    o->backing_format = value;
    return 0;
}

/* data_file=NAME: refused by vdisk_amend with qemu-img's message. */
static int
amend_data_file(vdisk_amend_opts *o, const char *key, const char *value, vdisk_error *err)
{
    (void)key, (void)err;
    o->data_file = value;
    return 0;
}

/* data_file_raw=on|off: on is refused by vdisk_amend. */
static int
amend_data_file_raw(vdisk_amend_opts *o, const char *key, const char *value, vdisk_error *err)
{
    return amend_bool(key, value, &o->data_file_raw, err);
}

/* ---- the combination ---------------------------------------------------- */

#define MIN_CLUSTER (1u << QCOW2_MIN_CLUSTER_BITS)
#define MAX_CLUSTER (1u << QCOW2_MAX_CLUSTER_BITS)
/* Extended L2: 32 subclusters of at least 512 bytes. */
#define MIN_EXTL2_CLUSTER (16u << 10)

static bool
is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* The layout: version, cluster size, subclusters, refcount width. */
static int
validate_layout(const vdisk_create_opts *o, vdisk_error *err)
{
    if (o->compat != 2 && o->compat != 3)
        return vdisk_error_set(err, EINVAL, "Invalid compatibility level: %d", o->compat);
    if (!is_pow2(o->cluster_size) || o->cluster_size < MIN_CLUSTER || o->cluster_size > MAX_CLUSTER)
        return vdisk_error_set(err, EINVAL, "Cluster size must be a power of two between 512 and 2048k");
    if (o->extended_l2 && o->compat < 3)
        return vdisk_error_set(err, EINVAL, "Extended L2 entries are only supported with compatibility "
                               "level 1.1 and above (use compat=1.1 or greater)");
    if (o->extended_l2 && o->cluster_size < MIN_EXTL2_CLUSTER)
        return vdisk_error_set(err, EINVAL, "Extended L2 entries are only supported with cluster sizes "
                               "of at least %u bytes", MIN_EXTL2_CLUSTER);
    if (o->backing_file && o->prealloc != VDISK_PREALLOC_OFF && !o->extended_l2)
        return vdisk_error_set(err, EINVAL, "Backing file and preallocation can only be used at the "
                               "same time if extended_l2 is on");
    if (o->lazy_refcounts && o->compat < 3)
        return vdisk_error_set(err, EINVAL, "Lazy refcounts only supported with compatibility level 1.1 "
                               "and above (use compat=1.1 or greater)");
    if (o->refcount_bits < 1 || o->refcount_bits > 64 || !is_pow2((uint64_t)o->refcount_bits))
        return vdisk_error_set(err, EINVAL, "Refcount width must be a power of two and may not exceed 64 bits");
    if (o->compat < 3 && o->refcount_bits != 16)
        return vdisk_error_set(err, EINVAL, "Different refcount widths than 16 bits require compatibility "
                               "level 1.1 or above (use compat=1.1 or greater)");
    if (o->compat < 3 && o->compression_type != VDISK_COMPRESSION_ZLIB)
        return vdisk_error_set(err, EINVAL, "Non-zlib compression type is only supported with compatibility "
                               "level 1.1 and above (use compat=1.1 or greater)");
    return 0;
}

int
qcow2_opts_validate(const vdisk_create_opts *o, vdisk_error *err)
{
    int r = vdisk_encrypt_opts_validate(&o->encrypt, err);
    if (r == 0 && o->encrypt.format != VDISK_ENCRYPT_NONE && o->prealloc != VDISK_PREALLOC_OFF)
        r = vdisk_error_set(err, ENOTSUP, "preallocation=%s is not supported with encryption "
                            "(preallocated clusters would not read as zeros)", vdisk_prealloc_name(o->prealloc));
    return r < 0 ? r : validate_layout(o, err);
}

/* ---- the table ---------------------------------------------------------- */

#define CM VDISK_OPTION_CM
#define CMA (VDISK_OPTION_CM | VDISK_OPTION_AMEND)

const vdisk_option qcow2_options[] = {
    { "encrypt.format", VDISK_OPTION_STRING, CM, 0, NULL,
      "Encrypt the image, format choices: 'aes', 'luks'", vdisk_opt_set_encrypt, NULL },
    VDISK_OPTIONS_LUKS_CREATE("encrypt.", "ID of secret providing qcow2 AES key or LUKS passphrase"),
    VDISK_OPTIONS_COMMON,
    { "backing_file", VDISK_OPTION_STRING, CMA, 0, NULL, HELP_BACKING_FILE,
      vdisk_opt_set_backing_file, amend_backing_file },
    { "backing_fmt", VDISK_OPTION_STRING, CMA, 0, NULL, HELP_BACKING_FMT,
      vdisk_opt_set_backing_fmt, amend_backing_fmt },
    { "cluster_size", VDISK_OPTION_SIZE, CM, 0, "65536", "qcow2 cluster size",
      set_cluster_size, NULL },
    { "compat", VDISK_OPTION_STRING, CMA, 0, NULL, HELP_COMPAT, set_compat, amend_compat },
    { "refcount_bits", VDISK_OPTION_NUMBER, CMA, 0, "16", HELP_REFCOUNT_BITS,
      set_refcount_bits, amend_refcount_bits },
    { "lazy_refcounts", VDISK_OPTION_BOOL, CMA, 0, "off", HELP_LAZY,
      set_lazy_refcounts, amend_lazy_refcounts },
    { "extended_l2", VDISK_OPTION_BOOL, CM, 0, "off", "Extended L2 tables", set_extended_l2, NULL },
    { "compression_type", VDISK_OPTION_STRING, CM, 0, "zlib",
      "Compression method used for image cluster compression", set_compression_type, NULL },
    { "encryption", VDISK_OPTION_BOOL, CM, VDISK_OPTION_HIDDEN, NULL,
      "Encrypt the image with format 'aes'. (Deprecated in favor of encrypt.format=aes)",
      set_encryption, NULL },
    /* amend only: size (create's is in the common options), and the
     * external data file vdisk refuses with qemu-img's messages */
    { "size", VDISK_OPTION_SIZE, VDISK_OPTION_AMEND, 0, NULL, VDISK_HELP_SIZE, NULL, amend_size },
    { "data_file", VDISK_OPTION_STRING, VDISK_OPTION_AMEND, 0, NULL,
      "File name of an external data file", NULL, amend_data_file },
    { "data_file_raw", VDISK_OPTION_BOOL, VDISK_OPTION_AMEND, 0, NULL,
      "The external data file must stay valid as a raw image", NULL, amend_data_file_raw },
    VDISK_OPTIONS_LUKS_KEYSLOT("encrypt."),
    VDISK_OPTIONS_END,
};
