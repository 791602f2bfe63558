/* vdisk-virsh -c URI — pool definitions sent to a libvirt daemon
 * (store-libvirt.h): from a file as it is, or from pool-define-as'
 * definition as the XML virsh would send.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "store-libvirt.h"

/* text with XML's five special characters escaped, into f. */
static void
put_escaped(FILE *f, const char *text)
{
    for (; *text; text++) {
        switch (*text) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*text, f);
        }
    }
}

/* A pool on RBD or on a shared filesystem: vdisk's XML, with libvirt's
 * own type when asked for ('rbd', 'netfs': the daemon's own backends,
 * which ignore vdisk's namespace). */
static int
source_pool_xml(const vdisk_pool_def *def, const char *type, char **xml, vdisk_error *err)
{
    static const char vdisk_type[] = "<pool type='vdisk'";
    char *text;
    int r = vdisk_pool_def_format(def, &text, err);
    if (r < 0 || (strcmp(type, "rbd") != 0 && strcmp(type, "netfs") != 0) ||
        strncmp(text, vdisk_type, strlen(vdisk_type)) != 0) {
        *xml = r < 0 ? NULL : text;
        return r;
    }
    r = asprintf(xml, "<pool type='%s'%s", type, text + strlen(vdisk_type)) < 0 ? -ENOMEM : 0;
    free(text);
    return r < 0 ? vdisk_error_set(err, ENOMEM, "out of memory") : 0;
}

/* pool_def_xml: virsh's plain form for a dir pool or a vdisk pool with
 * default provisioning, vdisk's namespace otherwise. */
int
libvirt_pool_def_xml(vdisk_store *store, const vdisk_pool_def *def, const char *type, char **xml,
                     vdisk_error *err)
{
    (void)store;
    if (vdisk_pool_def_is_rbd(def) || vdisk_pool_def_is_netfs(def))
        return source_pool_xml(def, type, xml, err);
    bool plain = def->zeroing == VDISK_ZEROING_LAZY && def->overcommit_max == 0;
    if (!plain && strcmp(type, "vdisk") != 0)
        return vdisk_error_set(err, EINVAL, "--zeroing and --overcommit apply to vdisk pools only");
    if (!plain)
        return vdisk_pool_def_format(def, xml, err);
    size_t size;
    FILE *f = open_memstream(xml, &size);
    if (!f)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    fprintf(f, "<pool type='%s'>\n  <name>", type);
    put_escaped(f, def->name);
    fputs("</name>\n  <target>\n    <path>", f);
    put_escaped(f, def->target_path);
    fputs("</path>\n  </target>\n</pool>\n", f);
    /* A failed stream leaves nothing said (as virsh, no message of its own). */
    return fclose(f) == 0 ? 0 : -EIO;
}

/* pool_define: the XML of pool_def_xml, defined by the daemon. */
int
libvirt_pool_define(vdisk_store *store, vdisk_pool_def *def, const char *type,
                    vdisk_store_define_step *step, vdisk_error *err)
{
    char *xml = NULL;
    *step = VDISK_STORE_DEFINE_ALONE;
    int r = libvirt_pool_def_xml(store, def, type, &xml, err);
    if (r < 0)
        return r;
    *step = VDISK_STORE_DEFINE_NAMED;
    virStoragePoolPtr pool = virStoragePoolDefineXML(((libvirt_store *)store)->conn, xml, 0);
    free(xml);
    if (!pool)
        return vr_error(err);
    virStoragePoolFree(pool);
    return 0;
}

/* pool_define_file: the file's XML as it is; the daemon parses it. */
int
libvirt_pool_define_file(vdisk_store *store, const char *file, bool validate, char **name,
                         vdisk_store_define_step *step, vdisk_error *err)
{
    char *xml;
    size_t len;
    *name = NULL;
    *step = VDISK_STORE_DEFINE_ALONE;
    int r = vv_read_file_err(file, &xml, &len, err);
    if (r < 0)
        return r;
    *step = VDISK_STORE_DEFINE_FROM;
    virStoragePoolPtr pool = virStoragePoolDefineXML(((libvirt_store *)store)->conn, xml,
                                                     validate ? VIR_STORAGE_POOL_DEFINE_VALIDATE : 0);
    free(xml);
    if (!pool)
        return vr_error(err);
    r = (*name = strdup(virStoragePoolGetName(pool))) ? 0 : vdisk_error_set(err, ENOMEM, "out of memory");
    virStoragePoolFree(pool);
    return r;
}

static unsigned
create_flags(unsigned flags)
{
    return (flags & VDISK_STORE_POOL_BUILD ? VIR_STORAGE_POOL_CREATE_WITH_BUILD : 0) |
           (flags & VDISK_STORE_POOL_OVERWRITE ? VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE : 0) |
           (flags & VDISK_STORE_POOL_NO_OVERWRITE ? VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE : 0);
}

/* pool_create_file: the file's XML as it is; the daemon makes a transient pool. */
int
libvirt_pool_create_file(vdisk_store *store, const char *file, unsigned flags, char **name,
                         vdisk_store_define_step *step, vdisk_error *err)
{
    char *xml;
    size_t len;
    *name = NULL;
    *step = VDISK_STORE_DEFINE_ALONE;
    int r = vv_read_file_err(file, &xml, &len, err);
    if (r < 0)
        return r;
    *step = VDISK_STORE_DEFINE_FROM;
    virStoragePoolPtr pool = virStoragePoolCreateXML(((libvirt_store *)store)->conn, xml, create_flags(flags));
    free(xml);
    if (!pool)
        return vr_error(err);
    r = (*name = strdup(virStoragePoolGetName(pool))) ? 0 : vdisk_error_set(err, ENOMEM, "out of memory");
    virStoragePoolFree(pool);
    return r;
}

/* pool_create: the XML of pool_def_xml, made a transient pool by the daemon. */
int
libvirt_pool_create(vdisk_store *store, vdisk_pool_def *def, const char *type, unsigned flags,
                    vdisk_store_define_step *step, vdisk_error *err)
{
    char *xml = NULL;
    *step = VDISK_STORE_DEFINE_ALONE;
    int r = libvirt_pool_def_xml(store, def, type, &xml, err);
    if (r < 0)
        return r;
    *step = VDISK_STORE_DEFINE_NAMED;
    virStoragePoolPtr pool = virStoragePoolCreateXML(((libvirt_store *)store)->conn, xml, create_flags(flags));
    free(xml);
    if (!pool)
        return vr_error(err);
    virStoragePoolFree(pool);
    return 0;
}

/* pool_capabilities: the daemon's document. */
int
libvirt_pool_capabilities(vdisk_store *store, char **xml, vdisk_error *err)
{
    *xml = virConnectGetStoragePoolCapabilities(((libvirt_store *)store)->conn, 0);
    return *xml ? 0 : vr_error(err);
}

/* pool_find_sources: the daemon's discovery (its backends refuse the types without). */
int
libvirt_pool_find_sources(vdisk_store *store, const char *type, const char *spec, char **xml,
                          vdisk_error *err)
{
    *xml = virConnectFindStoragePoolSources(((libvirt_store *)store)->conn, type, spec, 0);
    return *xml ? 0 : vr_error(err);
}
