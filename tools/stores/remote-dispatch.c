/* vdisk-virsh -c URI — the commands that do not go through a libvirt
 * daemon (remote.h): every pool, volume and secret command written against
 * the store runs on either; the ones left (vol-inflate, vol-eagerzero,
 * vol-sparsify, vol-map) act on the embedded registry only. */
#include "remote.h"
#include "virsh-args.h"

int
vv_remote_run(const char *uri, int argc, char **argv)
{
    (void)uri, (void)argc;
    vv_virsh_error("command '%s' does not go through a libvirt daemon", argv[0]);
    return 1;
}
