/* libvdisk — creation options (their defaults and the checks every format
 * shares; the -o vocabulary is options.c's, from the format tables, and
 * each driver checks its own combinations: .opts_validate), and
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

#include "driver.h"

#define DEFAULT_CLUSTER (64u << 10)
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
    const struct vdisk_driver *drv = vdisk_driver_for(fmt);
    if (drv && drv->opts_init)
        drv->opts_init(opts);
}

void
vdisk_create_opts_clear(vdisk_create_opts *opts)
{
    free(opts->backing_file);
    opts->backing_file = NULL;
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
        return vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                    "Image size must be less than 8 EiB!");
    if (o->backing_format != VDISK_FORMAT_UNKNOWN && !o->backing_file)
        return vdisk_error_set(err, EINVAL, "Backing format cannot be used without backing file");
    const struct vdisk_driver *drv = vdisk_driver_for(o->format);
    return drv->opts_validate ? drv->opts_validate(o, err) : 0;
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
    /* Nothing half-made left behind -- but never unlink a device node or
     * anything else that is not a plain file we were writing. */
    struct stat st;
    bool regular = fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode);
    vdisk_file_close(f);
    if (r < 0 && regular)
        unlink(path);
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
