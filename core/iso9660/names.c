/* libvdisk — ISO 9660 and Joliet names.
 *
 * Reading: identifiers lose their version (";1") and a trailing '.', and
 * Joliet's big-endian UCS-2 (UTF-16 from some writers) becomes UTF-8.
 * Writing: level-1 identifiers in the style of genisoimage ("user-data" ->
 * "USER_DAT.;1", "a.b.c" -> "A_B.C;1") and Joliet identifiers of at most 64
 * UCS-2 units, both made unique by the caller with a serial number.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iso9660.h"

/* Drop ";<digits>" and then one trailing '.' (ECMA-119 7.5.1 separators). */
static size_t
strip_version(char *s, size_t n)
{
    char *semi = memchr(s, ';', n);
    if (semi) {
        size_t i = (size_t)(semi - s) + 1;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == n)
            n = (size_t)(semi - s);
    }
    if (n > 1 && s[n - 1] == '.')
        n--;
    s[n] = '\0';
    return n;
}

void
iso_name_plain(const uint8_t *id, size_t len, char *out)
{
    if (len > 255)
        len = 255;
    for (size_t i = 0; i < len; i++)
        out[i] = id[i] ? (char)id[i] : '_';
    strip_version(out, len);
}

/* Append code point c as UTF-8; returns bytes written (0 if no room). */
static size_t
put_utf8(char *out, size_t room, uint32_t c)
{
    uint8_t b[4];
    size_t n;
    if (c < 0x80) {
        b[0] = (uint8_t)c;
        n = 1;
    } else if (c < 0x800) {
        b[0] = (uint8_t)(0xC0 | c >> 6);
        b[1] = (uint8_t)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        b[0] = (uint8_t)(0xE0 | c >> 12);
        b[1] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
        b[2] = (uint8_t)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | c >> 18);
        b[1] = (uint8_t)(0x80 | (c >> 12 & 0x3F));
        b[2] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
        b[3] = (uint8_t)(0x80 | (c & 0x3F));
        n = 4;
    }
    if (n > room)
        return 0;
    memcpy(out, b, n);
    return n;
}

/* Decode big-endian UTF-16 to UTF-8 (unpaired surrogates become U+FFFD,
 * NUL becomes '_'); returns the length. */
static size_t
ucs2_decode(const uint8_t *p, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        uint32_t c = (uint32_t)p[i] << 8 | p[i + 1];
        if (c >= 0xD800 && c < 0xDC00 && i + 3 < len) {
            uint32_t lo = (uint32_t)p[i + 2] << 8 | p[i + 3];
            if (lo >= 0xDC00 && lo < 0xE000) {
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            } else {
                c = 0xFFFD;
            }
        } else if (c >= 0xD800 && c < 0xE000) {
            c = 0xFFFD;
        } else if (c == 0) {
            c = '_';
        }
        size_t n = put_utf8(out + o, outlen - 1 - o, c);
        if (n == 0)
            break;
        o += n;
    }
    out[o] = '\0';
    return o;
}

int
iso_name_joliet(const uint8_t *id, size_t len, char *out, size_t outlen)
{
    if (len % 2)
        return -EILSEQ;
    size_t n = ucs2_decode(id, len, out, outlen);
    strip_version(out, n);
    return 0;
}

/* Copy and drop the trailing padding (spaces and NULs). */
static void
trim(char *out)
{
    size_t n = strlen(out);
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
        out[--n] = '\0';
}

void
iso_field_string(const uint8_t *p, size_t len, char *out, size_t outlen)
{
    size_t n = len < outlen - 1 ? len : outlen - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = p[i] ? (char)p[i] : ' ';
    out[n] = '\0';
    trim(out);
}

void
iso_field_ucs2(const uint8_t *p, size_t len, char *out, size_t outlen)
{
    ucs2_decode(p, len & ~(size_t)1, out, outlen);
    trim(out);
}

/* A d-character (ECMA-119 7.4.1): A-Z 0-9 _ ; lower case is raised. */
static char
d_char(unsigned char c)
{
    if (c >= 'a' && c <= 'z')
        return (char)(c - 'a' + 'A');
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
        return (char)c;
    return '_';
}

