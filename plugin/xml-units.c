/* vdisk plugin — libvirt's scaled integers: a decimal number of bytes times
 * a unit, as in <capacity unit='GiB'>5</capacity>.
 *
 * Units are libvirt's, matched without regard to case: none, b, byte, bytes
 * (1); a single letter k, m, g, t, p, e, or that letter with "iB" (powers of
 * 1024); that letter with "B" (powers of 1000).  So KB = 1000 and
 * K = KiB = 1024.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <vdisk/storage-xml.h>

#include "xml-internal.h"

typedef enum scale_result {
    SCALE_OK = 0,
    SCALE_BAD_NUMBER,
    SCALE_BAD_UNIT,
    SCALE_TOO_LARGE,
} scale_result;

/* Bytes per unit, 0 if the unit is unknown. */
static uint64_t
unit_factor(const char *unit)
{
    static const char letters[] = "kmgtpe";
    const char *pos;
    uint64_t base, factor = 1;

    if (!unit || !*unit || !strcasecmp(unit, "b") || !strcasecmp(unit, "byte") ||
        !strcasecmp(unit, "bytes"))
        return 1;
    pos = strchr(letters, unit[0] | 0x20);
    if (!pos)
        return 0;
    if (unit[1] == '\0' || !strcasecmp(unit + 1, "ib"))
        base = 1024;
    else if ((unit[1] | 0x20) == 'b' && unit[2] == '\0')
        base = 1000;
    else
        return 0;
    for (const char *p = letters; p <= pos; p++)
        factor *= base;
    return factor;
}

/* Decimal digits with optional blanks around them. */
static scale_result
parse_digits(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    bool any = false, overflow = false;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');

        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
        any = true;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    if (!any || *s != '\0')
        return SCALE_BAD_NUMBER;
    *out = v;
    return overflow ? SCALE_TOO_LARGE : SCALE_OK;
}

static scale_result
scale(const char *number, const char *unit, uint64_t limit, uint64_t *out)
{
    uint64_t v, factor;
    scale_result r;

    factor = unit_factor(unit);
    if (factor == 0)
        return SCALE_BAD_UNIT;
    if (!number)
        return SCALE_BAD_NUMBER;
    if ((r = parse_digits(number, &v)) != SCALE_OK)
        return r;
    if (v > limit / factor)
        return SCALE_TOO_LARGE;
    *out = v * factor;
    return SCALE_OK;
}

int
vdisk_scale_parse(const char *number, const char *unit, uint64_t *out, vdisk_error *err)
{
    const uint64_t limit = INT64_MAX;   /* off_t is signed: no file is larger */

    switch (scale(number, unit, limit, out)) {
    case SCALE_OK:
        return 0;
    case SCALE_BAD_UNIT:
        return vdisk_error_set(err, EINVAL, "unknown unit '%s'", unit);
    case SCALE_TOO_LARGE:
        return vdisk_error_set(err, ERANGE, "%s%s%s is too large (more than %llu bytes)",
                               number, unit ? " " : "", unit ? unit : "",
                               (unsigned long long)limit);
    case SCALE_BAD_NUMBER:
    default:
        return vdisk_error_set(err, EINVAL, "'%s' is not a non-negative whole number",
                               number ? number : "");
    }
}

int
vdisk_xml_scaled(const vdisk_xml_doc *d, const xmlNode *node, uint64_t limit, uint64_t *out,
                 vdisk_error *err)
{
    char *text = NULL, *unit = NULL;
    int r = vdisk_xml_text(d, node, &text, err);

    if (r == 0)
        r = vdisk_xml_attr(d, node, "unit", &unit, err);
    if (r < 0)
        goto out;
    switch (scale(text, unit, limit, out)) {
    case SCALE_OK:
        break;
    case SCALE_BAD_UNIT:
        r = vdisk_xml_error(err, d, node, EINVAL, "unknown unit");
        break;
    case SCALE_TOO_LARGE:
        r = vdisk_xml_error(err, d, node, ERANGE, "value too large (more than %llu bytes)",
                            (unsigned long long)limit);
        break;
    case SCALE_BAD_NUMBER:
        r = vdisk_xml_error(err, d, node, EINVAL, "'%.48s' is not a non-negative whole number",
                            text);
        break;
    }
out:
    free(text);
    free(unit);
    return r;
}
