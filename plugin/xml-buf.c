/* vdisk plugin — the text buffer XML is formatted into: two-space
 * indentation as virsh prints it, and escaping of text and attribute
 * values. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml-internal.h"

/* Make room for `more` bytes plus a NUL; false (and remember it) on failure. */
static bool
reserve(vdisk_xml_buf *b, size_t more)
{
    size_t need, cap;
    char *p;

    if (b->failed)
        return false;
    need = b->len + more + 1;
    if (need <= b->cap)
        return true;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

static void
add_bytes(vdisk_xml_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void
add_va(vdisk_xml_buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    int n;

    va_copy(copy, ap);
    n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void
vdisk_xml_buf_add(vdisk_xml_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_va(b, fmt, ap);
    va_end(ap);
}

void
vdisk_xml_buf_escape(vdisk_xml_buf *b, const char *s)
{
    char ref[8];

    for (; s && *s; s++) {
        const char *rep = NULL;

        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '\'': rep = "&apos;"; break;
        case '"': rep = "&quot;"; break;
        default:
            if ((unsigned char)*s < 0x20) {
                snprintf(ref, sizeof(ref), "&#x%x;", (unsigned char)*s);
                rep = ref;
            }
        }
        if (rep)
            add_bytes(b, rep, strlen(rep));
        else
            add_bytes(b, s, 1);
    }
}

void
vdisk_xml_buf_attr(vdisk_xml_buf *b, const char *name, const char *value)
{
    if (!value)
        return;
    vdisk_xml_buf_add(b, " %s='", name);
    vdisk_xml_buf_escape(b, value);
    vdisk_xml_buf_add(b, "'");
}

void
vdisk_xml_buf_indent(vdisk_xml_buf *b)
{
    static const char spaces[] = "                                ";
    int n = b->indent;

    while (n > 0) {
        int chunk = n < (int)sizeof(spaces) - 1 ? n : (int)sizeof(spaces) - 1;

        add_bytes(b, spaces, (size_t)chunk);
        n -= chunk;
    }
}

/* Indentation, the formatted text, a newline. */
static void
add_line(vdisk_xml_buf *b, const char *fmt, va_list ap)
{
    vdisk_xml_buf_indent(b);
    add_va(b, fmt, ap);
    add_bytes(b, "\n", 1);
}

void
vdisk_xml_buf_line(vdisk_xml_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_line(b, fmt, ap);
    va_end(ap);
}

void
vdisk_xml_buf_open(vdisk_xml_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_line(b, fmt, ap);
    va_end(ap);
    b->indent += 2;
}

void
vdisk_xml_buf_close(vdisk_xml_buf *b, const char *fmt, ...)
{
    va_list ap;

    b->indent = b->indent >= 2 ? b->indent - 2 : 0;
    va_start(ap, fmt);
    add_line(b, fmt, ap);
    va_end(ap);
}

void
vdisk_xml_buf_element(vdisk_xml_buf *b, const char *name, const char *value)
{
    if (!value)
        return;
    vdisk_xml_buf_indent(b);
    vdisk_xml_buf_add(b, "<%s>", name);
    vdisk_xml_buf_escape(b, value);
    vdisk_xml_buf_add(b, "</%s>\n", name);
}

int
vdisk_xml_buf_finish(vdisk_xml_buf *b, char **out, vdisk_error *err)
{
    *out = NULL;
    if (!b->data && reserve(b, 0))
        b->data[0] = '\0';
    if (b->failed) {
        vdisk_xml_buf_clear(b);
        return vdisk_error_set(err, ENOMEM, "formatting XML: out of memory");
    }
    *out = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return 0;
}

void
vdisk_xml_buf_clear(vdisk_xml_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}