/* Map up to max characters of s[0..n) to d-characters into out. */
static size_t
d_chars(const char *s, size_t n, size_t max, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            /* One '_' per UTF-8 character, not per byte. */
            if ((c & 0xC0) == 0x80)
                continue;
        }
        out[o++] = d_char(c);
    }
    return o;
}

/* Overwrite the tail of base (length *n, capacity max) with the serial. */
static void
put_serial(char *base, size_t *n, size_t max, unsigned serial)
{
    char num[12];
    int k = snprintf(num, sizeof(num), "%03u", serial);
    size_t at = *n + (size_t)k > max ? max - (size_t)k : *n;
    memcpy(base + at, num, (size_t)k);
    *n = at + (size_t)k;
}

void
iso_name_level1(const char *name, bool dir, unsigned serial, char *out)
{
    size_t len = strlen(name);
    const char *dot = dir ? NULL : strrchr(name, '.');
    if (dot == name)
        dot = NULL;   /* ".profile": all name, no extension */
    size_t base_len = dot ? (size_t)(dot - name) : len;
    char base[9], ext[4];
    size_t nb = d_chars(name, base_len, 8, base);
    size_t ne = dot ? d_chars(dot + 1, len - base_len - 1, 3, ext) : 0;
    if (nb == 0 && ne == 0)
        base[nb++] = '_';
    if (serial)
        put_serial(base, &nb, 8, serial);
    memcpy(out, base, nb);
    size_t o = nb;
    if (!dir) {
        out[o++] = '.';
        memcpy(out + o, ext, ne);
        o += ne;
        memcpy(out + o, ";1", 2);
        o += 2;
    }
    out[o] = '\0';
}

size_t
iso_utf8_to_ucs2(const char *s, uint8_t *out, size_t max_units)
{
    size_t u = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && u < max_units) {
        uint32_t c = *p++;
        int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        if (c >= 0x80 && more == 0) {
            c = 0xFFFD;      /* stray continuation byte */
        } else if (more) {
            c &= 0x3Fu >> more;
            for (int i = 0; i < more; i++) {
                if ((*p & 0xC0) != 0x80) {
                    c = 0xFFFD;
                    break;
                }
                c = c << 6 | (*p++ & 0x3F);
            }
        }
        if (c >= 0x10000 && c <= 0x10FFFF) {
            if (u + 2 > max_units)
                break;
            uint32_t v = c - 0x10000;
            iso_put_be16(out + 2 * u++, (uint16_t)(0xD800 + (v >> 10)));
            iso_put_be16(out + 2 * u++, (uint16_t)(0xDC00 + (v & 0x3FF)));
        } else {
            iso_put_be16(out + 2 * u++, c > 0xFFFF ? 0xFFFD : (uint16_t)c);
        }
    }
    return 2 * u;
}

size_t
iso_name_joliet_encode(const char *name, unsigned serial, uint8_t *out)
{
    size_t n = iso_utf8_to_ucs2(name, out, 64);
    for (size_t i = 0; i < n; i += 2) {
        /* Joliet forbids * / : ; ? \ and control characters. */
        uint16_t c = (uint16_t)(out[i] << 8 | out[i + 1]);
        if (c < 0x20 || c == '*' || c == '/' || c == ':' || c == ';' || c == '?' || c == '\\')
            iso_put_be16(out + i, '_');
    }
    if (serial) {
        char num[12];
        int k = snprintf(num, sizeof(num), "%03u", serial);
        size_t units = n / 2;
        size_t at = units + (size_t)k > 64 ? 64 - (size_t)k : units;
        /* Keep an extension visible: insert the serial before the last dot. */
        for (size_t i = units; i-- > 0;)
            if (out[2 * i] == 0 && out[2 * i + 1] == '.' && i > 0 && units + (size_t)k <= 64) {
                memmove(out + 2 * (i + (size_t)k), out + 2 * i, 2 * (units - i));
                at = i;
                units += (size_t)k;
                break;
            }
        for (int j = 0; j < k; j++)
            iso_put_be16(out + 2 * (at + (size_t)j), (uint16_t)num[j]);
        if (at + (size_t)k > units)
            units = at + (size_t)k;
        n = 2 * units;
    }
    return n;
}
