/* vdisk plugin — pool XML: <pool type='vdisk'> in libvirt's dir-pool
 * grammar, plus vdisk's provisioning policy in its own namespace:
 *
 *   <pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>
 *     <name>images</name>
 *     <target><path>/var/lib/vdisk/images</path></target>
 *     <vdisk:provisioning>
 *       <vdisk:zeroing>eager</vdisk:zeroing>
 *       <vdisk:overcommit>1.5</vdisk:overcommit>
 *     </vdisk:provisioning>
 *     <vdisk:backing>
 *       <vdisk:outside>allow</vdisk:outside>
 *     </vdisk:backing>
 *   </pool>
 *
 * <vdisk:backing><vdisk:outside> says whether a volume may have a backing
 * file outside the pool directory (default refuse: see volume-backing.c).
 *
 * As libvirt does for dir pools, <capacity>, <allocation> and <available>
 * are runtime figures (ignored on input) and <source> is ignored -- unless
 * it names an RBD pool: then the pool is on Ceph (xml-pool-source.c) and
 * has no <target>; or a shared filesystem's <dir>: then pool-start mounts
 * it on the <target>.  type='rbd' and type='netfs' (libvirt's) are taken
 * as the same things.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "xml-internal.h"

/* Largest overcommit ratio accepted (a sanity bound, not a policy). */
#define OVERCOMMIT_MAX 1000000.0

/* type='vdisk', or 'dir' (libvirt's file pool, the same thing here), or
 * 'rbd' (libvirt's, which must then name its RBD pool), or 'netfs'
 * (libvirt's, which must then name its shared filesystem). */
static int
parse_type(const vdisk_xml_doc *d, bool *rbd, bool *netfs, vdisk_error *err)
{
    char *type;
    int r = vdisk_xml_attr(d, d->root, "type", &type, err);

    if (r < 0)
        return r;
    if (!type)
        r = vdisk_xml_error(err, d, d->root, EINVAL, "missing the type attribute "
                            "(type='vdisk')");
    else if (strcmp(type, "vdisk") != 0 && strcmp(type, "dir") != 0 && strcmp(type, "rbd") != 0 &&
             strcmp(type, "netfs") != 0)
        r = vdisk_xml_error(err, d, d->root, ENOTSUP, "pool type '%.32s' is not supported: "
                            "vdisk pools are directories of image files (local or on a shared "
                            "filesystem) or Ceph RBD pools, type 'vdisk' (or 'dir', 'netfs', "
                            "'rbd')", type);
    *rbd = type && strcmp(type, "rbd") == 0;
    *netfs = type && strcmp(type, "netfs") == 0;
    free(type);
    return r;
}

/* <name> (required) and <uuid> (optional). */
static int
parse_identity(const vdisk_xml_doc *d, vdisk_pool_def *def, vdisk_error *err)
{
    xmlNode *name, *uuid;
    char *text;
    int r;

    if ((r = vdisk_xml_child(d, d->root, "name", NULL, &name, err)) < 0 ||
        (r = vdisk_xml_child(d, d->root, "uuid", NULL, &uuid, err)) < 0)
        return r;
    if (!name)
        return vdisk_xml_error(err, d, d->root, EINVAL, "missing <name>");
    if ((r = vdisk_xml_text(d, name, &def->name, err)) < 0 ||
        (r = vdisk_xml_check_name(d, name, def->name, err)) < 0)
        return r;
    if (!uuid)
        return 0;
    if ((r = vdisk_xml_text_trim(d, uuid, &text, err)) < 0)
        return r;
    if (vdisk_uuid_parse(text, def->uuid) < 0)
        r = vdisk_xml_error(err, d, uuid, EINVAL, "malformed uuid '%.48s'", text);
    free(text);
    def->has_uuid = r == 0;
    return r;
}

/* <features><cow state='yes|no'/></features> */
static int
parse_features(const vdisk_xml_doc *d, vdisk_pool_def *def, vdisk_error *err)
{
    xmlNode *features, *cow;
    char *state = NULL;
    int r;

    if ((r = vdisk_xml_child(d, d->root, "features", NULL, &features, err)) < 0 ||
        (r = vdisk_xml_child(d, features, "cow", NULL, &cow, err)) < 0 || !cow)
        return r;
    if ((r = vdisk_xml_attr(d, cow, "state", &state, err)) < 0)
        return r;
    if (state && (!strcmp(state, "yes") || !strcmp(state, "no"))) {
        def->has_cow = true;
        def->cow = state[0] == 'y';
    } else {
        r = vdisk_xml_error(err, d, cow, EINVAL, "state must be 'yes' or 'no'");
    }
    free(state);
    return r;
}

