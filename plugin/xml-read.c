/* vdisk plugin — reading XML safely.
 *
 * The documents come from users and from files anyone may have written, so
 * libxml2 runs with the network off, no DTD loading, no entity substitution,
 * and SAX hooks that stop the parse at the first entity declaration, entity
 * reference (other than the five predefined ones and character references),
 * external DTD or element nested deeper than VDISK_XML_MAX_DEPTH.  XXE and
 * billion-laughs documents therefore never reach libxml2's entity code.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/SAX2.h>

#include <vdisk/storage-xml.h>

#include "xml-internal.h"

/* Why the SAX hooks stopped the parse (kept in the parser's _private). */
typedef struct read_guard {
    char reason[160];
    int line;
} read_guard;

/* Record the first refusal with its line and stop the parser. */
static void
guard_refuse(void *ctx, const char *what, const xmlChar *name, const char *after)
{
    xmlParserCtxt *ctxt = ctx;
    read_guard *g = ctxt->_private;

    if (g->reason[0] == '\0') {
        snprintf(g->reason, sizeof(g->reason), "%s%.64s%s", what,
                 name ? (const char *)name : "", after);
        g->line = ctxt->input ? ctxt->input->line : 0;
    }
    xmlStopParser(ctxt);
}

/* <!DOCTYPE ...>: an internal subset is harmless, an external DTD is not loaded. */
static void
guard_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                      const xmlChar *system_id)
{
    if (external_id || system_id) {
        guard_refuse(ctx, "DOCTYPE names an external DTD, which vdisk never loads: ",
                     system_id ? system_id : external_id, "");
        return;
    }
    xmlSAX2InternalSubset(ctx, name, external_id, system_id);
}

/* <!ENTITY ...> of any kind (general, parameter, external). */
static void
guard_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                  const xmlChar *system_id, xmlChar *content)
{
    guard_refuse(ctx, "entity declarations are not allowed: <!ENTITY ", name, ">");
}

/* <!ENTITY name SYSTEM "..." NDATA ...> */
static void
guard_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
                           const xmlChar *system_id, const xmlChar *notation)
{
    guard_refuse(ctx, "entity declarations are not allowed: <!ENTITY ", name, ">");
}

/* &name; other than the predefined five (libxml2 resolves those itself). */
static xmlEntity *
guard_get_entity(void *ctx, const xmlChar *name)
{
    guard_refuse(ctx, "entity references are not allowed: &", name, ";");
    return NULL;
}

/* %name; in a DTD. */
static xmlEntity *
guard_get_parameter_entity(void *ctx, const xmlChar *name)
{
    guard_refuse(ctx, "entity references are not allowed: %", name, ";");
    return NULL;
}

/* An entity reference node that would be kept unexpanded. */
static void
guard_reference(void *ctx, const xmlChar *name)
{
    guard_refuse(ctx, "entity references are not allowed: &", name, ";");
}

/* Every element: refuse nesting deeper than VDISK_XML_MAX_DEPTH. */
static void
guard_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                    int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxt *ctxt = ctx;

    if (ctxt->nameNr >= VDISK_XML_MAX_DEPTH) {
        guard_refuse(ctx, "elements nested more than " VDISK_XML_MAX_DEPTH_TEXT " deep, at <",
                     localname, ">");
        return;
    }
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces,
                          nb_attributes, nb_defaulted, attributes);
}

static void
install_guards(xmlSAXHandler *sax)
{
    sax->internalSubset = guard_internal_subset;
    sax->externalSubset = NULL;
    sax->entityDecl = guard_entity_decl;
    sax->unparsedEntityDecl = guard_unparsed_entity_decl;
    sax->getEntity = guard_get_entity;
    sax->getParameterEntity = guard_get_parameter_entity;
    sax->reference = guard_reference;
    sax->startElementNs = guard_start_element;
}

/* libxml2's own message for a document it could not parse. */
static int
syntax_error(xmlParserCtxt *ctxt, const char *docname, vdisk_error *err)
{
    const xmlError *e = xmlCtxtGetLastError(ctxt);
    char msg[512] = "not well-formed";
    size_t n;

    if (e && e->message) {
        snprintf(msg, sizeof(msg), "%s", e->message);
        n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
    }
    if (e && e->line > 0)
        return vdisk_error_set(err, EINVAL, "%s:%d: XML error: %s", docname, e->line, msg);
    return vdisk_error_set(err, EINVAL, "%s: XML error: %s", docname, msg);
}

