/* vdisk-virsh pool-list: the pools of the embedded registry, in virsh's
 * table (or --name / --uuid lines, or --json).
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
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Does the pool pass the --inactive/--all/--autostart/... filters? */
static bool
selected(vdisk_pool *p, vv_arg *args, size_t n)
{
    bool active = vdisk_pool_is_active(p), autostart = vdisk_pool_get_autostart(p);
    bool all = vv_arg_get(args, n, "all")->set, inactive = vv_arg_get(args, n, "inactive")->set;
    if (!all && (inactive ? active : !active))
        return false;
    if (vv_arg_get(args, n, "autostart")->set && !autostart)
        return false;
    if (vv_arg_get(args, n, "no-autostart")->set && autostart)
        return false;
    if (vv_arg_get(args, n, "transient")->set && !vv_arg_get(args, n, "persistent")->set)
        return false;      /* registry pools are all persistent */
    vv_arg *type = vv_arg_get(args, n, "type");
    if (type->set && !strstr(type->value, "vdisk") && !strstr(type->value, "dir"))
        return false;
    return true;
}

static void
print_json(const vv_pool_row *rows, size_t count)
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
print_table(const vv_pool_row *rows, size_t count, bool details)
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

void
vv_print_pool_list(const vv_pool_row *rows, size_t count, vv_arg *args, size_t n)
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

/* A registry pool as a row of the listing (sizes when asked for). */
static void
fill_row(vdisk_pool *p, bool want_sizes, vv_pool_row *row)
{
    row->def = vdisk_pool_get_def(p);
    row->active = vdisk_pool_is_active(p);
    row->state = row->active ? "running" : "inactive";
    row->autostart = vdisk_pool_get_autostart(p);
    row->persistent = true;        /* registry pools are all persistent */
    if (want_sizes)
        row->info_ok = vdisk_pool_fs_info(p, &row->info, NULL) == 0;   /* no volume sums shown */
}

/* pool-list: list the registry's pools. */
int
cmd_pool_list(int argc, char **argv)
{
    vv_arg args[] = {
        VV_FLAG("inactive"), VV_FLAG("all"), VV_FLAG("transient"), VV_FLAG("persistent"),
        VV_FLAG("autostart"), VV_FLAG("no-autostart"), VV_VAL("type"), VV_FLAG("details"),
        VV_FLAG("uuid"), VV_FLAG("name"), VV_FLAG("json"),
    };
    vv_ctx c;
    int r = vv_begin(argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_registry *reg = c.reg;
    char **names = NULL;
    size_t count = 0, kept = 0;
    vdisk_error err = { 0 };
    vdisk_pool **pools = NULL;
    vv_pool_row *rows = NULL;
    r = 0;
    if (vdisk_pool_list_names(reg, &names, &count, &err) < 0 ||
        !(pools = calloc(count ? count : 1, sizeof(*pools))) ||
        !(rows = calloc(count ? count : 1, sizeof(*rows)))) {
        vv_virsh_error("Failed to list pools");
        vv_virsh_report(&err);
        r = 1;
        goto out;
    }
    bool want_sizes = vv_arg_get(args, N(args), "details")->set || vv_arg_get(args, N(args), "json")->set;
    for (size_t i = 0; i < count; i++) {
        if (vdisk_pool_lookup(reg, names[i], &pools[kept], NULL) < 0)
            continue;
        if (!selected(pools[kept], args, N(args))) {
            vdisk_pool_free(pools[kept]);
            continue;
        }
        fill_row(pools[kept], want_sizes, &rows[kept]);
        kept++;
    }
    vv_print_pool_list(rows, kept, args, N(args));
out:
    for (size_t i = 0; i < kept; i++)
        vdisk_pool_free(pools[i]);
    free(pools);
    free(rows);
    vdisk_registry_names_free(names, count);
    vv_end(&c);
    return r;
}
