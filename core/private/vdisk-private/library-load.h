/* libvdisk, private to vdisk's own libraries and programs: a shared
 * library opened on first use, with a table of its functions.
 *
 * Some libraries vdisk can use are heavy to carry in every process
 * (librbd brings librados, boost and libstdc++; libvirt.so some forty
 * libraries): their users call them through a struct of function pointers
 * that vdisk_library_load fills with dlopen / dlsym the first time they
 * are needed.  One loader for all of them (core/protocol/rbd-load.c for
 * librbd, used by libvdisk's rbd protocol and the plugin's RBD pools;
 * tools/stores/libvirt-load.c for libvirt).
 *
 * Exported by libvdisk under the version node LIBVDISK_PRIVATE_<version>
 * (scripts/gen-version-script.py --private): for vdisk's plugin library
 * and tools built from the same tree, never installed, no ABI promise.
 */
#ifndef VDISK_PRIVATE_LIBRARY_LOAD_H
#define VDISK_PRIVATE_LIBRARY_LOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* One function (or variable) of the library and where its address goes
 * in the caller's table. */
typedef struct vdisk_library_symbol {
    const char *name;
    size_t offset;
} vdisk_library_symbol;

/* For an X-macro list of names: { "name", offsetof(TABLE, name) }. */
#define VDISK_LIBRARY_SYMBOL(table_type, name) { #name, offsetof(table_type, name) },

/* A library and its table, one static object per library.  Written once,
 * under `lock`, by the first vdisk_library_load; only read afterwards (as
 * the dynamic loader's own tables are).  Initialise with
 * VDISK_LIBRARY_INIT. */
typedef struct vdisk_library {
    const char *soname;                   /* by soname: no -dev symlink needed */
    const vdisk_library_symbol *symbols;
    size_t nsymbols;
    void *table;                          /* the caller's struct of pointers */
    pthread_mutex_t lock;
    bool tried;                           /* set (release) once loaded or failed */
    bool ok;
    char why[256];                        /* dlerror()'s reason when !ok */
} vdisk_library;

#define VDISK_LIBRARY_INIT(soname_, symbols_, table_) {                  \
        .soname = (soname_),                                              \
        .symbols = (symbols_),                                            \
        .nsymbols = sizeof(symbols_) / sizeof((symbols_)[0]),             \
        .table = (table_),                                                \
        .lock = PTHREAD_MUTEX_INITIALIZER,                                \
    }

/* Open lib->soname (RTLD_NOW | RTLD_LOCAL; it stays loaded for the rest of
 * the process) and resolve every symbol into lib->table, once per process:
 * later calls return the first result.  0, or -1 with lib->why saying
 * what is missing (the library or a symbol, in dlerror's words). */
int vdisk_library_load(vdisk_library *lib);

#endif
