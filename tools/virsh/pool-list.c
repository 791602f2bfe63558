/* vdisk-virsh pool-list: the pools of a store (the embedded registry, or
 * -c URI), in virsh's table (or --name / --uuid lines, or --json).
 *
 *   pool-list [--inactive | --all] [--autostart | --no-autostart]
 *             [--persistent] [--transient] [--type TYPES] [--details]
 *             [--name | --uuid] [--json]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "output.h"
#include "virsh-args.h"
#include "store-open.h"

static void
print_json(const vdisk_store_pool_row *rows, size_t count)
{
    vv_json j;
    vv_json_init(&j, stdout);
    vv_json_array_begin(&j, NULL);
    for (size_t i = 0; i < count; i++) {
        const vdisk_pool_def *d = rows[i].def;
        char uuid[VDISK_UUID_STRING_LEN];
        vdisk_uuid_format(d->uuid, uuid);
        vv_json_object_begin(&j, NULL);
        vv_json_string(&j, "name", d->name);
        vv_json_string(&j, "uuid", uuid);
        vv_json_string(&j, "state", rows[i].state);
        vv_json_bool(&j, "autostart", rows[i].autostart);
        vv_json_bool(&j, "persistent", rows[i].persistent);
        if (d->target_path)
            vv_json_string(&j, "path", d->target_path);
        if (rows[i].info_ok && rows[i].active) {
            vv_json_uint(&j, "capacity", rows[i].info.capacity);
            vv_json_uint(&j, "allocation", rows[i].info.allocation);
            vv_json_uint(&j, "available", rows[i].info.available);
        }
        vv_json_object_end(&j);
    }
    vv_json_array_end(&j);
    vv_json_finish(&j);
}

static void
print_table(const vdisk_store_pool_row *rows, size_t count, bool details)
{
    static const char *const head[] = { "Name", "State", "Autostart", "Persistent", "Capacity",
                                        "Allocation", "Available" };
    vv_table t;
    vv_table_init(&t, details ? 7 : 3, head);
    for (size_t i = 0; i < count; i++) {
        bool active = rows[i].active, sizes = active && rows[i].info_ok;
        char cap[32] = "-", alloc[32] = "-", avail[32] = "-";
        if (sizes) {
            vv_pretty_capacity(rows[i].info.capacity, cap, sizeof(cap));
            vv_pretty_capacity(rows[i].info.allocation, alloc, sizeof(alloc));
            vv_pretty_capacity(rows[i].info.available, avail, sizeof(avail));
        }
        const char *cells[] = {
            rows[i].def->name,
            details ? rows[i].state : (active ? "active" : "inactive"),
            rows[i].autostart ? "yes" : "no", rows[i].persistent ? "yes" : "no", cap, alloc, avail,
        };
        vv_table_add(&t, cells);
    }
    vv_table_print(&t, stdout);
    vv_table_clear(&t);
}

static void
print_pool_list(const vdisk_store_pool_row *rows, size_t count, vv_arg *args, size_t n)
{
    bool by_name = vv_arg_get(args, n, "name")->set, by_uuid = vv_arg_get(args, n, "uuid")->set;
    if (vv_arg_get(args, n, "json")->set) {
        print_json(rows, count);
    } else if (by_name || by_uuid) {
        for (size_t i = 0; i < count; i++) {
            char uuid[VDISK_UUID_STRING_LEN];
            vdisk_uuid_format(rows[i].def->uuid, uuid);
            /* virsh's fixed formats: "%-36s" for UUIDs, "%-20s" for names. */
            if (by_uuid)
                printf("%-36s%c", uuid, by_name ? ' ' : '\n');
            if (by_name)
                printf("%-20s\n", rows[i].def->name);
        }
    } else {
        print_table(rows, count, vv_arg_get(args, n, "details")->set);
    }
}

/* pool-list's filters from its arguments. */
static vdisk_store_pool_filter
filter_of(vv_arg *args, size_t n)
{
    vv_arg *type = vv_arg_get(args, n, "type");
    return (vdisk_store_pool_filter){
        .inactive = vv_arg_get(args, n, "inactive")->set,
        .all = vv_arg_get(args, n, "all")->set,
        .persistent = vv_arg_get(args, n, "persistent")->set,
        .transient = vv_arg_get(args, n, "transient")->set,
        .autostart = vv_arg_get(args, n, "autostart")->set,
        .no_autostart = vv_arg_get(args, n, "no-autostart")->set,
        .types = type->set ? type->value : NULL,
        .sizes = vv_arg_get(args, n, "details")->set || vv_arg_get(args, n, "json")->set,
    };
}

/* The rows to print; a pool that could not be read is reported, as virsh. */
static size_t
readable_rows(vdisk_store_pool_row *rows, size_t count, vdisk_store_pool_row *out)
{
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (rows[i].def) {
            out[kept++] = rows[i];
        } else {
            vv_virsh_error("Could not retrieve pool information");
            vv_store_report(&rows[i].error);
        }
    }
    return kept;
}

/* pool-list: list the store's pools. */
int
cmd_pool_list(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_FLAG("inactive"), VV_FLAG("all"), VV_FLAG("transient"), VV_FLAG("persistent"),
        VV_FLAG("autostart"), VV_FLAG("no-autostart"), VV_VAL("type"), VV_FLAG("details"),
        VV_FLAG("uuid"), VV_FLAG("name"), VV_FLAG("json"),
    };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_store_pool_filter filter = filter_of(args, VV_N(args));
    vdisk_store_pool_row *rows = NULL, *shown = NULL;
    size_t count = 0;
    vdisk_error err = { 0 };
    r = 0;
    if (c.store->ops->pool_list(c.store, &filter, &rows, &count, &err) < 0 ||
        !(shown = calloc(count ? count : 1, sizeof(*shown)))) {
        vv_virsh_error("Failed to list pools");
        vv_store_report(&err);
        r = 1;
    } else {
        print_pool_list(shown, readable_rows(rows, count, shown), args, VV_N(args));
    }
    free(shown);
    vdisk_store_pool_rows_free(rows, count);
    vv_store_end(&c);
    return r;
}
