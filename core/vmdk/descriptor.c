/* libvdisk — the VMDK text descriptor: parser, writer, CID rewrite.
 *
 * Virtual Disk Format 5.0, "The Descriptor File": lines of "key=value"
 * (version, CID, parentCID, createType, parentFileNameHint), extent lines
 * ("RW 2097152 SPARSE "disk-s001.vmdk"", "RW 4192256 FLAT "disk-flat.vmdk"
 * 0"), and the disk database ("ddb.adapterType = "ide"").  '#' starts a
 * comment; lines may end in "\r\n".  Values may be quoted.
 *
 * The parser is strict where a mistake would change the disk (an extent
 * line that does not parse is an error, not a skipped line as in QEMU, so
 * the disk never silently shrinks) and lenient elsewhere (unknown keys and
 * the DDB are ignored).  Everything is bounded: the text by its caller,
 * names by VMDK_MAX_NAME, the extent count by VMDK_MAX_EXTENTS.
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdk.h"

/* The parser's cursor over one line. */
typedef struct line_cursor {
    const char *p, *end;
    unsigned number;
    const char *name;         /* descriptor name, for messages */
} line_cursor;

static void
skip_blanks(line_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

/* The next word of [A-Za-z0-9_.]; false if none. */
static bool
take_word(line_cursor *c, char *out, size_t cap)
{
    skip_blanks(c);
    size_t n = 0;
    while (c->p < c->end && (isalnum((unsigned char)*c->p) || *c->p == '_' || *c->p == '.')) {
        if (n + 1 >= cap)
            return false;
        out[n++] = *c->p++;
    }
    out[n] = '\0';
    return n > 0;
}

/* A decimal number below 2^63; false if none or too large. */
static bool
take_number(line_cursor *c, uint64_t *out)
{
    skip_blanks(c);
    const char *start = c->p;
    uint64_t v = 0;
    while (c->p < c->end && isdigit((unsigned char)*c->p)) {
        if (v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*c->p++ - '0');
    }
    *out = v;
    return c->p > start;
}

/* A "quoted" string (no escapes: a descriptor cannot quote a '"'); false
 * if there is none.  *out is malloc'ed; -ENOMEM reported as false with
 * *oom set. */
static bool
take_quoted(line_cursor *c, char **out, bool *oom)
{
    skip_blanks(c);
    if (c->p >= c->end || *c->p != '"')
        return false;
    const char *start = ++c->p;
    while (c->p < c->end && *c->p != '"')
        c->p++;
    if (c->p >= c->end || (size_t)(c->p - start) > VMDK_MAX_NAME)
        return false;
    size_t n = (size_t)(c->p - start);
    c->p++;
    *out = malloc(n + 1);
    if (!*out) {
        *oom = true;
        return false;
    }
    memcpy(*out, start, n);
    (*out)[n] = '\0';
    return true;
}

static int
bad_line(const line_cursor *c, const char *line, const char *why, vdisk_error *err)
{
    int n = (int)(c->end - line);
    if (n > 200)
        n = 200;
    return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                "%s: descriptor line %u: %s: %.*s", c->name, c->number, why,
                                n, line);
}

static bool
access_from_word(const char *w, vmdk_access *a)
{
    if (strcmp(w, "RW") == 0)
        *a = VMDK_ACCESS_RW;
    else if (strcmp(w, "RDONLY") == 0)
        *a = VMDK_ACCESS_RDONLY;
    else if (strcmp(w, "NOACCESS") == 0)
        *a = VMDK_ACCESS_NOACCESS;
    else
        return false;
    return true;
}

/* The rest of an extent line after its access word: SIZE TYPE ["NAME"
 * [OFFSET]].  FLAT extents need the offset; VMFS, SPARSE and the like
 * must not have one; ZERO extents have no file. */
static int
parse_extent(line_cursor *c, const char *line, vmdk_desc_extent *e, vdisk_error *err)
{
    if (!take_number(c, &e->sectors) || e->sectors > (UINT64_C(1) << 54))
        return bad_line(c, line, "bad extent size", err);
    if (!take_word(c, e->type, sizeof(e->type)))
        return bad_line(c, line, "bad extent type", err);
    bool oom = false;
    bool has_name = take_quoted(c, &e->filename, &oom);
    if (oom)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", c->name);
    bool has_offset = has_name && take_number(c, &e->offset);
    skip_blanks(c);
    if (c->p != c->end)
        return bad_line(c, line, "unexpected text after the extent", err);
    bool zero = strcmp(e->type, "ZERO") == 0;
    if (!zero && (!has_name || e->filename[0] == '\0'))
        return bad_line(c, line, "extent without a file name", err);
    if (strcmp(e->type, "FLAT") == 0 && !has_offset)
        return bad_line(c, line, "FLAT extent without an offset", err);
    if (has_offset && strcmp(e->type, "FLAT") != 0)
        return bad_line(c, line, "only FLAT extents take an offset", err);
    if (e->offset > (UINT64_C(1) << 54))
        return bad_line(c, line, "extent offset too large", err);
    return 0;
}

