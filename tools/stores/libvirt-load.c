/* vdisk-virsh -c URI — loading libvirt's client library on first use
 * (libvirt-load.h), with libvdisk's loader (vdisk-private/library-load.h). */
#define VV_LIBVIRT_LOAD_IMPL
#include <vdisk-private/library-load.h>

#include "libvirt-load.h"
#include "virsh-args.h"

/* The library by its soname: present wherever libvirt0 is installed,
 * without the development symlink. */
#define LIBVIRT_SONAME "libvirt.so.0"

static vv_libvirt_api libvirt_api;

#define LIBVIRT_SYMBOL(name) VDISK_LIBRARY_SYMBOL(vv_libvirt_api, name)
static const vdisk_library_symbol libvirt_symbols[] = {
    VV_LIBVIRT_FUNCTIONS(LIBVIRT_SYMBOL)
    LIBVIRT_SYMBOL(virConnectAuthPtrDefault)
};
#undef LIBVIRT_SYMBOL

/* The process's one view of the library. */
static vdisk_library libvirt = VDISK_LIBRARY_INIT(LIBVIRT_SONAME, libvirt_symbols, &libvirt_api);

int
vv_libvirt_load(void)
{
    if (vdisk_library_load(&libvirt) == 0)
        return 0;
    vv_virsh_error("cannot use libvirt's client library (install libvirt0): %s", libvirt.why);
    return -1;
}

const vv_libvirt_api *
vv_libvirt(void)
{
    return &libvirt_api;
}
