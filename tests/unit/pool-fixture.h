/* Helpers of the plugin unit tests (test-plugin-registry/pool/volume*...):
 * a registry and an active pool inside the test's temporary directory.
 * Include after cmocka.h and fixture.h. */
#ifndef VDISK_UNIT_POOL_FIXTURE_H
#define VDISK_UNIT_POOL_FIXTURE_H

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vdisk/pool.h>
#include <vdisk/registry.h>
#include <vdisk/volume.h>

/* The registry "<tmpdir>/reg"; fails the test on error. */
static inline vdisk_registry *
pf_registry(void)
{
    vdisk_registry *reg = NULL;
    vdisk_error err = { 0 };
    if (vdisk_registry_open(unit_path(3, "reg"), &reg, &err) < 0)
        fail_msg("%s", err.message);
    return reg;
}

/* Define, build and start pool `name` on "<tmpdir>/<name>". */
static inline vdisk_pool *
pf_pool(vdisk_registry *reg, const char *name, vdisk_zeroing zeroing, double overcommit_max)
{
    vdisk_pool_def def;
    memset(&def, 0, sizeof(def));
    def.name = strdup(name);
    def.target_path = strdup(unit_path(3, name));
    def.zeroing = zeroing;
    def.overcommit_max = overcommit_max;
    vdisk_error err = { 0 };
    vdisk_pool *pool = NULL;
    if (vdisk_pool_define(reg, &def, &err) < 0 || vdisk_pool_lookup(reg, name, &pool, &err) < 0 ||
        vdisk_pool_build(pool, 0, &err) < 0 || vdisk_pool_start(pool, &err) < 0)
        fail_msg("%s", err.message);
    vdisk_pool_def_clear(&def);
    return pool;
}

/* A volume definition (free the strings with vdisk_vol_def_clear). */
static inline vdisk_vol_def
pf_vol(const char *name, vdisk_format fmt, uint64_t capacity, uint64_t allocation)
{
    vdisk_vol_def d;
    memset(&d, 0, sizeof(d));
    d.name = strdup(name);
    d.format = fmt;
    d.capacity = capacity;
    d.has_capacity = true;
    d.allocation = allocation;
    d.has_allocation = allocation > 0;
    return d;
}

/* Create a volume; fails the test on error. */
static inline void
pf_create(vdisk_pool *pool, const char *name, vdisk_format fmt, uint64_t capacity, uint64_t allocation)
{
    vdisk_vol_def d = pf_vol(name, fmt, capacity, allocation);
    vdisk_error err = { 0 };
    if (vdisk_vol_create(pool, &d, 0, NULL, NULL, &err) < 0)
        fail_msg("%s", err.message);
    vdisk_vol_def_clear(&d);
}

/* Free the pool handle and close the registry. */
static inline void
pf_close(vdisk_registry *reg, vdisk_pool *pool)
{
    vdisk_pool_free(pool);
    vdisk_registry_close(reg);
}

/* st_size of path; fails the test if it cannot be stat'ed. */
static inline uint64_t
pf_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        fail_msg("stat %s failed", path);
    return (uint64_t)st.st_size;
}

#endif
