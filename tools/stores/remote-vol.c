/* vdisk-virsh -c URI — volumes made, changed and removed by the daemon:
 * vol-create-as.  Same grammar and messages as the embedded
 * commands (cmd-vol-*.c), which are virsh's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "remote-internal.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Create a volume from xml in pool (from src if given): the new volume,
 * or NULL after printing "error: <failure>" and libvirt's cause. */
static virStorageVolPtr
create_vol(virStoragePoolPtr pool, const char *xml, virStorageVolPtr src, unsigned flags,
           const char *failure)
{
    virStorageVolPtr vol = src ? virStorageVolCreateXMLFrom(pool, xml, src, flags)
                               : virStorageVolCreateXML(pool, xml, flags);
    if (!vol) {
        vv_virsh_error("%s", failure);
        vr_report();
    }
    return vol;
}

/* --backing-vol as virsh resolves it: a name in the pool, a key, a path. */
static int
backing_path(vr_ctx *c, const char *name, char **path)
{
    virStorageVolPtr vol = virStorageVolLookupByName(c->pool, name);
    if (!vol)
        vol = virStorageVolLookupByKey(c->conn, name);
    if (!vol)
        vol = virStorageVolLookupByPath(c->conn, name);
    if (!vol) {
        vv_virsh_error("failed to get vol '%s'", name);
        vr_report();
        return -1;
    }
    virResetLastError();
    *path = virStorageVolGetPath(vol);
    virStorageVolFree(vol);
    if (!*path)
        vr_report();
    return *path ? 0 : -1;
}

/* vol-create-as' definition from its arguments. */
static int
def_from_args(vr_ctx *c, vv_arg *args, size_t n, vdisk_vol_def *def)
{
    def->name = strdup(vv_arg_get(args, n, "name")->value);
    if (!def->name || vv_virsh_parse_scaled("capacity", vv_arg_get(args, n, "capacity")->value,
                                            &def->capacity) < 0)
        return -1;
    def->has_capacity = true;
    vv_arg *a = vv_arg_get(args, n, "allocation");
    if (a->set) {
        if (vv_virsh_parse_scaled("allocation", a->value, &def->allocation) < 0)
            return -1;
        def->has_allocation = true;
    }
    a = vv_arg_get(args, n, "format");
    def->format = VDISK_FORMAT_RAW;
    if (a->set && vdisk_format_from_name(a->value, &def->format, NULL) < 0) {
        vv_virsh_error("unsupported volume format '%s' (expected raw or qcow2)", a->value);
        return -1;
    }
    a = vv_arg_get(args, n, "backing-vol");
    vv_arg *bf = vv_arg_get(args, n, "backing-vol-format");
    if (!a->set)
        return 0;
    if (backing_path(c, a->value, &def->backing_path) < 0)
        return -1;
    if (bf->set && vdisk_format_from_name(bf->value, &def->backing_format, NULL) < 0) {
        vv_virsh_error("unknown backing volume format '%s'", bf->value);
        return -1;
    }
    return 0;
}

/* vol-create-as: a volume from arguments. */
int
vr_vol_create_as(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("pool"), VV_REQ("name"), VV_REQ("capacity"),
        VV_VAL("allocation"), VV_VAL("format"), VV_VAL("backing-vol"), VV_VAL("backing-vol-format"),
        VV_FLAG("prealloc-metadata"), VV_FLAG("print-xml"),
    };
    vr_ctx c;
    int r = vr_begin_pool(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_vol_def def;
    vdisk_error err = { 0 };
    char *xml = NULL, failure[300];
    memset(&def, 0, sizeof(def));
    r = 1;
    if (def_from_args(&c, args, N(args), &def) < 0) {
        /* printed */
    } else if (vv_arg_get(args, N(args), "print-xml")->set) {
        r = vv_print_vol_as_xml(args, N(args), &def) == 0 ? 0 : 1;
    } else if (vdisk_vol_def_format(&def, &xml, &err) < 0) {
        vv_virsh_report(&err);
    } else {
        unsigned flags = args[7].set ? VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA : 0;
        snprintf(failure, sizeof(failure), "Failed to create vol %s", def.name);
        virStorageVolPtr vol = create_vol(c.pool, xml, NULL, flags, failure);
        if (vol) {
            printf("Vol %s created\n", def.name);
            virStorageVolFree(vol);
            r = 0;
        }
    }
    free(xml);
    vdisk_vol_def_clear(&def);
    vr_end(&c);
    return r;
}
