/* libvdisk — loading GnuTLS on first use (gnutls-load.h). */
#define VDISK_GNUTLS_LOAD_IMPL
#include <errno.h>
#include <stdbool.h>

#include <vdisk-private/library-load.h>

#include "gnutls-load.h"

/* By soname: present wherever libgnutls30 is installed, without the
 * development symlink. */
#define LIBGNUTLS_SONAME "libgnutls.so.30"

static vdisk_gnutls_api gnutls_api;

#define GNUTLS_SYMBOL(name) VDISK_LIBRARY_SYMBOL(vdisk_gnutls_api, name)
static const vdisk_library_symbol gnutls_symbols[] = { VDISK_GNUTLS_FUNCTIONS(GNUTLS_SYMBOL) };
#undef GNUTLS_SYMBOL

static vdisk_library libgnutls = VDISK_LIBRARY_INIT(LIBGNUTLS_SONAME, gnutls_symbols, &gnutls_api);

int
vdisk_gnutls_load(const char *what, vdisk_error *err)
{
    if (vdisk_library_load(&libgnutls) == 0)
        return 0;
    return vdisk_error_set(err, ENOTSUP, "%s: cannot load GnuTLS (install libgnutls30): %s", what,
                           libgnutls.why);
}

bool
vdisk_gnutls_loaded(void)
{
    return vdisk_library_load(&libgnutls) == 0;
}

const vdisk_gnutls_api *
vdisk_gnutls_api_table(void)
{
    return &gnutls_api;
}
