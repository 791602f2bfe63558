/* vdisk plugin — pool XML: the <source> of a pool on Ceph RBD, in
 * libvirt's rbd-pool grammar, and vdisk's <vdisk:config> beside it:
 *
 *   <pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>
 *     <name>ceph</name>
 *     <source>
 *       <host name='10.0.0.1' port='6789'/>
 *       <name>rbd</name>
 *       <auth type='ceph' username='libvirt'>
 *         <secret uuid='2ec115d7-3a88-3ceb-bc12-0ac909a6fd87'/>
 *       </auth>
 *     </source>
 *     <vdisk:config file='/etc/ceph/ceph.conf'/>
 *   </pool>
 *
 * A pool with <source><name> is on RBD and has no <target>.  A pool with
 * <source><dir> is on a shared filesystem, in libvirt's netfs grammar: its
 * <target><path> is where pool-start mounts it (pool-netfs.c):
 *
 *   <pool type='vdisk'>                            (or type='netfs')
 *     <name>shared</name>
 *     <source>
 *       <host name='gluster1'/>
 *       <dir path='/vmvol'/>
 *       <format type='glusterfs'/>                 (or nfs; default auto)
 *     </source>
 *     <target><path>/var/lib/vdisk/shared</path></target>
 *   </pool>
 *
 * A local directory pool's <source> stays ignored, as libvirt's dir pool
 * does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "xml-internal.h"

/* One <host name= port=/>, appended to src->hosts. */
static int
parse_host(const vdisk_xml_doc *d, const xmlNode *node, vdisk_pool_source *src, vdisk_error *err)
{
    char *name = NULL, *port = NULL;
    int r;

    if ((r = vdisk_xml_attr(d, node, "name", &name, err)) < 0 ||
        (r = vdisk_xml_attr(d, node, "port", &port, err)) < 0)
        goto out;
    if (!name || !name[0] || strpbrk(name, ",; \t\n")) {
        r = vdisk_xml_error(err, d, node, EINVAL, "a <host> needs a name without "
                            "',', ';' or blanks");
        goto out;
    }
    if (port && src->dir) {
        r = vdisk_xml_error(err, d, node, EINVAL, "a shared filesystem's <host> takes no port: "
                            "mount finds the server's");
        goto out;
    }
    unsigned long p = 0;
    if (port) {
        char *end;
        errno = 0;
        p = strtoul(port, &end, 10);
        if (errno || end == port || *end || p == 0 || p > 65535) {
            r = vdisk_xml_error(err, d, node, EINVAL, "port '%.16s' is not a TCP port", port);
            goto out;
        }
    }
    vdisk_pool_host *h = realloc(src->hosts, (src->nhosts + 1) * sizeof(*h));
    if (!h) {
        r = vdisk_xml_error(err, d, node, ENOMEM, "out of memory");
        goto out;
    }
    src->hosts = h;
    h[src->nhosts++] = (vdisk_pool_host){ .name = name, .port = (unsigned)p };
    name = NULL;
out:
    free(name);
    free(port);
    return r;
}

/* <auth type='ceph' username='...'><secret uuid='...' | usage='...'/></auth> */
static int
parse_auth(const vdisk_xml_doc *d, const xmlNode *auth, vdisk_pool_source *src, vdisk_error *err)
{
    char *type = NULL, *uuid = NULL;
    xmlNode *secret;
    int r;

    if ((r = vdisk_xml_attr(d, auth, "type", &type, err)) < 0)
        return r;
    if (!type || strcmp(type, "ceph") != 0)
        r = vdisk_xml_error(err, d, auth, EINVAL, "auth type '%.16s' is not supported: an RBD "
                            "pool authenticates with type='ceph'", type ? type : "");
    free(type);
    if (r < 0 || (r = vdisk_xml_attr(d, auth, "username", &src->auth_username, err)) < 0 ||
        (r = vdisk_xml_child(d, auth, "secret", NULL, &secret, err)) < 0)
        return r;
    if (!src->auth_username || !src->auth_username[0] || !secret)
        return vdisk_xml_error(err, d, auth, EINVAL, "<auth> needs a username and a <secret>");
    if ((r = vdisk_xml_attr(d, secret, "uuid", &uuid, err)) < 0 ||
        (r = vdisk_xml_attr(d, secret, "usage", &src->secret_usage, err)) < 0)
        goto out;
    if (!uuid == !src->secret_usage)
        r = vdisk_xml_error(err, d, secret, EINVAL, "<secret> needs exactly one of uuid= and usage=");
    else if (uuid && vdisk_uuid_parse(uuid, src->secret_uuid) < 0)
        r = vdisk_xml_error(err, d, secret, EINVAL, "malformed uuid '%.48s'", uuid);
    else
        src->has_secret_uuid = uuid != NULL;
out:
    free(uuid);
    return r;
}

