/* vdisk plugin — directories created so that they survive a power loss.
 *
 * A new directory entry is durable only once its parent directory has been
 * fsynced (fsync(2); the file's own fsync does not cover its name): a
 * mkdir -p followed by files renamed into the new directory, each with its
 * own directory synced, could otherwise lose the whole directory, and the
 * files with it, after the command reported success (found by the crash
 * states of tests/crash/test_crash_registry.py). */
#ifndef VDISK_DIR_SYNC_H
#define VDISK_DIR_SYNC_H

#include <sys/types.h>

/* mkdir -p of path: each missing parent with mode parent_mode, path itself
 * with mode, each new one's parent fsynced.  0, or -errno with *failed
 * set to the (malloc'ed) path that could not be made or synced. */
int vdisk_mkdir_p_durable(const char *path, mode_t parent_mode, mode_t mode, char **failed);

/* fsync of the directory at path (opened read-only); 0 or -errno. */
int vdisk_sync_dir_path(const char *path);

#endif
