/* vdisk-virsh pool life cycle, as virsh, on any store: pool-build,
 * pool-start, pool-destroy, pool-delete, pool-undefine, pool-autostart,
 * pool-refresh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "virsh-args.h"
#include "store-open.h"

/* One life-cycle step of a pool. */
typedef enum pool_step {
    STEP_BUILD, STEP_START, STEP_DESTROY, STEP_DELETE, STEP_UNDEFINE, STEP_REFRESH, STEP_AUTOSTART,
} pool_step;

/* What virsh prints around a step: "<fail_pre>NAME<fail_post>" on failure
 * (then the cause), "Pool NAME <done>" on success. */
typedef struct step_words {
    const char *fail_pre, *fail_post, *done;
} step_words;

static const step_words words[] = {
    [STEP_BUILD] = { "Failed to build pool ", "", "built" },
    [STEP_START] = { "Failed to start pool ", "", "started" },
    [STEP_DESTROY] = { "Failed to destroy pool ", "", "destroyed" },
    [STEP_DELETE] = { "Failed to delete pool ", "", "deleted" },
    [STEP_UNDEFINE] = { "Failed to undefine pool ", "", "has been undefined" },
    [STEP_REFRESH] = { "Failed to refresh pool ", "", "refreshed" },
};
static const step_words mark = { "failed to mark pool ", " as autostarted", "marked as autostarted" };
static const step_words unmark = { "failed to unmark pool ", " as autostarted", "unmarked as autostarted" };

/* The build flags of --build, --overwrite, --no-overwrite (those the table has). */
static unsigned
build_flags(vv_arg *args, size_t n)
{
    vv_arg *build = vv_arg_get(args, n, "build"), *over = vv_arg_get(args, n, "overwrite");
    vv_arg *no_over = vv_arg_get(args, n, "no-overwrite");
    return (build && build->set ? VDISK_STORE_POOL_BUILD : 0) |
           (over && over->set ? VDISK_STORE_POOL_OVERWRITE : 0) |
           (no_over && no_over->set ? VDISK_STORE_POOL_NO_OVERWRITE : 0);
}

static int
do_step(vv_store_ctx *c, pool_step step, vv_arg *args, size_t n, vdisk_error *err)
{
    const vdisk_store_ops *ops = c->store->ops;
    switch (step) {
    case STEP_BUILD: return ops->pool_build(c->pool, build_flags(args, n), err);
    case STEP_START: return ops->pool_start(c->pool, build_flags(args, n), err);
    case STEP_DESTROY: return ops->pool_destroy(c->pool, err);
    case STEP_DELETE: return ops->pool_delete(c->pool, err);
    case STEP_UNDEFINE: return ops->pool_undefine(c->pool, err);
    case STEP_REFRESH: return ops->pool_refresh(c->pool, err);
    case STEP_AUTOSTART:
        return ops->pool_set_autostart(c->pool, !vv_arg_get(args, n, "disable")->set, err);
    }
    return -1;
}

/* Parse <pool> and the step's flags, look the pool up, run the step and
 * print virsh's lines. */
static int
run(const char *uri, int argc, char **argv, vv_arg *args, size_t n, pool_step step)
{
    vv_store_ctx c;
    int r = vv_store_begin_pool(uri, argc, argv, args, n, &c);
    if (r != VV_GO)
        return r;
    const char *name = vv_arg_get(args, n, "pool")->value;
    const step_words *w = step != STEP_AUTOSTART ? &words[step]
                        : vv_arg_get(args, n, "disable")->set ? &unmark : &mark;
    vdisk_error err = { 0 };
    r = do_step(&c, step, args, n, &err) < 0;
    if (r) {
        vv_virsh_error("%s%s%s", w->fail_pre, name, w->fail_post);
        vv_store_report(&err);
    } else {
        printf("Pool %s %s\n", name, w->done);
    }
    vv_store_end(&c);
    return r;
}

/* pool-build: create the pool's directory with its permissions. */
int
cmd_pool_build(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("overwrite"), VV_FLAG("no-overwrite") };
    return run(uri, argc, argv, args, VV_N(args), STEP_BUILD);
}

/* pool-start [--build]: make the pool active. */
int
cmd_pool_start(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("build"), VV_FLAG("overwrite"), VV_FLAG("no-overwrite") };
    return run(uri, argc, argv, args, VV_N(args), STEP_START);
}

/* pool-destroy: make the pool inactive (nothing on disk changes). */
int
cmd_pool_destroy(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool") };
    return run(uri, argc, argv, args, VV_N(args), STEP_DESTROY);
}

/* pool-delete: remove the inactive pool's (empty) directory. */
int
cmd_pool_delete(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool") };
    return run(uri, argc, argv, args, VV_N(args), STEP_DELETE);
}

/* pool-undefine: forget the inactive pool's definition. */
int
cmd_pool_undefine(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool") };
    return run(uri, argc, argv, args, VV_N(args), STEP_UNDEFINE);
}

/* pool-refresh: probe every volume again. */
int
cmd_pool_refresh(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool") };
    return run(uri, argc, argv, args, VV_N(args), STEP_REFRESH);
}

/* pool-autostart [--disable]. */
int
cmd_pool_autostart(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("disable") };
    return run(uri, argc, argv, args, VV_N(args), STEP_AUTOSTART);
}
