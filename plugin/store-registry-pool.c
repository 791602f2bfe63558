/* vdisk plugin — the embedded registry's pools as a store's
 * (store-registry.h): each operation is the registry's own call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "store-registry.h"
#include "xml-internal.h"

static vdisk_pool *
to_pool(vdisk_store_pool *pool)
{
    return ((registry_pool *)pool)->pool;
}

/* A handle for the pool named (the registry's lookup). */
static int
pool_open(vdisk_store *store, const char *name, registry_pool **out, vdisk_error *err)
{
    registry_pool *p = calloc(1, sizeof(*p));
    *out = NULL;
    if (!p)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    p->base.store = store;
    int r = vdisk_pool_lookup(((registry_store *)store)->reg, name, &p->pool, err);
    if (r == 0 && !(p->base.name = strdup(vdisk_pool_name(p->pool))))
        r = vdisk_error_set(err, ENOMEM, "out of memory");
    if (r < 0) {
        registry_pool_free(&p->base);
        return r;
    }
    *out = p;
    return 0;
}

static vdisk_registry *
reg_of(vdisk_store *store)
{
    return ((registry_store *)store)->reg;
}

/* Does the pool pass pool-list's filters?  Registry pools are of type
 * vdisk (shown to --type vdisk and --type dir); persistent unless made by
 * pool-create. */
static bool
selected(vdisk_registry *reg, vdisk_pool *p, const vdisk_store_pool_filter *f)
{
    bool active = vdisk_pool_is_active(p), autostart = vdisk_pool_get_autostart(p);
    bool transient = registry_pool_is_transient(reg, vdisk_pool_name(p));
    if (!f->all && (f->inactive ? active : !active))
        return false;
    if (f->autostart && !autostart)
        return false;
    if (f->no_autostart && autostart)
        return false;
    if (f->transient && !f->persistent && !transient)
        return false;
    if (f->persistent && !f->transient && transient)
        return false;
    if (f->types && !strstr(f->types, "vdisk") && !strstr(f->types, "dir"))
        return false;
    return true;
}

