/* vdisk-virsh pool life cycle, as virsh: pool-build, pool-start,
 * pool-destroy, pool-delete, pool-undefine, pool-autostart, pool-refresh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "virsh-args.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef int (*pool_op)(vdisk_pool *pool, vv_arg *args, size_t n, vdisk_error *err);

/* Parse <pool> and the command's flags, look the pool up, run op, print
 * "Pool NAME <done>" or virsh's failure line ("<fail_pre>NAME<fail_post>")
 * and the cause. */
static int
run_pool_op(int argc, char **argv, vv_arg *args, size_t n, pool_op op, const char *fail_pre,
            const char *fail_post, const char *done)
{
    vv_ctx c;
    int r = vv_begin_pool(argc, argv, args, n, &c);
    if (r != VV_GO)
        return r;
    const char *name = vv_arg_get(args, n, "pool")->value;
    vdisk_error err = { 0 };
    r = 1;
    if (op(c.pool, args, n, &err) < 0) {
        vv_virsh_error("%s%s%s", fail_pre, name, fail_post);
        vv_virsh_report(&err);
    } else {
        printf("Pool %s %s\n", name, done);
        r = 0;
    }
    vv_end(&c);
    return r;
}

static unsigned
build_flags(vv_arg *args, size_t n)
{
    unsigned f = 0;
    if (vv_arg_get(args, n, "overwrite")->set)
        f |= VDISK_POOL_BUILD_OVERWRITE;
    if (vv_arg_get(args, n, "no-overwrite")->set)
        f |= VDISK_POOL_BUILD_NO_OVERWRITE;
    return f;
}

/* pool-build: create the pool's directory with its permissions. */
static int
op_build(vdisk_pool *pool, vv_arg *args, size_t n, vdisk_error *err)
{
    return vdisk_pool_build(pool, build_flags(args, n), err);
}

int
cmd_pool_build(int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("pool"),
        VV_FLAG("overwrite"), VV_FLAG("no-overwrite"),
    };
    return run_pool_op(argc, argv, args, N(args), op_build, "Failed to build pool ", "", "built");
}

/* pool-start [--build]: make the pool active. */
static int
op_start(vdisk_pool *pool, vv_arg *args, size_t n, vdisk_error *err)
{
    int r = 0;
    if (vv_arg_get(args, n, "build")->set && !vdisk_pool_is_active(pool))
        r = vdisk_pool_build(pool, build_flags(args, n), err);
    return r < 0 ? r : vdisk_pool_start(pool, err);
}

int
cmd_pool_start(int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("pool"),
        VV_FLAG("build"), VV_FLAG("overwrite"), VV_FLAG("no-overwrite"),
    };
    return run_pool_op(argc, argv, args, N(args), op_start, "Failed to start pool ", "", "started");
}

/* pool-destroy: make the pool inactive (nothing on disk changes). */
static int
op_destroy(vdisk_pool *pool, vv_arg *args, size_t n, vdisk_error *err)
{
    return vdisk_pool_stop(pool, err);
}

int
cmd_pool_destroy(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool") };
    return run_pool_op(argc, argv, args, N(args), op_destroy, "Failed to destroy pool ", "", "destroyed");
}

/* pool-delete: remove the inactive pool's (empty) directory. */
static int
op_delete(vdisk_pool *pool, vv_arg *args, size_t n, vdisk_error *err)
{
    return vdisk_pool_delete(pool, err);
}

int
cmd_pool_delete(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool") };
    return run_pool_op(argc, argv, args, N(args), op_delete, "Failed to delete pool ", "", "deleted");
}

/* pool-undefine: forget the inactive pool's definition. */
static int
op_undefine(vdisk_pool *pool, vv_arg *args, size_t n, vdisk_error *err)
{
    return vdisk_pool_undefine(pool, err);
}

int
cmd_pool_undefine(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool") };
    return run_pool_op(argc, argv, args, N(args), op_undefine, "Failed to undefine pool ", "", "has been undefined");
}

/* pool-refresh: probe every volume again (reports unreadable ones). */
static int
op_refresh(vdisk_pool *pool, vv_arg *args, size_t n, vdisk_error *err)
{
    vdisk_vol_def *vols;
    size_t count;
    int r = vdisk_pool_refresh(pool, &vols, &count, err);
    if (r == 0)
        vdisk_pool_volumes_free(vols, count);
    return r;
}

int
cmd_pool_refresh(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool") };
    return run_pool_op(argc, argv, args, N(args), op_refresh, "Failed to refresh pool ", "", "refreshed");
}

/* pool-autostart [--disable]. */
static int
op_autostart(vdisk_pool *pool, vv_arg *args, size_t n, vdisk_error *err)
{
    return vdisk_pool_set_autostart(pool, !vv_arg_get(args, n, "disable")->set, err);
}

int
cmd_pool_autostart(int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("pool"),
        VV_FLAG("disable"),
    };
    bool disable = false;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--disable") == 0)
            disable = true;
    return run_pool_op(argc, argv, args, N(args), op_autostart,
                       disable ? "failed to unmark pool " : "failed to mark pool ", " as autostarted",
                       disable ? "unmarked as autostarted" : "marked as autostarted");
}
