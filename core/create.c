/* libvdisk — creation options (qemu-img's -o vocabulary), their checks, and
 * vdisk_create / vdisk_measure_image dispatch to the format drivers.
 *
 * Messages for invalid combinations follow qemu-img's wording, so an admin
 * who knows one recognises the other.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "create-opts.h"
#include "driver.h"
#include "vhdx/opts.h"
#include "vpc/opts.h"
#include "vmdk/opts.h"

#define MIN_CLUSTER 512u
#define MAX_CLUSTER (2u << 20)
#define DEFAULT_CLUSTER (64u << 10)
/* Extended L2: 32 subclusters of at least 512 bytes. */
#define MIN_EXTL2_CLUSTER (16u << 10)
/* QEMU's limit for any image size (BDRV_MAX_LENGTH is a bit lower; 8 EiB
 * is where its size parser stops). */
#define MAX_IMAGE_SIZE (UINT64_C(1) << 63)

static const char *const prealloc_names[] = {
    [VDISK_PREALLOC_OFF] = "off",
    [VDISK_PREALLOC_METADATA] = "metadata",
    [VDISK_PREALLOC_FALLOC] = "falloc",
    [VDISK_PREALLOC_FULL] = "full",
};

const char *
vdisk_prealloc_name(vdisk_prealloc p)
{
    if ((unsigned)p < sizeof(prealloc_names) / sizeof(prealloc_names[0]))
        return prealloc_names[p];
    return "unknown";
}

int
vdisk_prealloc_from_name(const char *name, vdisk_prealloc *p, vdisk_error *err)
{
    for (unsigned i = 0; i < sizeof(prealloc_names) / sizeof(prealloc_names[0]); i++)
        if (strcmp(name, prealloc_names[i]) == 0) {
            *p = (vdisk_prealloc)i;
            return 0;
        }
    return vdisk_error_set(err, EINVAL, "Parameter 'preallocation' does not accept value '%s' "
                           "(expected off, metadata, falloc or full)", name);
}

/* Multiplier shift of a size suffix (qemu's suffix_mul), or -1. */
static int
suffix_shift(char c)
{
    switch (c) {
    case 'b': case 'B': return 0;
    case 'k': case 'K': return 10;
    case 'm': case 'M': return 20;
    case 'g': case 'G': return 30;
    case 't': case 'T': return 40;
    case 'p': case 'P': return 50;
    case 'e': case 'E': return 60;
    default: return -1;
    }
}

/* The fraction after the integral part, as qemu reads it: strtod in the C
 * locale, exponents refused, "1." and "1.k" allowed.  *valf is the fraction
 * in 0.64 fixed point.  Returns false if the text is invalid. */
static bool
parse_fraction(const char **pp, uint64_t *valf)
{
    const char *f = *pp;
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    char *end;
    double fraction = c ? strtod_l(f, &end, c) : strtod(f, &end);
    if (c)
        freelocale(c);
    if (end == f || !isfinite(fraction)) {
        *pp = f + 1;   /* a bare '.' */
        return true;
    }
    if (memchr(f, 'e', (size_t)(end - f)) || memchr(f, 'E', (size_t)(end - f)))
        return false;
    double scaled = fraction * 18446744073709551616.0;
    *valf = scaled >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)scaled;
    *pp = end;
    return true;
}

/* The integral part: decimal, or hexadecimal with 0x (no fraction then). */
static int
parse_integral(const char *text, const char *p, uint64_t *val, const char **end, bool *hex,
               vdisk_error *err)
{
    if (*p == '-' || !isdigit((unsigned char)(*p == '+' ? p[1] : *p)))
        return vdisk_error_set(err, EINVAL, "invalid size '%s': expected a non-negative number with an "
                               "optional suffix k, M, G, T, P or E", text);
    const char *digits = *p == '+' ? p + 1 : p;
    *hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') && isxdigit((unsigned char)digits[2]);
    char *e;
    errno = 0;
    *val = strtoull(p, &e, *hex ? 16 : 10);
    if (errno == ERANGE)
        return vdisk_error_set(err, ERANGE, "invalid size '%s': too large", text);
    *end = e;
    return 0;
}

