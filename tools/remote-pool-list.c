/* vdisk-virsh -c URI — pool-list and pool-info through the daemon, printed
 * by the embedded commands' printers (virsh-common.h) from rows filled
 * with what libvirt's API and the pool's XML say.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "remote-internal.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* One pool and what its row points into. */
typedef struct vr_pool {
    virStoragePoolPtr pool;
    vdisk_pool_def *def;
    char type[32];                 /* <pool type='...'> */
} vr_pool;

static const char *
state_name(int state)
{
    static const char *const names[] = { "inactive", "building", "running", "degraded", "inaccessible" };
    return state >= 0 && state < (int)N(names) ? names[state] : "unknown";
}

/* The pool's definition from its XML (target path, vdisk options), or
 * from the API alone for a pool type vdisk's XML layer does not read. */
static int
read_def(vr_pool *p)
{
    char *xml = virStoragePoolGetXMLDesc(p->pool, 0);
    vdisk_error err = { 0 };
    if (!xml)
        return -1;
    const char *t = strstr(xml, "type='");
    if (t)
        sscanf(t + 6, "%31[^']", p->type);
    if (vdisk_pool_def_parse(xml, strlen(xml), virStoragePoolGetName(p->pool), &p->def, &err) < 0) {
        p->def = calloc(1, sizeof(*p->def));
        if (p->def)
            p->def->name = strdup(virStoragePoolGetName(p->pool));
    }
    free(xml);
    if (!p->def || !p->def->name)
        return -1;
    p->def->has_uuid = virStoragePoolGetUUID(p->pool, p->def->uuid) == 0;
    return 0;
}

/* Sums over the pool's volumes, for pool-info's overcommit lines. */
static void
volume_totals(virStoragePoolPtr pool, vdisk_pool_info *info)
{
    virStorageVolPtr *vols = NULL;
    int n = virStoragePoolListAllVolumes(pool, &vols, 0);
    for (int i = 0; i < n; i++) {
        virStorageVolInfo vi;
        if (virStorageVolGetInfo(vols[i], &vi) == 0) {
            info->volumes++;
            info->volume_capacity += vi.capacity;
            info->volume_allocation += vi.allocation;
        }
        virStorageVolFree(vols[i]);
    }
    free(vols);
    if (info->capacity)
        info->overcommit = (double)info->volume_capacity / (double)info->capacity;
    virResetLastError();
}

/* Fill a row of pool-list / pool-info; totals: add pool-info's sums. */
static int
fill_row(vr_pool *p, vv_pool_row *row, bool totals)
{
    virStoragePoolInfo info;
    int autostart = 0;
    if (read_def(p) < 0 || virStoragePoolGetInfo(p->pool, &info) < 0)
        return -1;
    memset(row, 0, sizeof(*row));
    row->def = p->def;
    row->state = state_name(info.state);
    row->active = info.state == VIR_STORAGE_POOL_RUNNING || info.state == VIR_STORAGE_POOL_DEGRADED;
    row->autostart = virStoragePoolGetAutostart(p->pool, &autostart) == 0 && autostart;
    row->persistent = virStoragePoolIsPersistent(p->pool) == 1;
    row->info_ok = true;
    row->info.state = row->active ? VDISK_POOL_RUNNING : VDISK_POOL_INACTIVE;
    row->info.capacity = info.capacity;
    row->info.allocation = info.allocation;
    row->info.available = info.available;
    row->info.overcommit_max = p->def->overcommit_max;
    if (totals && row->active)
        volume_totals(p->pool, &row->info);
    return 0;
}

static void
free_pool(vr_pool *p)
{
    if (p->pool)
        virStoragePoolFree(p->pool);
    vdisk_pool_def_free(p->def);
}

/* pool-info: state and sizes of one pool (and its overcommit). */
int
vr_pool_info(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("bytes"), VV_FLAG("json") };
    vr_ctx c;
    int r = vr_begin_pool(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    vr_pool p = { .pool = c.pool };
    vv_pool_row row;
    c.pool = NULL;                 /* now p's */
    r = 0;
    if (fill_row(&p, &row, true) < 0) {
        vv_virsh_error("Could not obtain pool info");
        vr_report();
        r = 1;
    } else {
        vv_print_pool_info(&row, args[1].set, args[2].set);
    }
    free_pool(&p);
    vr_end(&c);
    return r;
}

/* The libvirt listing flags of pool-list's filters (--type is checked
 * here: a patched daemon's 'vdisk' has no flag in this libvirt's header). */
static unsigned
list_flags(vv_arg *args, size_t n)
{
    unsigned f = 0;
    if (vv_arg_get(args, n, "inactive")->set)
        f |= VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE;
    else if (!vv_arg_get(args, n, "all")->set)
        f |= VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE;
    if (vv_arg_get(args, n, "persistent")->set)
        f |= VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT;
    if (vv_arg_get(args, n, "transient")->set)
        f |= VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT;
    if (vv_arg_get(args, n, "autostart")->set)
        f |= VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART;
    if (vv_arg_get(args, n, "no-autostart")->set)
        f |= VIR_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART;
    return f;
}

/* Is type one of --type's comma-separated list? */
static bool
type_selected(vv_arg *type, const char *t)
{
    if (!type->set)
        return true;
    size_t len = strlen(t);
    for (const char *s = type->value; *s;) {
        size_t w = strcspn(s, ",");
        if (w == len && strncmp(s, t, len) == 0)
            return true;
        s += w + (s[w] == ',');
    }
    return false;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const vv_pool_row *)a)->def->name, ((const vv_pool_row *)b)->def->name);
}

/* pool-list: the daemon's pools, sorted by name as virsh does. */
int
vr_pool_list(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_FLAG("inactive"), VV_FLAG("all"), VV_FLAG("transient"), VV_FLAG("persistent"),
        VV_FLAG("autostart"), VV_FLAG("no-autostart"), VV_VAL("type"), VV_FLAG("details"),
        VV_FLAG("uuid"), VV_FLAG("name"), VV_FLAG("json"),
    };
    vr_ctx c;
    int r = vr_begin(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    virStoragePoolPtr *list = NULL;
    int count = virConnectListAllStoragePools(c.conn, &list, list_flags(args, N(args)));
    vr_pool *pools = calloc(count > 0 ? (size_t)count : 1, sizeof(*pools));
    vv_pool_row *rows = calloc(count > 0 ? (size_t)count : 1, sizeof(*rows));
    size_t kept = 0;
    r = 1;
    if (count < 0 || !pools || !rows) {
        vv_virsh_error("Failed to list pools");
        vr_report();
        goto out;
    }
    for (int i = 0; i < count; i++) {
        pools[i].pool = list[i];
        if (fill_row(&pools[i], &rows[kept], false) < 0) {
            vv_virsh_error("Could not retrieve pool information");
            vr_report();
            continue;
        }
        if (type_selected(vv_arg_get(args, N(args), "type"), pools[i].type))
            kept++;
    }
    qsort(rows, kept, sizeof(*rows), by_name);
    vv_print_pool_list(rows, kept, args, N(args));
    r = 0;
out:
    for (int i = 0; i < count; i++) {
        if (pools)
            free_pool(&pools[i]);
        else
            virStoragePoolFree(list[i]);
    }
    free(list);
    free(pools);
    free(rows);
    vr_end(&c);
    return r;
}
