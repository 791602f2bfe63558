/* vdisk plugin — the registry's temporary files (registry.c writes every
 * file as a temporary file renamed into place).
 *
 * A power loss (or a kill) between the creation of a temporary file and its
 * rename leaves it behind: a hidden name nothing lists, but one that would
 * stay forever.  Each writer holds an open file description lock on its
 * temporary file until the rename; the next write to the same area removes
 * the ones nobody holds. */
#ifndef VDISK_REGISTRY_TMP_H
#define VDISK_REGISTRY_TMP_H

#include <stddef.h>
#include <sys/types.h>

#define VDISK_REGISTRY_TMP_PREFIX ".tmp-"

/* Create a new temporary file in the directory afd, held until the
 * descriptor returned is closed; its name in name[cap].  -errno on failure. */
int vdisk_registry_tmp_create(int afd, mode_t mode, char *name, size_t cap);

/* Remove the temporary files of the directory afd that no writer holds. */
void vdisk_registry_tmp_reap(int afd);

#endif