static int
add_extent(vmdk_descriptor *d, line_cursor *c, const char *line, vmdk_access access, vdisk_error *err)
{
    if (d->nextents >= VMDK_MAX_EXTENTS)
        return bad_line(c, line, "more extents than vdisk accepts (8192)", err);
    vmdk_desc_extent *v = realloc(d->extents, (d->nextents + 1) * sizeof(*v));
    if (!v)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", c->name);
    d->extents = v;
    vmdk_desc_extent *e = &v[d->nextents];
    memset(e, 0, sizeof(*e));
    e->access = access;
    e->line = c->number;
    int r = parse_extent(c, line, e, err);
    d->nextents++;   /* counted even on failure, so that clear frees its name */
    return r;
}

/* A hexadecimal 32-bit value, the whole of s. */
static bool
parse_hex32(const char *s, uint32_t *out)
{
    char *end;
    if (!isxdigit((unsigned char)s[0]) || strlen(s) > 8)
        return false;
    unsigned long v = strtoul(s, &end, 16);
    if (*end != '\0')
        return false;
    *out = (uint32_t)v;
    return true;
}

/* A copy of [p, end) without surrounding blanks and quotes. */
static char *
value_copy(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end - p >= 2 && *p == '"' && end[-1] == '"') {
        p++;
        end--;
    }
    char *v = malloc((size_t)(end - p) + 1);
    if (v) {
        memcpy(v, p, (size_t)(end - p));
        v[end - p] = '\0';
    }
    return v;
}

/* key=value: the header keys we use; others (version, ddb.*, ...) are
 * ignored. */
static int
parse_setting(vmdk_descriptor *d, line_cursor *c, const char *line, const char *eq,
              vdisk_error *err)
{
    line_cursor k = { .p = line, .end = eq, .number = c->number, .name = c->name };
    char key[32];
    if (!take_word(&k, key, sizeof(key)))
        return 0;
    skip_blanks(&k);
    if (k.p != eq)
        return 0;   /* "ddb.x y = ..." and other oddities: not ours */
    bool cid = strcmp(key, "CID") == 0, pcid = strcmp(key, "parentCID") == 0;
    bool type = strcmp(key, "createType") == 0, hint = strcmp(key, "parentFileNameHint") == 0;
    if (!cid && !pcid && !type && !hint)
        return 0;
    if ((size_t)(c->end - eq) > VMDK_MAX_NAME + 8)
        return bad_line(c, line, "value too long", err);
    char *v = value_copy(eq + 1, c->end);
    if (!v)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", c->name);
    int r = 0;
    if (cid || pcid) {
        if (!parse_hex32(v, cid ? &d->cid : &d->parent_cid))
            r = bad_line(c, line, "bad CID (expected 8 hex digits)", err);
        d->has_cid |= cid;
        free(v);
    } else if (type) {
        free(d->create_type);
        d->create_type = v;
    } else {
        free(d->parent_hint);
        d->parent_hint = v[0] ? v : NULL;
        if (!v[0])
            free(v);
    }
    return r;
}

/* One line, without its end of line. */
static int
parse_line(vmdk_descriptor *d, line_cursor *c, bool extents, vdisk_error *err)
{
    skip_blanks(c);
    const char *line = c->p;
    if (c->p == c->end || *c->p == '#')
        return 0;
    char word[16];
    line_cursor w = *c;
    vmdk_access access;
    if (take_word(&w, word, sizeof(word)) && w.p < w.end && (*w.p == ' ' || *w.p == '\t') &&
        access_from_word(word, &access)) {
        *c = w;
        return extents ? add_extent(d, c, line, access, err) : 0;
    }
    const char *eq = memchr(line, '=', (size_t)(c->end - line));
    return eq ? parse_setting(d, c, line, eq, err) : 0;
}

