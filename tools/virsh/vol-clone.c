/* vdisk-virsh vol-clone and vol-convert, on any store: a new volume as a
 * copy of an existing one, optionally in another format (virsh's first;
 * vol-convert is vdisk's, what libvirt's storage API lacks).
 *
 *   vol-clone <vol> <newname> [--pool POOL] [--prealloc-metadata]
 *   vol-convert <vol> <newname> --format raw|qcow2 [--pool POOL] [--allocation SIZE]
 *               [--prealloc-metadata]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/image.h>
#include <vdisk/storage-xml.h>
#include <vdisk/vol-provision.h>

#include "commands.h"
#include "virsh-args.h"
#include "store-open.h"

/* Copy src (in src_pool) into a new volume def of pool; prints errors. */
static int
copy_volume(vdisk_pool *pool, const vdisk_vol_def *def, vdisk_pool *src_pool, const char *src,
            unsigned flags, const char *failure)
{
    vv_lazy_progress prog = VV_LAZY_PROGRESS_INIT;
    vdisk_error err = { 0 };
    int r = vdisk_vol_create_from(pool, def, src_pool, src, flags, vv_lazy_progress_cb, &prog, &err);
    vv_lazy_progress_end(&prog, r == 0);
    if (r < 0) {
        vv_virsh_error("%s", failure);
        vv_virsh_report(&err);
    }
    return r;
}

/* The new volume's definition: the source's format and options, thick
 * when the source is fully allocated, thin otherwise. */
static int
clone_def(vdisk_pool *pool, const char *src, const char *newname, vdisk_vol_def *def)
{
    vdisk_vol_def s;
    vdisk_error err = { 0 };
    if (vdisk_vol_lookup(pool, src, &s, &err) < 0) {
        vv_virsh_report(&err);
        vdisk_vol_def_clear(&s);
        return -ENOENT;
    }
    int r = vdisk_store_clone_def(&s, newname, def);
    vdisk_vol_def_clear(&s);
    return r;
}

/* Apply vol-convert's --format and --allocation to the clone's definition. */
static int
apply_options(vv_arg *args, size_t n, vdisk_vol_def *def)
{
    vv_arg *fmt = vv_arg_get(args, n, "format"), *alloc = vv_arg_get(args, n, "allocation");
    if (fmt && fmt->set) {
        /* iso is a volume to upload an image into, not a conversion target */
        if (vdisk_format_from_name(fmt->value, &def->format, NULL) < 0 || def->format == VDISK_FORMAT_ISO ||
            !vdisk_vol_format_can_create(def->format)) {
            char list[128];
            vdisk_vol_format_list_creatable(list, sizeof(list));
            vv_virsh_error("unsupported volume format '%s' (vdisk converts into %s, but not iso)",
                           fmt->value, list);
            return -EINVAL;
        }
        if (def->format != VDISK_FORMAT_QCOW2) {   /* qcow2 options do not carry over */
            free(def->compat);
            def->compat = NULL;
            def->cluster_size = 0;
            def->lazy_refcounts = false;
        }
    }
    if (alloc && alloc->set) {
        if (vv_virsh_parse_scaled("allocation", alloc->value, &def->allocation) < 0)
            return -EINVAL;
        def->has_allocation = true;
    }
    return 0;
}

/* vol-convert's copy of the volume `name` of pool into a new one of the
 * same pool; returns the exit status. */
static int
copy_exec(vdisk_pool *pool, const char *name, vv_arg *args, size_t n, bool convert)
{
    int r;
    const char *newname = vv_arg_get(args, n, "newname")->value;
    vdisk_vol_def def;
    memset(&def, 0, sizeof(def));
    r = 1;
    if (clone_def(pool, name, newname, &def) == 0 && apply_options(args, n, &def) == 0) {
        char failure[400];
        snprintf(failure, sizeof(failure), "Failed to %s vol from %s", convert ? "convert" : "clone", name);
        unsigned flags = vv_arg_get(args, n, "prealloc-metadata")->set ? VDISK_VOL_CREATE_PREALLOC_METADATA : 0;
        if (copy_volume(pool, &def, pool, name, flags, failure) == 0) {
            printf("Vol %s %s from %s\n", newname, convert ? "converted" : "cloned", name);
            r = 0;
        }
    }
    vdisk_vol_def_clear(&def);
    return r;
}

