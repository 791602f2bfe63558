/* vdisk-virsh vol-list: the volumes of a pool, in virsh's table (or --json).
 *
 *   vol-list <pool> [--details] [--json]
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "output.h"
#include "virsh-args.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
print_json(const vdisk_vol_def *v, const char *const *types, size_t n)
{
    vv_json j;
    vv_json_init(&j, stdout);
    vv_json_array_begin(&j, NULL);
    for (size_t i = 0; i < n; i++) {
        vv_json_object_begin(&j, NULL);
        vv_json_string(&j, "name", v[i].name);
        if (v[i].target_path)
            vv_json_string(&j, "path", v[i].target_path);
        vv_json_string(&j, "type", types ? types[i] : "file");
        vv_json_string(&j, "format", vdisk_format_name(v[i].format));
        vv_json_uint(&j, "capacity", v[i].capacity);
        vv_json_uint(&j, "allocation", v[i].allocation);
        vv_json_uint(&j, "physical", v[i].physical);
        if (v[i].backing_path)
            vv_json_string(&j, "backing", v[i].backing_path);
        vv_json_object_end(&j);
    }
    vv_json_array_end(&j);
    vv_json_finish(&j);
}

static void
print_table(const vdisk_vol_def *v, const char *const *types, size_t n, bool details)
{
    static const char *const head[] = { "Name", "Path", "Type", "Capacity", "Allocation" };
    vv_table t;
    vv_table_init(&t, details ? 5 : 2, head);
    for (size_t i = 0; i < n; i++) {
        char cap[32], alloc[32];
        const char *cells[] = { v[i].name, v[i].target_path, types ? types[i] : "file",
                                vv_pretty_capacity(v[i].capacity, cap, sizeof(cap)),
                                vv_pretty_capacity(v[i].allocation, alloc, sizeof(alloc)) };
        vv_table_add(&t, cells);
    }
    vv_table_print(&t, stdout);
    vv_table_clear(&t);
}

void
vv_print_vol_list(const vdisk_vol_def *v, const char *const *types, size_t count, bool details, bool json)
{
    if (json)
        print_json(v, types, count);
    else
        print_table(v, types, count, details);
}

/* vol-list: list a pool's volumes. */
int
cmd_vol_list(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("details"), VV_FLAG("json") };
    vv_ctx c;
    int r = vv_begin_pool(argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_vol_def *vols;
    size_t n;
    vdisk_error err = { 0 };
    r = 1;
    if (vdisk_pool_refresh(c.pool, &vols, &n, &err) < 0) {
        vv_virsh_error("Failed to list volumes");
        vv_virsh_report(&err);
    } else {
        vv_print_vol_list(vols, NULL, n, args[1].set, args[2].set);
        vdisk_pool_volumes_free(vols, n);
        r = 0;
    }
    vv_end(&c);
    return r;
}
