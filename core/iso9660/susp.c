/* libvdisk — System Use Sharing Protocol and Rock Ridge (IEEE P1281/P1282,
 * RRIP 1.09 and 1.12) parser.
 *
 * A system use area is a sequence of entries: signature (2), length (1),
 * version (1), data.  CE points at a continuation area elsewhere in the
 * image; ST ends the area.  Rock Ridge entries: PX (mode, links, uid, gid),
 * NM (name, may continue), SL (symlink components, may continue), TF
 * (timestamps), CL/RE (relocated directories).  Every length is checked
 * before use and continuation chains are bounded, so a hostile area can
 * only produce an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iso9660.h"

#define CE_MAX 32u              /* continuation areas followed per record */
#define CE_AREA_MAX (64u << 10) /* largest continuation area read */

typedef struct susp_ctx {
    const char *where;
    iso_rr *out;
    bool nm_continue;           /* the last NM said "continued" */
    bool sl_continue;           /* the last SL said "continued" */
    bool sl_comp_continue;      /* the last component said "continued" */
    uint32_t ce_lba, ce_off, ce_len;
    bool ce_pending;
} susp_ctx;

static int
bad(susp_ctx *c, const char *sig, size_t at, const char *what, vdisk_error *err)
{
    return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                "%s: SUSP entry %s at byte %zu %s", c->where, sig, at, what);
}

/* Append bytes to a bounded string (name or link). */
static int
append(susp_ctx *c, char *dst, size_t *len, size_t max, const void *p, size_t n, const char *sig,
       size_t at, vdisk_error *err)
{
    if (*len + n > max)
        return bad(c, sig, at, "makes the Rock Ridge name or link target too long", err);
    memcpy(dst + *len, p, n);
    *len += n;
    dst[*len] = '\0';
    return 0;
}

static int
take_nm(susp_ctx *c, const uint8_t *e, size_t len, size_t at, vdisk_error *err)
{
    iso_rr *o = c->out;
    if (len < 5)
        return bad(c, "NM", at, "is shorter than 5 bytes", err);
    uint8_t fl = e[4];
    if (!c->nm_continue)
        o->name_len = 0;
    o->has_nm = true;
    o->nm_current = fl & 0x02;
    o->nm_parent = fl & 0x04;
    c->nm_continue = fl & 0x01;
    return append(c, o->name, &o->name_len, ISO_RR_NAME_MAX, e + 5, len - 5, "NM", at, err);
}

static int
take_px(susp_ctx *c, const uint8_t *e, size_t len, size_t at, vdisk_error *err)
{
    if (len < 36)
        return bad(c, "PX", at, "is shorter than 36 bytes", err);
    c->out->has_px = true;
    c->out->mode = iso_le32(e + 4);
    c->out->nlink = iso_le32(e + 12);
    c->out->uid = iso_le32(e + 20);
    c->out->gid = iso_le32(e + 28);
    return 0;
}

/* SL: flags, then components (flags, length, content). */
static int
take_sl(susp_ctx *c, const uint8_t *e, size_t len, size_t at, vdisk_error *err)
{
    iso_rr *o = c->out;
    if (len < 5)
        return bad(c, "SL", at, "is shorter than 5 bytes", err);
    if (!o->has_sl || !c->sl_continue) {
        o->link_len = 0;
        c->sl_comp_continue = false;
    }
    o->has_sl = true;
    c->sl_continue = e[4] & 0x01;
    for (size_t i = 5; i < len;) {
        if (i + 2 > len || i + 2 + e[i + 1] > len)
            return bad(c, "SL", at, "has a component running past the entry", err);
        uint8_t cf = e[i], cl = e[i + 1];
        const uint8_t *cp = e + i + 2;
        int r = 0;
        /* A separator unless this continues the previous component or
         * follows the root. */
        bool sep = o->link_len > 0 && !c->sl_comp_continue &&
                   !(o->link_len == 1 && o->link[0] == '/');
        if (sep)
            r = append(c, o->link, &o->link_len, ISO_RR_LINK_MAX, "/", 1, "SL", at, err);
        if (r == 0 && (cf & 0x08))
            r = append(c, o->link, &o->link_len, ISO_RR_LINK_MAX, "/", 1, "SL", at, err);
        else if (r == 0 && (cf & 0x02))
            r = append(c, o->link, &o->link_len, ISO_RR_LINK_MAX, ".", 1, "SL", at, err);
        else if (r == 0 && (cf & 0x04))
            r = append(c, o->link, &o->link_len, ISO_RR_LINK_MAX, "..", 2, "SL", at, err);
        else if (r == 0)
            r = append(c, o->link, &o->link_len, ISO_RR_LINK_MAX, cp, cl, "SL", at, err);
        if (r < 0)
            return r;
        c->sl_comp_continue = cf & 0x01;
        i += 2u + cl;
    }
    return 0;
}

/* TF: flags say which stamps follow, in a fixed order; bit 7 = 17-byte form. */
static int
take_tf(susp_ctx *c, const uint8_t *e, size_t len, size_t at, vdisk_error *err)
{
    if (len < 5)
        return bad(c, "TF", at, "is shorter than 5 bytes", err);
    uint8_t fl = e[4];
    size_t sz = fl & 0x80 ? 17 : 7, p = 5;
    const uint8_t *prev = NULL;
    int64_t t = VDISK_ISO_TIME_UNSET;
    for (int bit = 0; bit < 7; bit++) {
        if (!(fl & (1u << bit)))
            continue;
        if (p + sz > len)
            return bad(c, "TF", at, "is shorter than its flags say", err);
        /* Writers often record the same stamp three times: convert once. */
        if (!prev || memcmp(prev, e + p, sz) != 0)
            t = sz == 7 ? iso_date7_parse(e + p) : iso_date17_parse(e + p);
        prev = e + p;
        if (bit == 1)
            c->out->mtime = t;
        else if (bit == 2)
            c->out->atime = t;
        else if (bit == 3)
            c->out->ctime = t;
        p += sz;
    }
    return 0;
}

