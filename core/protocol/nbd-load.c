/* libvdisk — loading libnbd on first use (nbd-load.h). */
#define VDISK_NBD_LOAD_IMPL
#include <errno.h>

#include <vdisk-private/library-load.h>

#include "nbd-load.h"

/* By soname: present wherever libnbd0 is installed, without the
 * development symlink. */
#define LIBNBD_SONAME "libnbd.so.0"

static vdisk_nbd_api nbd_api;

#define NBD_SYMBOL(name) VDISK_LIBRARY_SYMBOL(vdisk_nbd_api, name)
static const vdisk_library_symbol nbd_symbols[] = { VDISK_NBD_FUNCTIONS(NBD_SYMBOL) };
#undef NBD_SYMBOL

static vdisk_library libnbd = VDISK_LIBRARY_INIT(LIBNBD_SONAME, nbd_symbols, &nbd_api);

int
vdisk_nbd_load(const char *what, vdisk_error *err)
{
    if (vdisk_library_load(&libnbd) == 0)
        return 0;
    return vdisk_error_set(err, ENOTSUP, "%s: cannot load the NBD client library (install libnbd0): %s",
                           what, libnbd.why);
}

const vdisk_nbd_api *
vdisk_nbd_api_table(void)
{
    return &nbd_api;
}
