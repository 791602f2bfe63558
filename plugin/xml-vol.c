/* vdisk plugin — volume XML as `virsh vol-create` takes it and
 * `virsh vol-dumpxml` prints it, for file volumes (raw, qcow2, iso, and the
 * other formats libvdisk creates or reads).
 *
 * As libvirt does for file pools, <key>, <target><path>, <physical> and
 * <timestamps> are output only: the pool decides where a volume lives.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>
#include <vdisk/vol-provision.h>

#include "xml-internal.h"

/* Largest size in bytes: off_t is signed, no file is larger. */
#define SIZE_LIMIT ((uint64_t)INT64_MAX)
#define CLUSTER_MIN 512u
#define CLUSTER_MAX (2u << 20)

/* File format names of libvirt that vdisk does not use (its own names --
 * raw, qcow2, vmdk, vpc, vdi, ... -- come from libvdisk). */
static const char *const libvirt_only_formats[] = {
    "none", "dir", "fat", "vhd", "ploop", "cow", NULL,
};

static bool
is_libvirt_only_format(const char *name)
{
    for (const char *const *f = libvirt_only_formats; *f; f++)
        if (!strcmp(*f, name))
            return true;
    return false;
}

/* <format type='...'/> of parent into *fmt.  For a volume (other NULL):
 * a format a new volume can have (vdisk_vol_format_can_create, which
 * follows what libvdisk creates).  For a backing store (other given): any
 * format vdisk names, and a libvirt format vdisk does not know is kept as
 * written in *other. */
static int
parse_format(const vdisk_xml_doc *d, const xmlNode *parent, vdisk_format *fmt, char **other,
             vdisk_error *err)
{
    xmlNode *node;
    char *type = NULL;
    vdisk_format f;
    bool known;
    int r;

    if ((r = vdisk_xml_child(d, parent, "format", NULL, &node, err)) < 0 || !node)
        return r;
    if ((r = vdisk_xml_attr(d, node, "type", &type, err)) < 0)
        return r;
    if (!type)
        return vdisk_xml_error(err, d, node, EINVAL, "missing the type attribute");
    known = vdisk_format_from_name(type, &f, NULL) == 0;
    if (known && (other || vdisk_vol_format_can_create(f))) {
        *fmt = f;
    } else if (!known && other && is_libvirt_only_format(type)) {
        *other = type;
        type = NULL;
    } else if (known || is_libvirt_only_format(type)) {
        char list[128];
        vdisk_vol_format_list_creatable(list, sizeof(list));
        r = vdisk_xml_error(err, d, node, ENOTSUP, "volume format '%s' is not supported for new "
                            "volumes (vdisk creates %s)", type, list);
    } else {
        r = vdisk_xml_error(err, d, node, EINVAL, "unknown volume format type '%.32s'", type);
    }
    free(type);
    return r;
}

/* type='file' (or nothing); libvirt's other volume types are not files. */
static int
parse_type(const vdisk_xml_doc *d, vdisk_error *err)
{
    static const char *const others[] = { "block", "dir", "network", "netdir", "ploop", NULL };
    char *type;
    int r = vdisk_xml_attr(d, d->root, "type", &type, err);

    if (r < 0 || !type || !strcmp(type, "file")) {
        free(type);
        return r;
    }
    r = vdisk_xml_error(err, d, d->root, EINVAL, "unknown volume type '%.32s'", type);
    for (const char *const *o = others; *o; o++)
        if (!strcmp(*o, type))
            r = vdisk_xml_error(err, d, d->root, ENOTSUP, "volume type '%s' is not "
                                "supported: vdisk volumes are files (type='file')", type);
    free(type);
    return r;
}

