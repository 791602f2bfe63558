/* vdisk-virsh pool-define and pool-define-as: define a pool in a store
 * (the embedded registry, or -c URI), from XML or from arguments, as
 * virsh does.
 *
 *   pool-define <file>
 *   pool-define-as <name> <type> [<source-host> <source-path> <source-dev> <source-name>] <target>
 *                  [--print-xml] [--zeroing lazy|eager] [--overcommit RATIO]
 *                  [--auth-type ceph --auth-username USER (--secret-uuid U | --secret-usage NAME)]
 *                  [--source-format glusterfs|nfs|auto]
 *
 * A pool on Ceph RBD: type rbd (or vdisk with --source-name), the RBD pool
 * as --source-name, monitors as --source-host HOST[:PORT][,HOST[:PORT]...],
 * no --target.  A pool on a shared filesystem: type netfs (or vdisk with
 * --source-path), the server as --source-host, the export (NFS) or
 * "/VOLUME" (GlusterFS) as --source-path, --source-format
 * glusterfs|nfs|auto (default auto), the mount point as --target.
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
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *file = vv_arg_get(args, VV_N(args), "file")->value;
    bool validate = vv_arg_get(args, VV_N(args), "validate")->set;
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

/* One --source-host word, HOST or HOST:PORT ([V6]:PORT), onto src. */
static int
add_host(vdisk_pool_source *src, const char *word)
{
    char *name = strdup(word[0] == '[' ? word + 1 : word), *colon;
    unsigned long port = 0;
    if (!name)
        return -ENOMEM;
    colon = word[0] == '[' ? strstr(name, "]") : strrchr(name, ':');
    if (colon && word[0] != '[' && strchr(name, ':') != colon)
        colon = NULL;                       /* a bare IPv6 address */
    if (colon) {
        char *end;
        const char *digits = colon[0] == ']' ? (colon[1] == ':' ? colon + 2 : "") : colon + 1;
        *colon = '\0';
        port = *digits ? strtoul(digits, &end, 10) : 0;
        if ((*digits && (*end || port == 0 || port > 65535)) || !name[0]) {
            vv_virsh_error("--source-host '%s' is not HOST or HOST:PORT", word);
            free(name);
            return -EINVAL;
        }
    }
    vdisk_pool_host *h = realloc(src->hosts, (src->nhosts + 1) * sizeof(*h));
    if (!h) {
        free(name);
        return -ENOMEM;
    }
    src->hosts = h;
    h[src->nhosts++] = (vdisk_pool_host){ .name = name, .port = (unsigned)port };
    return 0;
}

/* The <source> of a pool on RBD from --source-name, --source-host and --auth-*. */
static int
rbd_source_from_args(vv_arg *args, size_t n, vdisk_pool_source *src)
{
    vv_arg *hosts = vv_arg_get(args, n, "source-host"), *atype = vv_arg_get(args, n, "auth-type");
    vv_arg *user = vv_arg_get(args, n, "auth-username"), *uuid = vv_arg_get(args, n, "secret-uuid");
    vv_arg *usage = vv_arg_get(args, n, "secret-usage");
    if (!(src->name = strdup(vv_arg_get(args, n, "source-name")->value)))
        return -ENOMEM;
    if (hosts->set && strcmp(hosts->value, "-") != 0) {
        char *list = strdup(hosts->value), *save = NULL;
        int r = list ? 0 : -ENOMEM;
        for (char *w = list ? strtok_r(list, ",", &save) : NULL; w && r == 0; w = strtok_r(NULL, ",", &save))
            r = add_host(src, w);
        free(list);
        if (r < 0)
            return r;
    }
    if (!atype->set && !user->set && !uuid->set && !usage->set)
        return 0;
    if (!atype->set || strcmp(atype->value, "ceph") != 0 || !user->set || uuid->set == usage->set) {
        vv_virsh_error("an RBD pool's auth needs --auth-type ceph, --auth-username and one of "
                       "--secret-uuid and --secret-usage");
        return -EINVAL;
    }
    if (uuid->set && vdisk_uuid_parse(uuid->value, src->secret_uuid) < 0) {
        vv_virsh_error("malformed uuid '%s'", uuid->value);
        return -EINVAL;
    }
    src->has_secret_uuid = uuid->set;
    src->auth_username = strdup(user->value);
    src->secret_usage = usage->set ? strdup(usage->value) : NULL;
    return src->auth_username && (!usage->set || src->secret_usage) ? 0 : -ENOMEM;
}

/* Is an option given (not empty, not virsh's "-" placeholder)? */
static bool
given(vv_arg *args, size_t n, const char *name)
{
    vv_arg *a = vv_arg_get(args, n, name);
    return a->set && strcmp(a->value, "-") != 0 && a->value[0];
}

