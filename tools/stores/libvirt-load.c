/* vdisk-virsh -c URI — loading libvirt's client library on first use
 * (libvirt-load.h). */
#define VV_LIBVIRT_LOAD_IMPL
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "libvirt-load.h"
#include "virsh-args.h"

/* The library by its soname: present wherever libvirt0 is installed,
 * without the development symlink. */
#define LIBVIRT_SONAME "libvirt.so.0"

/* The process's one view of the library, written once under
 * pthread_once and only read afterwards (as the dynamic loader's own
 * symbol tables are). */
typedef struct libvirt_loader {
    pthread_once_t once;
    int result;
    char why[256];
    vv_libvirt_api api;
} libvirt_loader;

static libvirt_loader loader = { .once = PTHREAD_ONCE_INIT };

/* Resolve one symbol into *slot; false (with the reason kept) if missing. */
static bool
resolve(void *lib, const char *name, void **slot)
{
    dlerror();
    *slot = dlsym(lib, name);
    if (*slot)
        return true;
    const char *e = dlerror();
    snprintf(loader.why, sizeof(loader.why), "%s: %s", LIBVIRT_SONAME,
             e ? e : "symbol not found");
    return false;
}

/* pthread_once callback: dlopen the library and fill the table.  The
 * library stays loaded for the rest of the process. */
static void
load_once(void)
{
    void *lib = dlopen(LIBVIRT_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(loader.why, sizeof(loader.why), "%s", e ? e : LIBVIRT_SONAME ": cannot load");
        loader.result = -1;
        return;
    }
    bool ok = true;
#define VV_LIBVIRT_RESOLVE(name) ok = ok && resolve(lib, #name, (void **)&loader.api.name);
    VV_LIBVIRT_FUNCTIONS(VV_LIBVIRT_RESOLVE)
#undef VV_LIBVIRT_RESOLVE
    ok = ok && resolve(lib, "virConnectAuthPtrDefault", (void **)&loader.api.virConnectAuthPtrDefault);
    loader.result = ok ? 0 : -1;
}

int
vv_libvirt_load(void)
{
    pthread_once(&loader.once, load_once);
    if (loader.result < 0)
        vv_virsh_error("cannot use libvirt's client library (install libvirt0): %s", loader.why);
    return loader.result;
}

const vv_libvirt_api *
vv_libvirt(void)
{
    return &loader.api;
}
