/* vdisk plugin — the pool on a shared filesystem (libvirt's netfs pool):
 * a directory pool whose target directory pool-start mounts from the
 * server and pool-destroy unmounts.  Everything else -- volumes as files,
 * pool-build making the directory, pool-info from statvfs -- is the
 * directory pool's own code (pool-dir.c, volume*.c): once mounted, the
 * pool *is* a directory.  Cross-host safety comes from the image locks
 * libvdisk takes (QEMU's OFD locks), which the shared filesystem carries
 * between hosts (GlusterFS FUSE, NFSv4).
 *
 * The mount is mount(8)'s, with libvirt's netfs arguments, so that the
 * same helpers (mount.nfs, mount.glusterfs) and options apply:
 *   auto:       mount -o nodev,nosuid,noexec HOST:DIR TARGET
 *   nfs:        mount -o nodev,nosuid,noexec -t nfs HOST:DIR TARGET
 *   glusterfs:  mount -o nodev,nosuid,noexec,direct-io-mode=1 -t glusterfs HOST:DIR TARGET
 * and pool-destroy runs `umount TARGET`.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool-backend.h"
#include "pool-internal.h"

extern char **environ;

/* libvirt's mount options on Linux for every netfs pool. */
#define NETFS_MOUNT_OPTIONS "nodev,nosuid,noexec"
/* Most of a failed command's stderr quoted in the error. */
#define COMMAND_MESSAGE_MAX 512

/* "HOST:DIR", the source as mount(8) and /proc/mounts spell it. */
static char *
netfs_source(const vdisk_pool_def *def)
{
    char *src;
    if (asprintf(&src, "%s:%s", def->source.hosts[0].name, def->source.dir) < 0)
        return NULL;
    return src;
}

/* What is mounted on the pool's target: 1 and its source in *fsname
 * (malloc'ed), or 0 when nothing is; -errno on failure.  The last entry
 * for the directory wins (it hides the ones under it). */
static int
mounted_on_target(const vdisk_pool *pool, char **fsname, vdisk_error *err)
{
    char target[PATH_MAX], line[4096];
    struct mntent ent;
    *fsname = NULL;
    if (!realpath(pool->def->target_path, target))
        return 0;   /* no directory, nothing mounted on it (check reports it) */
    FILE *f = setmntent("/proc/self/mounts", "re");
    if (!f)
        return vdisk_error_set_errno(err, errno, "pool '%s': cannot read /proc/self/mounts",
                                     pool->def->name);
    int r = 0;
    while (r == 0 && getmntent_r(f, &ent, line, sizeof(line))) {
        if (strcmp(ent.mnt_dir, target) != 0)
            continue;
        free(*fsname);
        if (!(*fsname = strdup(ent.mnt_fsname)))
            r = vdisk_error_set(err, ENOMEM, "out of memory");
    }
    endmntent(f);
    return r < 0 ? r : *fsname != NULL;
}

/* Run argv (argv[0] found on PATH), its stdout discarded, its stderr kept
 * for the error: 0 when it exits 0.  stderr goes to an anonymous file, not
 * a pipe, as mount helpers leave daemons (the FUSE client) holding it. */
static int
run_command(const vdisk_pool *pool, char *const argv[], const char *what, vdisk_error *err)
{
    int errfd = memfd_create("vdisk-mount-stderr", MFD_CLOEXEC);
    if (errfd < 0)
        return vdisk_error_set_errno(err, errno, "pool '%s': cannot %s", pool->def->name, what);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, errfd, STDERR_FILENO);
    pid_t pid;
    int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0) {
        close(errfd);
        return vdisk_error_set_errno(err, r, "pool '%s': cannot run %s to %s", pool->def->name,
                                     argv[0], what);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            close(errfd);
            return vdisk_error_set_errno(err, errno, "pool '%s': waiting for %s", pool->def->name,
                                         argv[0]);
        }
    r = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char msg[COMMAND_MESSAGE_MAX + 1];
        ssize_t n = pread(errfd, msg, COMMAND_MESSAGE_MAX, 0);
        msg[n > 0 ? n : 0] = '\0';
        for (char *p = msg; *p; p++)        /* one line: the error is one message */
            if (*p == '\n')
                *p = (p[1] ? ' ' : '\0');
        r = vdisk_error_set(err, EIO, "pool '%s': cannot %s: %s %s%s%s", pool->def->name, what,
                            argv[0], WIFEXITED(status) ? "failed" : "was killed",
                            msg[0] ? ": " : "", msg);
    }
    close(errfd);
    return r;
}