/* The netfs <source>: --source-host, --source-path, --source-format. */
static int
netfs_source_from_args(vv_arg *args, size_t n, vdisk_pool_source *src)
{
    const char *host = vv_arg_get(args, n, "source-host")->value;
    const char *path = vv_arg_get(args, n, "source-path")->value;
    if (!given(args, n, "source-host") || !given(args, n, "source-path")) {
        vv_virsh_error("a pool on a shared filesystem needs --source-host (the server) and "
                       "--source-path (the export, or /VOLUME for GlusterFS)");
        return -EINVAL;
    }
    if (strpbrk(host, ",; \t\n:") || path[0] != '/' || strpbrk(path, " \t\n\\")) {
        vv_virsh_error("--source-host '%s' --source-path '%s': a host name without port and an "
                       "absolute path without blanks are needed", host, path);
        return -EINVAL;
    }
    int f = given(args, n, "source-format")
        ? vdisk_netfs_format_parse(vv_arg_get(args, n, "source-format")->value) : VDISK_NETFS_AUTO;
    if (f < 0) {
        vv_virsh_error("--source-format takes glusterfs, nfs or auto, not '%s'",
                       vv_arg_get(args, n, "source-format")->value);
        return -EINVAL;
    }
    src->format = (vdisk_netfs_format)f;
    src->hosts = calloc(1, sizeof(*src->hosts));
    if (!src->hosts || !(src->hosts[0].name = strdup(host)) || !(src->dir = strdup(path)))
        return -ENOMEM;
    src->nhosts = 1;
    return 0;
}

/* The pool's storage: an RBD <source>, or a --target directory (with a
 * netfs <source> to mount on it). */
static int
storage_from_args(vv_arg *args, size_t n, const char *type, vdisk_pool_def *def)
{
    bool rbd = strcmp(type, "rbd") == 0 || (strcmp(type, "vdisk") == 0 && given(args, n, "source-name"));
    bool netfs = strcmp(type, "netfs") == 0 || (strcmp(type, "vdisk") == 0 && !rbd &&
                                                given(args, n, "source-path"));
    static const char *const dir_refused[] = { "source-host", "source-path", "source-dev", "source-name",
                                               "source-format", "auth-type", "auth-username",
                                               "secret-uuid", "secret-usage" };
    static const char *const rbd_refused[] = { "source-path", "source-dev", "source-format", "target" };
    static const char *const netfs_refused[] = { "source-dev", "source-name", "auth-type",
                                                 "auth-username", "secret-uuid", "secret-usage" };
    const char *const *refused = rbd ? rbd_refused : netfs ? netfs_refused : dir_refused;
    size_t nrefused = rbd ? VV_N(rbd_refused) : netfs ? VV_N(netfs_refused) : VV_N(dir_refused);
    for (size_t i = 0; i < nrefused; i++) {
        if (given(args, n, refused[i]) && (rbd || netfs)) {
            vv_virsh_error("a pool on %s has no --%s", rbd ? "RBD" : "a shared filesystem",
                           refused[i]);
            return -EINVAL;
        }
        if (given(args, n, refused[i])) {
            vv_virsh_error("a %s pool has no source: --%s is not accepted", type, refused[i]);
            return -EINVAL;
        }
    }
    if (rbd) {
        if (!given(args, n, "source-name")) {
            vv_virsh_error("pool type 'rbd' needs --source-name (the RBD pool)");
            return -EINVAL;
        }
        return rbd_source_from_args(args, n, &def->source);
    }
    vv_arg *target = vv_arg_get(args, n, "target");
    if (!target->set || target->value[0] != '/') {
        vv_virsh_error("pool type '%s' needs an absolute --target directory", type);
        return -EINVAL;
    }
    int r = netfs ? netfs_source_from_args(args, n, &def->source) : 0;
    if (r < 0)
        return r;
    return (def->target_path = strdup(target->value)) ? 0 : -ENOMEM;
}

/* Fill a definition from pool-define-as' (and pool-create-as') arguments. */
int
vv_pool_def_from_args(vv_arg *args, size_t n, vdisk_pool_def *def)
{
    const char *type = vv_arg_get(args, n, "type")->value;
    if (strcmp(type, "vdisk") != 0 && strcmp(type, "dir") != 0 && strcmp(type, "rbd") != 0 &&
        strcmp(type, "netfs") != 0) {
        vv_virsh_error("unsupported pool type '%s' (vdisk-virsh defines pools of type vdisk, dir, "
                       "netfs or rbd)", type);
        return -EINVAL;
    }
    int r = storage_from_args(args, n, type, def);
    if (r < 0)
        return r;
    def->name = strdup(vv_arg_get(args, n, "name")->value);
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
    return def->name ? 0 : -ENOMEM;
}

/* pool-define-as: define a pool from arguments. */
int
cmd_pool_define_as(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_POOL_AS_ARGS };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *type = vv_arg_get(args, VV_N(args), "type")->value;
    vdisk_pool_def def;
    vdisk_store_define_step step;
    vdisk_error err = { 0 };
    char *xml = NULL;
    memset(&def, 0, sizeof(def));
    r = 1;
    if (vv_pool_def_from_args(args, VV_N(args), &def) < 0) {
        /* printed */
    } else if (vv_arg_get(args, VV_N(args), "print-xml")->set) {
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