/* <vdisk:config file='PATH'/>: the Ceph configuration file (absolute). */
static int
parse_config(const vdisk_xml_doc *d, vdisk_pool_source *src, vdisk_error *err)
{
    xmlNode *config;
    int r = vdisk_xml_child(d, d->root, "config", VDISK_POOL_NAMESPACE_URI, &config, err);

    if (r < 0 || !config)
        return r;
    if (!src->name)
        return vdisk_xml_error(err, d, config, EINVAL, "<vdisk:config> belongs to a pool on Ceph "
                               "RBD (with <source><name>)");
    if ((r = vdisk_xml_attr(d, config, "file", &src->config_file, err)) < 0)
        return r;
    if (!src->config_file || src->config_file[0] != '/')
        return vdisk_xml_error(err, d, config, EINVAL, "<vdisk:config> needs file= with an "
                               "absolute path");
    return 0;
}

/* Every <host> child of source, onto src->hosts. */
static int
parse_hosts(const vdisk_xml_doc *d, const xmlNode *source, vdisk_pool_source *src, vdisk_error *err)
{
    int r = 0;
    for (const xmlNode *c = source->children; c && r == 0; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !c->ns && !strcmp((const char *)c->name, "host"))
            r = parse_host(d, c, src, err);
    return r;
}

/* <format type='auto|nfs|glusterfs'/> of a netfs pool (absent: auto). */
static int
parse_netfs_format(const vdisk_xml_doc *d, const xmlNode *source, vdisk_pool_source *src,
                   vdisk_error *err)
{
    xmlNode *format;
    char *type = NULL;
    int r;

    if ((r = vdisk_xml_child(d, source, "format", NULL, &format, err)) < 0 || !format ||
        (r = vdisk_xml_attr(d, format, "type", &type, err)) < 0)
        return r;
    int f = vdisk_netfs_format_parse(type);
    if (f < 0)
        r = vdisk_xml_error(err, d, format, ENOTSUP, "shared filesystem '%.32s' is not supported: "
                            "format type 'glusterfs', 'nfs' or 'auto'", type ? type : "");
    else
        src->format = (vdisk_netfs_format)f;
    free(type);
    return r;
}

/* <host name=/><dir path=/><format type=/>: a pool on a shared filesystem. */
static int
parse_netfs(const vdisk_xml_doc *d, const xmlNode *source, const xmlNode *dir,
            vdisk_pool_source *src, vdisk_error *err)
{
    int r = vdisk_xml_attr(d, dir, "path", &src->dir, err);
    if (r < 0)
        return r;
    if (!src->dir || src->dir[0] != '/' || strpbrk(src->dir, " \t\n\\"))
        return vdisk_xml_error(err, d, dir, EINVAL, "<dir> needs path= with an absolute path "
                               "on the server, without blanks");
    xmlNode *protocol;
    if ((r = vdisk_xml_child(d, source, "protocol", NULL, &protocol, err)) < 0)
        return r;
    if (protocol)   /* libvirt's nfsvers=: refused rather than dropped */
        return vdisk_xml_error(err, d, protocol, ENOTSUP, "<protocol ver=...> is not supported: "
                               "the NFS version is the one mount negotiates");
    if ((r = parse_hosts(d, source, src, err)) < 0)
        return r;
    if (src->nhosts != 1)
        return vdisk_xml_error(err, d, source, EINVAL, "a pool on a shared filesystem needs exactly "
                               "one <host> (the server), not %zu", src->nhosts);
    return parse_netfs_format(d, source, src, err);
}

