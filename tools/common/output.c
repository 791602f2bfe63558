/* vdisk-virsh — output writers (see output.h). */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "output.h"

void
vv_json_init(vv_json *j, FILE *out)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
}

static void
newline(vv_json *j, int indent)
{
    fputc('\n', j->out);
    fprintf(j->out, "%*s", indent * 4, "");
}

/* Start a member (or array element): separator, line break, key. */
static void
member(vv_json *j, const char *key)
{
    if (j->depth == 0)
        return;
    /* Deeper than we track: commas are still right for the innermost level. */
    int level = j->depth <= VV_JSON_MAX_DEPTH ? j->depth - 1 : VV_JSON_MAX_DEPTH - 1;
    if (j->has_members[level])
        fputc(',', j->out);
    j->has_members[level] = true;
    newline(j, j->depth);
    if (key) {
        vv_json_write_string(j->out, key);
        fputs(": ", j->out);
    }
}

static void
open_container(vv_json *j, const char *key, char c)
{
    member(j, key);
    fputc(c, j->out);
    if (j->depth < VV_JSON_MAX_DEPTH)
        j->has_members[j->depth] = false;
    j->depth++;
}

static void
close_container(vv_json *j, char c)
{
    j->depth--;
    newline(j, j->depth);
    fputc(c, j->out);
}

void
vv_json_object_begin(vv_json *j, const char *key)
{
    open_container(j, key, '{');
}

void
vv_json_object_end(vv_json *j)
{
    close_container(j, '}');
}

void
vv_json_array_begin(vv_json *j, const char *key)
{
    open_container(j, key, '[');
}

void
vv_json_array_end(vv_json *j)
{
    close_container(j, ']');
}

void
vv_json_string(vv_json *j, const char *key, const char *value)
{
    member(j, key);
    vv_json_write_string(j->out, value);
}

void
vv_json_uint(vv_json *j, const char *key, uint64_t value)
{
    member(j, key);
    fprintf(j->out, "%" PRIu64, value);
}

void
vv_json_int(vv_json *j, const char *key, int64_t value)
{
    member(j, key);
    fprintf(j->out, "%" PRId64, value);
}

void
vv_json_double(vv_json *j, const char *key, double value)
{
    member(j, key);
    fprintf(j->out, "%.6g", isfinite(value) ? value : 0.0);
}

void
vv_json_bool(vv_json *j, const char *key, bool value)
{
    member(j, key);
    fputs(value ? "true" : "false", j->out);
}

void
vv_json_finish(vv_json *j)
{
    fputc('\n', j->out);
}

/* Decode one UTF-8 sequence at s; returns the code point (or -1 when the
 * sequence is invalid: stray continuation, overlong, surrogate, > U+10FFFF)
 * and sets *len to the bytes consumed (at least 1). */
static int32_t
utf8_decode(const unsigned char *s, size_t *len)
{
    static const int32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
    unsigned char c = s[0];
    int n;
    int32_t cp;
    *len = 1;
    if (c < 0x80)
        return c;
    if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; }
    else
        return -1;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *len = (size_t)i;
            return -1;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    *len = (size_t)n;
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    return cp;
}

void
vv_json_write_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    while (*p) {
        size_t len;
        int32_t cp = utf8_decode(p, &len);
        p += len;
        switch (cp) {
        case '"': fputs("\\\"", out); continue;
        case '\\': fputs("\\\\", out); continue;
        case '\b': fputs("\\b", out); continue;
        case '\f': fputs("\\f", out); continue;
        case '\n': fputs("\\n", out); continue;
        case '\r': fputs("\\r", out); continue;
        case '\t': fputs("\\t", out); continue;
        default: break;
        }
        if (cp < 0)
            cp = 0xfffd;
        if (cp > 0xffff)
            fprintf(out, "\\u%04X\\u%04X", 0xd800 + ((cp - 0x10000) >> 10),
                    0xdc00 + ((cp - 0x10000) & 0x3ff));
        else if (cp < 0x20 || cp >= 0x7f)
            fprintf(out, "\\u%04X", (unsigned)cp);
        else
            fputc(cp, out);
    }
    fputc('"', out);
}

char *
vv_size_to_str(uint64_t bytes, char *buf, size_t len)
{
    static const char *const suffixes[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
    int e;
    /* As QEMU: switch to the next unit once the integer part reaches 1000. */
    frexp((double)bytes / (1000.0 / 1024.0), &e);
    int i = (e - 1) / 10;
    if (i < 0)
        i = 0;
    if (i > 6)
        i = 6;
    uint64_t div = UINT64_C(1) << (i * 10);
    snprintf(buf, len, "%0.3g %sB", (double)bytes / (double)div, suffixes[i]);
    return buf;
}