int
vdisk_parse_size(const char *text, uint64_t *out, vdisk_error *err)
{
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    uint64_t val = 0, valf = 0;
    bool hex = false;
    const char *end = p;
    int r = parse_integral(text, p, &val, &end, &hex, err);
    if (r < 0)
        return r;
    if (*end == '.' && (hex || !parse_fraction(&end, &valf)))
        return vdisk_error_set(err, EINVAL, "invalid size '%s': bad fraction", text);
    int shift = suffix_shift(*end);
    if (shift >= 0)
        end++;
    else
        shift = 0;
    if (*end != '\0')
        return vdisk_error_set(err, EINVAL, "invalid size '%s': unexpected '%s' (suffixes: k, M, G, T, "
                               "P or E)", text, end);
    if (shift == 0 && valf)
        return vdisk_error_set(err, EINVAL, "invalid size '%s': a fraction needs a suffix (k, M, G, T, "
                               "P or E)", text);
    /* Exact 64.64 fixed-point product, rounding half a byte up, as qemu. */
    unsigned __int128 whole = (unsigned __int128)val << shift;
    unsigned __int128 frac = (unsigned __int128)valf << shift;
    whole += (uint64_t)(frac >> 64);
    whole += (uint64_t)(frac >> 63) & 1;
    if (whole > UINT64_MAX)
        return vdisk_error_set(err, ERANGE, "invalid size '%s': too large", text);
    *out = (uint64_t)whole;
    return 0;
}

void
vdisk_create_opts_init(vdisk_create_opts *opts, vdisk_format fmt)
{
    memset(opts, 0, sizeof(*opts));
    opts->format = fmt;
    opts->prealloc = VDISK_PREALLOC_OFF;
    opts->cluster_size = DEFAULT_CLUSTER;
    opts->compat = 3;
    opts->refcount_bits = 16;
    opts->compression_type = VDISK_COMPRESSION_ZLIB;
    opts->backing_format = VDISK_FORMAT_UNKNOWN;
    if (fmt == VDISK_FORMAT_LUKS)
        opts->encrypt.format = VDISK_ENCRYPT_LUKS;
    vpc_opts_init(&opts->vpc);
    vhdx_opts_init(&opts->vhdx);
}

void
vdisk_create_opts_clear(vdisk_create_opts *opts)
{
    free(opts->backing_file);
    opts->backing_file = NULL;
}