/* <name>, <capacity>, <allocation>. */
static int
parse_sizing(const vdisk_xml_doc *d, vdisk_vol_def *def, vdisk_error *err)
{
    xmlNode *name, *capacity, *allocation;
    int r;

    if ((r = vdisk_xml_child(d, d->root, "name", NULL, &name, err)) < 0 ||
        (r = vdisk_xml_child(d, d->root, "capacity", NULL, &capacity, err)) < 0 ||
        (r = vdisk_xml_child(d, d->root, "allocation", NULL, &allocation, err)) < 0)
        return r;
    if (!name)
        return vdisk_xml_error(err, d, d->root, EINVAL, "missing <name>");
    if ((r = vdisk_xml_text(d, name, &def->name, err)) < 0 ||
        (r = vdisk_xml_check_name(d, name, def->name, err)) < 0)
        return r;
    if (capacity && (r = vdisk_xml_scaled(d, capacity, SIZE_LIMIT, &def->capacity, err)) < 0)
        return r;
    def->has_capacity = capacity != NULL;
    if (allocation &&
        (r = vdisk_xml_scaled(d, allocation, SIZE_LIMIT, &def->allocation, err)) < 0)
        return r;
    def->has_allocation = allocation != NULL;
    return 0;
}

/* <compat>: "0.10" or "1.1", the two qcow2 versions. */
static int
parse_compat(const vdisk_xml_doc *d, const xmlNode *node, vdisk_vol_def *def, vdisk_error *err)
{
    int r = vdisk_xml_text_trim(d, node, &def->compat, err);

    if (r < 0)
        return r;
    if (!strcmp(def->compat, "0.10") || !strcmp(def->compat, "1.1"))
        return 0;
    return vdisk_xml_error(err, d, node, ENOTSUP, "compat '%.16s' is not a qcow2 version "
                           "(0.10 or 1.1)", def->compat);
}

/* <clusterSize>: a power of two from 512 bytes to 2 MiB, as qcow2 allows. */
static int
parse_cluster_size(const vdisk_xml_doc *d, const xmlNode *node, vdisk_vol_def *def,
                   vdisk_error *err)
{
    uint64_t v;
    int r = vdisk_xml_scaled(d, node, UINT64_MAX, &v, err);

    if (r < 0)
        return r;
    if (v < CLUSTER_MIN || v > CLUSTER_MAX || (v & (v - 1)))
        return vdisk_xml_error(err, d, node, EINVAL, "%llu bytes is not a cluster size: a "
                               "power of two from 512 bytes to 2 MiB", (unsigned long long)v);
    def->cluster_size = v;
    return 0;
}

/* <features>: lazy_refcounts, extended_l2; implies compat 1.1 if not given. */
static int
parse_features(const vdisk_xml_doc *d, const xmlNode *node, vdisk_vol_def *def,
               vdisk_error *err)
{
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!c->ns && !strcmp((const char *)c->name, "lazy_refcounts"))
            def->lazy_refcounts = true;
        else if (!c->ns && !strcmp((const char *)c->name, "extended_l2"))
            def->extended_l2 = true;
        else
            return vdisk_xml_error(err, d, c, ENOTSUP, "unsupported feature (lazy_refcounts "
                                   "or extended_l2)");
    }
    if (!def->compat && !(def->compat = strdup("1.1")))
        return vdisk_xml_error(err, d, node, ENOMEM, "out of memory");
    return 0;
}

/* <target>: format, permissions, encryption, compat, nocow, clusterSize,
 * features.  The path is the pool's business and ignored. */
