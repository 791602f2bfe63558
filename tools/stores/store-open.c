/* vdisk-virsh — opening the store a command acts on, and virsh's wording
 * of what went wrong (store-open.h). */
#include <string.h>

#include "store-open.h"

int
vv_store_open(const char *uri, vdisk_store **out)
{
    if (uri)
        return vv_store_open_uri(uri, out);
    vdisk_error err = { 0 };
    int r = vdisk_store_registry_open(NULL, out, &err);
    if (r < 0)
        vv_virsh_report(&err);
    return r;
}

void
vv_store_report(const vdisk_error *err)
{
    if (err->code != 0 || err->message[0])
        vv_virsh_report(err);
}

void
vv_store_lookup_report(vdisk_store_lookup_step step, const char *pool, const char *vol,
                       const vdisk_error *err)
{
    switch (step) {
    case VDISK_STORE_STEP_POOL:
        vv_virsh_error("failed to get pool '%s'", pool);
        break;
    case VDISK_STORE_STEP_VOL:
        if (pool)
            vv_virsh_error("failed to get vol '%s'", vol);
        else
            vv_virsh_error("failed to get vol '%s', specifying --pool might help", vol);
        break;
    case VDISK_STORE_STEP_VOL_POOL:
        vv_virsh_error("failed to get parent pool");
        break;
    case VDISK_STORE_STEP_CHECK:
        break;
    }
    vv_store_report(err);
}

int
vv_store_begin(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vv_store_ctx *c)
{
    memset(c, 0, sizeof(*c));
    int r = vv_virsh_parse(argc, argv, args, n);
    if (r)
        return r == VV_PARSE_HELP ? 0 : r;
    return vv_store_open(uri, &c->store) < 0 ? 1 : VV_GO;
}

int
vv_store_lookup_pool(vv_store_ctx *c, const char *name)
{
    vdisk_error err = { 0 };
    int r = c->store->ops->pool_lookup(c->store, name, &c->pool, &err);
    if (r < 0)
        vv_store_lookup_report(VDISK_STORE_STEP_POOL, name, NULL, &err);
    return r;
}

int
vv_store_begin_pool(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vv_store_ctx *c)
{
    int r = vv_store_begin(uri, argc, argv, args, n, c);
    if (r == VV_GO && vv_store_lookup_pool(c, vv_arg_get(args, n, "pool")->value) < 0) {
        vv_store_end(c);
        r = 1;
    }
    return r;
}

int
vv_store_lookup_secret(vv_store_ctx *c, const char *name)
{
    vdisk_error err = { 0 };
    int r = c->store->ops->secret_lookup(c->store, name, &c->secret, &err);
    if (r < 0) {
        vv_virsh_error("failed to get secret '%s'", name);
        vv_store_report(&err);
    }
    return r;
}

int
vv_store_begin_secret(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vv_store_ctx *c)
{
    int r = vv_store_begin(uri, argc, argv, args, n, c);
    if (r == VV_GO && vv_store_lookup_secret(c, vv_arg_get(args, n, "secret")->value) < 0) {
        vv_store_end(c);
        r = 1;
    }
    return r;
}

int
vv_store_lookup_vol(vv_store_ctx *c, vv_arg *args, size_t n)
{
    vv_arg *p = vv_arg_get(args, n, "pool");
    const char *pool = p && p->set ? p->value : NULL, *vol = vv_arg_get(args, n, "vol")->value;
    vdisk_store_lookup_step step;
    vdisk_error err = { 0 };
    int r = c->store->ops->vol_lookup(c->store, pool, vol, &c->vol, &step, &err);
    if (r < 0)
        vv_store_lookup_report(step, pool, vol, &err);
    return r;
}

int
vv_store_begin_vol(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vv_store_ctx *c)
{
    int r = vv_store_begin(uri, argc, argv, args, n, c);
    if (r == VV_GO && vv_store_lookup_vol(c, args, n) < 0) {
        vv_store_end(c);
        r = 1;
    }
    return r;
}

void
vv_store_end(vv_store_ctx *c)
{
    if (c->vol)
        c->store->ops->vol_free(c->vol);
    if (c->pool)
        c->store->ops->pool_free(c->pool);
    if (c->secret)
        c->store->ops->secret_free(c->secret);
    if (c->store)
        c->store->ops->close(c->store);
    memset(c, 0, sizeof(*c));
}

int
vv_store_vol_file(vv_store_ctx *c, vdisk_pool **pool, const char **name)
{
    vdisk_store_lookup_step step;
    vdisk_error err = { 0 };
    int r = c->store->ops->vol_file(c->vol, pool, name, &step, &err);
    if (r < 0)
        vv_store_lookup_report(step, NULL, NULL, &err);
    return r;
}

int
vv_store_file_changed(vv_store_ctx *c)
{
    const char *pool_name = "";
    vdisk_error err = { 0 };
    if (!c->store->ops->vol_file_changed || c->store->ops->vol_file_changed(c->vol, &pool_name, &err) == 0)
        return 0;
    vv_virsh_error("Failed to refresh pool %s", pool_name);
    vv_store_report(&err);
    return 1;
}