static int
parse_bool(const char *key, const char *value, bool *out, vdisk_error *err)
{
    static const char *const yes[] = { "on", "yes", "true", "y" };
    static const char *const no[] = { "off", "no", "false", "n" };
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(value, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(value, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return vdisk_error_set(err, EINVAL, "Parameter '%s' expects 'on' or 'off' (not '%s')", key, value);
}

static int
parse_compat(const char *value, int *out, vdisk_error *err)
{
    if (strcmp(value, "0.10") == 0 || strcmp(value, "v2") == 0)
        *out = 2;
    else if (strcmp(value, "1.1") == 0 || strcmp(value, "v3") == 0)
        *out = 3;
    else
        return vdisk_error_set(err, EINVAL, "Parameter 'compat' does not accept value '%s' (expected 0.10 or 1.1)",
                               value);
    return 0;
}

static int
parse_number(const char *key, const char *value, uint64_t *out, vdisk_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 0);   /* 16, 0x10, 020 as QEMU */
    if (errno || end == value || *end || value[0] == '-')
        return vdisk_error_set(err, EINVAL, "Parameter '%s' expects a number (not '%s')", key, value);
    *out = v;
    return 0;
}

/* A size-valued option (size, cluster_size), with qemu's message. */
static int
parse_size_option(const char *key, const char *value, uint64_t *out, vdisk_error *err)
{
    vdisk_error local;
    int r = vdisk_parse_size(value, out, &local);
    if (r < 0)
        return vdisk_error_set(err, -r, "Parameter '%s' expects a non-negative number below 2^64 "
                               "(optional suffix k, M, G, T, P or E), not '%s'", key, value);
    return 0;
}

/* qcow2's encrypt.* keys (and the old encryption=on, meaning AES), luks's
 * bare ones; -ENOENT for anything else. */
static int
encrypt_option(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    if (o->format == VDISK_FORMAT_QCOW2 && strncmp(key, "encrypt.", 8) == 0) {
        int r = vdisk_encrypt_opts_set(&o->encrypt, key + 8, value, err);
        if (r == -ENOENT)
            r = vdisk_error_set(err, EINVAL, "Invalid parameter '%s' for format qcow2", key);
        return r;
    }
    if (o->format == VDISK_FORMAT_QCOW2 && strcmp(key, "encryption") == 0) {
        bool on;
        int r = parse_bool(key, value, &on, err);
        if (r == 0)
            o->encrypt.format = on ? VDISK_ENCRYPT_AES : VDISK_ENCRYPT_NONE;
        return r;
    }
    if (o->format == VDISK_FORMAT_LUKS && strcmp(key, "format") != 0)
        return vdisk_encrypt_opts_set(&o->encrypt, key, value, err);
    return -ENOENT;
}

/* Options of the formats that keep their own table (core/<format>/opts.c);
 * -ENOENT for anything else. */
static int
format_option(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    if (o->format == VDISK_FORMAT_VPC)
        return vpc_opts_set(o, key, value, err);
    if (o->format == VDISK_FORMAT_VHDX)
        return vhdx_opts_set(o, key, value, err);
    return -ENOENT;
}

const vdisk_create_option *
vdisk_create_format_options(vdisk_format fmt)
{
    if (fmt == VDISK_FORMAT_VPC)
        return vpc_create_options;
    if (fmt == VDISK_FORMAT_VHDX)
        return vhdx_create_options;
    return NULL;
}

int
vdisk_create_opts_set(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    uint64_t n;
    int r;
    if (o->format == VDISK_FORMAT_VMDK) {
        r = vmdk_opts_set(o, key, value, err);   /* vmdk/opts.c: that format's table */
        if (r != -ENOENT)
            return r;
    }
    if (strcmp(key, "size") == 0)
        return parse_size_option(key, value, &o->size, err);
    if (strcmp(key, "preallocation") == 0)
        return vdisk_prealloc_from_name(value, &o->prealloc, err);
    if (strcmp(key, "nocow") == 0)
        return parse_bool(key, value, &o->nocow, err);
    r = format_option(o, key, value, err);
    if (r != -ENOENT)
        return r;
    if (o->format == VDISK_FORMAT_RAW && (strcmp(key, "backing_file") == 0 || strcmp(key, "backing_fmt") == 0))
        return vdisk_error_set(err, EINVAL, "Invalid parameter '%s' for format raw "
                               "(raw images cannot have a backing file; use qcow2)", key);
    if (strcmp(key, "backing_file") == 0) {
        char *copy = strdup(value);
        if (!copy)
            return vdisk_error_set(err, ENOMEM, "out of memory");
        free(o->backing_file);
        o->backing_file = copy;
        return 0;
    }
    if (strcmp(key, "backing_fmt") == 0)
        return vdisk_format_from_name(value, &o->backing_format, err);
    r = encrypt_option(o, key, value, err);
    if (r != -ENOENT)
        return r;
    if (o->format == VDISK_FORMAT_QCOW2) {
        if (strcmp(key, "cluster_size") == 0) {
            r = parse_size_option(key, value, &n, err);
            if (r == 0 && n > UINT32_MAX)
                r = vdisk_error_set(err, EINVAL, "Cluster size must be a power of two between 512 and 2048k");
            if (r == 0)
                o->cluster_size = (uint32_t)n;
            return r;
        }
        if (strcmp(key, "compat") == 0)
            return parse_compat(value, &o->compat, err);
        if (strcmp(key, "refcount_bits") == 0) {
            r = parse_number(key, value, &n, err);
            if (r == 0)
                o->refcount_bits = n > 64 ? 65 : (int)n;
            return r;
        }
        if (strcmp(key, "lazy_refcounts") == 0)
            return parse_bool(key, value, &o->lazy_refcounts, err);
        if (strcmp(key, "extended_l2") == 0)
            return parse_bool(key, value, &o->extended_l2, err);
        if (strcmp(key, "compression_type") == 0) {
            if (strcmp(value, "zlib") == 0)
                o->compression_type = VDISK_COMPRESSION_ZLIB;
            else if (strcmp(value, "zstd") == 0)
                o->compression_type = VDISK_COMPRESSION_ZSTD;
            else
                return vdisk_error_set(err, EINVAL, "Parameter 'compression_type' does not accept value '%s' "
                                       "(expected zlib or zstd)", value);
            return 0;
        }
    }
    return vdisk_error_set(err, EINVAL, "Invalid parameter '%s' for format %s", key,
                           vdisk_format_name(o->format));
}

int
vdisk_create_opts_parse(vdisk_create_opts *opts, const char *list, vdisk_error *err)
{
    char *copy = strdup(list);
    if (!copy)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    int r = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            r = vdisk_error_set(err, EINVAL, "Invalid option '%s': expected key=value", item);
            break;
        }
        *eq = '\0';
        r = vdisk_create_opts_set(opts, item, eq + 1, err);
        if (r < 0)
            break;
    }
    free(copy);
    return r;
}

