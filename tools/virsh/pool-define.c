/* vdisk-virsh pool-define and pool-define-as: define a pool in a store
 * (the embedded registry, or -c URI), from XML or from arguments, as
 * virsh does.
 *
 *   pool-define <file>
 *   pool-define-as <name> <type> [<source-host> <source-path> <source-dev> <source-name>] <target>
 *                  [--print-xml] [--zeroing lazy|eager] [--overcommit RATIO]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "commands.h"
#include "pool-args.h"
#include "virsh-args.h"
#include "store-open.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A failed definition as virsh words it: after its step, "Failed to
 * define pool from FILE" or "Failed to define pool NAME", then the cause. */
static void
report_define(vdisk_store_define_step step, const char *file, const char *name, const vdisk_error *err)
{
    if (step == VDISK_STORE_DEFINE_FROM)
        vv_virsh_error("Failed to define pool from %s", file);
    else if (step == VDISK_STORE_DEFINE_NAMED)
        vv_virsh_error("Failed to define pool %s", name ? name : "");
    vv_store_report(err);
}

/* pool-define: define a pool from an XML file. */
int
cmd_pool_define(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("file"), VV_FLAG("validate") };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    const char *file = vv_arg_get(args, N(args), "file")->value;
    bool validate = vv_arg_get(args, N(args), "validate")->set;
    char *name = NULL;
    vdisk_store_define_step step;
    vdisk_error err = { 0 };
    r = c.store->ops->pool_define_file(c.store, file, validate, &name, &step, &err) < 0;
    if (r)
        report_define(step, file, name, &err);
    else
        printf("Pool %s defined from %s\n", name, file);
    free(name);
    vv_store_end(&c);
    return r;
}

/* Fill a definition from pool-define-as' (and pool-create-as') arguments. */
int
vv_pool_def_from_args(vv_arg *args, size_t n, vdisk_pool_def *def)
{
    const char *type = vv_arg_get(args, n, "type")->value;
    if (strcmp(type, "vdisk") != 0 && strcmp(type, "dir") != 0) {
        vv_virsh_error("unsupported pool type '%s' (vdisk-virsh defines pools of type vdisk or dir)", type);
        return -EINVAL;
    }
    static const char *const source_opts[] = { "source-host", "source-path", "source-dev", "source-name",
                                               "source-format" };
    for (size_t i = 0; i < N(source_opts); i++) {
        vv_arg *a = vv_arg_get(args, n, source_opts[i]);
        if (a->set && strcmp(a->value, "-") != 0 && a->value[0]) {
            vv_virsh_error("a %s pool has no source: --%s is not accepted", type, source_opts[i]);
            return -EINVAL;
        }
    }
    vv_arg *target = vv_arg_get(args, n, "target");
    if (!target->set || target->value[0] != '/') {
        vv_virsh_error("pool type '%s' needs an absolute --target directory", type);
        return -EINVAL;
    }
    def->name = strdup(vv_arg_get(args, n, "name")->value);
    def->target_path = strdup(target->value);
    vv_arg *z = vv_arg_get(args, n, "zeroing");
    if (z->set && strcmp(z->value, "eager") == 0)
        def->zeroing = VDISK_ZEROING_EAGER;
    else if (z->set && strcmp(z->value, "lazy") != 0) {
        vv_virsh_error("--zeroing takes lazy or eager, not '%s'", z->value);
        return -EINVAL;
    }
    vv_arg *o = vv_arg_get(args, n, "overcommit");
    if (o->set) {
        char *end;
        def->overcommit_max = strtod(o->value, &end);
        if (*end || end == o->value || def->overcommit_max < 0) {
            vv_virsh_error("--overcommit takes a ratio such as 1.5, not '%s'", o->value);
            return -EINVAL;
        }
    }
    return def->name && def->target_path ? 0 : -ENOMEM;
}

/* pool-define-as: define a pool from arguments. */
int
cmd_pool_define_as(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_POOL_AS_ARGS };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    const char *type = vv_arg_get(args, N(args), "type")->value;
    vdisk_pool_def def;
    vdisk_store_define_step step;
    vdisk_error err = { 0 };
    char *xml = NULL;
    memset(&def, 0, sizeof(def));
    r = 1;
    if (vv_pool_def_from_args(args, N(args), &def) < 0) {
        /* printed */
    } else if (vv_arg_get(args, N(args), "print-xml")->set) {
        /* The XML the store would be sent. */
        if (c.store->ops->pool_def_xml(c.store, &def, type, &xml, &err) < 0) {
            vv_store_report(&err);
        } else {
            fputs(xml, stdout);
            r = 0;
        }
    } else if (c.store->ops->pool_define(c.store, &def, type, &step, &err) < 0) {
        report_define(step, "", def.name, &err);     /* never FROM: no file */
    } else {
        printf("Pool %s defined\n", def.name);
        r = 0;
    }
    free(xml);
    vdisk_pool_def_clear(&def);
    vv_store_end(&c);
    return r;
}
