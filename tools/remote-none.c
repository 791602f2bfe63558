/* vdisk-virsh -c URI in a build without libvirt-dev (remote.h). */
#include "remote.h"
#include "virsh-args.h"

int
vv_remote_run(const char *uri, int argc, char **argv)
{
    vv_virsh_error("cannot connect to '%s': vdisk-virsh was built without libvirt "
                   "(install libvirt-dev and rebuild for -c URI)", uri);
    return 1;
}
