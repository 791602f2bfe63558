/* vdisk plugin — walking a parsed XML tree: unique children, text,
 * attributes, numbers, and errors that cite the line and the element
 * ("volume.xml:7: <capacity unit='XB'>: unknown unit"). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml-internal.h"

/* Longest attribute value quoted in an error. */
#define QUOTE_MAX 48

/* "<prefix:name a='v' ...>" into out. */
static void
describe(const xmlNode *node, char *out, size_t size)
{
    size_t n;

    if (node->ns && node->ns->prefix)
        n = (size_t)snprintf(out, size, "<%s:%s", node->ns->prefix, node->name);
    else
        n = (size_t)snprintf(out, size, "<%s", node->name);
    for (const xmlAttr *a = node->properties; a && n < size; a = a->next) {
        xmlChar *v = xmlNodeGetContent((const xmlNode *)a);
        const char *val = v ? (const char *)v : "";

        n += (size_t)snprintf(out + n, size - n, " %s='%.*s%s'", a->name, QUOTE_MAX, val,
                              strlen(val) > QUOTE_MAX ? "..." : "");
        xmlFree(v);
    }
    if (n < size)
        snprintf(out + n, size - n, ">");
}

int
vdisk_xml_error(vdisk_error *err, const vdisk_xml_doc *d, const xmlNode *node, int errnum,
                const char *fmt, ...)
{
    char where[256], cause[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cause, sizeof(cause), fmt, ap);
    va_end(ap);
    if (!node)
        return vdisk_error_set(err, errnum, "%s: %s", d->name, cause);
    describe(node, where, sizeof(where));
    return vdisk_error_set(err, errnum, "%s:%ld: %s: %s", d->name, xmlGetLineNo(node), where,
                           cause);
}

/* Does element e have this name and namespace (NULL: none)? */
static bool
is_element(const xmlNode *e, const char *name, const char *ns)
{
    if (e->type != XML_ELEMENT_NODE || strcmp((const char *)e->name, name) != 0)
        return false;
    if (!ns)
        return e->ns == NULL;
    return e->ns && e->ns->href && strcmp((const char *)e->ns->href, ns) == 0;
}

int
vdisk_xml_child(const vdisk_xml_doc *d, const xmlNode *parent, const char *name,
                const char *ns, xmlNode **out, vdisk_error *err)
{
    *out = NULL;
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next) {
        if (!is_element(c, name, ns))
            continue;
        if (*out)
            return vdisk_xml_error(err, d, c, EINVAL, "<%s> given twice (first on line %ld)",
                                   name, xmlGetLineNo(*out));
        *out = c;
    }
    return 0;
}

int
vdisk_xml_text(const vdisk_xml_doc *d, const xmlNode *node, char **out, vdisk_error *err)
{
    xmlChar *content = xmlNodeGetContent(node);

    *out = strdup(content ? (const char *)content : "");
    xmlFree(content);
    if (!*out)
        return vdisk_xml_error(err, d, node, ENOMEM, "out of memory");
    return 0;
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
vdisk_xml_text_trim(const vdisk_xml_doc *d, const xmlNode *node, char **out, vdisk_error *err)
{
    char *s, *start;
    size_t n;
    int r = vdisk_xml_text(d, node, &s, err);

    if (r < 0)
        return r;
    for (start = s; is_blank(*start); start++)
        ;
    n = strlen(start);
    while (n > 0 && is_blank(start[n - 1]))
        n--;
    memmove(s, start, n);
    s[n] = '\0';
    *out = s;
    return 0;
}

int
vdisk_xml_attr(const vdisk_xml_doc *d, const xmlNode *node, const char *name, char **out,
               vdisk_error *err)
{
    xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);

    *out = NULL;
    if (!v)
        return 0;
    *out = strdup((const char *)v);
    xmlFree(v);
    if (!*out)
        return vdisk_xml_error(err, d, node, ENOMEM, "out of memory");
    return 0;
}

int
vdisk_xml_long(const vdisk_xml_doc *d, const xmlNode *node, long long min, long long max,
               long long *out, vdisk_error *err)
{
    char *text, *end;
    long long v;
    int r = vdisk_xml_text_trim(d, node, &text, err);

    if (r < 0)
        return r;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno == ERANGE || v < min || v > max)
        r = vdisk_xml_error(err, d, node, EINVAL, "'%.*s' is not a whole number from %lld to %lld",
                            QUOTE_MAX, text, min, max);
    else
        *out = v;
    free(text);
    return r;
}
