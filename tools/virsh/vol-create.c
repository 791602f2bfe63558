/* vdisk-virsh vol-create, vol-create-from and vol-create-as: provision a
 * new volume from XML or from arguments, as virsh does (thin, lazy- or
 * eager-zeroed thick per DESIGN.md; a progress indicator on a terminal
 * while zeros are written), on any store.
 *
 *   vol-create <pool> <file> [--prealloc-metadata]
 *   vol-create-from <pool> <file> <vol> [--inputpool POOL] [--prealloc-metadata]
 *   vol-create-as <pool> <name> <capacity> [--allocation SIZE] [--format raw|qcow2|...]
 *                 [--backing-vol VOL] [--backing-vol-format FMT] [--prealloc-metadata]
 *                 [--print-xml]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>
#include <vdisk/vol-provision.h>

#include "commands.h"
#include "virsh-args.h"
#include "store-open.h"

/* A failed create from a file as virsh words it, after its step. */
static void
report_create(vdisk_store_define_step step, const char *file, const char *name, const vdisk_error *err)
{
    if (step == VDISK_STORE_DEFINE_FROM)
        vv_virsh_error("Failed to create vol from %s", file);
    else if (step == VDISK_STORE_DEFINE_NAMED)
        vv_virsh_error("Failed to create vol %s", name ? name : "");
    vv_store_report(err);
}

/* vol-create: a volume from an XML file, on any store. */
int
cmd_vol_create(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("pool"),
        VV_REQ("file"),
        VV_FLAG("prealloc-metadata"), VV_FLAG("validate"),
    };
    vv_store_ctx c;
    int r = vv_store_begin_pool(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *file = vv_arg_get(args, VV_N(args), "file")->value;
    unsigned flags = (vv_arg_get(args, VV_N(args), "prealloc-metadata")->set ? VDISK_STORE_CREATE_PREALLOC_METADATA : 0) |
                     (vv_arg_get(args, VV_N(args), "validate")->set ? VDISK_STORE_CREATE_VALIDATE : 0);
    char *name = NULL;
    vdisk_store_define_step step;
    vdisk_error err = { 0 };
    vv_lazy_progress prog = VV_LAZY_PROGRESS_INIT;
    r = c.store->ops->vol_create_file(c.pool, file, flags, vv_lazy_progress_cb, &prog, &name, &step, &err) < 0;
    vv_lazy_progress_end(&prog, r == 0);
    if (r)
        report_create(step, file, name, &err);
    else
        printf("Vol %s created from %s\n", name, file);
    free(name);
    vv_store_end(&c);
    return r;
}

/* vol-create-from: a volume from XML, filled from an existing volume, on any store. */
int
cmd_vol_create_from(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("pool"),
        VV_REQ("file"),
        VV_REQ("vol"),
        VV_VAL("inputpool"), VV_FLAG("prealloc-metadata"), VV_FLAG("reflink"), VV_FLAG("validate"),
    };
    vv_store_ctx c;
    int r = vv_store_begin_pool(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *file = vv_arg_get(args, VV_N(args), "file")->value, *vol = vv_arg_get(args, VV_N(args), "vol")->value;
    vv_arg *in = vv_arg_get(args, VV_N(args), "inputpool");
    const char *inpool = in->set ? in->value : NULL;
    unsigned flags = (vv_arg_get(args, VV_N(args), "prealloc-metadata")->set ? VDISK_STORE_CREATE_PREALLOC_METADATA : 0) |
                     (vv_arg_get(args, VV_N(args), "reflink")->set ? VDISK_STORE_CREATE_REFLINK : 0) |
                     (vv_arg_get(args, VV_N(args), "validate")->set ? VDISK_STORE_CREATE_VALIDATE : 0);
    char *name = NULL;
    vdisk_store_lookup_step lstep;
    vdisk_store_define_step step;
    vdisk_error err = { 0 };
    r = 1;
    if (c.store->ops->vol_lookup(c.store, inpool, vol, &c.vol, &lstep, &err) < 0) {
        vv_store_lookup_report(lstep, inpool, vol, &err);
    } else {
        vv_lazy_progress prog = VV_LAZY_PROGRESS_INIT;
        r = c.store->ops->vol_create_file_from(c.pool, file, c.vol, flags, vv_lazy_progress_cb, &prog, &name,
                                               &step, &err) < 0;
        vv_lazy_progress_end(&prog, r == 0);
        if (r)
            report_create(step, file, name, &err);
        else
            printf("Vol %s created from input vol %s\n", name, c.vol->name);
    }
    free(name);
    vv_store_end(&c);
    return r;
}

