/* vdisk plugin — <permissions> of pool targets and volumes, and the rules
 * for pool and volume names (they become file names). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml-internal.h"

/* <mode>: octal, permission bits only, as libvirt (0 to 0777). */
static int
parse_mode(const vdisk_xml_doc *d, const xmlNode *node, vdisk_perms *p, vdisk_error *err)
{
    char *text;
    unsigned long v = 0;
    int r = vdisk_xml_text_trim(d, node, &text, err);

    if (r < 0)
        return r;
    if (text[0] == '\0' || strspn(text, "01234567") != strlen(text) || strlen(text) > 6 ||
        (v = strtoul(text, NULL, 8)) > 0777)
        r = vdisk_xml_error(err, d, node, EINVAL, "'%.16s' is not an octal mode from 0 to 0777",
                            text);
    free(text);
    if (r == 0) {
        p->has_mode = true;
        p->mode = (mode_t)v;
    }
    return r;
}

/* <owner>/<group>: a numeric id; -1 (libvirt's "unset") means not given. */
static int
parse_id(const vdisk_xml_doc *d, const xmlNode *node, bool *has, unsigned *id,
         vdisk_error *err)
{
    long long v;
    int r = vdisk_xml_long(d, node, -1, 4294967294LL, &v, err);

    if (r < 0)
        return r;
    *has = v != -1;
    *id = *has ? (unsigned)v : 0;
    return 0;
}

int
vdisk_xml_perms_parse(const vdisk_xml_doc *d, const xmlNode *node, vdisk_perms *p,
                      vdisk_error *err)
{
    xmlNode *mode, *owner, *group, *label;
    unsigned id;
    int r;

    memset(p, 0, sizeof(*p));
    if (!node)
        return 0;
    if ((r = vdisk_xml_child(d, node, "mode", NULL, &mode, err)) < 0 ||
        (r = vdisk_xml_child(d, node, "owner", NULL, &owner, err)) < 0 ||
        (r = vdisk_xml_child(d, node, "group", NULL, &group, err)) < 0 ||
        (r = vdisk_xml_child(d, node, "label", NULL, &label, err)) < 0)
        return r;
    if (mode && (r = parse_mode(d, mode, p, err)) < 0)
        return r;
    if (owner) {
        if ((r = parse_id(d, owner, &p->has_owner, &id, err)) < 0)
            return r;
        p->owner = (uid_t)id;
    }
    if (group) {
        if ((r = parse_id(d, group, &p->has_group, &id, err)) < 0)
            return r;
        p->group = (gid_t)id;
    }
    if (label) {
        if ((r = vdisk_xml_text(d, label, &p->label, err)) < 0)
            return r;
        if (p->label[0] == '\0') {      /* <label/> says nothing, as in libvirt */
            free(p->label);
            p->label = NULL;
        }
    }
    return 0;
}

void
vdisk_xml_perms_format(vdisk_xml_buf *b, const vdisk_perms *p)
{
    if (!p->has_mode && !p->has_owner && !p->has_group && !p->label)
        return;
    vdisk_xml_buf_open(b, "<permissions>");
    if (p->has_mode)
        vdisk_xml_buf_line(b, "<mode>0%o</mode>", (unsigned)p->mode);
    if (p->has_owner)
        vdisk_xml_buf_line(b, "<owner>%u</owner>", (unsigned)p->owner);
    if (p->has_group)
        vdisk_xml_buf_line(b, "<group>%u</group>", (unsigned)p->group);
    vdisk_xml_buf_element(b, "label", p->label);
    vdisk_xml_buf_close(b, "</permissions>");
}

int
vdisk_xml_check_name(const vdisk_xml_doc *d, const xmlNode *node, const char *name,
                     vdisk_error *err)
{
    size_t len = strlen(name);

    if (len == 0)
        return vdisk_xml_error(err, d, node, EINVAL, "the name is empty");
    if (len > VDISK_XML_NAME_MAX)
        return vdisk_xml_error(err, d, node, ENAMETOOLONG,
                               "the name is %zu bytes long, more than %d", len,
                               VDISK_XML_NAME_MAX);
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return vdisk_xml_error(err, d, node, EINVAL, "'%s' is not allowed as a name", name);
    if (strchr(name, '/'))
        return vdisk_xml_error(err, d, node, EINVAL, "name '%.64s' contains '/'", name);
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return vdisk_xml_error(err, d, node, EINVAL,
                                   "the name contains control character 0x%02x at byte %zu",
                                   *c, (size_t)(c - (const unsigned char *)name));
    return 0;
}
