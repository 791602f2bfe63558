/* vdisk plugin — libvirt's <secret> XML, parsed safely with libxml2 and
 * formatted back in virsh secret-dumpxml's shape. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <vdisk/secret.h>
#include <vdisk/storage-def.h>

#include "secret-internal.h"

/* Element holding the usage id, per usage type (libvirt's secret schema). */
static const char *
usage_element(const char *type)
{
    if (strcmp(type, "volume") == 0)
        return "volume";
    if (strcmp(type, "iscsi") == 0)
        return "target";
    if (strcmp(type, "ceph") == 0 || strcmp(type, "tls") == 0 || strcmp(type, "vtpm") == 0)
        return "name";
    return NULL;
}

static char *
node_text(xmlNodePtr n)
{
    xmlChar *c = xmlNodeGetContent(n);
    char *s = strdup(c ? (const char *)c : "");
    xmlFree(c);
    return s;
}

/* yes/no attribute; absent = no. */
static int
yes_no(xmlNodePtr n, const char *attr, bool *out, const char *doc, vdisk_error *err)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
    int r = 0;
    *out = false;
    if (v && strcmp((const char *)v, "yes") == 0)
        *out = true;
    else if (v && strcmp((const char *)v, "no") != 0)
        r = vdisk_error_set(err, EINVAL, "%s:%ld: <secret %s='%s'>: expected yes or no", doc,
                            xmlGetLineNo(n), attr, (const char *)v);
    xmlFree(v);
    return r;
}

static int
parse_usage(xmlNodePtr n, vdisk_secret_def *def, const char *doc, vdisk_error *err)
{
    xmlChar *type = xmlGetProp(n, (const xmlChar *)"type");
    const char *el = type ? usage_element((const char *)type) : NULL;
    if (!el) {
        int r = vdisk_error_set(err, EINVAL, "%s:%ld: <usage type='%s'>: unknown usage type "
                                "(expected volume, ceph, iscsi, tls or vtpm)", doc, xmlGetLineNo(n),
                                type ? (const char *)type : "");
        xmlFree(type);
        return r;
    }
    def->usage_type = strdup((const char *)type);
    xmlFree(type);
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, el) == 0)
            def->usage_id = node_text(c);
    if (!def->usage_id)
        return vdisk_error_set(err, EINVAL, "%s:%ld: <usage type='%s'>: missing <%s>", doc,
                               xmlGetLineNo(n), def->usage_type, el);
    return 0;
}

/* The children of <secret>. */
static int
parse_children(xmlNodePtr root, vdisk_secret_def *def, bool *has_uuid, const char *doc, vdisk_error *err)
{
    int r = 0;
    for (xmlNodePtr c = root->children; c && r == 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)c->name;
        if (strcmp(name, "uuid") == 0) {
            char *t = node_text(c);
            if (!t || vdisk_uuid_parse(t, def->uuid) < 0)
                r = vdisk_error_set(err, EINVAL, "%s:%ld: <uuid>: malformed uuid '%s'", doc,
                                    xmlGetLineNo(c), t ? t : "");
            *has_uuid = true;
            free(t);
        } else if (strcmp(name, "description") == 0) {
            free(def->description);
            def->description = node_text(c);
        } else if (strcmp(name, "usage") == 0) {
            r = parse_usage(c, def, doc, err);
        }
    }
    return r;
}

int
vdisk_secret_def_parse(const char *xml, size_t len, const char *doc, vdisk_secret_def *def,
                       bool *has_uuid, vdisk_error *err)
{
    memset(def, 0, sizeof(*def));
    *has_uuid = false;
    if (len > 65536)
        return vdisk_error_set(err, EFBIG, "%s: secret XML larger than 64 KiB", doc);
    /* No XML_PARSE_NOENT / DTDLOAD: entities are never expanded nor fetched. */
    xmlDocPtr d = xmlReadMemory(xml, (int)len, doc, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!d) {
        const xmlError *e = xmlGetLastError();
        return vdisk_error_set(err, EINVAL, "%s:%d: malformed XML: %s", doc, e ? e->line : 0,
                               e && e->message ? e->message : "parse error");
    }
    int r = 0;
    xmlNodePtr root = xmlDocGetRootElement(d);
    if (d->intSubset || d->extSubset)
        r = vdisk_error_set(err, EINVAL, "%s: a document type declaration is not accepted", doc);
    else if (!root || strcmp((const char *)root->name, "secret") != 0)
        r = vdisk_error_set(err, EINVAL, "%s: expected a <secret> root element", doc);
    if (r == 0)
        r = yes_no(root, "ephemeral", &def->ephemeral, doc, err);
    if (r == 0)
        r = yes_no(root, "private", &def->private_, doc, err);
    if (r == 0)
        r = parse_children(root, def, has_uuid, doc, err);
    xmlFreeDoc(d);
    if (r < 0)
        vdisk_secret_def_clear(def);
    return r;
}

/* Append text to f with &, <, >, ', " escaped. */
static void
put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

int
vdisk_secret_def_format(const vdisk_secret_def *def, char **out, size_t *len, vdisk_error *err)
{
    FILE *f = open_memstream(out, len);
    if (!f)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    char uuid[VDISK_UUID_STRING_LEN];
    vdisk_uuid_format(def->uuid, uuid);
    fprintf(f, "<secret ephemeral='%s' private='%s'>\n  <uuid>%s</uuid>\n",
            def->ephemeral ? "yes" : "no", def->private_ ? "yes" : "no", uuid);
    if (def->description) {
        fputs("  <description>", f);
        put_escaped(f, def->description);
        fputs("</description>\n", f);
    }
    if (def->usage_type) {
        const char *el = usage_element(def->usage_type);
        fprintf(f, "  <usage type='%s'>\n    <%s>", def->usage_type, el);
        put_escaped(f, def->usage_id ? def->usage_id : "");
        fprintf(f, "</%s>\n  </usage>\n", el);
    }
    fputs("</secret>\n", f);
    if (fclose(f) != 0)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    return 0;
}
