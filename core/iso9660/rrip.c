/* libvdisk — the Rock Ridge (RRIP 1.09, "RRIP_1991A") entries the writer
 * emits, in the SUSP framing: PX (mode, links, uid 0, gid 0), TF (modify,
 * access and attribute-change times), NM (the name, split into entries of
 * at most 250 bytes), SL (symlink components), and for the root: SP, ER
 * and CE.  Every entry is at most 255 bytes, as SUSP requires.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iso9660.h"

#define NM_CHUNK 250u
#define SL_ENTRY_MAX 255u

int
iso_buf_append(iso_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *nd = realloc(b->data, cap);
        if (!nd)
            return -ENOMEM;
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void
iso_buf_free(iso_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

static int
entry(iso_buf *b, const char *sig, const uint8_t *data, size_t n)
{
    uint8_t h[4] = { (uint8_t)sig[0], (uint8_t)sig[1], (uint8_t)(4 + n), 1 };
    int r = iso_buf_append(b, h, 4);
    return r < 0 ? r : iso_buf_append(b, data, n);
}

static int
put_px(iso_buf *b, const iso_rr_attrs *a)
{
    uint8_t d[32] = { 0 };
    iso_put_both32(d, a->mode);
    iso_put_both32(d + 8, a->nlink);
    /* 0 unless the owners are kept: the image does not depend on who built it */
    iso_put_both32(d + 16, a->uid);
    iso_put_both32(d + 24, a->gid);
    return entry(b, "PX", d, sizeof(d));
}

static int
put_tf(iso_buf *b, int64_t t)
{
    uint8_t d[1 + 3 * 7];
    d[0] = 0x0E;   /* modify, access, attributes */
    for (int i = 0; i < 3; i++)
        iso_date7_format(d + 1 + 7 * i, t);
    return entry(b, "TF", d, sizeof(d));
}

static int
put_nm(iso_buf *b, const char *name)
{
    size_t len = strlen(name);
    int r = 0;
    for (size_t off = 0; r == 0 && off < len; off += NM_CHUNK) {
        size_t n = len - off < NM_CHUNK ? len - off : NM_CHUNK;
        uint8_t d[1 + NM_CHUNK];
        d[0] = off + n < len ? 0x01 : 0x00;
        memcpy(d + 1, name + off, n);
        r = entry(b, "NM", d, 1 + n);
    }
    return r;
}

/* SL: components of the target; entries flushed when full. */
static int
put_sl(iso_buf *b, const char *target)
{
    uint8_t d[SL_ENTRY_MAX];
    size_t dl = 1;
    d[0] = 0;
    const char *p = target;
    int r = 0;
    bool first = true;
    while (r == 0 && (*p || first)) {
        uint8_t cf = 0;
        size_t len = 0;
        if (first && *p == '/') {
            cf = 0x08;
            p++;
        } else {
            len = strcspn(p, "/");
            if (len == 1 && p[0] == '.')
                cf = 0x02, len = 0, p++;
            else if (len == 2 && p[0] == '.' && p[1] == '.')
                cf = 0x04, len = 0, p += 2;
        }
        first = false;
        const char *content = p;
        do {
            size_t piece = len > 200 ? 200 : len;
            if (dl + 2 + piece > SL_ENTRY_MAX - 4) {
                d[0] = 0x01;   /* continued in the next SL */
                r = entry(b, "SL", d, dl);
                dl = 1;
            }
            d[dl] = (uint8_t)(cf | (len > piece ? 0x01 : 0));
            d[dl + 1] = (uint8_t)piece;
            memcpy(d + dl + 2, content, piece);
            dl += 2 + piece;
            content += piece;
            len -= piece;
        } while (r == 0 && len > 0);
        p = content;
        while (*p == '/')
            p++;
    }
    d[0] = 0;
    return r < 0 ? r : entry(b, "SL", d, dl);
}

int
iso_rrip_entries(iso_buf *b, const iso_rr_attrs *a)
{
    int r = put_px(b, a);
    if (r == 0)
        r = put_tf(b, a->mtime);
    if (r == 0 && a->name)
        r = put_nm(b, a->name);
    if (r == 0 && a->link)
        r = put_sl(b, a->link);
    return r;
}

int
iso_rrip_root_entries(iso_buf *sp, iso_buf *er)
{
    static const uint8_t sp_data[3] = { 0xBE, 0xEF, 0 };
    static const char id[] = "RRIP_1991A";
    static const char des[] = "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
    static const char src[] = "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER "
                              "IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";
    int r = entry(sp, "SP", sp_data, sizeof(sp_data));
    uint8_t d[4 + sizeof(id) + sizeof(des) + sizeof(src)];
    size_t il = sizeof(id) - 1, dl = sizeof(des) - 1, sl = sizeof(src) - 1;
    d[0] = (uint8_t)il;
    d[1] = (uint8_t)dl;
    d[2] = (uint8_t)sl;
    d[3] = 1;
    memcpy(d + 4, id, il);
    memcpy(d + 4 + il, des, dl);
    memcpy(d + 4 + il + dl, src, sl);
    return r < 0 ? r : entry(er, "ER", d, 4 + il + dl + sl);
}

void
iso_rrip_ce(uint8_t out[28], uint32_t lba, uint32_t off, uint32_t len)
{
    out[0] = 'C';
    out[1] = 'E';
    out[2] = 28;
    out[3] = 1;
    iso_put_both32(out + 4, lba);
    iso_put_both32(out + 12, off);
    iso_put_both32(out + 20, len);
}