/* Collapse repeated slashes and drop a trailing one, as libvirt does. */
static void
sanitize_path(char *path)
{
    char *out = path;

    for (const char *in = path; *in; in++) {
        if (*in == '/' && out > path && out[-1] == '/')
            continue;
        *out++ = *in;
    }
    if (out > path + 1 && out[-1] == '/')
        out--;
    *out = '\0';
}

/* <target><path>...</path><permissions>...</permissions></target>; none
 * on RBD, whose volumes are no files. */
static int
parse_target(const vdisk_xml_doc *d, vdisk_pool_def *def, vdisk_error *err)
{
    xmlNode *target, *path, *perms;
    int r;

    if ((r = vdisk_xml_child(d, d->root, "target", NULL, &target, err)) < 0 ||
        (r = vdisk_xml_child(d, target, "path", NULL, &path, err)) < 0 ||
        (r = vdisk_xml_child(d, target, "permissions", NULL, &perms, err)) < 0)
        return r;
    if (def->source.name) {
        if (target)
            return vdisk_xml_error(err, d, target, EINVAL, "a pool on Ceph RBD has no <target>: "
                                   "its volumes are RBD images of pool '%.64s'", def->source.name);
        return 0;
    }
    if (!path)
        return vdisk_xml_error(err, d, target ? target : d->root, EINVAL,
                               "missing the pool's target path (<target><path>)");
    if ((r = vdisk_xml_text(d, path, &def->target_path, err)) < 0)
        return r;
    if (def->target_path[0] != '/')
        return vdisk_xml_error(err, d, path, EINVAL, "the target path '%.64s' is not absolute",
                               def->target_path);
    sanitize_path(def->target_path);
    return vdisk_xml_perms_parse(d, perms, &def->target_perms, err);
}

/* A ratio written as digits with an optional fraction ("1", "1.5"). */
static bool
parse_ratio(const char *s, double *out)
{
    double v = 0, scale = 1;
    const char *start = s;

    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    if (s == start)
        return false;
    if (*s == '.') {
        start = ++s;
        for (; *s >= '0' && *s <= '9'; s++)
            v += (*s - '0') * (scale /= 10);
        if (s == start)
            return false;
    }
    *out = v;
    return *s == '\0';
}

static int
parse_zeroing(const vdisk_xml_doc *d, const xmlNode *node, vdisk_pool_def *def,
              vdisk_error *err)
{
    char *text;
    int r = vdisk_xml_text_trim(d, node, &text, err);

    if (r < 0)
        return r;
    if (!strcmp(text, "lazy"))
        def->zeroing = VDISK_ZEROING_LAZY;
    else if (!strcmp(text, "eager"))
        def->zeroing = VDISK_ZEROING_EAGER;
    else
        r = vdisk_xml_error(err, d, node, EINVAL, "'%.32s' is not a zeroing mode "
                            "(lazy or eager)", text);
    free(text);
    return r;
}

static int
parse_overcommit(const vdisk_xml_doc *d, const xmlNode *node, vdisk_pool_def *def,
                 vdisk_error *err)
{
    char *text;
    double v;
    int r = vdisk_xml_text_trim(d, node, &text, err);

    if (r < 0)
        return r;
    if (!parse_ratio(text, &v) || !(v > 0) || v > OVERCOMMIT_MAX)
        r = vdisk_xml_error(err, d, node, EINVAL, "'%.32s' is not a positive ratio such as "
                            "1.5 (leave the element out for no cap)", text);
    else
        def->overcommit_max = v;
    free(text);
    return r;
}

/* The namespace URI of vdisk's pool options, without its version. */
#define VDISK_NS_BASE "http://libvirt.org/schemas/storagepool/vdisk/"

static bool
is_one_of(const xmlNode *c, const char *const *names)
{
    for (const char *const *n = names; *n; n++)
        if (!strcmp((const char *)c->name, *n))
            return true;
    return false;
}

/* Check the element children of parent against vdisk's namespace: its
 * elements must be among `names` (NULL-ended), another version of it is an
 * error, and so is one of `names` left without the namespace (a forgotten
 * prefix would otherwise silently drop the policy).  Elements of other
 * namespaces are left alone, as libvirt does. */
