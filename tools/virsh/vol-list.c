/* vdisk-virsh vol-list: the volumes of a pool of any store, in virsh's
 * table (or --json).
 *
 *   vol-list <pool> [--details] [--json]
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "output.h"
#include "virsh-args.h"
#include "store-open.h"

static void
print_json(const vdisk_store_vol_row *const *v, size_t n)
{
    vv_json j;
    vv_json_init(&j, stdout);
    vv_json_array_begin(&j, NULL);
    for (size_t i = 0; i < n; i++) {
        vv_json_object_begin(&j, NULL);
        vv_json_string(&j, "name", v[i]->def.name);
        if (v[i]->def.target_path)
            vv_json_string(&j, "path", v[i]->def.target_path);
        vv_json_string(&j, "type", v[i]->type);
        vv_json_string(&j, "format", vdisk_format_name(v[i]->def.format));
        vv_json_uint(&j, "capacity", v[i]->def.capacity);
        vv_json_uint(&j, "allocation", v[i]->def.allocation);
        vv_json_uint(&j, "physical", v[i]->def.physical);
        if (v[i]->def.backing_path)
            vv_json_string(&j, "backing", v[i]->def.backing_path);
        vv_json_object_end(&j);
    }
    vv_json_array_end(&j);
    vv_json_finish(&j);
}

static void
print_table(const vdisk_store_vol_row *const *v, size_t n, bool details)
{
    static const char *const head[] = { "Name", "Path", "Type", "Capacity", "Allocation" };
    vv_table t;
    vv_table_init(&t, details ? 5 : 2, head);
    for (size_t i = 0; i < n; i++) {
        char cap[32], alloc[32];
        const char *cells[] = { v[i]->def.name, v[i]->def.target_path, v[i]->type,
                                vv_pretty_capacity(v[i]->def.capacity, cap, sizeof(cap)),
                                vv_pretty_capacity(v[i]->def.allocation, alloc, sizeof(alloc)) };
        vv_table_add(&t, cells);
    }
    vv_table_print(&t, stdout);
    vv_table_clear(&t);
}

static void
print_vol_list(const vdisk_store_vol_row *const *v, size_t count, bool details, bool json)
{
    if (json)
        print_json(v, count);
    else
        print_table(v, count, details);
}

/* vol-list: list a pool's volumes. */
int
cmd_vol_list(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("details"), VV_FLAG("json") };
    vv_store_ctx c;
    int r = vv_store_begin_pool(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    bool details = vv_arg_get(args, VV_N(args), "details")->set, json = vv_arg_get(args, VV_N(args), "json")->set;
    unsigned what = (details || json ? VDISK_STORE_VOLS_DETAILS : 0) | (json ? VDISK_STORE_VOLS_PHYSICAL : 0);
    vdisk_store_vol_row *rows = NULL;
    const vdisk_store_vol_row **shown = NULL;
    size_t n = 0, kept = 0;
    vdisk_error err = { 0 };
    r = 1;
    if (c.store->ops->vol_list(c.pool, what, &rows, &n, &err) < 0 || !(shown = calloc(n ? n : 1, sizeof(*shown)))) {
        vv_virsh_error("Failed to list volumes");
        vv_store_report(&err);
    } else {
        for (size_t i = 0; i < n; i++) {
            if (!rows[i].failed)
                shown[kept++] = &rows[i];
            else
                vv_store_report(&rows[i].error);
        }
        print_vol_list(shown, kept, details, json);
        r = 0;
    }
    free(shown);
    vdisk_store_vol_rows_free(rows, n);
    vv_store_end(&c);
    return r;
}
