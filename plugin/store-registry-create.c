/* vdisk plugin — the embedded registry's transient pools (pool-create,
 * pool-create-as), its pool capabilities and its (absent) source
 * discovery, as a store's (store-registry.h).
 *
 * A transient pool is a registry pool with a marker file beside its
 * definition (pools/NAME.transient): it is started when created, shown
 * as not persistent, and forgotten when it is destroyed, as libvirt's
 * transient pools are.  Defining the pool again (pool-define) makes it
 * persistent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>
#include <vdisk/vol-provision.h>

#include "store-registry.h"

/* The marker's file name in the pools area. */
static int
marker_name(const char *pool, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s.transient", pool);
    return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

bool
registry_pool_is_transient(vdisk_registry *reg, const char *pool)
{
    char file[300], *data;
    size_t len;
    if (marker_name(pool, file, sizeof(file)) < 0)
        return false;
    if (vdisk_registry_read(reg, VDISK_REGISTRY_POOLS, file, &data, &len, NULL) < 0)
        return false;
    free(data);
    return true;
}

int
registry_pool_set_transient(vdisk_registry *reg, const char *pool, bool transient, vdisk_error *err)
{
    char file[300];
    if (marker_name(pool, file, sizeof(file)) < 0)
        return vdisk_error_set(err, ENAMETOOLONG, "pool name '%s' is too long", pool);
    if (!transient)
        return vdisk_registry_remove(reg, VDISK_REGISTRY_POOLS, file, err);
    return vdisk_registry_write(reg, VDISK_REGISTRY_POOLS, file, "transient\n", 10, 0600, err);
}

/* Forget a transient pool that could not be started: its definition and
 * marker go, so nothing is left half-made. */
static void
forget(vdisk_registry *reg, const char *name)
{
    vdisk_pool *p;
    if (vdisk_pool_lookup(reg, name, &p, NULL) == 0) {
        vdisk_pool_undefine(p, NULL);
        vdisk_pool_free(p);
    }
    registry_pool_set_transient(reg, name, false, NULL);
}

/* Start the pool just defined, building it first when asked. */
static int
start_new(vdisk_registry *reg, const char *name, unsigned flags, vdisk_error *err)
{
    vdisk_pool *p;
    int r = vdisk_pool_lookup(reg, name, &p, err);
    if (r < 0)
        return r;
    unsigned build = (flags & VDISK_STORE_POOL_OVERWRITE ? VDISK_POOL_BUILD_OVERWRITE : 0) |
                     (flags & VDISK_STORE_POOL_NO_OVERWRITE ? VDISK_POOL_BUILD_NO_OVERWRITE : 0);
    /* --overwrite and --no-overwrite build too, as libvirt's create flags do. */
    if (flags & (VDISK_STORE_POOL_BUILD | VDISK_STORE_POOL_OVERWRITE | VDISK_STORE_POOL_NO_OVERWRITE))
        r = vdisk_pool_build(p, build, err);
    if (r == 0)
        r = vdisk_pool_start(p, err);
    vdisk_pool_free(p);
    return r;
}

/* pool_create: defined with its marker, then started; undone on failure. */
int
registry_pool_create(vdisk_store *store, vdisk_pool_def *def, const char *type, unsigned flags,
                     vdisk_store_define_step *step, vdisk_error *err)
{
    vdisk_registry *reg = ((registry_store *)store)->reg;
    vdisk_pool *old;
    (void)type;     /* registry pools are all of type vdisk */
    *step = VDISK_STORE_DEFINE_NAMED;
    if (!def->name)
        return vdisk_error_set(err, EINVAL, "pool definition has no <name>");
    if (vdisk_pool_lookup(reg, def->name, &old, NULL) == 0) {
        vdisk_pool_free(old);
        return vdisk_error_set(err, EEXIST, "operation failed: pool '%s' already exists", def->name);
    }
    /* The marker first: a power loss between the two writes then leaves a
     * marker with no pool (cleared by the next definition of that name), never
     * a persistent pool nobody defined (tests/crash/test_crash_registry.py). */
    int r = registry_pool_set_transient(reg, def->name, true, err);
    if (r < 0)
        return r;
    if ((r = vdisk_pool_define(reg, def, err)) == 0)
        r = start_new(reg, def->name, flags, err);
    if (r < 0)
        forget(reg, def->name);
    return r;
}

/* pool_create_file: the file parsed here, then as pool_create. */
int
registry_pool_create_file(vdisk_store *store, const char *file, unsigned flags, char **name,
                          vdisk_store_define_step *step, vdisk_error *err)
{
    vdisk_pool_def *def;
    *name = NULL;
    *step = VDISK_STORE_DEFINE_FROM;
    int r = vdisk_pool_def_parse_file(file, &def, err);
    if (r < 0)
        return r;
    if (def->name && !(*name = strdup(def->name)))
        r = vdisk_error_set(err, ENOMEM, "out of memory");
    else
        r = registry_pool_create(store, def, "vdisk", flags, step, err);
    *step = VDISK_STORE_DEFINE_FROM;
    vdisk_pool_def_free(def);
    return r;
}

/* The pool types of the registry. */
static const char *const pool_types[] = { "dir", "vdisk" };

/* pool_capabilities: libvirt's document, for the types the registry has. */
int
registry_pool_capabilities(vdisk_store *store, char **xml, vdisk_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)store;
    if (!f)
        return vdisk_error_set(err, errno, "out of memory");
    fputs("<storagepoolCapabilities>\n", f);
    for (size_t i = 0; i < sizeof(pool_types) / sizeof(pool_types[0]); i++) {
        fprintf(f, "  <pool type='%s' supported='yes'>\n", pool_types[i]);
        fputs("    <volOptions>\n      <defaultFormat type='raw'/>\n", f);
        fputs("      <enum name='targetFormatType'>\n", f);
        /* The formats a new volume may have: those read only are left
         * out, since a client offers what this lists. */
        vdisk_format fmt;
        for (size_t j = 0; vdisk_format_at(j, &fmt); j++)
            if (vdisk_vol_format_can_create(fmt))
                fprintf(f, "        <value>%s</value>\n", vdisk_format_name(fmt));
        fputs("      </enum>\n    </volOptions>\n  </pool>\n", f);
    }
    fputs("</storagepoolCapabilities>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return vdisk_error_set(err, ENOMEM, "out of memory");
    }
    *xml = buf;
    return 0;
}

/* pool_find_sources: no pool type of the registry discovers sources; the
 * words are libvirt's storage driver's. */
int
registry_pool_find_sources(vdisk_store *store, const char *type, const char *spec, char **xml,
                           vdisk_error *err)
{
    (void)store, (void)spec;
    *xml = NULL;
    for (size_t i = 0; i < sizeof(pool_types) / sizeof(pool_types[0]); i++)
        if (strcmp(type, pool_types[i]) == 0)
            return vdisk_error_set(err, ENOTSUP, "this function is not supported by the connection driver: "
                                   "pool type '%s' does not support source discovery", type);
    return vdisk_error_set(err, ENOTSUP, "internal error: unknown storage pool type %s "
                           "(the embedded registry keeps pools of type dir and vdisk)", type);
}
