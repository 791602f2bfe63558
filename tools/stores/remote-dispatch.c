/* vdisk-virsh -c URI — the table of commands that go through a libvirt
 * daemon (remote.h). */
#include <string.h>

#include "remote.h"
#include "remote-internal.h"

typedef struct vr_command {
    const char *name;
    vr_handler handler;
} vr_command;

static const vr_command remote_commands[] = {
    { "vol-create-as", vr_vol_create_as },
};

int
vv_remote_run(const char *uri, int argc, char **argv)
{
    for (size_t i = 0; i < sizeof(remote_commands) / sizeof(remote_commands[0]); i++)
        if (strcmp(remote_commands[i].name, argv[0]) == 0)
            return remote_commands[i].handler(uri, argc, argv);
    vv_virsh_error("command '%s' does not go through a libvirt daemon", argv[0]);
    return 1;
}
