/* Hex strings of the published test vectors into bytes (unit tests). */
#ifndef VDISK_UNIT_HEX_H
#define VDISK_UNIT_HEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Decode hex (no separators) into out; returns the byte count. */
static inline size_t
unit_hex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + k];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        out[i] = (uint8_t)v;
    }
    return n;
}

#endif