static int
take_ce(susp_ctx *c, const uint8_t *e, size_t len, size_t at, vdisk_error *err)
{
    if (len < 28)
        return bad(c, "CE", at, "is shorter than 28 bytes", err);
    c->ce_lba = iso_le32(e + 4);
    c->ce_off = iso_le32(e + 12);
    c->ce_len = iso_le32(e + 20);
    c->ce_pending = true;
    return 0;
}

/* One entry of known signature and length. */
static int
take_entry(susp_ctx *c, const uint8_t *e, size_t len, size_t at, vdisk_error *err)
{
    iso_rr *o = c->out;
    uint16_t sig = (uint16_t)(e[0] << 8 | e[1]);
#define SIG(a, b) ((uint16_t)((a) << 8 | (b)))
    switch (sig) {
    case SIG('S', 'P'):
        if (len >= 7 && e[4] == 0xBE && e[5] == 0xEF) {
            o->sp = true;
            o->sp_skip = e[6];
        }
        return 0;
    case SIG('E', 'R'):
        if (len >= 8 && e[4] && 8u + e[4] <= len &&
            (memcmp(e + 8, "RRIP", 4) == 0 || memcmp(e + 8, "IEEE_P1282", 10 < e[4] ? 10 : e[4]) == 0 ||
             memcmp(e + 8, "IEEE_1282", 9 < e[4] ? 9 : e[4]) == 0))
            o->rr = true;
        return 0;
    case SIG('C', 'E'): return take_ce(c, e, len, at, err);
    case SIG('P', 'X'): o->rr = true; return take_px(c, e, len, at, err);
    case SIG('N', 'M'): o->rr = true; return take_nm(c, e, len, at, err);
    case SIG('S', 'L'): o->rr = true; return take_sl(c, e, len, at, err);
    case SIG('T', 'F'): o->rr = true; return take_tf(c, e, len, at, err);
    case SIG('R', 'E'): o->rr = true; o->relocated = true; return 0;
    case SIG('R', 'R'): o->rr = true; return 0;
    case SIG('C', 'L'):
        if (len < 12)
            return bad(c, "CL", at, "is shorter than 12 bytes", err);
        o->rr = true;
        o->has_cl = true;
        o->cl_lba = iso_le32(e + 4);
        return 0;
    case SIG('Z', 'F'):
        /* zisofs: "pz", header size / 4, log2 block size, size (both 32). */
        if (len < 16)
            return bad(c, "ZF", at, "is shorter than 16 bytes", err);
        if (e[4] == 'p' && e[5] == 'z') {
            o->zf = true;
            o->zf_log2_block = e[7];
            o->zf_size = iso_le32(e + 8);
        }
        return 0;
    default:
        return 0;   /* PN, SF, PD, AA, ...: not needed to list or extract */
    }
#undef SIG
}

/* Walk one area; returns 1 when an ST entry ends the whole sequence. */
static int
walk_area(susp_ctx *c, const uint8_t *su, size_t len, vdisk_error *err)
{
    size_t i = 0;
    while (i + 4 <= len) {
        const uint8_t *e = su + i;
        if (e[0] == 0 && e[1] == 0)
            break;     /* zero padding */
        size_t el = e[2];
        if (el < 4 || el > len - i) {
            char sig[3] = { (char)(e[0] >= 0x20 && e[0] < 0x7f ? e[0] : '?'),
                            (char)(e[1] >= 0x20 && e[1] < 0x7f ? e[1] : '?'), 0 };
            return bad(c, sig, i, el < 4 ? "has a length below 4"
                                          : "runs past the end of the system use area", err);
        }
        if (e[0] == 'S' && e[1] == 'T')
            return 1;
        int r = take_entry(c, e, el, i, err);
        if (r < 0)
            return r;
        i += el;
    }
    return 0;
}

int
iso_susp_parse(const uint8_t *su, size_t len, iso_read_fn rd, void *opaque, uint64_t file_size,
               const char *where, iso_rr *out, vdisk_error *err)
{
    memset(out, 0, offsetof(iso_rr, name));
    out->name[0] = out->link[0] = '\0';
    out->mtime = out->atime = out->ctime = VDISK_ISO_TIME_UNSET;
    susp_ctx c = { .where = where, .out = out };
    int r = walk_area(&c, su, len, err);
    uint8_t *buf = NULL;
    for (unsigned n = 0; r == 0 && c.ce_pending && rd; n++) {
        c.ce_pending = false;
        uint64_t off = (uint64_t)c.ce_lba * ISO_SECTOR + c.ce_off;
        if (n >= CE_MAX) {
            r = vdisk_error_set(err, ELOOP, "%s: more than %u SUSP continuation areas (CE loop?)",
                                where, CE_MAX);
            break;
        }
        if (c.ce_len == 0 || c.ce_len > CE_AREA_MAX || off + c.ce_len > file_size) {
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                     "%s: SUSP continuation area at sector %u offset %u, "
                                     "%u bytes, is empty, too large or past the end of the file",
                                     where, c.ce_lba, c.ce_off, c.ce_len);
            break;
        }
        uint8_t *nb = realloc(buf, c.ce_len);
        if (!nb) {
            r = vdisk_error_set(err, ENOMEM, "%s: out of memory", where);
            break;
        }
        buf = nb;
        r = rd(opaque, buf, c.ce_len, off, err);
        if (r == 0)
            r = walk_area(&c, buf, c.ce_len, err);
    }
    free(buf);
    return r < 0 ? r : 0;
}