int
vmdk_descriptor_parse(const char *text, size_t len, const char *name, bool extents,
                      vmdk_descriptor *d, vdisk_error *err)
{
    memset(d, 0, sizeof(*d));
    d->parent_cid = VMDK_NO_PARENT_CID;
    len = strnlen(text, len);
    if (len > VMDK_MAX_DESCRIPTOR)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                    "%s: descriptor of %zu bytes is larger than 1 MiB", name, len);
    const char *p = text, *end = text + len;
    unsigned number = 0;
    int r = 0;
    while (r == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line_cursor c = { .p = p, .end = le, .number = ++number, .name = name };
        if (c.end > c.p && c.end[-1] == '\r')
            c.end--;
        r = parse_line(d, &c, extents, err);
        p = nl ? nl + 1 : end;
    }
    if (r < 0)
        vmdk_descriptor_clear(d);
    return r;
}

void
vmdk_descriptor_clear(vmdk_descriptor *d)
{
    for (size_t i = 0; i < d->nextents; i++)
        free(d->extents[i].filename);
    free(d->extents);
    free(d->create_type);
    free(d->parent_hint);
    memset(d, 0, sizeof(*d));
}

bool
vmdk_descriptor_value_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* ---- writer -------------------------------------------------------------- */

/* A growing text buffer. */
typedef struct text_buf {
    char *s;
    size_t len, cap;
    bool oom;
} text_buf;

static void
tb_printf(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
tb_printf(text_buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

char *
vmdk_descriptor_format(const vmdk_desc_params *p)
{
    text_buf b = { 0 };
    tb_printf(&b, "# Disk DescriptorFile\nversion=1\nCID=%08" PRIx32 "\nparentCID=%08" PRIx32
              "\ncreateType=\"%s\"\n", p->cid, p->parent_cid, p->create_type);
    if (p->parent_hint)
        tb_printf(&b, "parentFileNameHint=\"%s\"\n", p->parent_hint);
    else
        tb_printf(&b, "\n");
    tb_printf(&b, "# Extent description\n");
    for (size_t i = 0; i < p->nextents; i++) {
        const vmdk_desc_extent *e = &p->extents[i];
        if (strcmp(e->type, "FLAT") == 0)
            tb_printf(&b, "RW %" PRIu64 " FLAT \"%s\" %" PRIu64 "\n", e->sectors, e->filename, e->offset);
        else
            tb_printf(&b, "RW %" PRIu64 " %s \"%s\"\n", e->sectors, e->type, e->filename);
    }
    tb_printf(&b, "\n# The Disk Data Base\n#DDB\n\n"
              "ddb.virtualHWVersion = \"%s\"\nddb.geometry.cylinders = \"%" PRIu64 "\"\n"
              "ddb.geometry.heads = \"%u\"\nddb.geometry.sectors = \"63\"\n"
              "ddb.adapterType = \"%s\"\nddb.toolsVersion = \"%s\"\n",
              p->hwversion, p->cylinders, p->heads, p->adapter, p->toolsversion);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* Where the value of the "CID=" line starts in text, and its length. */
static const char *
find_cid(const char *text, size_t len, size_t *vlen)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t'))
            q++;
        if (le - q >= 4 && memcmp(q, "CID", 3) == 0) {
            const char *v = q + 3;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            if (v < le && *v == '=') {
                v++;
                while (v < le && (*v == ' ' || *v == '\t'))
                    v++;
                const char *ve = v;
                while (ve < le && isxdigit((unsigned char)*ve))
                    ve++;
                *vlen = (size_t)(ve - v);
                return v;
            }
        }
        p = nl ? nl + 1 : end;
    }
    return NULL;
}

int
vmdk_descriptor_set_cid(const char *text, size_t len, uint32_t cid, char **out, size_t *out_len,
                        vdisk_error *err)
{
    len = strnlen(text, len);
    size_t vlen;
    const char *v = find_cid(text, len, &vlen);
    if (!v)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "descriptor has no CID line");
    char hex[9];
    snprintf(hex, sizeof(hex), "%08" PRIx32, cid);
    size_t head = (size_t)(v - text), tail = len - head - vlen;
    char *s = malloc(head + 8 + tail + 1);
    if (!s)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    memcpy(s, text, head);
    memcpy(s + head, hex, 8);
    memcpy(s + head + 8, v + vlen, tail);
    s[head + 8 + tail] = '\0';
    *out = s;
    *out_len = head + 8 + tail;
    return 0;
}
