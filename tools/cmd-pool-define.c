/* vdisk-virsh pool-define and pool-define-as: store a pool definition in
 * the embedded registry, from XML or from arguments, as virsh does.
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
#include "virsh-args.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Define from a parsed definition; prints errors. */
static int
define(vdisk_pool_def *def)
{
    vdisk_registry *reg;
    if (vv_open_registry(&reg) < 0)
        return 1;
    vdisk_error err = { 0 };
    int r = vdisk_pool_define(reg, def, &err);
    if (r < 0) {
        vv_virsh_error("Failed to define pool %s", def->name ? def->name : "");
        vv_virsh_report(&err);
    }
    vdisk_registry_close(reg);
    return r < 0 ? 1 : 0;
}

/* pool-define: define a pool from an XML file. */
int
cmd_pool_define(int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("file"),
        VV_FLAG("validate"),
    };
    int r = vv_virsh_parse(argc, argv, args, N(args));
    if (r)
        return r == VV_PARSE_HELP ? 0 : r;
    const char *file = args[0].value;
    vdisk_pool_def *def;
    vdisk_error err = { 0 };
    if (vdisk_pool_def_parse_file(file, &def, &err) < 0) {
        vv_virsh_error("Failed to define pool from %s", file);
        vv_virsh_report(&err);
        return 1;
    }
    r = define(def);
    if (r == 0)
        printf("Pool %s defined from %s\n", def->name, file);
    vdisk_pool_def_free(def);
    return r;
}

/* Fill a definition from pool-define-as' arguments. */
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
cmd_pool_define_as(int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("name"),
        VV_REQ("type"),
        VV_POS("source-host"),
        VV_POS("source-path"),
        VV_POS("source-dev"),
        VV_POS("source-name"),
        VV_POS("target"),
        VV_VAL("source-format"),
        VV_FLAG("print-xml"),
        VV_VAL("zeroing"),
        VV_VAL("overcommit"),
    };
    int r = vv_virsh_parse(argc, argv, args, N(args));
    if (r)
        return r == VV_PARSE_HELP ? 0 : r;
    vdisk_pool_def def;
    memset(&def, 0, sizeof(def));
    r = vv_pool_def_from_args(args, N(args), &def) < 0 ? 1 : 0;
    if (r == 0 && vv_arg_get(args, N(args), "print-xml")->set) {
        char *xml;
        vdisk_error err = { 0 };
        if (vdisk_pool_def_format(&def, &xml, &err) < 0) {
            vv_virsh_report(&err);
            r = 1;
        } else {
            fputs(xml, stdout);
            free(xml);
        }
    } else if (r == 0 && (r = define(&def)) == 0) {
        printf("Pool %s defined\n", def.name);
    }
    vdisk_pool_def_clear(&def);
    return r;
}