int
vdisk_xml_pool_source_parse(const vdisk_xml_doc *d, vdisk_pool_source *src, vdisk_error *err)
{
    xmlNode *source, *name, *auth, *dir;
    int r;

    if ((r = vdisk_xml_child(d, d->root, "source", NULL, &source, err)) < 0 ||
        (r = vdisk_xml_child(d, source, "name", NULL, &name, err)) < 0 ||
        (r = vdisk_xml_child(d, source, "dir", NULL, &dir, err)) < 0)
        return r;
    if (name && dir)
        return vdisk_xml_error(err, d, dir, EINVAL, "a pool is either on Ceph RBD (<name>) or on "
                               "a shared filesystem (<dir>), not both");
    if (dir && (r = parse_netfs(d, source, dir, src, err)) < 0)
        return r;
    if (!name)      /* a directory pool, local (its <source> means nothing, as in libvirt) or not */
        return parse_config(d, src, err);
    if ((r = vdisk_xml_text_trim(d, name, &src->name, err)) < 0)
        return r;
    if (!src->name[0] || strpbrk(src->name, "/@:") || src->name[0] == '.')
        return vdisk_xml_error(err, d, name, EINVAL, "'%.64s' is not an RBD pool name", src->name);
    if ((r = parse_hosts(d, source, src, err)) < 0 ||
        (r = vdisk_xml_child(d, source, "auth", NULL, &auth, err)) < 0 ||
        (auth && (r = parse_auth(d, auth, src, err)) < 0))
        return r;
    return parse_config(d, src, err);
}

void
vdisk_xml_pool_source_format(vdisk_xml_buf *b, const vdisk_pool_source *src)
{
    char uuid[VDISK_UUID_STRING_LEN];

    vdisk_xml_buf_open(b, "<source>");
    for (size_t i = 0; i < src->nhosts; i++) {
        vdisk_xml_buf_indent(b);
        vdisk_xml_buf_add(b, "<host");
        vdisk_xml_buf_attr(b, "name", src->hosts[i].name);
        if (src->hosts[i].port)
            vdisk_xml_buf_add(b, " port='%u'", src->hosts[i].port);
        vdisk_xml_buf_add(b, "/>\n");
    }
    if (src->dir) {
        vdisk_xml_buf_indent(b);
        vdisk_xml_buf_add(b, "<dir");
        vdisk_xml_buf_attr(b, "path", src->dir);
        vdisk_xml_buf_add(b, "/>\n");
        vdisk_xml_buf_indent(b);
        vdisk_xml_buf_add(b, "<format type='%s'/>\n", vdisk_netfs_format_name(src->format));
    }
    if (src->name)
        vdisk_xml_buf_element(b, "name", src->name);
    if (src->auth_username) {
        vdisk_xml_buf_indent(b);
        vdisk_xml_buf_add(b, "<auth type='ceph'");
        vdisk_xml_buf_attr(b, "username", src->auth_username);
        vdisk_xml_buf_add(b, ">\n");
        b->indent += 2;
        vdisk_xml_buf_indent(b);
        if (src->has_secret_uuid) {
            vdisk_uuid_format(src->secret_uuid, uuid);
            vdisk_xml_buf_add(b, "<secret uuid='%s'/>\n", uuid);
        } else {
            vdisk_xml_buf_add(b, "<secret");
            vdisk_xml_buf_attr(b, "usage", src->secret_usage);
            vdisk_xml_buf_add(b, "/>\n");
        }
        vdisk_xml_buf_close(b, "</auth>");
    }
    vdisk_xml_buf_close(b, "</source>");
    if (src->config_file) {
        vdisk_xml_buf_indent(b);
        vdisk_xml_buf_add(b, "<vdisk:config");
        vdisk_xml_buf_attr(b, "file", src->config_file);
        vdisk_xml_buf_add(b, "/>\n");
    }
}