/* The root must be the element the caller expects, in no namespace. */
static int
check_root(vdisk_xml_doc *d, const char *root, vdisk_error *err)
{
    d->root = xmlDocGetRootElement(d->doc);
    if (!d->root)
        return vdisk_error_set(err, EINVAL, "%s: XML error: no root element", d->name);
    if (d->root->ns || strcmp((const char *)d->root->name, root) != 0)
        return vdisk_xml_error(err, d, d->root, EINVAL, "expected <%s> as the root element",
                               root);
    return 0;
}

int
vdisk_xml_doc_read(vdisk_xml_doc *d, const char *xml, size_t len, const char *docname,
                   const char *root, vdisk_error *err)
{
    read_guard guard = { .reason = "", .line = 0 };
    xmlParserCtxt *ctxt;
    int r;

    memset(d, 0, sizeof(*d));
    d->name = docname ? docname : "<xml>";
    if (!xml)
        return vdisk_error_set(err, EINVAL, "%s: no XML given", d->name);
    if (len > VDISK_XML_MAX_SIZE)
        return vdisk_error_set(err, EFBIG, "%s: %zu bytes is more than the %u-byte limit "
                               "of an XML document", d->name, len, VDISK_XML_MAX_SIZE);
    if (len == 0)
        return vdisk_error_set(err, EINVAL, "%s: XML error: the document is empty", d->name);

    xmlInitParser();        /* idempotent and locked: safe from any thread */
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return vdisk_error_set(err, ENOMEM, "%s: cannot allocate an XML parser", d->name);
    install_guards(ctxt->sax);
    ctxt->_private = &guard;
    d->doc = xmlCtxtReadMemory(ctxt, xml, (int)len, d->name, NULL,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                               XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES);
    if (guard.reason[0]) {
        r = vdisk_error_set(err, EINVAL, "%s:%d: %s", d->name, guard.line, guard.reason);
        goto fail;
    }
    if (!d->doc || !ctxt->wellFormed) {
        r = syntax_error(ctxt, d->name, err);
        goto fail;
    }
    xmlFreeParserCtxt(ctxt);
    r = check_root(d, root, err);
    if (r < 0)
        vdisk_xml_doc_close(d);
    return r;

fail:
    xmlFreeDoc(d->doc);
    d->doc = NULL;
    xmlFreeParserCtxt(ctxt);
    return r;
}

void
vdisk_xml_doc_close(vdisk_xml_doc *d)
{
    if (!d)
        return;
    xmlFreeDoc(d->doc);
    d->doc = NULL;
    d->root = NULL;
}

int
vdisk_xml_file_load(const char *path, char **buf, size_t *len, vdisk_error *err)
{
    size_t cap = VDISK_XML_MAX_SIZE + 1, n = 0;
    char *data;
    int fd, r = 0;

    *buf = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return vdisk_error_set_errno(err, errno, "%s: cannot open", path);
    data = malloc(cap + 1);
    if (!data) {
        close(fd);
        return vdisk_error_set(err, ENOMEM, "%s: cannot allocate a read buffer", path);
    }
    while (n < cap) {
        ssize_t got = read(fd, data + n, cap - n);

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = vdisk_error_set_errno(err, errno, "%s: read", path);
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    if (r == 0 && n > VDISK_XML_MAX_SIZE)
        r = vdisk_error_set(err, EFBIG, "%s: more than the %u-byte limit of an XML document",
                            path, VDISK_XML_MAX_SIZE);
    if (r < 0) {
        free(data);
        return r;
    }
    data[n] = '\0';
    *buf = data;
    *len = n;
    return 0;
}

int
vdisk_xml_parse_with(const char *xml, size_t len, const char *docname, const char *root,
                     vdisk_xml_fill_fn fill, void *opaque, vdisk_error *err)
{
    vdisk_xml_doc d;
    char *text = NULL;
    int r;

    if (!xml) {
        if (!docname)
            return vdisk_error_set(err, EINVAL, "no XML file named");
        if ((r = vdisk_xml_file_load(docname, &text, &len, err)) < 0)
            return r;
        xml = text;
    }
    r = vdisk_xml_doc_read(&d, xml, len, docname, root, err);
    free(text);         /* the tree does not point into the text */
    if (r < 0)
        return r;
    r = fill(&d, opaque, err);
    vdisk_xml_doc_close(&d);
    return r;
}
