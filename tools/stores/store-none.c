/* vdisk-virsh -c URI in a build without libvirt-dev (store-open.h). */
#include "store-open.h"

int
vv_store_open_uri(const char *uri, vdisk_store **out)
{
    *out = NULL;
    vv_virsh_error("cannot connect to '%s': vdisk-virsh was built without libvirt "
                   "(install libvirt-dev and rebuild for -c URI)", uri);
    return -1;
}
