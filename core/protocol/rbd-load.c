/* libvdisk — loading librbd on first use (rbd-load.h). */
#define VDISK_RBD_LOAD_IMPL
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "rbd-load.h"

/* By soname: present wherever librbd1 is installed, without the
 * development symlink.  librados comes with it (a dependency of librbd),
 * and dlsym on librbd's handle finds its symbols too. */
#define LIBRBD_SONAME "librbd.so.1"

/* The process's one view of the library, written once under pthread_once
 * and only read afterwards (as the dynamic loader's own tables are). */
typedef struct rbd_loader {
    pthread_once_t once;
    bool ok;
    char why[256];
    vdisk_rbd_api api;
} rbd_loader;

static rbd_loader loader = { .once = PTHREAD_ONCE_INIT };

/* Resolve one symbol into *slot; false (with the reason kept) if missing. */
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

/* pthread_once callback: dlopen librbd and fill the table.  The library
 * stays loaded for the rest of the process (librados keeps threads). */
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
#define VDISK_RBD_RESOLVE(name) ok = ok && resolve(lib, #name, (void **)&loader.api.name);
    VDISK_RBD_FUNCTIONS(VDISK_RBD_RESOLVE)
#undef VDISK_RBD_RESOLVE
    loader.ok = ok;
}

int
vdisk_rbd_load(const char *name, vdisk_error *err)
{
    pthread_once(&loader.once, load_once);
    if (loader.ok)
        return 0;
    return vdisk_error_set(err, ENOTSUP, "%s: cannot load Ceph's client library (install librbd1): %s",
                           name, loader.why);
}

const vdisk_rbd_api *
vdisk_rbd_api_table(void)
{
    return &loader.api;
}
