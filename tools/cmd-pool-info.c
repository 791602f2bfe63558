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
    vv_print_size("Capacity:", info->capacity, bytes, "");
    vv_print_size("Allocation:", info->allocation, bytes, "");
    vv_print_size("Available:", info->available, bytes, "");
    printf("%-15s %zu\n", "Volumes:", info->volumes);
    vv_print_size("Provisioned:", info->volume_capacity, bytes, "");
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

/* pool-info: state, sizes and overcommit of one pool. */
int
cmd_pool_info(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("bytes"), VV_FLAG("json") };
    vv_ctx c;
    int r = vv_begin_pool(argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_pool_info info;
    vdisk_error err = { 0 };
    r = 0;
    if (vdisk_pool_get_info(c.pool, &info, &err) < 0) {
        vv_virsh_error("Could not obtain pool info");
        vv_virsh_report(&err);
        r = 1;
    } else if (args[2].set) {
        print_json(c.pool, &info);
    } else {
        print_human(c.pool, &info, args[1].set);
    }
    vv_end(&c);
    return r;
}

/* pool-dumpxml: the pool's XML (with sizes while it is active). */
int
cmd_pool_dumpxml(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("inactive") };
    vv_ctx c;
    int r = vv_begin_pool(argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    char *xml = NULL;
    vdisk_error err = { 0 };
    /* --inactive: the stored definition, without runtime sizes. */
    r = args[1].set ? vdisk_pool_def_format(vdisk_pool_get_def(c.pool), &xml, &err)
                    : vdisk_pool_dumpxml(c.pool, &xml, &err);
    if (r < 0)
        vv_virsh_report(&err);
    else
        fputs(xml, stdout);
    free(xml);
    vv_end(&c);
    return r < 0 ? 1 : 0;
}
