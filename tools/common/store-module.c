/* vdisk-virsh — the module of pool, volume and secret commands, opened by
 * the first of them (store-module.h). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vdisk/vdisk.h>

#include "commands.h"
#include "store-module.h"

/* VV_STORES_MODULE: the module's file name; VV_STORES_MODULE_DIR: where it
 * is installed, relative to the directory of the installed executable
 * (or absolute when meson's libdir is outside the prefix).  Both from
 * tools/meson.build. */

#ifndef VV_STORES_BUILTIN
/* Where the executable is (symlinks resolved: run as qemu-img or mkisofs
 * through a link elsewhere, it is still the file beside its module). */
static int
exe_dir(char *dir, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", dir, len - 1);
    if (n <= 0 || (size_t)n >= len - 1)
        return -1;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

/* dlopen the module: the installed layout first, else the build tree's
 * (beside the executable).  NULL with `path` the file meant and `why` the
 * reason. */
static void *
open_module(char *path, size_t len, char *why, size_t why_len)
{
    char dir[4096], candidates[2][4096];
    if (exe_dir(dir, sizeof(dir)) < 0) {
        snprintf(path, len, "%s", VV_STORES_MODULE);
        snprintf(why, why_len, "cannot find the executable's directory (/proc/self/exe): %s",
                 strerror(errno ? errno : ENOENT));
        return NULL;
    }
    int w;
    if (VV_STORES_MODULE_DIR[0] == '/')
        w = snprintf(candidates[0], sizeof(candidates[0]), "%s/%s", VV_STORES_MODULE_DIR,
                     VV_STORES_MODULE);
    else
        w = snprintf(candidates[0], sizeof(candidates[0]), "%s/%s/%s", dir, VV_STORES_MODULE_DIR,
                     VV_STORES_MODULE);
    int w2 = snprintf(candidates[1], sizeof(candidates[1]), "%s/%s", dir, VV_STORES_MODULE);
    if (w < 0 || (size_t)w >= sizeof(candidates[0]) || w2 < 0 || (size_t)w2 >= sizeof(candidates[1])) {
        snprintf(path, len, "%s", VV_STORES_MODULE);
        snprintf(why, why_len, "%s", strerror(ENAMETOOLONG));
        return NULL;
    }
    /* Report the installed path when neither is there. */
    snprintf(path, len, "%s", candidates[0]);
    snprintf(why, why_len, "%s", strerror(ENOENT));
    for (int i = 0; i < 2; i++) {
        if (access(candidates[i], F_OK) != 0)
            continue;
        /* named without "bin/../" in the messages (and LD_DEBUG's) */
        char *real = realpath(candidates[i], NULL);
        snprintf(path, len, "%s", real ? real : candidates[i]);
        free(real);
        /* RTLD_LAZY: functions bound on first call, as they were when the
         * executable linked these libraries; RTLD_NOW binds every PLT entry
         * of libvdisk-plugin, libxml2 and ICU at once (1,400 relocations,
         * a pool-list 15% slower than linked, against 5%).  A module of
         * another build is refused first, by its version. */
        void *handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
        if (!handle) {
            const char *e = dlerror();
            snprintf(why, why_len, "%s", e ? e : "dlopen failed");
        }
        return handle;
    }
    return NULL;
}
#endif

int
vv_store_command_run(const char *symbol, const char *uri, int argc, char **argv)
{
    char path[4096];
    void *module;
#ifdef VV_STORES_BUILTIN
    snprintf(path, sizeof(path), "the executable");
    module = RTLD_DEFAULT;
#else
    char why[512];
    module = open_module(path, sizeof(path), why, sizeof(why));
    if (!module) {
        fflush(stdout);
        fprintf(stderr, "error: %s: cannot load vdisk-virsh's pool, volume and secret commands: "
                "%s: %s\n", argv[0], path, why);
        return VV_PARSE_FAILED;
    }
    /* Built from the same tree as this executable, whose helpers it calls. */
    const char *version = dlsym(module, "vv_stores_module_version");
    if (!version || strcmp(version, VDISK_VERSION_STRING) != 0) {
        fprintf(stderr, "error: %s: %s is not the module of vdisk-virsh %s (it is %s)\n", argv[0],
                path, VDISK_VERSION_STRING, version ? version : "of no vdisk version");
        return VV_PARSE_FAILED;
    }
#endif
    dlerror();
    vv_store_handler handler;
    void *addr = dlsym(module, symbol);
    if (!addr) {
        const char *e = dlerror();
        fprintf(stderr, "error: %s: %s has no %s: %s\n", argv[0], path, symbol,
                e ? e : "symbol not found");
        return VV_PARSE_FAILED;
    }
    /* a function's address as dlsym returns it (POSIX allows the cast) */
    memcpy(&handler, &addr, sizeof(handler));
    return handler(uri, argc, argv);
}

const char *
vv_connect_uri(const char *given)
{
    static const char *const vars[] = { "VIRSH_DEFAULT_CONNECT_URI", "LIBVIRT_DEFAULT_URI" };
    if (given)
        return given;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && v[0])
            return v;
    }
    return NULL;
}
