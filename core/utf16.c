/* libvdisk — UTF-16 <-> UTF-8 for the text fields of Microsoft's image
 * formats (VHD: big endian; VHDX: little endian).  Strict in both
 * directions: an unpaired surrogate or a malformed UTF-8 sequence is an
 * error, never silently replaced, because the text names a file to open.
 */
#include <errno.h>
#include <stdlib.h>

#include "utf16.h"

static uint16_t
unit_at(const uint8_t *p, bool be)
{
    return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static void
put_unit(uint8_t *p, uint16_t u, bool be)
{
    p[be ? 0 : 1] = (uint8_t)(u >> 8);
    p[be ? 1 : 0] = (uint8_t)u;
}

/* Append code point cp as UTF-8 at o (room for 4 bytes assumed). */
static size_t
put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

int
vdisk_utf16_to_utf8(const uint8_t *in, size_t len, bool big_endian, char **out)
{
    *out = NULL;
    if (len % 2)
        return -EINVAL;
    size_t units = len / 2;
    /* A code unit never needs more than 3 bytes of UTF-8 (a pair: 4 for 2). */
    char *s = malloc(units * 3 + 1);
    if (!s)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t u = unit_at(in + 2 * i, big_endian);
        if (u == 0)
            break;
        if (u >= 0xdc00 && u <= 0xdfff)
            goto bad;
        if (u >= 0xd800 && u <= 0xdbff) {
            if (i + 1 >= units)
                goto bad;
            uint32_t lo = unit_at(in + 2 * (i + 1), big_endian);
            if (lo < 0xdc00 || lo > 0xdfff)
                goto bad;
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            i++;
        }
        n += put_utf8(s + n, u);
    }
    s[n] = '\0';
    *out = s;
    return 0;

bad:
    free(s);
    return -EINVAL;
}

/* Decode one UTF-8 sequence at *p; advances *p.  Returns the code point
 * or -1 for invalid input (overlong forms and surrogates included). */
static long
next_utf8(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t cp;
    int extra;
    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }
    if ((s[0] & 0xe0) == 0xc0) {
        cp = s[0] & 0x1f;
        extra = 1;
    } else if ((s[0] & 0xf0) == 0xe0) {
        cp = s[0] & 0x0f;
        extra = 2;
    } else if ((s[0] & 0xf8) == 0xf0) {
        cp = s[0] & 0x07;
        extra = 3;
    } else {
        return -1;
    }
    for (int i = 1; i <= extra; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[] = { 0, 0x80, 0x800, 0x10000 };
    if (cp < min[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *p = s + extra + 1;
    return (long)cp;
}

int
vdisk_utf8_to_utf16(const char *in, bool big_endian, uint8_t *out, size_t cap, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t n = 0;
    while (*p) {
        long cp = next_utf8(&p);
        if (cp < 0)
            return -EINVAL;
        size_t need = cp >= 0x10000 ? 4 : 2;
        if (n + need > cap)
            return -ENOSPC;
        if (cp >= 0x10000) {
            uint32_t v = (uint32_t)cp - 0x10000;
            put_unit(out + n, (uint16_t)(0xd800 + (v >> 10)), big_endian);
            put_unit(out + n + 2, (uint16_t)(0xdc00 + (v & 0x3ff)), big_endian);
        } else {
            put_unit(out + n, (uint16_t)cp, big_endian);
        }
        n += need;
    }
    *out_len = n;
    return 0;
}