/* --backing-vol: the path of the volume the store finds by that word. */
static int
resolve_backing(vv_store_ctx *c, const char *pool_name, const char *vol, const char *fmt, vdisk_vol_def *def)
{
    vdisk_store_lookup_step step;
    vdisk_error err = { 0 };
    if (c->store->ops->vol_backing_path(c->pool, vol, &def->backing_path, &step, &err) < 0) {
        vv_store_lookup_report(step, pool_name, vol, &err);
        return -ENOENT;
    }
    if (fmt && vdisk_format_from_name(fmt, &def->backing_format, NULL) < 0) {
        vv_virsh_error("unknown backing volume format '%s'", fmt);
        return -EINVAL;
    }
    return 0;
}

/* Build the definition vol-create-as describes. */
static int
def_from_args(vv_store_ctx *c, vv_arg *args, size_t n, vdisk_vol_def *def)
{
    def->name = strdup(vv_arg_get(args, n, "name")->value);
    if (!def->name || vv_virsh_parse_scaled("capacity", vv_arg_get(args, n, "capacity")->value,
                                            &def->capacity) < 0)
        return -EINVAL;
    def->has_capacity = true;
    vv_arg *a = vv_arg_get(args, n, "allocation");
    if (a->set) {
        if (vv_virsh_parse_scaled("allocation", a->value, &def->allocation) < 0)
            return -EINVAL;
        def->has_allocation = true;
    }
    a = vv_arg_get(args, n, "format");
    def->format = VDISK_FORMAT_RAW;
    if (a->set && vdisk_format_from_name(a->value, &def->format, NULL) < 0) {
        char list[128];
        vdisk_vol_format_list_creatable(list, sizeof(list));
        vv_virsh_error("unsupported volume format '%s' (vdisk creates %s)", a->value, list);
        return -EINVAL;
    }
    a = vv_arg_get(args, n, "backing-vol");
    vv_arg *bf = vv_arg_get(args, n, "backing-vol-format");
    if (a->set)
        return resolve_backing(c, vv_arg_get(args, n, "pool")->value, a->value, bf->set ? bf->value : NULL, def);
    return 0;
}

static int
print_vol_as_xml(vv_arg *args, size_t n, const vdisk_vol_def *def)
{
    /* virsh prints the strings as given, unescaped: so do we, byte for byte */
    vv_arg *fmt = vv_arg_get(args, n, "format");
    vv_arg *bfmt = vv_arg_get(args, n, "backing-vol-format");
    printf("<volume>\n  <name>%s</name>\n  <capacity>%llu</capacity>\n", def->name,
           (unsigned long long)def->capacity);
    if (def->has_allocation)
        printf("  <allocation>%llu</allocation>\n", (unsigned long long)def->allocation);
    if (fmt->set)
        printf("  <target>\n    <format type='%s'/>\n  </target>\n", fmt->value);
    if (def->backing_path) {
        printf("  <backingStore>\n    <path>%s</path>\n", def->backing_path);
        if (bfmt->set)
            printf("    <format type='%s'/>\n", bfmt->value);
        fputs("  </backingStore>\n", stdout);
    }
    fputs("</volume>\n", stdout);
    return fflush(stdout) == 0 ? 0 : -1;
}

/* vol-create-as: a volume from arguments, on any store. */
int
cmd_vol_create_as(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("pool"),
        VV_REQ("name"),
        VV_REQ("capacity"),
        VV_VAL("allocation"), VV_VAL("format"),
        VV_VAL("backing-vol"), VV_VAL("backing-vol-format"),
        VV_FLAG("prealloc-metadata"), VV_FLAG("print-xml"),
    };
    vv_store_ctx c;
    int r = vv_store_begin_pool(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_vol_def def;
    memset(&def, 0, sizeof(def));
    r = 1;
    if (def_from_args(&c, args, VV_N(args), &def) < 0) {
        /* printed */
    } else if (vv_arg_get(args, VV_N(args), "print-xml")->set) {
        r = print_vol_as_xml(args, VV_N(args), &def) == 0 ? 0 : 1;
    } else {
        unsigned flags = vv_arg_get(args, VV_N(args), "prealloc-metadata")->set ? VDISK_STORE_CREATE_PREALLOC_METADATA : 0;
        vdisk_store_define_step step;
        vdisk_error err = { 0 };
        vv_lazy_progress prog = VV_LAZY_PROGRESS_INIT;
        r = c.store->ops->vol_create_def(c.pool, &def, flags, vv_lazy_progress_cb, &prog, &step, &err) < 0;
        vv_lazy_progress_end(&prog, r == 0);
        if (r)
            report_create(step, "", def.name, &err);     /* never FROM: no file */
        else
            printf("Vol %s created\n", def.name);
    }
    vdisk_vol_def_clear(&def);
    vv_store_end(&c);
    return r;
}
