/* vdisk-virsh -c URI — a libvirt daemon's pools as a store's
 * (store-libvirt.h): libvirt's API, and the pool's XML read by vdisk's
 * XML layer for what the API does not say (target path, vdisk options).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "store-libvirt.h"

static libvirt_pool *
to_lv(vdisk_store_pool *pool)
{
    return (libvirt_pool *)pool;
}

/* A handle around libvirt's pool (owned from here on). */
static int
pool_wrap(vdisk_store *store, virStoragePoolPtr vp, libvirt_pool **out, vdisk_error *err)
{
    libvirt_pool *p = calloc(1, sizeof(*p));
    *out = NULL;
    if (!p) {
        virStoragePoolFree(vp);
        return vdisk_error_set(err, ENOMEM, "out of memory");
    }
    p->base.store = store;
    p->pool = vp;
    if (!(p->base.name = strdup(virStoragePoolGetName(vp)))) {
        libvirt_pool_free(&p->base);
        return vdisk_error_set(err, ENOMEM, "out of memory");
    }
    *out = p;
    return 0;
}

static const char *
state_name(int state)
{
    static const char *const names[] = { "inactive", "building", "running", "degraded", "inaccessible" };
    return state >= 0 && state < (int)(sizeof(names) / sizeof(names[0])) ? names[state] : "unknown";
}

/* The pool's definition from its XML (target path, vdisk options), or
 * from the API alone for a pool type vdisk's XML layer does not read. */
