/* vdisk plugin — loading librbd for RBD pools on first use (pool-rbd-load.h). */
#define VDISK_POOL_RBD_LOAD_IMPL
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "pool-rbd-load.h"

/* By soname (librbd1, without the development symlink); librados comes
 * with it and dlsym on librbd's handle finds its symbols too. */
#define LIBRBD_SONAME "librbd.so.1"

/* The process's one view of the library: written once under pthread_once,
 * only read afterwards (as the dynamic loader's own tables). */
typedef struct rbd_loader {
    pthread_once_t once;
    bool ok;
    char why[256];
    vdisk_pool_rbd_api api;
} rbd_loader;

static rbd_loader loader = { .once = PTHREAD_ONCE_INIT };

/* Resolve one symbol into *slot; false (the reason kept) if missing. */
static bool
resolve(void *lib, const char *name, void **slot)
{
    dlerror();
    *slot = dlsym(lib, name);
    if (*slot)
        return true;
    const char *e = dlerror();
    snprintf(loader.why, sizeof(loader.why), "%s", e ? e : name);
    return false;
}

/* pthread_once callback: dlopen librbd, fill the table; it stays loaded
 * (librados keeps threads). */
static void
load_once(void)
{
    void *lib = dlopen(LIBRBD_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(loader.why, sizeof(loader.why), "%s", e ? e : LIBRBD_SONAME);
        return;
    }
    bool ok = true;
#define VDISK_POOL_RBD_RESOLVE(name) ok = ok && resolve(lib, #name, (void **)&loader.api.name);
    VDISK_POOL_RBD_FUNCTIONS(VDISK_POOL_RBD_RESOLVE)
#undef VDISK_POOL_RBD_RESOLVE
    loader.ok = ok;
}

int
vdisk_pool_rbd_load(const char *pool, vdisk_error *err)
{
    pthread_once(&loader.once, load_once);
    if (loader.ok)
        return 0;
    return vdisk_error_set(err, ENOTSUP, "pool '%s': cannot load Ceph's client library (install "
                           "librbd1): %s", pool, loader.why);
}

const vdisk_pool_rbd_api *
vdisk_pool_rbd_api_table(void)
{
    return &loader.api;
}