static int
check_namespace_children(const vdisk_xml_doc *d, const xmlNode *parent,
                         const char *const *names, const char *expected, vdisk_error *err)
{
    for (const xmlNode *c = parent->children; c; c = c->next) {
        const char *href;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        href = c->ns && c->ns->href ? (const char *)c->ns->href : NULL;
        if (href && !strcmp(href, VDISK_POOL_NAMESPACE_URI) && !is_one_of(c, names))
            return vdisk_xml_error(err, d, c, EINVAL, "unknown element of the vdisk "
                                   "namespace (expected %s)", expected);
        if (href && strcmp(href, VDISK_POOL_NAMESPACE_URI) != 0 &&
            !strncmp(href, VDISK_NS_BASE, strlen(VDISK_NS_BASE)))
            return vdisk_xml_error(err, d, c, EINVAL, "unknown vdisk namespace '%.80s' "
                                   "(expected '%s')", href, VDISK_POOL_NAMESPACE_URI);
        if (!href && is_one_of(c, names))
            return vdisk_xml_error(err, d, c, EINVAL, "<%s> belongs to the vdisk namespace: "
                                   "write <vdisk:%s> and declare xmlns:vdisk='%s'",
                                   c->name, c->name, VDISK_POOL_NAMESPACE_URI);
    }
    return 0;
}

/* <vdisk:backing><vdisk:outside>allow|refuse</vdisk:outside></vdisk:backing> */
static int
parse_backing(const vdisk_xml_doc *d, vdisk_pool_def *def, vdisk_error *err)
{
    static const char *const inner[] = { "outside", NULL };
    const char *ns = VDISK_POOL_NAMESPACE_URI;
    xmlNode *backing, *outside;
    char *text;
    int r;

    if ((r = vdisk_xml_child(d, d->root, "backing", ns, &backing, err)) < 0 || !backing)
        return r;
    if ((r = check_namespace_children(d, backing, inner, "<vdisk:outside>", err)) < 0 ||
        (r = vdisk_xml_child(d, backing, "outside", ns, &outside, err)) < 0 || !outside)
        return r;
    if ((r = vdisk_xml_text_trim(d, outside, &text, err)) < 0)
        return r;
    if (!strcmp(text, "allow") || !strcmp(text, "refuse"))
        def->backing_outside = text[0] == 'a';
    else
        r = vdisk_xml_error(err, d, outside, EINVAL, "'%.32s' is not a backing file policy "
                            "(allow or refuse)", text);
    free(text);
    return r;
}

/* <vdisk:provisioning> and <vdisk:backing> */
static int
parse_provisioning(const vdisk_xml_doc *d, vdisk_pool_def *def, vdisk_error *err)
{
    static const char *const top[] = { "provisioning", "backing", "config", NULL };
    static const char *const inner[] = { "zeroing", "overcommit", NULL };
    const char *ns = VDISK_POOL_NAMESPACE_URI;
    xmlNode *prov, *zeroing, *overcommit;
    int r;

    if ((r = check_namespace_children(d, d->root, top, "<vdisk:provisioning>, <vdisk:backing> "
                                      "or <vdisk:config>", err)) < 0 ||
        (r = parse_backing(d, def, err)) < 0 ||
        (r = vdisk_xml_child(d, d->root, "provisioning", ns, &prov, err)) < 0 || !prov)
        return r;
    if ((r = check_namespace_children(d, prov, inner,
                                      "<vdisk:zeroing> or <vdisk:overcommit>", err)) < 0 ||
        (r = vdisk_xml_child(d, prov, "zeroing", ns, &zeroing, err)) < 0 ||
        (r = vdisk_xml_child(d, prov, "overcommit", ns, &overcommit, err)) < 0)
        return r;
    if (zeroing && (r = parse_zeroing(d, zeroing, def, err)) < 0)
        return r;
    if (overcommit && (r = parse_overcommit(d, overcommit, def, err)) < 0)
        return r;
    return 0;
}

/* Fill a new definition (*(vdisk_pool_def **)opaque) from the document d. */
static int
pool_fill(const vdisk_xml_doc *d, void *opaque, vdisk_error *err)
{
    vdisk_pool_def *def = calloc(1, sizeof(*def));
    bool rbd = false, netfs = false;
    int r = 0;

    if (!def)
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", d->name);
    else if ((r = parse_type(d, &rbd, &netfs, err)) < 0 || (r = parse_identity(d, def, err)) < 0 ||
             (r = parse_features(d, def, err)) < 0 ||
             (r = vdisk_xml_pool_source_parse(d, &def->source, err)) < 0 ||
             (rbd && !def->source.name &&
              (r = vdisk_xml_error(err, d, d->root, EINVAL, "a pool of type 'rbd' needs "
                                   "<source><name>: the RBD pool")) < 0) ||
             (netfs && !def->source.dir &&
              (r = vdisk_xml_error(err, d, d->root, EINVAL, "a pool of type 'netfs' needs "
                                   "<source><host/><dir/></source>: the shared filesystem")) < 0) ||
             (r = parse_target(d, def, err)) < 0 || (r = parse_provisioning(d, def, err)) < 0) {
        vdisk_pool_def_free(def);
        def = NULL;
    }
    *(vdisk_pool_def **)opaque = def;
    return r;
}