/* pool_list: the registry's pools, by name; one that vanished meanwhile is left out. */
int
registry_pool_list(vdisk_store *store, const vdisk_store_pool_filter *filter,
                   vdisk_store_pool_row **rows, size_t *count, vdisk_error *err)
{
    char **names = NULL;
    size_t n = 0, kept = 0;
    *rows = NULL;
    *count = 0;
    int r = vdisk_pool_list_names(((registry_store *)store)->reg, &names, &n, err);
    if (r < 0)
        return r;
    vdisk_store_pool_row *out = calloc(n ? n : 1, sizeof(*out));
    if (!out) {
        vdisk_registry_names_free(names, n);
        return vdisk_error_set(err, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        registry_pool *p;
        if (pool_open(store, names[i], &p, NULL) < 0)
            continue;
        if (!selected(reg_of(store), p->pool, filter)) {
            registry_pool_free(&p->base);
            continue;
        }
        registry_pool_info(&p->base, filter->sizes ? VDISK_STORE_POOL_SIZES : 0, &out[kept], NULL);
        out[kept++].pool = &p->base;
    }
    vdisk_registry_names_free(names, n);
    *rows = out;
    *count = kept;
    return 0;
}

/* pool_define_file: the file (validated against vdisk's schema first,
 * when asked) parsed here, then stored. */
int
registry_pool_define_file(vdisk_store *store, const char *file, bool validate, char **name,
                          vdisk_store_define_step *step, vdisk_error *err)
{
    vdisk_pool_def *def;
    *name = NULL;
    *step = VDISK_STORE_DEFINE_FROM;
    int r = validate ? vdisk_xml_validate_file(file, "pool", "storagepool-vdisk.rng", err) : 0;
    if (r < 0)
        return r;
    r = vdisk_pool_def_parse_file(file, &def, err);
    if (r < 0)
        return r;
    /* The name goes back on failure too: the caller's message names the pool. */
    if (def->name && !(*name = strdup(def->name)))
        r = vdisk_error_set(err, ENOMEM, "out of memory");
    else
        r = registry_pool_define(store, def, "vdisk", step, err);
    vdisk_pool_def_free(def);
    return r;
}

/* pool_def_xml: the registry's own format of the definition. */
int
registry_pool_def_xml(vdisk_store *store, const vdisk_pool_def *def, const char *type, char **xml,
                      vdisk_error *err)
{
    (void)store, (void)type;     /* registry pools are all of type vdisk */
    return vdisk_pool_def_format(def, xml, err);
}

/* pool_define: stored in the registry. */
int
registry_pool_define(vdisk_store *store, vdisk_pool_def *def, const char *type,
                     vdisk_store_define_step *step, vdisk_error *err)
{
    (void)type;
    *step = VDISK_STORE_DEFINE_NAMED;
    int r = vdisk_pool_define(reg_of(store), def, err);
    /* A transient pool defined is persistent from now on, as in libvirt. */
    if (r == 0 && registry_pool_is_transient(reg_of(store), def->name))
        r = registry_pool_set_transient(reg_of(store), def->name, false, err);
    return r;
}

/* pool_lookup: by name or UUID. */
int
registry_pool_lookup(vdisk_store *store, const char *name, vdisk_store_pool **out, vdisk_error *err)
{
    registry_pool *p;
    int r = pool_open(store, name, &p, err);
    *out = r == 0 ? &p->base : NULL;
    return r;
}

/* pool_free: the registry's handle and the name. */
void
registry_pool_free(vdisk_store_pool *pool)
{
    if (pool) {
        vdisk_pool_free(to_pool(pool));
        free(pool->name);
        free(pool);
    }
}

/* pool_info: with TOTALS every volume is probed (vdisk_pool_get_info);
 * with SIZES alone the file system's figures, when it answers. */
int
registry_pool_info(vdisk_store_pool *pool, unsigned what, vdisk_store_pool_row *row, vdisk_error *err)
{
    vdisk_pool *p = to_pool(pool);
    memset(row, 0, sizeof(*row));
    row->def = vdisk_pool_get_def(p);
    row->persistent = !registry_pool_is_transient(reg_of(pool->store), pool->name);
    row->autostart = vdisk_pool_get_autostart(p);
    if (what & VDISK_STORE_POOL_TOTALS) {
        int r = vdisk_pool_get_info(p, &row->info, err);
        if (r < 0)
            return r;
        row->info_ok = true;
        row->active = row->info.state == VDISK_POOL_RUNNING;
    } else {
        row->active = vdisk_pool_is_active(p);
        if (what & VDISK_STORE_POOL_SIZES)
            row->info_ok = vdisk_pool_fs_info(p, &row->info, NULL) == 0;
    }
    row->state = row->active ? "running" : "inactive";
    return 0;
}

/* vol_list: every volume probed (refresh), as the registry orders them;
 * files, or RBD images (network). */
int
registry_vol_list(vdisk_store_pool *pool, unsigned what, vdisk_store_vol_row **rows, size_t *count,
                  vdisk_error *err)
{
    vdisk_vol_def *vols;
    size_t n;
    (void)what;     /* the probe reads every field */
    *rows = NULL;
    *count = 0;
    int r = vdisk_pool_refresh(to_pool(pool), &vols, &n, err);
    if (r < 0)
        return r;
    vdisk_store_vol_row *out = calloc(n ? n : 1, sizeof(*out));
    if (!out) {
        vdisk_pool_volumes_free(vols, n);
        return vdisk_error_set(err, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        out[i].def = vols[i];       /* moved: the rows own the strings now */
        out[i].type = vols[i].network ? "network" : "file";
    }
    free(vols);
    *rows = out;
    *count = n;
    return 0;
}

/* pool_usage: every volume's provisioned and used space. */
int
registry_pool_usage(vdisk_store_pool *pool, vdisk_pool_usage *usage, vdisk_error *err)
{
    return vdisk_pool_usage_get(to_pool(pool), usage, err);
}

/* pool_xml: the stored definition, or with runtime sizes while active. */
int
registry_pool_xml(vdisk_store_pool *pool, bool inactive, char **xml, vdisk_error *err)
{
    vdisk_pool *p = to_pool(pool);
    return inactive ? vdisk_pool_def_format(vdisk_pool_get_def(p), xml, err) : vdisk_pool_dumpxml(p, xml, err);
}

static unsigned
build_flags(unsigned flags)
{
    return (flags & VDISK_STORE_POOL_OVERWRITE ? VDISK_POOL_BUILD_OVERWRITE : 0) |
           (flags & VDISK_STORE_POOL_NO_OVERWRITE ? VDISK_POOL_BUILD_NO_OVERWRITE : 0);
}

/* pool_build: the pool's directory with its permissions. */
int
registry_pool_build(vdisk_store_pool *pool, unsigned flags, vdisk_error *err)
{
    return vdisk_pool_build(to_pool(pool), build_flags(flags), err);
}

/* pool_start: with BUILD, an inactive pool is built first. */
int
registry_pool_start(vdisk_store_pool *pool, unsigned flags, vdisk_error *err)
{
    vdisk_pool *p = to_pool(pool);
    int r = 0;
    if ((flags & VDISK_STORE_POOL_BUILD) && !vdisk_pool_is_active(p))
        r = vdisk_pool_build(p, build_flags(flags), err);
    return r < 0 ? r : vdisk_pool_start(p, err);
}

/* pool_destroy: inactive; nothing on disk changes.  A transient pool
 * is forgotten then, as libvirt forgets it. */
int
registry_pool_destroy(vdisk_store_pool *pool, vdisk_error *err)
{
    vdisk_registry *reg = reg_of(pool->store);
    int r = vdisk_pool_stop(to_pool(pool), err);
    if (r == 0 && registry_pool_is_transient(reg, pool->name)) {
        r = vdisk_pool_undefine(to_pool(pool), err);
        if (r == 0)
            r = registry_pool_set_transient(reg, pool->name, false, err);
    }
    return r;
}

/* pool_delete: the inactive pool's (empty) directory goes. */
int
registry_pool_delete(vdisk_store_pool *pool, vdisk_error *err)
{
    return vdisk_pool_delete(to_pool(pool), err);
}

/* pool_undefine: the inactive pool's definition goes. */
int
registry_pool_undefine(vdisk_store_pool *pool, vdisk_error *err)
{
    return vdisk_pool_undefine(to_pool(pool), err);
}

/* pool_refresh: every volume probed again (unreadable ones reported). */
int
registry_pool_refresh(vdisk_store_pool *pool, vdisk_error *err)
{
    vdisk_vol_def *vols;
    size_t count;
    int r = vdisk_pool_refresh(to_pool(pool), &vols, &count, err);
    if (r == 0)
        vdisk_pool_volumes_free(vols, count);
    return r;
}

/* pool_set_autostart: remembered in the registry. */
int
registry_pool_set_autostart(vdisk_store_pool *pool, bool autostart, vdisk_error *err)
{
    return vdisk_pool_set_autostart(to_pool(pool), autostart, err);
}
