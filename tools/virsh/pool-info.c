/* vdisk-virsh pool-info and pool-dumpxml, as virsh prints them, on any
 * store; pool-info adds the pool's overcommit (sum of volume capacities
 * over pool capacity), and with --details (a store that can tell: the
 * embedded registry) each volume's provisioned and used space
 * (pool-usage.c).
 *
 *   pool-info <pool> [--bytes] [--json] [--details]
 *   pool-dumpxml <pool> [--inactive] [--xpath EXPRESSION] [--wrap]
 */
#include <stdio.h>
#include <stdlib.h>

#include <vdisk/storage-xml.h>

#include "commands.h"
#include "dump-xml.h"
#include "output.h"
#include "pool-usage.h"
#include "virsh-args.h"
#include "store-open.h"

static void
print_human(const vdisk_store_pool_row *row, bool bytes)
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
print_json(const vdisk_store_pool_row *row, const vdisk_pool_usage *usage)
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

/* pool-info's lines, then (details) the volumes' usage; the pool is active. */
static int
print_info(vv_store_ctx *c, vdisk_store_pool_row *row, bool bytes, bool json, bool details)
{
    vdisk_pool_usage usage;
    vdisk_error err = { 0 };
    if (details && c->store->ops->pool_usage(c->pool, &usage, &err) < 0) {
        vv_virsh_error("Could not obtain the volumes' usage");
        vv_store_report(&err);
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
cmd_pool_info(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("bytes"), VV_FLAG("json"), VV_FLAG("details") };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    bool bytes = vv_arg_get(args, VV_N(args), "bytes")->set, json = vv_arg_get(args, VV_N(args), "json")->set;
    bool details = vv_arg_get(args, VV_N(args), "details")->set;
    /* A store that cannot tell the volumes' usage has no --details. */
    if (details && !c.store->ops->pool_usage) {
        vv_virsh_error("command '%s' doesn't support option --details", argv[0]);
        vv_store_end(&c);
        return VV_PARSE_FAILED;
    }
    if (vv_store_lookup_pool(&c, vv_arg_get(args, VV_N(args), "pool")->value) < 0) {
        vv_store_end(&c);
        return 1;
    }
    vdisk_store_pool_row row;
    vdisk_error err = { 0 };
    if (c.store->ops->pool_info(c.pool, VDISK_STORE_POOL_SIZES | VDISK_STORE_POOL_TOTALS, &row, &err) < 0) {
        vv_virsh_error("Could not obtain pool info");
        vv_store_report(&err);
        r = 1;
    } else if (details && !row.active) {
        vv_virsh_error("pool '%s' is not active: --details maps its volumes", row.def->name);
        r = 1;
    } else {
        r = print_info(&c, &row, bytes, json, details);
    }
    vv_store_end(&c);
    return r;
}

/* pool-dumpxml: the pool's XML (with sizes while it is active). */
int
cmd_pool_dumpxml(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("inactive"), VV_DUMP_XML_ARGS };
    vv_store_ctx c;
    int r = vv_store_begin_pool(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    char *xml = NULL;
    vdisk_error err = { 0 };
    /* --inactive: the stored definition, without runtime sizes. */
    r = c.store->ops->pool_xml(c.pool, vv_arg_get(args, VV_N(args), "inactive")->set, &xml, &err) < 0;
    if (r)
        vv_store_report(&err);
    else
        r = vv_dump_xml(xml, "pool", vv_arg_get(args, VV_N(args), "xpath")->value,
                        vv_arg_get(args, VV_N(args), "wrap")->set);
    free(xml);
    vv_store_end(&c);
    return r;
}
