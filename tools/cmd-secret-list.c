/* vdisk-virsh secret-list: the registry's secrets in virsh's table (or
 * --json).  Values are never shown.
 *
 *   secret-list [--ephemeral | --no-ephemeral] [--private | --no-private] [--json]
 */
#include <stdio.h>
#include <stdlib.h>

#include <vdisk/secret.h>
#include <vdisk/storage-def.h>

#include "commands.h"
#include "output.h"
#include "virsh-args.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool
selected(const vdisk_secret_def *d, vv_arg *args)
{
    return !(args[0].set && !d->ephemeral) && !(args[1].set && d->ephemeral) &&
           !(args[2].set && !d->private_) && !(args[3].set && d->private_);
}

static void
print_json(const vdisk_secret_def *v, size_t n, vv_arg *args)
{
    vv_json j;
    vv_json_init(&j, stdout);
    vv_json_array_begin(&j, NULL);
    for (size_t i = 0; i < n; i++) {
        if (!selected(&v[i], args))
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
print_table(const vdisk_secret_def *v, size_t n, vv_arg *args)
{
    static const char *const head[] = { "UUID", "Usage" };
    vv_table t;
    vv_table_init(&t, 2, head);
    for (size_t i = 0; i < n; i++) {
        if (!selected(&v[i], args))
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

void
vv_print_secret_list(const vdisk_secret_def *v, size_t count, vv_arg *args)
{
    if (args[4].set)
        print_json(v, count, args);
    else
        print_table(v, count, args);
}

/* secret-list: list the registry's secrets. */
int
cmd_secret_list(int argc, char **argv)
{
    vv_arg args[] = {
        VV_FLAG("ephemeral"), VV_FLAG("no-ephemeral"), VV_FLAG("private"), VV_FLAG("no-private"), VV_FLAG("json"),
    };
    vv_ctx c;
    int r = vv_begin(argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_registry *reg = c.reg;
    vdisk_secret_def *v;
    size_t n;
    vdisk_error err = { 0 };
    r = 1;
    if (vdisk_secret_list(reg, &v, &n, &err) < 0) {
        vv_virsh_error("Failed to list secrets");
        vv_virsh_report(&err);
    } else {
        vv_print_secret_list(v, n, args);
        vdisk_secret_defs_free(v, n);
        r = 0;
    }
    vv_end(&c);
    return r;
}
