/* libvdisk — loading librbd on first use (vdisk-private/rbd-load.h). */
#define VDISK_RBD_LOAD_IMPL
#include <errno.h>

#include <vdisk-private/library-load.h>
#include <vdisk-private/rbd-load.h>

/* By soname: present wherever librbd1 is installed, without the
 * development symlink.  librados comes with it (a dependency of librbd),
 * and dlsym on librbd's handle finds its symbols too. */
#define LIBRBD_SONAME "librbd.so.1"

static vdisk_rbd_api rbd_api;

#define RBD_SYMBOL(name) VDISK_LIBRARY_SYMBOL(vdisk_rbd_api, name)
static const vdisk_library_symbol rbd_symbols[] = { VDISK_RBD_FUNCTIONS(RBD_SYMBOL) };
#undef RBD_SYMBOL

/* The process's one view of librbd, for libvdisk and its plugin alike. */
static vdisk_library librbd = VDISK_LIBRARY_INIT(LIBRBD_SONAME, rbd_symbols, &rbd_api);

int
vdisk_rbd_load(const char *what, vdisk_error *err)
{
    if (vdisk_library_load(&librbd) == 0)
        return 0;
    return vdisk_error_set(err, ENOTSUP, "%s: cannot load Ceph's client library (install librbd1): %s",
                           what, librbd.why);
}

const vdisk_rbd_api *
vdisk_rbd_api_table(void)
{
    return &rbd_api;
}
