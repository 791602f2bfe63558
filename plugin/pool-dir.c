/* vdisk plugin — the directory pool: a directory of image files.  Its
 * table (pool-backend.h); the pool's own steps are here, the volumes' in
 * volume*.c and pool-info.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vdisk/store-error.h>

#include "dir-sync.h"
#include "pool-backend.h"
#include "pool-internal.h"

/* libvirt's default mode of a pool directory it builds. */
#define POOL_DEFAULT_MODE 0711

/* mkdir -p of the parents of path (0755), then path itself with mode, each
 * new directory's parent synced (dir-sync.h). */
static int
make_pool_dir(const char *path, mode_t mode, vdisk_error *err)
{
    char *failed = NULL;
    int r = vdisk_mkdir_p_durable(path, 0755, mode, &failed);
    if (r == -ENOMEM && !failed)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    if (r < 0)
        vdisk_error_set_errno(err, -r, "cannot create directory %s", failed);
    free(failed);
    return r;
}

/* The directory with its parents, then its mode and owner (build). */
int
vdisk_dir_pool_build(vdisk_pool *pool, unsigned flags, vdisk_error *err)
{
    const vdisk_pool_def *def = pool->def;
    const char *path = def->target_path;
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return vdisk_error_set(err, ENOTDIR, "pool '%s': %s exists and is not a directory", def->name, path);
        if (flags & VDISK_POOL_BUILD_NO_OVERWRITE)
            return vdisk_error_set(err, EEXIST, "pool '%s': directory %s already exists", def->name, path);
    }
    mode_t mode = def->target_perms.has_mode ? def->target_perms.mode : POOL_DEFAULT_MODE;
    int r = make_pool_dir(path, mode, err);
    if (r < 0) {
        vdisk_store_error_prefix(err, "pool '%s'", def->name);
        return r;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return vdisk_error_set_errno(err, errno, "pool '%s': cannot open directory %s", def->name, path);
    uid_t uid = def->target_perms.has_owner ? def->target_perms.owner : (uid_t)-1;
    gid_t gid = def->target_perms.has_group ? def->target_perms.group : (gid_t)-1;
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
        r = vdisk_error_set_errno(err, errno, "pool '%s': cannot change the owner of %s to %d:%d",
                                  def->name, path, (int)uid, (int)gid);
    /* The mode is set explicitly: mkdir applied the umask. */
    if (r == 0 && fchmod(fd, mode) < 0)
        r = vdisk_error_set_errno(err, errno, "pool '%s': cannot set mode %04o on %s", def->name,
                                  (unsigned)mode, path);
    /* Its mode and owner durable before pool-start records it active. */
    if (r == 0 && fsync(fd) < 0)
        r = vdisk_error_set_errno(err, errno, "pool '%s': cannot sync directory %s", def->name, path);
    close(fd);
    return r;
}

/* The target path is there and is a directory (start). */
int
vdisk_dir_pool_check(vdisk_pool *pool, vdisk_error *err)
{
    struct stat st;
    if (stat(pool->def->target_path, &st) < 0)
        return vdisk_error_set_errno(err, errno, "pool '%s': cannot open directory '%s'",
                                     pool->def->name, pool->def->target_path);
    if (!S_ISDIR(st.st_mode))
        return vdisk_error_set(err, ENOTDIR, "pool '%s': '%s' is not a directory",
                               pool->def->name, pool->def->target_path);
    return 0;
}

/* The directory descriptor goes (stop, free). */
void
vdisk_dir_pool_release(vdisk_pool *pool)
{
    if (pool->dirfd >= 0) {
        close(pool->dirfd);
        pool->dirfd = -1;
    }
}

/* rmdir of the empty directory (delete).  vdisk's record of the volume
 * formats is no volume: it goes with the directory. */
int
vdisk_dir_pool_delete(vdisk_pool *pool, vdisk_error *err)
{
    int r = vdisk_vol_records_drop_if_alone(pool->def->target_path, err);
    if (r == 0 && rmdir(pool->def->target_path) < 0 && errno != ENOENT)
        r = vdisk_error_set_errno(err, errno, "pool '%s': failed to remove pool '%s'",
                                  pool->def->name, pool->def->target_path);
    return r;
}

/* Internal snapshots live in the file and go with it: no flag asks more. */
int
vdisk_dir_vol_delete_flags(vdisk_pool *pool, const char *name, unsigned flags, vdisk_error *err)
{
    (void)flags;
    return vdisk_dir_vol_delete(pool, name, err);
}

const vdisk_pool_backend vdisk_pool_backend_dir = {
    .name = "dir",
    .check = vdisk_dir_pool_check,
    VDISK_POOL_BACKEND_FILE_OPS,
};
