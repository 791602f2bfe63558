/* vdisk-virsh pool-info and pool-dumpxml, as virsh prints them; pool-info
 * adds the pool's overcommit (sum of volume capacities over pool capacity),
 * and with --details (embedded registry) each volume's provisioned and used
 * space (pool-usage.c).
 *
 *   pool-info <pool> [--bytes] [--json] [--details]
 *   pool-dumpxml <pool> [--inactive]
 */
#include <stdio.h>
#include <stdlib.h>

#include <vdisk/storage-xml.h>

#include "commands.h"
#include "output.h"
#include "pool-usage.h"
#include "virsh-args.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
print_human(const vv_pool_row *row, bool bytes)
{
    const vdisk_pool_def *d = row->def;
    const vdisk_pool_info *info = &row->info;
    char uuid[VDISK_UUID_STRING_LEN];
    vdisk_uuid_format(d->uuid, uuid);
    printf("%-15s %s\n", "Name:", d->name);
    printf("%-15s %s\n", "UUID:", uuid);
    printf("%-15s %s\n", "State:", row->state);
    printf("%-15s %s\n", "Persistent:", row->persistent ? "yes" : "no");
    printf("%-15s %s\n", "Autostart:", row->autostart ? "yes" : "no");
    if (!row->active || !row->info_ok)
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
print_json(const vv_pool_row *row, const vdisk_pool_usage *usage)
{
    const vdisk_pool_def *d = row->def;
    const vdisk_pool_info *info = &row->info;
    char uuid[VDISK_UUID_STRING_LEN];
    vdisk_uuid_format(d->uuid, uuid);
    vv_json j;
    vv_json_init(&j, stdout);
    vv_json_object_begin(&j, NULL);
    vv_json_string(&j, "name", d->name);
    vv_json_string(&j, "uuid", uuid);
    vv_json_string(&j, "state", row->state);
    vv_json_bool(&j, "persistent", row->persistent);
    vv_json_bool(&j, "autostart", row->autostart);
    if (d->target_path)
        vv_json_string(&j, "path", d->target_path);
    vv_json_string(&j, "zeroing", d->zeroing == VDISK_ZEROING_EAGER ? "eager" : "lazy");
    if (row->active && row->info_ok) {
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
    if (usage)
        vv_print_pool_usage(&j, usage, false);
    vv_json_object_end(&j);
    vv_json_finish(&j);
}

void
vv_print_pool_info(const vv_pool_row *row, bool bytes, bool json)
{
    if (json)
        print_json(row, NULL);
    else
        print_human(row, bytes);
}

/* pool-info's lines, then (details) the volumes' usage; the pool is active. */
static int
print_info(vv_ctx *c, vv_pool_row *row, bool bytes, bool json, bool details)
{
    vdisk_pool_usage usage;
    vdisk_error err = { 0 };
    if (details && vdisk_pool_usage_get(c->pool, &usage, &err) < 0) {
        vv_virsh_error("Could not obtain the volumes' usage");
        vv_virsh_report(&err);
        return 1;
    }
    if (json) {
        print_json(row, details ? &usage : NULL);
    } else {
        print_human(row, bytes);
        if (details)
            vv_print_pool_usage(NULL, &usage, bytes);
    }
    if (details)
        vdisk_pool_usage_clear(&usage);
    return 0;
}

/* pool-info: state, sizes and overcommit of one pool. */
int
cmd_pool_info(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("bytes"), VV_FLAG("json"), VV_FLAG("details") };
    vv_ctx c;
    int r = vv_begin_pool(argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    vv_pool_row row = {
        .def = vdisk_pool_get_def(c.pool), .persistent = true, .info_ok = true,
        .autostart = vdisk_pool_get_autostart(c.pool),
    };
    vdisk_error err = { 0 };
    r = 0;
    if (vdisk_pool_get_info(c.pool, &row.info, &err) < 0) {
        vv_virsh_error("Could not obtain pool info");
        vv_virsh_report(&err);
        r = 1;
    } else {
        row.active = row.info.state == VDISK_POOL_RUNNING;
        row.state = row.active ? "running" : "inactive";
        if (args[3].set && !row.active) {
            vv_virsh_error("pool '%s' is not active: --details maps its volumes", row.def->name);
            r = 1;
        } else {
            r = print_info(&c, &row, args[1].set, args[2].set, args[3].set);
        }
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