static int
parse_target(const vdisk_xml_doc *d, vdisk_vol_def *def, vdisk_error *err)
{
    xmlNode *target, *perms, *enc, *compat, *nocow, *cluster, *features;
    int r;

    def->format = VDISK_FORMAT_RAW;
    if ((r = vdisk_xml_child(d, d->root, "target", NULL, &target, err)) < 0 || !target)
        return r;
    if ((r = vdisk_xml_child(d, target, "permissions", NULL, &perms, err)) < 0 ||
        (r = vdisk_xml_child(d, target, "encryption", NULL, &enc, err)) < 0 ||
        (r = vdisk_xml_child(d, target, "compat", NULL, &compat, err)) < 0 ||
        (r = vdisk_xml_child(d, target, "nocow", NULL, &nocow, err)) < 0 ||
        (r = vdisk_xml_child(d, target, "clusterSize", NULL, &cluster, err)) < 0 ||
        (r = vdisk_xml_child(d, target, "features", NULL, &features, err)) < 0)
        return r;
    if ((r = parse_format(d, target, &def->format, NULL, err)) < 0 ||
        (r = vdisk_xml_perms_parse(d, perms, &def->perms, err)) < 0)
        return r;
    if (enc && (r = vdisk_xml_encryption_parse(d, enc, &def->encryption, err)) < 0)
        return r;
    if (compat && (r = parse_compat(d, compat, def, err)) < 0)
        return r;
    def->nocow = nocow != NULL;
    if (cluster && (r = parse_cluster_size(d, cluster, def, err)) < 0)
        return r;
    if (features && (r = parse_features(d, features, def, err)) < 0)
        return r;
    return 0;
}

/* <backingStore><path/><format/><permissions/></backingStore> */
static int
parse_backing(const vdisk_xml_doc *d, vdisk_vol_def *def, vdisk_error *err)
{
    xmlNode *backing, *path, *perms;
    int r;

    if ((r = vdisk_xml_child(d, d->root, "backingStore", NULL, &backing, err)) < 0 ||
        !backing)
        return r;
    if ((r = vdisk_xml_child(d, backing, "path", NULL, &path, err)) < 0 ||
        (r = vdisk_xml_child(d, backing, "permissions", NULL, &perms, err)) < 0)
        return r;
    if (!path)
        return vdisk_xml_error(err, d, backing, EINVAL, "missing <path>");
    if ((r = vdisk_xml_text(d, path, &def->backing_path, err)) < 0)
        return r;
    if (def->backing_path[0] == '\0')
        return vdisk_xml_error(err, d, path, EINVAL, "the backing store path is empty");
    if ((r = parse_format(d, backing, &def->backing_format, &def->backing_format_name,
                          err)) < 0)
        return r;
    return vdisk_xml_perms_parse(d, perms, &def->backing_perms, err);
}

/* Fill a new definition (*(vdisk_vol_def **)opaque) from the document d. */
static int
vol_fill(const vdisk_xml_doc *d, void *opaque, vdisk_error *err)
{
    vdisk_vol_def *def = calloc(1, sizeof(*def));
    int r = 0;

    if (!def)
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", d->name);
    else if ((r = parse_type(d, err)) < 0 || (r = parse_sizing(d, def, err)) < 0 ||
             (r = parse_target(d, def, err)) < 0 || (r = parse_backing(d, def, err)) < 0) {
        vdisk_vol_def_free(def);
        def = NULL;
    }
    *(vdisk_vol_def **)opaque = def;
    return r;
}

int
vdisk_vol_def_parse(const char *xml, size_t len, const char *docname, vdisk_vol_def **out,
                    vdisk_error *err)
{
    *out = NULL;
    if (!xml)
        return vdisk_error_set(err, EINVAL, "%s: no XML given", docname ? docname : "<xml>");
    return vdisk_xml_parse_with(xml, len, docname, "volume", vol_fill, out, err);
}

int
vdisk_vol_def_parse_file(const char *path, vdisk_vol_def **out, vdisk_error *err)
{
    *out = NULL;
    return vdisk_xml_parse_with(NULL, 0, path, "volume", vol_fill, out, err);
}

/* "<atime>1341933637.273190990</atime>" as libvirt prints it. */
static void
format_timestamp(vdisk_xml_buf *b, const char *name, int64_t sec, long nsec)
{
    if (nsec)
        vdisk_xml_buf_line(b, "<%s>%lld.%09ld</%s>", name, (long long)sec, nsec, name);
    else
        vdisk_xml_buf_line(b, "<%s>%lld</%s>", name, (long long)sec, name);
}