/* vol-clone's work after the lookup: the XML (--print-xml) or the copy. */
static int
clone_exec(vv_store_ctx *c, const char *newname, unsigned flags, bool print_xml)
{
    const vdisk_store_ops *ops = c->store->ops;
    vdisk_store_copy_step step;
    vdisk_error err = { 0 };
    char *xml = NULL;
    int r;
    if (print_xml) {
        r = ops->vol_clone_xml(c->vol, newname, &xml, &step, &err);
    } else {
        vv_lazy_progress prog = VV_LAZY_PROGRESS_INIT;
        r = ops->vol_clone(c->vol, newname, flags, vv_lazy_progress_cb, &prog, &step, &err);
        vv_lazy_progress_end(&prog, r == 0);
    }
    if (r == 0) {
        if (print_xml)
            fputs(xml, stdout);
        else
            printf("Vol %s cloned from %s\n", newname, c->vol->name);
        free(xml);
        return 0;
    }
    if (step == VDISK_STORE_COPY_POOL)
        vv_virsh_error("failed to get parent pool");
    else if (step == VDISK_STORE_COPY_COPY)
        vv_virsh_error("Failed to clone vol from %s", c->vol->name);
    vv_store_report(&err);
    return 1;
}

/* vol-clone: a copy of a volume in its own pool, same format, on any store. */
int
cmd_vol_clone(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("vol"), VV_REQ("newname"),
        VV_VAL("pool"), VV_FLAG("prealloc-metadata"), VV_FLAG("reflink"), VV_FLAG("print-xml"),
    };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    bool print_xml = vv_arg_get(args, VV_N(args), "print-xml")->set;
    unsigned flags = (vv_arg_get(args, VV_N(args), "prealloc-metadata")->set ? VDISK_STORE_CREATE_PREALLOC_METADATA : 0) |
                     (vv_arg_get(args, VV_N(args), "reflink")->set ? VDISK_STORE_CREATE_REFLINK : 0);
    /* A store that makes clones from no XML has no --print-xml. */
    if (print_xml && !c.store->ops->vol_clone_xml) {
        vv_virsh_error("command '%s' doesn't support option --print-xml", argv[0]);
        r = VV_PARSE_FAILED;
    } else if (vv_store_lookup_vol(&c, args, VV_N(args)) < 0) {
        r = 1;
    } else {
        r = clone_exec(&c, vv_arg_get(args, VV_N(args), "newname")->value, flags, print_xml);
    }
    vv_store_end(&c);
    return r;
}

/* vol-convert: a copy of a volume in another format, made by libvdisk in
 * the volume's directory on any store (a daemon then lists it). */
int
cmd_vol_convert(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("vol"), VV_REQ("newname"),
        VV_VAL_REQ("format"), VV_VAL("pool"), VV_VAL("allocation"), VV_FLAG("prealloc-metadata"),
    };
    vv_store_ctx c;
    int r = vv_store_begin_vol(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_pool *pool;
    const char *name;
    vdisk_image *held = NULL;
    vdisk_error err = { 0 };
    r = 1;
    if (vv_store_vol_file(&c, &pool, &name) < 0)
        goto out;
    if (c.store->ops->vol_file_hold && c.store->ops->vol_file_hold(c.vol, &held, &err) < 0) {
        vv_virsh_error("Failed to convert vol from %s", vv_arg_get(args, VV_N(args), "vol")->value);
        vv_store_report(&err);
    } else {
        r = copy_exec(pool, name, args, VV_N(args), true);
        vdisk_close(held, NULL);
    }
    /* Even after a failure, so that a partial change shows as it is. */
    if (c.store->ops->vol_file_changed && vv_store_file_changed(&c) != 0)
        r = 1;
out:
    vv_store_end(&c);
    return r;
}
