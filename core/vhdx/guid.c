/* libvdisk — GUIDs in their VHDX binary form: Data1 (4 bytes), Data2 and
 * Data3 (2 bytes each) little endian, then the 8 bytes of Data4 in order.
 * The known GUIDs of the spec, the text form of parent_linkage values, and
 * new random (version 4) GUIDs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "vhdx.h"

/* {d1-d2-d3-d4[0..1]-d4[2..7]} in binary form. */
#define GUID(d1, d2, d3, a, b, c, d, e, f, g, h)                                            \
    { { (uint8_t)(d1), (uint8_t)((d1) >> 8), (uint8_t)((d1) >> 16), (uint8_t)((d1) >> 24), \
        (uint8_t)(d2), (uint8_t)((d2) >> 8), (uint8_t)(d3), (uint8_t)((d3) >> 8),          \
        a, b, c, d, e, f, g, h } }

const vhdx_guid vhdx_region_bat =
    GUID(0x2dc27766u, 0xf623u, 0x4200u, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08);
const vhdx_guid vhdx_region_metadata =
    GUID(0x8b7ca206u, 0x4790u, 0x4b9au, 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e);
const vhdx_guid vhdx_meta_file_params =
    GUID(0xcaa16737u, 0xfa36u, 0x4d43u, 0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b);
const vhdx_guid vhdx_meta_virtual_size =
    GUID(0x2fa54224u, 0xcd1bu, 0x4876u, 0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8);
const vhdx_guid vhdx_meta_page83 =
    GUID(0xbeca12abu, 0xb2e6u, 0x4523u, 0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46);
const vhdx_guid vhdx_meta_logical_sector =
    GUID(0x8141bf1du, 0xa96fu, 0x4709u, 0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f);
const vhdx_guid vhdx_meta_physical_sector =
    GUID(0xcda348c7u, 0x445du, 0x4471u, 0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56);
const vhdx_guid vhdx_meta_parent_locator =
    GUID(0xa8d35f2du, 0xb30bu, 0x454du, 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c);
const vhdx_guid vhdx_parent_type_vhdx =
    GUID(0xb04aefb7u, 0xd19eu, 0x4a81u, 0xb7, 0x89, 0x25, 0xb8, 0xe9, 0x44, 0x59, 0x13);

bool
vhdx_guid_is_zero(const vhdx_guid *g)
{
    static const vhdx_guid zero;
    return memcmp(g, &zero, sizeof(zero)) == 0;
}

bool
vhdx_guid_equal(const vhdx_guid *a, const vhdx_guid *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

int
vhdx_guid_generate(vhdx_guid *g)
{
    int r = vdisk_random_id(g->b, sizeof(g->b));
    if (r < 0)
        return r;
    g->b[7] = (uint8_t)((g->b[7] & 0x0f) | 0x40);   /* version 4 (Data3's high nibble) */
    g->b[8] = (uint8_t)((g->b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    return 0;
}

static int
hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* n hex digits at *p into v; advances *p. */
static bool
hex_field(const char **p, int n, uint64_t *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        int d = hex_nibble((*p)[i]);
        if (d < 0)
            return false;
        *v = *v << 4 | (uint64_t)d;
    }
    *p += n;
    return true;
}

int
vhdx_guid_parse(const char *text, vhdx_guid *g)
{
    const char *p = text;
    bool brace = *p == '{';
    if (brace)
        p++;
    uint64_t d1, d2, d3, d4a, d4b;
    if (!hex_field(&p, 8, &d1) || *p++ != '-' || !hex_field(&p, 4, &d2) || *p++ != '-' ||
        !hex_field(&p, 4, &d3) || *p++ != '-' || !hex_field(&p, 4, &d4a) || *p++ != '-' ||
        !hex_field(&p, 12, &d4b))
        return -EINVAL;
    if ((brace && *p++ != '}') || *p != '\0')
        return -EINVAL;
    vhdx_put32(g->b, (uint32_t)d1);
    vhdx_put16(g->b + 4, (uint16_t)d2);
    vhdx_put16(g->b + 6, (uint16_t)d3);
    g->b[8] = (uint8_t)(d4a >> 8);
    g->b[9] = (uint8_t)d4a;
    for (int i = 0; i < 6; i++)
        g->b[10 + i] = (uint8_t)(d4b >> (40 - 8 * i));
    return 0;
}

void
vhdx_guid_format(const vhdx_guid *g, char *buf)
{
    const uint8_t *b = g->b;
    snprintf(buf, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", vhdx_le32(b), vhdx_le16(b + 4),
             vhdx_le16(b + 6), b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}