static void
format_target(vdisk_xml_buf *b, const vdisk_vol_def *def)
{
    vdisk_xml_buf_open(b, "<target>");
    vdisk_xml_buf_element(b, "path", def->target_path);
    vdisk_xml_buf_line(b, "<format type='%s'/>",
                       def->format == VDISK_FORMAT_UNKNOWN ? "raw" : vdisk_format_name(def->format));
    vdisk_xml_perms_format(b, &def->perms);
    if (def->has_timestamps) {
        vdisk_xml_buf_open(b, "<timestamps>");
        format_timestamp(b, "atime", def->atime.sec, def->atime.nsec);
        format_timestamp(b, "mtime", def->mtime.sec, def->mtime.nsec);
        format_timestamp(b, "ctime", def->ctime_.sec, def->ctime_.nsec);
        vdisk_xml_buf_close(b, "</timestamps>");
    }
    vdisk_xml_encryption_format(b, &def->encryption);
    vdisk_xml_buf_element(b, "compat", def->compat);
    if (def->cluster_size)
        vdisk_xml_buf_line(b, "<clusterSize unit='B'>%llu</clusterSize>",
                           (unsigned long long)def->cluster_size);
    /* As libvirt: a qcow2 v3 (compat 1.1) image always lists its features,
     * if only as <features/>. */
    if (!def->lazy_refcounts && !def->extended_l2 && def->compat && !strcmp(def->compat, "1.1"))
        vdisk_xml_buf_line(b, "<features/>");
    if (def->lazy_refcounts || def->extended_l2) {
        vdisk_xml_buf_open(b, "<features>");
        if (def->lazy_refcounts)
            vdisk_xml_buf_line(b, "<lazy_refcounts/>");
        if (def->extended_l2)
            vdisk_xml_buf_line(b, "<extended_l2/>");
        vdisk_xml_buf_close(b, "</features>");
    }
    vdisk_xml_buf_close(b, "</target>");
}

static void
format_backing(vdisk_xml_buf *b, const vdisk_vol_def *def)
{
    vdisk_xml_buf_open(b, "<backingStore>");
    vdisk_xml_buf_element(b, "path", def->backing_path);
    if (def->backing_format != VDISK_FORMAT_UNKNOWN)
        vdisk_xml_buf_line(b, "<format type='%s'/>", vdisk_format_name(def->backing_format));
    else if (def->backing_format_name) {
        vdisk_xml_buf_indent(b);
        vdisk_xml_buf_add(b, "<format");
        vdisk_xml_buf_attr(b, "type", def->backing_format_name);
        vdisk_xml_buf_add(b, "/>\n");
    }
    vdisk_xml_perms_format(b, &def->backing_perms);
    vdisk_xml_buf_close(b, "</backingStore>");
}

int
vdisk_vol_def_format(const vdisk_vol_def *def, char **out, vdisk_error *err)
{
    vdisk_xml_buf b = {0};

    *out = NULL;
    if (!def || !def->name)
        return vdisk_error_set(err, EINVAL, "cannot format volume XML without a name");
    vdisk_xml_buf_open(&b, "<volume type='%s'>", def->network ? "network" : "file");
    vdisk_xml_buf_element(&b, "name", def->name);
    vdisk_xml_buf_element(&b, "key", def->key);
    vdisk_xml_buf_line(&b, "<capacity unit='bytes'>%llu</capacity>",
                       (unsigned long long)def->capacity);
    vdisk_xml_buf_line(&b, "<allocation unit='bytes'>%llu</allocation>",
                       (unsigned long long)def->allocation);
    if (def->physical)
        vdisk_xml_buf_line(&b, "<physical unit='bytes'>%llu</physical>",
                           (unsigned long long)def->physical);
    format_target(&b, def);
    if (def->backing_path)
        format_backing(&b, def);
    vdisk_xml_buf_close(&b, "</volume>");
    return vdisk_xml_buf_finish(&b, out, err);
}
