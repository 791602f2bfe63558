/* vdisk-virsh pool-info and pool-dumpxml, as virsh prints them; pool-info
 * adds the pool's overcommit (sum of volume capacities over pool capacity).
 *
 *   pool-info <pool> [--bytes] [--json]
 *   pool-dumpxml <pool> [--inactive]
 */
#include <stdio.h>
#include <stdlib.h>

#include <vdisk/storage-xml.h>

#include "commands.h"
#include "output.h"
#include "virsh-args.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
print_size(const char *label, uint64_t v, bool bytes)
{
    char buf[32];
    if (bytes)
        printf("%-15s %llu\n", label, (unsigned long long)v);
    else
        printf("%-15s %s\n", label, vv_pretty_capacity(v, buf, sizeof(buf)));
}

static void
print_human(vdisk_pool *pool, const vdisk_pool_info *info, bool bytes)
{
    const vdisk_pool_def *d = vdisk_pool_get_def(pool);
    char uuid[VDISK_UUID_STRING_LEN];
    vdisk_uuid_format(d->uuid, uuid);
    printf("%-15s %s\n", "Name:", d->name);
    printf("%-15s %s\n", "UUID:", uuid);
    printf("%-15s %s\n", "State:", info->state == VDISK_POOL_RUNNING ? "running" : "inactive");
    printf("%-15s %s\n", "Persistent:", "yes");
    printf("%-15s %s\n", "Autostart:", vdisk_pool_get_autostart(pool) ? "yes" : "no");
    if (info->state != VDISK_POOL_RUNNING)
        return;
    print_size("Capacity:", info->capacity, bytes);
    print_size("Allocation:", info->allocation, bytes);
    print_size("Available:", info->available, bytes);
    printf("%-15s %zu\n", "Volumes:", info->volumes);
    print_size("Provisioned:", info->volume_capacity, bytes);
    printf("%-15s %.2f\n", "Overcommit:", info->overcommit);
    if (info->overcommit_max > 0)
        printf("%-15s %.2f\n", "Overcommit max:", info->overcommit_max);
}

static void
print_json(vdisk_pool *pool, const vdisk_pool_info *info)
{
    const vdisk_pool_def *d = vdisk_pool_get_def(pool);
    char uuid[VDISK_UUID_STRING_LEN];
    vdisk_uuid_format(d->uuid, uuid);
    vv_json j;
    vv_json_init(&j, stdout);
    vv_json_object_begin(&j, NULL);
    vv_json_string(&j, "name", d->name);
    vv_json_string(&j, "uuid", uuid);
    vv_json_string(&j, "state", info->state == VDISK_POOL_RUNNING ? "running" : "inactive");
    vv_json_bool(&j, "persistent", true);
    vv_json_bool(&j, "autostart", vdisk_pool_get_autostart(pool));
    vv_json_string(&j, "path", d->target_path);
    vv_json_string(&j, "zeroing", d->zeroing == VDISK_ZEROING_EAGER ? "eager" : "lazy");
    if (info->state == VDISK_POOL_RUNNING) {
        vv_json_uint(&j, "capacity", info->capacity);
        vv_json_uint(&j, "allocation", info->allocation);
        vv_json_uint(&j, "available", info->available);
        vv_json_uint(&j, "volumes", info->volumes);
        vv_json_uint(&j, "volume-capacity", info->volume_capacity);
        vv_json_uint(&j, "volume-allocation", info->volume_allocation);
        vv_json_double(&j, "overcommit", info->overcommit);
    }
    if (info->overcommit_max > 0)
        vv_json_double(&j, "overcommit-max", info->overcommit_max);
    vv_json_object_end(&j);
    vv_json_finish(&j);
}

/* Parse <pool>, open registry and pool; returns 0, or an exit status. */
static int
open_pool(int argc, char **argv, vv_arg *args, size_t n, vdisk_registry **reg, vdisk_pool **pool)
{
    int r = vv_virsh_parse(argc, argv, args, n);
    if (r)
        return r == VV_PARSE_HELP ? -1 : r;
    if (vv_open_registry(reg) < 0)
        return 1;
    if (vv_lookup_pool(*reg, vv_arg_get(args, n, "pool")->value, pool) < 0) {
        vdisk_registry_close(*reg);
        return 1;
    }
    return 0;
}

/* pool-info: state, sizes and overcommit of one pool. */
int
cmd_pool_info(int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("pool"),
        VV_FLAG("bytes"), VV_FLAG("json"),
    };
    vdisk_registry *reg;
    vdisk_pool *pool;
    int r = open_pool(argc, argv, args, N(args), &reg, &pool);
    if (r)
        return r < 0 ? 0 : r;
    vdisk_pool_info info;
    vdisk_error err = { 0 };
    if (vdisk_pool_get_info(pool, &info, &err) < 0) {
        vv_virsh_error("Could not obtain pool info");
        vv_virsh_report(&err);
        r = 1;
    } else if (args[2].set) {
        print_json(pool, &info);
    } else {
        print_human(pool, &info, args[1].set);
    }
    vdisk_pool_free(pool);
    vdisk_registry_close(reg);
    return r;
}

/* pool-dumpxml: the pool's XML (with sizes while it is active). */
int
cmd_pool_dumpxml(int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("pool"),
        VV_FLAG("inactive"),
    };
    vdisk_registry *reg;
    vdisk_pool *pool;
    int r = open_pool(argc, argv, args, N(args), &reg, &pool);
    if (r)
        return r < 0 ? 0 : r;
    char *xml = NULL;
    vdisk_error err = { 0 };
    /* --inactive: the stored definition, without runtime sizes. */
    int q = args[1].set ? vdisk_pool_def_format(vdisk_pool_get_def(pool), &xml, &err)
                        : vdisk_pool_dumpxml(pool, &xml, &err);
    if (q < 0) {
        vv_virsh_report(&err);
        r = 1;
    } else {
        fputs(xml, stdout);
    }
    free(xml);
    vdisk_pool_free(pool);
    vdisk_registry_close(reg);
    return r;
}