static bool
is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static int
validate_qcow2(const vdisk_create_opts *o, vdisk_error *err)
{
    if (o->compat != 2 && o->compat != 3)
        return vdisk_error_set(err, EINVAL, "Invalid compatibility level: %d", o->compat);
    if (!is_pow2(o->cluster_size) || o->cluster_size < MIN_CLUSTER || o->cluster_size > MAX_CLUSTER)
        return vdisk_error_set(err, EINVAL, "Cluster size must be a power of two between 512 and 2048k "
                               "(got %" PRIu32 ")", o->cluster_size);
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
vdisk_create_opts_validate(const vdisk_create_opts *o, vdisk_error *err)
{
    if (!vdisk_format_can_create(o->format)) {
        char list[128];
        vdisk_format_list_creatable(list, sizeof(list));
        return vdisk_error_set(err, ENOTSUP, "cannot create images of format %s (vdisk creates %s)",
                               vdisk_format_name(o->format), list);
    }
    if (o->size >= MAX_IMAGE_SIZE)
        return vdisk_error_set(err, EFBIG, "Image size must be less than 8 EiB!");
    if (o->backing_format != VDISK_FORMAT_UNKNOWN && !o->backing_file)
        return vdisk_error_set(err, EINVAL, "Backing format cannot be used without backing file");
    if (o->format == VDISK_FORMAT_VPC)
        return vpc_opts_validate(o, err);
    if (o->format == VDISK_FORMAT_VHDX)
        return vhdx_opts_validate(o, err);
    if (o->format == VDISK_FORMAT_RAW) {
        if (o->backing_file)
            return vdisk_error_set(err, ENOTSUP, "raw images cannot have a backing file (use qcow2)");
        if (o->prealloc == VDISK_PREALLOC_METADATA)
            return vdisk_error_set(err, ENOTSUP, "Unsupported preallocation mode: metadata (raw images "
                                   "take off, falloc or full)");
        return 0;
    }
    if (o->format == VDISK_FORMAT_VMDK)
        return vmdk_opts_validate(o, err);
    if (o->format == VDISK_FORMAT_LUKS && o->backing_file)
        return vdisk_error_set(err, ENOTSUP, "luks images cannot have a backing file (use qcow2 with "
                               "encrypt.format=luks)");
    int r = vdisk_encrypt_opts_validate(&o->encrypt, err);
    if (r == 0 && o->format == VDISK_FORMAT_QCOW2 && o->encrypt.format != VDISK_ENCRYPT_NONE &&
        o->prealloc != VDISK_PREALLOC_OFF)
        r = vdisk_error_set(err, ENOTSUP, "preallocation=%s is not supported with encryption "
                            "(preallocated clusters would not read as zeros)", vdisk_prealloc_name(o->prealloc));
    if (r < 0 || o->format == VDISK_FORMAT_LUKS)
        return r;
    return validate_qcow2(o, err);
}

/* With a backing file: record its format (probe it when not given) and take
 * its size when none was given, as qemu-img does. */
static int
resolve_backing(const char *path, vdisk_create_opts *o, vdisk_error *err)
{
    char *full = vdisk_resolve_backing_name(path, o->backing_file);
    if (!full)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    vdisk_open_opts bo = { .format = o->backing_format, .flags = VDISK_OPEN_FORCE_SHARE | VDISK_OPEN_NO_KEY,
                           .backing_policy = o->backing_policy };
    vdisk_image *b;
    int r = vdisk_open(full, &bo, &b, err);
    if (r < 0) {
        vdisk_error_prefix(err, "%s: could not open backing file", path);
        free(full);
        return r;
    }
    o->backing_format = vdisk_get_format(b);
    if (o->size == 0)
        o->size = vdisk_get_size(b);
    vdisk_close(b, NULL);
    free(full);
    return 0;
}

int
vdisk_create(const char *path, const vdisk_create_opts *opts, vdisk_progress_fn progress,
             void *opaque, vdisk_error *err)
{
    vdisk_create_opts o = *opts;   /* shallow: backing_file stays the caller's */
    int r = 0;
    if (o.backing_file)
        r = resolve_backing(path, &o, err);
    if (r == 0)
        r = vdisk_create_opts_validate(&o, err);
    if (r < 0)
        return r;
    /* As qemu-img: images are whole 512-byte sectors (a 1000-byte raw
     * image is created 1024 bytes long; qcow2 cannot express less). */
    o.size = (o.size + 511) / 512 * 512;
    const struct vdisk_driver *drv = vdisk_driver_for(o.format);
    if (!drv || !drv->create)
        return vdisk_error_set(err, ENOTSUP, "%s: creating %s images is not supported by this build",
                               path, vdisk_format_name(o.format));
    vdisk_file *f;
    r = vdisk_file_create(path, o.nocow, &f, err);
    if (r < 0)
        return r;
    r = drv->create(f, &o, progress, opaque, err);
    if (r == 0)
        r = vdisk_file_flush(f, err);
    /* Nothing half-made left behind -- but never a device node or anything
     * else that is not an image we were making (file.h). */
    if (r < 0)
        vdisk_file_abandon(f);
    else
        vdisk_file_close(f);
    return r;
}

int
vdisk_measure_image(const vdisk_create_opts *opts, vdisk_image *src, vdisk_measure *out, vdisk_error *err)
{
    int r = vdisk_create_opts_validate(opts, err);
    if (r < 0)
        return r;
    memset(out, 0, sizeof(*out));
    const struct vdisk_driver *drv = vdisk_driver_for(opts->format);
    if (!drv->measure)
        return vdisk_error_set(err, ENOTSUP, "Block driver '%s' does not support size measurement",
                               drv->name);
    return drv->measure(opts, src, out, err);
}

int
vdisk_create_opt_bool(const char *key, const char *value, bool *out, vdisk_error *err)
{
    return parse_bool(key, value, out, err);
}

int
vdisk_create_opt_size(const char *key, const char *value, uint64_t *out, vdisk_error *err)
{
    return parse_size_option(key, value, out, err);
}