/* mount(8) the source on the target with libvirt's netfs arguments. */
static int
netfs_mount(vdisk_pool *pool, const char *src, vdisk_error *err)
{
    const vdisk_pool_def *def = pool->def;
    bool gluster = def->source.format == VDISK_NETFS_GLUSTERFS;
    const char *opts = gluster ? NETFS_MOUNT_OPTIONS ",direct-io-mode=1" : NETFS_MOUNT_OPTIONS;
    char *argv[8];
    size_t i = 0;
    argv[i++] = (char *)"mount";
    argv[i++] = (char *)"-o";
    argv[i++] = (char *)opts;
    if (def->source.format != VDISK_NETFS_AUTO) {
        /* 'mount -t auto' does not find NFS; a bare mount does (libvirt's note) */
        argv[i++] = (char *)"-t";
        argv[i++] = (char *)vdisk_netfs_format_name(def->source.format);
    }
    argv[i++] = (char *)src;
    argv[i++] = def->target_path;
    argv[i] = NULL;
    char what[PATH_MAX + 64];
    snprintf(what, sizeof(what), "mount %s on %s", src, def->target_path);
    return run_command(pool, argv, what, err);
}

/* Mount the filesystem on the target unless it is there already (start). */
static int
netfs_pool_check(vdisk_pool *pool, vdisk_error *err)
{
    int r = vdisk_dir_pool_check(pool, err);
    if (r < 0)
        return r;
    char *src = netfs_source(pool->def), *mounted = NULL;
    if (!src)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    if ((r = mounted_on_target(pool, &mounted, err)) > 0 && strcmp(mounted, src) != 0)
        r = vdisk_error_set(err, EBUSY, "pool '%s': %s is mounted on %s, not the pool's %s",
                            pool->def->name, mounted, pool->def->target_path, src);
    else if (r == 0 && (r = netfs_mount(pool, src, err)) == 0) {
        /* the helper said yes: the mount must show, or the pool would be the bare directory */
        free(mounted);
        r = mounted_on_target(pool, &mounted, err);
        if (r == 0 || (r > 0 && strcmp(mounted, src) != 0))
            r = vdisk_error_set(err, EIO, "pool '%s': mount reported success but %s is not "
                                "mounted on %s", pool->def->name, src, pool->def->target_path);
    }
    free(src);
    free(mounted);
    return r < 0 ? r : 0;
}

/* umount(8) the target if the pool's filesystem is mounted there (destroy). */
static int
netfs_pool_deactivate(vdisk_pool *pool, vdisk_error *err)
{
    char *src = netfs_source(pool->def), *mounted = NULL;
    if (!src)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    int r = mounted_on_target(pool, &mounted, err);
    if (r > 0 && strcmp(mounted, src) == 0) {
        char *argv[] = { (char *)"umount", pool->def->target_path, NULL };
        char what[PATH_MAX + 32];
        snprintf(what, sizeof(what), "unmount %s", pool->def->target_path);
        r = run_command(pool, argv, what, err);
    }
    free(src);
    free(mounted);
    return r < 0 ? r : 0;
}

const vdisk_pool_backend vdisk_pool_backend_netfs = {
    .name = "netfs",
    .check = netfs_pool_check,
    .deactivate = netfs_pool_deactivate,
    VDISK_POOL_BACKEND_FILE_OPS,
};
