/* libvdisk — the values -o options take, read the same way for every
 * format: preallocation modes, sizes with qemu's suffixes, on/off and
 * numbers (create's messages name the key and quote the value), and the
 * setters of the options several format tables share (options.h).
 *
 * Below the drivers: the format tables (raw.c, qcow2/options.c, vpc/opts.c
 * ...) use these, and nothing here reaches the driver table.
 */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/* ---- preallocation modes and sizes (vdisk/create.h) --------------------- */

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

/* ---- option values and shared setters (options.h) ----------------------- */

int
vdisk_opt_parse_bool(const char *key, const char *value, bool *out, vdisk_error *err)
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

int
vdisk_opt_parse_number(const char *key, const char *value, uint64_t *out, vdisk_error *err)
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
int
vdisk_opt_parse_size(const char *key, const char *value, uint64_t *out, vdisk_error *err)
{
    vdisk_error local;
    int r = vdisk_parse_size(value, out, &local);
    if (r < 0)
        /* qemu-img's words, to the line (iotest 049) */
        return vdisk_error_set(err, -r, "Parameter '%s' expects a non-negative number below 2^64\n"
                               "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, "
                               "tera-, peta-\nand exabytes, respectively.", key);
    return 0;
}

/* size=SIZE. */
int
vdisk_opt_set_size(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    return vdisk_opt_parse_size(key, value, &o->size, err);
}

/* preallocation=off|metadata|falloc|full. */
int
vdisk_opt_set_prealloc(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    (void)key;
    return vdisk_prealloc_from_name(value, &o->prealloc, err);
}

/* nocow=on|off. */
int
vdisk_opt_set_nocow(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    return vdisk_opt_parse_bool(key, value, &o->nocow, err);
}

/* backing_file=NAME (a copy, owned by o). */
int
vdisk_opt_set_backing_file(vdisk_create_opts *o, const char *key, const char *value,
                           vdisk_error *err)
{
    (void)key;
    char *copy = strdup(value);
    if (!copy)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    free(o->backing_file);
    o->backing_file = copy;
    return 0;
}

/* backing_fmt=FMT. */
int
vdisk_opt_set_backing_fmt(vdisk_create_opts *o, const char *key, const char *value,
                          vdisk_error *err)
{
    (void)key;
    return vdisk_format_from_name(value, &o->backing_format, err);
}

/* encrypt.KEY=VALUE (qcow2) or KEY=VALUE (luks). */
int
vdisk_opt_set_encrypt(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    const char *name = strncmp(key, "encrypt.", 8) == 0 ? key + 8 : key;
    int r = vdisk_encrypt_opts_set(&o->encrypt, name, value, err);
    if (r == -ENOENT)   /* a table entry the encryption options do not know */
        r = vdisk_error_set(err, EINVAL, "Invalid parameter '%s' for format %s", key,
                            vdisk_format_name(o->format));
    return r;
}
