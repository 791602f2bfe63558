/* vdisk-virsh -c URI in a build without libvirt-dev (remote.h). */
#include <string.h>

#include "commands.h"
#include "remote.h"
#include "virsh-args.h"

int
vv_remote_run(const char *uri, int argc, char **argv)
{
    /* --help needs no daemon, here either. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return vv_command_help(argv[0]);
    vv_virsh_error("cannot connect to '%s': vdisk-virsh was built without libvirt "
                   "(install libvirt-dev and rebuild for -c URI)", uri);
    return 1;
}
