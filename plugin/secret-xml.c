/* vdisk plugin — libvirt's <secret> XML, read with the plugin's safe XML
 * reader (xml-read.c: no entities, no DTD, size and depth limits) and
 * formatted back in virsh secret-dumpxml's shape. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/secret.h>
#include <vdisk/storage-def.h>

#include "secret-internal.h"
#include "xml-internal.h"

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

/* yes/no attribute of <secret>; absent = no. */
static int
yes_no(const vdisk_xml_doc *d, const char *attr, bool *out, vdisk_error *err)
{
    char *v = NULL;
    int r = vdisk_xml_attr(d, d->root, attr, &v, err);
    *out = false;
    if (r == 0 && v && strcmp(v, "yes") == 0)
        *out = true;
    else if (r == 0 && v && strcmp(v, "no") != 0)
        r = vdisk_xml_error(err, d, d->root, EINVAL, "%s='%s': expected yes or no", attr, v);
    free(v);
    return r;
}

static int
parse_usage(const vdisk_xml_doc *d, const xmlNode *n, vdisk_secret_def *def, vdisk_error *err)
{
    int r = vdisk_xml_attr(d, n, "type", &def->usage_type, err);
    if (r < 0)
        return r;
    const char *el = def->usage_type ? usage_element(def->usage_type) : NULL;
    if (!el)
        return vdisk_xml_error(err, d, n, EINVAL, "unknown usage type (expected volume, ceph, iscsi, "
                               "tls or vtpm)");
    xmlNode *id = NULL;
    if ((r = vdisk_xml_child(d, n, el, NULL, &id, err)) < 0)
        return r;
    if (!id)
        return vdisk_xml_error(err, d, n, EINVAL, "missing <%s>", el);
    return vdisk_xml_text_trim(d, id, &def->usage_id, err);
}

typedef struct fill_ctx {
    vdisk_secret_def *def;
    bool has_uuid;
} fill_ctx;

/* Build the definition from a parsed <secret> document. */
static int
fill(const vdisk_xml_doc *d, void *opaque, vdisk_error *err)
{
    fill_ctx *ctx = opaque;
    vdisk_secret_def *def = ctx->def;
    xmlNode *uuid = NULL, *desc = NULL, *usage = NULL;
    int r = yes_no(d, "ephemeral", &def->ephemeral, err);
    if (r == 0)
        r = yes_no(d, "private", &def->private_, err);
    if (r == 0 && (r = vdisk_xml_child(d, d->root, "uuid", NULL, &uuid, err)) == 0 && uuid) {
        char *t = NULL;
        if ((r = vdisk_xml_text_trim(d, uuid, &t, err)) == 0 && vdisk_uuid_parse(t, def->uuid) < 0)
            r = vdisk_xml_error(err, d, uuid, EINVAL, "malformed uuid '%s'", t);
        free(t);
        ctx->has_uuid = true;
    }
    if (r == 0 && (r = vdisk_xml_child(d, d->root, "description", NULL, &desc, err)) == 0 && desc)
        r = vdisk_xml_text(d, desc, &def->description, err);
    if (r == 0 && (r = vdisk_xml_child(d, d->root, "usage", NULL, &usage, err)) == 0 && usage)
        r = parse_usage(d, usage, def, err);
    return r;
}

int
vdisk_secret_def_parse(const char *xml, size_t len, const char *doc, vdisk_secret_def *def,
                       bool *has_uuid, vdisk_error *err)
{
    memset(def, 0, sizeof(*def));
    fill_ctx ctx = { .def = def };
    int r = vdisk_xml_parse_with(xml, len, doc, "secret", fill, &ctx, err);
    *has_uuid = ctx.has_uuid;
    if (r < 0)
        vdisk_secret_def_clear(def);
    return r;
}

int
vdisk_secret_def_format(const vdisk_secret_def *def, char **out, size_t *len, vdisk_error *err)
{
    vdisk_xml_buf b = { 0 };
    char uuid[VDISK_UUID_STRING_LEN];
    vdisk_uuid_format(def->uuid, uuid);
    vdisk_xml_buf_open(&b, "<secret ephemeral='%s' private='%s'>", def->ephemeral ? "yes" : "no",
                       def->private_ ? "yes" : "no");
    vdisk_xml_buf_element(&b, "uuid", uuid);
    vdisk_xml_buf_element(&b, "description", def->description);
    const char *el = def->usage_type ? usage_element(def->usage_type) : NULL;
    if (el) {
        vdisk_xml_buf_indent(&b);
        vdisk_xml_buf_add(&b, "<usage");
        vdisk_xml_buf_attr(&b, "type", def->usage_type);
        vdisk_xml_buf_add(&b, ">\n");
        b.indent += 2;
        vdisk_xml_buf_element(&b, el, def->usage_id ? def->usage_id : "");
        vdisk_xml_buf_close(&b, "</usage>");
    }
    vdisk_xml_buf_close(&b, "</secret>");
    int r = vdisk_xml_buf_finish(&b, out, err);
    if (r == 0)
        *len = strlen(*out);
    return r;
}