int
vdisk_pool_def_parse(const char *xml, size_t len, const char *docname, vdisk_pool_def **out,
                     vdisk_error *err)
{
    *out = NULL;
    if (!xml)
        return vdisk_error_set(err, EINVAL, "%s: no XML given", docname ? docname : "<xml>");
    return vdisk_xml_parse_with(xml, len, docname, "pool", pool_fill, out, err);
}

int
vdisk_pool_def_parse_file(const char *path, vdisk_pool_def **out, vdisk_error *err)
{
    *out = NULL;
    return vdisk_xml_parse_with(NULL, 0, path, "pool", pool_fill, out, err);
}

/* "1.5" for 1.5: the ratio with up to 6 decimals, independent of the locale. */
static void
format_ratio(vdisk_xml_buf *b, double ratio)
{
    unsigned long long micro = (unsigned long long)llround(ratio * 1e6);
    char frac[8];
    int n;

    snprintf(frac, sizeof(frac), "%06llu", micro % 1000000);
    for (n = 6; n > 0 && frac[n - 1] == '0'; n--)
        frac[n - 1] = '\0';
    vdisk_xml_buf_line(b, "<vdisk:overcommit>%llu%s%s</vdisk:overcommit>", micro / 1000000,
                       n ? "." : "", frac);
}

int
vdisk_pool_def_format(const vdisk_pool_def *def, char **out, vdisk_error *err)
{
    vdisk_xml_buf b = {0};
    char uuid[VDISK_UUID_STRING_LEN];

    *out = NULL;
    if (!def || !def->name || (!def->target_path && !def->source.name))
        return vdisk_error_set(err, EINVAL, "cannot format pool XML without a name and a "
                               "target path or an RBD source");
    vdisk_xml_buf_open(&b, "<pool type='vdisk' xmlns:vdisk='%s'>", VDISK_POOL_NAMESPACE_URI);
    vdisk_xml_buf_element(&b, "name", def->name);
    if (def->has_uuid) {
        vdisk_uuid_format(def->uuid, uuid);
        vdisk_xml_buf_line(&b, "<uuid>%s</uuid>", uuid);
    }
    vdisk_xml_buf_line(&b, "<capacity unit='bytes'>%llu</capacity>",
                       (unsigned long long)def->capacity);
    vdisk_xml_buf_line(&b, "<allocation unit='bytes'>%llu</allocation>",
                       (unsigned long long)def->allocation);
    vdisk_xml_buf_line(&b, "<available unit='bytes'>%llu</available>",
                       (unsigned long long)def->available);
    if (def->has_cow) {
        vdisk_xml_buf_open(&b, "<features>");
        vdisk_xml_buf_line(&b, "<cow state='%s'/>", def->cow ? "yes" : "no");
        vdisk_xml_buf_close(&b, "</features>");
    }
    if (def->source.name) {
        vdisk_xml_pool_source_format(&b, &def->source);
    } else {
        if (def->source.dir) {
            vdisk_xml_pool_source_format(&b, &def->source);
        } else {
            vdisk_xml_buf_open(&b, "<source>");
            vdisk_xml_buf_close(&b, "</source>");
        }
        vdisk_xml_buf_open(&b, "<target>");
        vdisk_xml_buf_element(&b, "path", def->target_path);
        vdisk_xml_perms_format(&b, &def->target_perms);
        vdisk_xml_buf_close(&b, "</target>");
    }
    vdisk_xml_buf_open(&b, "<vdisk:provisioning>");
    vdisk_xml_buf_line(&b, "<vdisk:zeroing>%s</vdisk:zeroing>",
                       def->zeroing == VDISK_ZEROING_EAGER ? "eager" : "lazy");
    if (def->overcommit_max > 0)
        format_ratio(&b, def->overcommit_max);
    vdisk_xml_buf_close(&b, "</vdisk:provisioning>");
    if (def->backing_outside) {     /* the default (refuse) is not written */
        vdisk_xml_buf_open(&b, "<vdisk:backing>");
        vdisk_xml_buf_line(&b, "<vdisk:outside>allow</vdisk:outside>");
        vdisk_xml_buf_close(&b, "</vdisk:backing>");
    }
    vdisk_xml_buf_close(&b, "</pool>");
    return vdisk_xml_buf_finish(&b, out, err);
}
