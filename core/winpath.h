/* libvdisk internals — Windows paths stored in image metadata (the parent
 * locators of VHD and VHDX differencing disks). */
#ifndef VDISK_WINPATH_H
#define VDISK_WINPATH_H

#include <stdbool.h>

/* Turn a Windows path into a path of this host, in place: '\' becomes '/',
 * leading ".\" go.  false when it cannot name a file here: a drive letter
 * ("C:\..."), a UNC or device path ("\\server\...", "\\?\Volume{...}\..."),
 * or nothing left. */
bool vdisk_windows_path_to_host(char *path);

#endif
