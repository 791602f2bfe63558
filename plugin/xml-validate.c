/* vdisk plugin — pool, volume and secret XML validated against vdisk's
 * RelaxNG schemas (xml-schemas/, installed in VDISK_SCHEMA_DIR), for
 * --validate on pool-define, vol-create and secret-define, with
 * libvirt's words when a document fails. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/relaxng.h>

#include <vdisk/storage-xml.h>

#include "xml-internal.h"

#ifndef VDISK_SCHEMA_DIR
#define VDISK_SCHEMA_DIR "/usr/share/vdisk/schemas"
#endif

/* What libxml2 says while it validates, gathered as libvirt gathers it. */
typedef struct rng_messages {
    char text[4096];
    size_t len;
} rng_messages;

/* libxml2's error callback: the formatted piece appended (cut at the end of the buffer). */
static void
gather(void *opaque, const char *fmt, ...)
{
    rng_messages *m = opaque;
    if (m->len >= sizeof(m->text) - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->text + m->len, sizeof(m->text) - m->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        m->len = m->len + (size_t)n < sizeof(m->text) ? m->len + (size_t)n : sizeof(m->text) - 1;
}

/* libxml2's warning callback: warnings are not failures. */
static void
ignore(void *opaque, const char *fmt, ...)
{
    (void)opaque, (void)fmt;
}

/* The schema parsed from its file (its includes resolve beside it). */
static int
load_schema(const char *path, xmlRelaxNGPtr *out, vdisk_error *err)
{
    rng_messages m = { .len = 0 };
    xmlRelaxNGParserCtxtPtr pctxt = xmlRelaxNGNewParserCtxt(path);
    if (!pctxt)
        return vdisk_error_set(err, ENOMEM, "internal error: Unable to create RNG parser for %s", path);
    xmlRelaxNGSetParserErrors(pctxt, gather, ignore, &m);
    *out = xmlRelaxNGParse(pctxt);
    xmlRelaxNGFreeParserCtxt(pctxt);
    if (!*out)
        return vdisk_error_set(err, ENOENT, "internal error: Unable to parse RNG %s: %s", path,
                               m.len ? m.text : "cannot read the schema (is VDISK_SCHEMA_DIR right?)");
    return 0;
}

int
vdisk_xml_validate(const char *xml, size_t len, const char *docname, const char *root, const char *schema,
                   vdisk_error *err)
{
    const char *dir = getenv("VDISK_SCHEMA_DIR");
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : VDISK_SCHEMA_DIR, schema) >= (int)sizeof(path))
        return vdisk_error_set(err, ENAMETOOLONG, "VDISK_SCHEMA_DIR is too long");
    vdisk_xml_doc d;
    int r = vdisk_xml_doc_read(&d, xml, len, docname, root, err);
    if (r < 0)
        return r;
    xmlRelaxNGPtr rng = NULL;
    if ((r = load_schema(path, &rng, err)) == 0) {
        rng_messages m = { .len = 0 };
        xmlRelaxNGValidCtxtPtr vctxt = xmlRelaxNGNewValidCtxt(rng);
        if (!vctxt) {
            r = vdisk_error_set(err, ENOMEM, "internal error: Unable to create RNG validation context %s", path);
        } else {
            xmlRelaxNGSetValidErrors(vctxt, gather, ignore, &m);
            if (xmlRelaxNGValidateDoc(vctxt, d.doc) != 0)
                r = vdisk_error_set(err, EINVAL, "XML document failed to validate against schema: "
                                    "Unable to validate doc against %s\n%s", path, m.text);
            xmlRelaxNGFreeValidCtxt(vctxt);
        }
        xmlRelaxNGFree(rng);
    }
    vdisk_xml_doc_close(&d);
    return r;
}

int
vdisk_xml_validate_file(const char *file, const char *root, const char *schema, vdisk_error *err)
{
    char *xml;
    size_t len;
    int r = vdisk_xml_file_load(file, &xml, &len, err);
    if (r == 0) {
        r = vdisk_xml_validate(xml, len, file, root, schema, err);
        free(xml);
    }
    return r;
}
