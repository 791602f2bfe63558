/* libvdisk — a shared library opened on first use, with a table of its
 * functions (vdisk-private/library-load.h). */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vdisk-private/library-load.h>

/* Resolve one symbol into its slot of the table; false (with the reason
 * kept) if it is missing. */
static bool
resolve(vdisk_library *lib, void *handle, const vdisk_library_symbol *sym)
{
    dlerror();
    void *addr = dlsym(handle, sym->name);
    if (!addr) {
        const char *e = dlerror();
        if (e)
            snprintf(lib->why, sizeof(lib->why), "%s", e);
        else
            snprintf(lib->why, sizeof(lib->why), "%s: %s: symbol not found", lib->soname,
                     sym->name);
        return false;
    }
    /* the slot is a function (or object) pointer of the symbol's own type;
     * memcpy, not a store through void **, which would alias it */
    memcpy((char *)lib->table + sym->offset, &addr, sizeof(addr));
    return true;
}

/* dlopen the library and fill the table; lib->lock held. */
static bool
load_locked(vdisk_library *lib)
{
    void *handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *e = dlerror();
        snprintf(lib->why, sizeof(lib->why), "%s", e ? e : lib->soname);
        return false;
    }
    for (size_t i = 0; i < lib->nsymbols; i++)
        if (!resolve(lib, handle, &lib->symbols[i]))
            return false;   /* stays loaded: a second dlopen would find it anyway */
    return true;
}

int
vdisk_library_load(vdisk_library *lib)
{
    if (!__atomic_load_n(&lib->tried, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&lib->lock);
        if (!lib->tried) {
            lib->ok = load_locked(lib);
            __atomic_store_n(&lib->tried, true, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&lib->lock);
    }
    return lib->ok ? 0 : -1;
}