static int
read_def(libvirt_pool *p, vdisk_error *err)
{
    char *xml = virStoragePoolGetXMLDesc(p->pool, 0);
    vdisk_error perr = { 0 };
    if (!xml)
        return vr_error(err);
    const char *t = strstr(xml, "type='");
    if (t)
        sscanf(t + 6, "%31[^']", p->type);
    vdisk_pool_def_free(p->def);
    if (vdisk_pool_def_parse(xml, strlen(xml), virStoragePoolGetName(p->pool), &p->def, &perr) < 0) {
        p->def = calloc(1, sizeof(*p->def));
        if (p->def)
            p->def->name = strdup(virStoragePoolGetName(p->pool));
    }
    free(xml);
    if (!p->def || !p->def->name)
        return vr_error(err);
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

/* pool_info: the daemon always gives the sizes; TOTALS adds the volumes' sums. */
int
libvirt_pool_info(vdisk_store_pool *pool, unsigned what, vdisk_store_pool_row *row, vdisk_error *err)
{
    libvirt_pool *p = to_lv(pool);
    virStoragePoolInfo info;
    int autostart = 0, r;
    memset(row, 0, sizeof(*row));
    if ((r = read_def(p, err)) < 0)
        return r;
    if (virStoragePoolGetInfo(p->pool, &info) < 0)
        return vr_error(err);
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
    if ((what & VDISK_STORE_POOL_TOTALS) && row->active)
        volume_totals(p->pool, &row->info);
    return 0;
}

/* The libvirt listing flags of pool-list's filters (--type is checked
 * here: a patched daemon's 'vdisk' has no flag in this libvirt's header). */
static unsigned
list_flags(const vdisk_store_pool_filter *f)
{
    unsigned flags = 0;
    if (f->inactive)
        flags |= VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE;
    else if (!f->all)
        flags |= VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE;
    if (f->persistent)
        flags |= VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT;
    if (f->transient)
        flags |= VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT;
    if (f->autostart)
        flags |= VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART;
    if (f->no_autostart)
        flags |= VIR_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART;
    return flags;
}

/* Is type one of --type's comma-separated list? */
static bool
type_selected(const char *types, const char *t)
{
    if (!types)
        return true;
    size_t len = strlen(t);
    for (const char *s = types; *s;) {
        size_t w = strcspn(s, ",");
        if (w == len && strncmp(s, t, len) == 0)
            return true;
        s += w + (s[w] == ',');
    }
    return false;
}

/* Failed rows first, in the daemon's order; then the others by name, as virsh. */
static int
row_order(const void *a, const void *b)
{
    const vdisk_store_pool_row *x = a, *y = b;
    if (!x->def || !y->def)
        return (x->def != NULL) - (y->def != NULL);
    return strcmp(x->def->name, y->def->name);
}

/* pool_list: the daemon's pools that pass the filters. */
int
libvirt_pool_list(vdisk_store *store, const vdisk_store_pool_filter *filter,
                  vdisk_store_pool_row **rows, size_t *count, vdisk_error *err)
{
    virStoragePoolPtr *list = NULL;
    int n = virConnectListAllStoragePools(((libvirt_store *)store)->conn, &list, list_flags(filter));
    size_t kept = 0;
    *rows = NULL;
    *count = 0;
    if (n < 0)
        return vr_error(err);
    vdisk_store_pool_row *out = calloc(n > 0 ? (size_t)n : 1, sizeof(*out));
    if (!out) {
        for (int i = 0; i < n; i++)
            virStoragePoolFree(list[i]);
        free(list);
        return vdisk_error_set(err, ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        libvirt_pool *p;
        vdisk_store_pool_row *row = &out[kept];
        if (pool_wrap(store, list[i], &p, &row->error) < 0) {
            kept++;
            continue;
        }
        if (libvirt_pool_info(&p->base, 0, row, &row->error) < 0) {
            vdisk_error e = row->error;
            memset(row, 0, sizeof(*row));
            row->error = e;
        } else if (!type_selected(filter->types, p->type)) {
            libvirt_pool_free(&p->base);
            continue;
        }
        row->pool = &p->base;
        kept++;
    }
    free(list);
    qsort(out, kept, sizeof(*out), row_order);
    *rows = out;
    *count = kept;
    return 0;
}

/* pool_lookup: as virsh, a 36-character name is tried as a UUID first. */
int
libvirt_pool_lookup(vdisk_store *store, const char *name, vdisk_store_pool **out, vdisk_error *err)
{
    virStoragePoolPtr vp;
    libvirt_pool *p;
    *out = NULL;
    int r = vr_find_pool(((libvirt_store *)store)->conn, name, &vp, err);
    if (r == 0 && (r = pool_wrap(store, vp, &p, err)) == 0)
        *out = &p->base;
    return r;
}

/* vol_pool: the daemon's pool of the volume. */
int
libvirt_vol_pool(vdisk_store_vol *vol, vdisk_store_pool **out, vdisk_error *err)
{
    libvirt_pool *p;
    *out = NULL;
    virStoragePoolPtr vp = virStoragePoolLookupByVolume(((libvirt_vol *)vol)->vol);
    if (!vp)
        return vr_error(err);
    int r = pool_wrap(vol->store, vp, &p, err);
    if (r == 0)
        *out = &p->base;
    return r;
}

/* pool_free: libvirt's handle, the definition read, the name. */
void
libvirt_pool_free(vdisk_store_pool *pool)
{
    if (pool) {
        libvirt_pool *p = to_lv(pool);
        if (p->pool)
            virStoragePoolFree(p->pool);
        vdisk_pool_def_free(p->def);
        free(pool->name);
        free(pool);
    }
}

/* One volume of vol-list: its name and path only (as virsh's plain
 * listing asks the daemon), or all vr_vol_def_get reads with DETAILS. */
static int
vol_row_fill(virStorageVolPtr vol, unsigned what, vdisk_store_vol_row *row)
{
    if (what & VDISK_STORE_VOLS_DETAILS)
        return vr_vol_def_get(vol, what & VDISK_STORE_VOLS_PHYSICAL, &row->def, &row->type, &row->error);
    row->type = "file";     /* not shown without --details */
    row->def.target_path = virStorageVolGetPath(vol);
    if (!row->def.target_path) {
        virResetLastError();    /* gone meanwhile: left out, and said nothing of */
        return -1;
    }
    if (!(row->def.name = strdup(virStorageVolGetName(vol))))
        return -1;
    return 0;
}

static int
vol_by_name(const void *a, const void *b)
{
    const vdisk_store_vol_row *x = a, *y = b;
    if (x->failed || y->failed)
        return (int)y->failed - (int)x->failed;     /* failures first, in the daemon's order */
    return strcmp(x->def.name, y->def.name);
}

/* vol_list: the pool's volumes sorted by name, as virsh; one removed
 * while listing is left out (with --details, its error is said). */
int
libvirt_vol_list(vdisk_store_pool *pool, unsigned what, vdisk_store_vol_row **rows, size_t *count,
                 vdisk_error *err)
{
    virStorageVolPtr *vols = NULL;
    int n = virStoragePoolListAllVolumes(to_lv(pool)->pool, &vols, 0);
    *rows = NULL;
    *count = 0;
    if (n < 0)
        return vr_error(err);
    vdisk_store_vol_row *out = calloc(n > 0 ? (size_t)n : 1, sizeof(*out));
    for (int i = 0; out && i < n; i++) {
        if (vol_row_fill(vols[i], what, &out[i]) < 0) {
            vdisk_vol_def_clear(&out[i].def);
            out[i].failed = true;
        }
    }
    for (int i = 0; i < n; i++)
        virStorageVolFree(vols[i]);
    free(vols);
    if (!out)
        return vr_error(err);
    qsort(out, (size_t)n, sizeof(*out), vol_by_name);
    *rows = out;
    *count = (size_t)n;
    return 0;
}

/* pool_xml: the daemon's XML, as virsh prints it. */
int
libvirt_pool_xml(vdisk_store_pool *pool, bool inactive, char **xml, vdisk_error *err)
{
    *xml = virStoragePoolGetXMLDesc(to_lv(pool)->pool, inactive ? VIR_STORAGE_XML_INACTIVE : 0);
    return *xml ? 0 : vr_error(err);
}

/* pool_build: the daemon creates the pool's directory. */
int
libvirt_pool_build(vdisk_store_pool *pool, unsigned flags, vdisk_error *err)
{
    unsigned f = (flags & VDISK_STORE_POOL_OVERWRITE ? VIR_STORAGE_POOL_BUILD_OVERWRITE : 0) |
                 (flags & VDISK_STORE_POOL_NO_OVERWRITE ? VIR_STORAGE_POOL_BUILD_NO_OVERWRITE : 0);
    return virStoragePoolBuild(to_lv(pool)->pool, f) < 0 ? vr_error(err) : 0;
}

/* pool_start: as virsh, --overwrite and --no-overwrite imply --build. */
int
libvirt_pool_start(vdisk_store_pool *pool, unsigned flags, vdisk_error *err)
{
    unsigned f = (flags & VDISK_STORE_POOL_BUILD ? VIR_STORAGE_POOL_CREATE_WITH_BUILD : 0) |
                 (flags & VDISK_STORE_POOL_OVERWRITE ? VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE : 0) |
                 (flags & VDISK_STORE_POOL_NO_OVERWRITE ? VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE : 0);
    return virStoragePoolCreate(to_lv(pool)->pool, f) < 0 ? vr_error(err) : 0;
}

/* pool_destroy: the daemon deactivates the pool. */
int
libvirt_pool_destroy(vdisk_store_pool *pool, vdisk_error *err)
{
    return virStoragePoolDestroy(to_lv(pool)->pool) < 0 ? vr_error(err) : 0;
}

/* pool_delete: the daemon removes the inactive pool's directory. */
int
libvirt_pool_delete(vdisk_store_pool *pool, vdisk_error *err)
{
    return virStoragePoolDelete(to_lv(pool)->pool, 0) < 0 ? vr_error(err) : 0;
}

/* pool_undefine: the daemon forgets the pool's definition. */
int
libvirt_pool_undefine(vdisk_store_pool *pool, vdisk_error *err)
{
    return virStoragePoolUndefine(to_lv(pool)->pool) < 0 ? vr_error(err) : 0;
}

/* pool_refresh: the daemon probes the pool's volumes again. */
int
libvirt_pool_refresh(vdisk_store_pool *pool, vdisk_error *err)
{
    return virStoragePoolRefresh(to_lv(pool)->pool, 0) < 0 ? vr_error(err) : 0;
}

/* pool_set_autostart: remembered by the daemon. */
int
libvirt_pool_set_autostart(vdisk_store_pool *pool, bool autostart, vdisk_error *err)
{
    return virStoragePoolSetAutostart(to_lv(pool)->pool, autostart) < 0 ? vr_error(err) : 0;
}
