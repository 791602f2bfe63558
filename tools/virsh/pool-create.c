/* vdisk-virsh pool-create and pool-create-as: a transient pool, started
 * at once, from XML or from arguments, as virsh makes it, on any store
 * (libvirt: virStoragePoolCreateXML; the embedded registry: a pool it
 * forgets on pool-destroy).
 *
 *   pool-create <file> [--build] [--overwrite | --no-overwrite]
 *   pool-create-as <name> <type> [... as pool-define-as] [--print-xml]
 *                  [--build] [--overwrite | --no-overwrite]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "pool-args.h"
#include "virsh-args.h"
#include "store-open.h"

/* The build flags, or -1 after virsh's refusal of both overwrite flags. */
static int
create_flags(vv_arg *args, size_t n)
{
    bool over = vv_arg_get(args, n, "overwrite")->set, no_over = vv_arg_get(args, n, "no-overwrite")->set;
    if (over && no_over) {
        vv_virsh_error("Options --overwrite and --no-overwrite are mutually exclusive");
        return -1;
    }
    return (vv_arg_get(args, n, "build")->set ? VDISK_STORE_POOL_BUILD : 0) |
           (over ? VDISK_STORE_POOL_OVERWRITE : 0) | (no_over ? VDISK_STORE_POOL_NO_OVERWRITE : 0);
}

#define BUILD_ARGS VV_FLAG("build"), VV_FLAG("no-overwrite"), VV_FLAG("overwrite")

/* pool-create: a transient pool from an XML file. */
int
cmd_pool_create(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("file"), BUILD_ARGS };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *file = vv_arg_get(args, VV_N(args), "file")->value;
    int flags = create_flags(args, VV_N(args));
    char *name = NULL;
    vdisk_store_define_step step = VDISK_STORE_DEFINE_ALONE;
    vdisk_error err = { 0 };
    r = 1;
    if (flags >= 0 && c.store->ops->pool_create_file(c.store, file, (unsigned)flags, &name, &step, &err) < 0) {
        if (step != VDISK_STORE_DEFINE_ALONE)
            vv_virsh_error("Failed to create pool from %s", file);
        vv_store_report(&err);
    } else if (flags >= 0) {
        printf("Pool %s created from %s\n", name, file);
        r = 0;
    }
    free(name);
    vv_store_end(&c);
    return r;
}

/* pool-create-as: a transient pool from arguments. */
int
cmd_pool_create_as(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_POOL_AS_ARGS, BUILD_ARGS };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *type = vv_arg_get(args, VV_N(args), "type")->value;
    int flags = create_flags(args, VV_N(args));
    vdisk_pool_def def;
    vdisk_store_define_step step = VDISK_STORE_DEFINE_ALONE;
    vdisk_error err = { 0 };
    char *xml = NULL;
    memset(&def, 0, sizeof(def));
    r = 1;
    if (flags < 0 || vv_pool_def_from_args(args, VV_N(args), &def) < 0) {
        /* printed */
    } else if (vv_arg_get(args, VV_N(args), "print-xml")->set) {
        if (c.store->ops->pool_def_xml(c.store, &def, type, &xml, &err) < 0) {
            vv_store_report(&err);
        } else {
            fputs(xml, stdout);
            r = 0;
        }
    } else if (c.store->ops->pool_create(c.store, &def, type, (unsigned)flags, &step, &err) < 0) {
        if (step != VDISK_STORE_DEFINE_ALONE)
            vv_virsh_error("Failed to create pool %s", def.name);
        vv_store_report(&err);
    } else {
        printf("Pool %s created\n", def.name);
        r = 0;
    }
    free(xml);
    vdisk_pool_def_clear(&def);
    vv_store_end(&c);
    return r;
}
