/* vdisk-virsh secret-list: a store's secrets in virsh's table (or
 * --json).  Values are never shown.
 *
 *   secret-list [--ephemeral | --no-ephemeral] [--private | --no-private] [--json]
 */
#include <stdio.h>
#include <stdlib.h>

#include <vdisk/storage-def.h>

#include "commands.h"
#include "output.h"
#include "virsh-args.h"
#include "store-open.h"

/* Does the secret pass --ephemeral, --no-ephemeral, --private, --no-private? */
static bool
selected(const vdisk_secret_def *d, vv_arg *args, size_t n)
{
    return !(vv_arg_get(args, n, "ephemeral")->set && !d->ephemeral) &&
           !(vv_arg_get(args, n, "no-ephemeral")->set && d->ephemeral) &&
           !(vv_arg_get(args, n, "private")->set && !d->private_) &&
           !(vv_arg_get(args, n, "no-private")->set && d->private_);
}

static void
print_json(const vdisk_secret_def *v, size_t n, vv_arg *args, size_t n_args)
{
    vv_json j;
    vv_json_init(&j, stdout);
    vv_json_array_begin(&j, NULL);
    for (size_t i = 0; i < n; i++) {
        if (!selected(&v[i], args, n_args))
            continue;
        char u[VDISK_UUID_STRING_LEN];
        vdisk_uuid_format(v[i].uuid, u);
        vv_json_object_begin(&j, NULL);
        vv_json_string(&j, "uuid", u);
        if (v[i].usage_type) {
            vv_json_string(&j, "usage-type", v[i].usage_type);
            vv_json_string(&j, "usage-id", v[i].usage_id);
        }
        if (v[i].description)
            vv_json_string(&j, "description", v[i].description);
        vv_json_bool(&j, "ephemeral", v[i].ephemeral);
        vv_json_bool(&j, "private", v[i].private_);
        vv_json_object_end(&j);
    }
    vv_json_array_end(&j);
    vv_json_finish(&j);
}

static void
print_table(const vdisk_secret_def *v, size_t n, vv_arg *args, size_t n_args)
{
    static const char *const head[] = { "UUID", "Usage" };
    vv_table t;
    vv_table_init(&t, 2, head);
    for (size_t i = 0; i < n; i++) {
        if (!selected(&v[i], args, n_args))
            continue;
        char u[VDISK_UUID_STRING_LEN], usage[1200];
        vdisk_uuid_format(v[i].uuid, u);
        if (v[i].usage_type)
            snprintf(usage, sizeof(usage), "%s %s", v[i].usage_type, v[i].usage_id);
        else
            snprintf(usage, sizeof(usage), "Unused");
        const char *cells[] = { u, usage };
        vv_table_add(&t, cells);
    }
    vv_table_print(&t, stdout);
    vv_table_clear(&t);
}

static void
print_list(const vdisk_secret_def *v, size_t count, vv_arg *args, size_t n)
{
    if (vv_arg_get(args, n, "json")->set)
        print_json(v, count, args, n);
    else
        print_table(v, count, args, n);
}

/* secret-list: list the store's secrets. */
int
cmd_secret_list(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_FLAG("ephemeral"), VV_FLAG("no-ephemeral"), VV_FLAG("private"), VV_FLAG("no-private"), VV_FLAG("json"),
    };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_secret_def *v = NULL;
    size_t n = 0;
    vdisk_error err = { 0 };
    r = c.store->ops->secret_list(c.store, &v, &n, &err) < 0;
    if (r) {
        vv_virsh_error("Failed to list secrets");
        vv_store_report(&err);
    } else {
        print_list(v, n, args, VV_N(args));
    }
    vdisk_secret_defs_free(v, n);
    vv_store_end(&c);
    return r;
}
