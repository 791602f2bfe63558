/* libvdisk — Windows paths of parent locators as paths of this host.
 * Relative paths ("..\base.vhdx", ".\base.vhd") keep their meaning next to
 * the child (image.c resolves them against its directory); absolute ones
 * name another machine's drives and are refused rather than guessed at. */
#include <string.h>

#include "winpath.h"

bool
vdisk_windows_path_to_host(char *p)
{
    for (char *c = p; *c; c++)
        if (*c == '\\')
            *c = '/';
    bool drive = ((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z' && p[1] == ':');
    if (drive || strncmp(p, "//", 2) == 0)
        return false;
    while (strncmp(p, "./", 2) == 0)
        memmove(p, p + 2, strlen(p + 2) + 1);
    return p[0] != '\0';
}
