/* vdisk plugin — what a pool holds: its volumes (refresh), its sizes and
 * overcommit (info), and its XML with runtime figures (dumpxml). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <vdisk/pool.h>
#include <vdisk/storage-xml.h>

#include "pool-backend.h"
#include "pool-internal.h"

void
vdisk_pool_volumes_free(vdisk_vol_def *vols, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vdisk_vol_def_clear(&vols[i]);
    free(vols);
}

static int
cmp_vols(const void *a, const void *b)
{
    return strcmp(((const vdisk_vol_def *)a)->name, ((const vdisk_vol_def *)b)->name);
}

/* The byte whose OFD write lock marks a temporary file as being written:
 * far from QEMU's image-lock bytes (100.., 200..), which the create takes
 * on the same file through another descriptor.  Not flock: NFS and
 * GlusterFS FUSE turn flock into a whole-file byte lock, which would
 * refuse those image locks. */
#define TMP_HOLD_BYTE 0x7fffff00

/* F_OFD_SETLK of type on TMP_HOLD_BYTE: 0 or -errno. */
static int
tmp_lock(int fd, short type)
{
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = TMP_HOLD_BYTE, .l_len = 1 };
    return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

void
vdisk_vol_tmp_hold(int fd)
{
    tmp_lock(fd, F_WRLCK);
}

/* A hidden file of a create that no process holds any more (it was killed
 * half-way) is removed: creates hold theirs (vdisk_vol_tmp_hold) until it
 * is renamed. */
static void
reap_stale_tmp(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && tmp_lock(fd, F_WRLCK) == 0)
        unlinkat(dirfd, name, 0);
    close(fd);
}

/* Is this directory entry a volume?  Regular files only, never vdisk's own
 * files (temporary ones, the records); symlinks are not followed. */
static bool
is_volume(int dirfd, const char *name)
{
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    if (strncmp(name, VDISK_VOL_TMP_PREFIX, strlen(VDISK_VOL_TMP_PREFIX)) == 0) {
        reap_stale_tmp(dirfd, name);
        return false;
    }
    if (vdisk_vol_name_reserved(name))
        return false;       /* vdisk's own files (the volume records) */
    struct stat st;
    return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int
vdisk_dir_pool_refresh(vdisk_pool *pool, vdisk_vol_def **vols, size_t *n, vdisk_error *err)
{
    int dirfd = vdisk_pool_dirfd(pool, err);
    if (dirfd < 0)
        return dirfd;
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return vdisk_error_set_errno(err, errno, "pool '%s': cannot read %s", pool->def->name,
                                     pool->def->target_path);
    }
    rewinddir(d);
    vdisk_vol_def *v = NULL;
    size_t count = 0, cap = 0;
    int r = 0;
    struct dirent *e;
    while (r == 0 && (e = readdir(d)) != NULL) {
        if (!is_volume(dirfd, e->d_name))
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            vdisk_vol_def *nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                r = vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
                break;
            }
            v = nv;
        }
        memset(&v[count], 0, sizeof(v[count]));
        r = vdisk_vol_probe(pool, e->d_name, &v[count], err);
        if (r == -ENOENT)          /* removed meanwhile */
            r = 0;
        else if (r == 0)
            count++;
    }
    closedir(d);
    if (r < 0) {
        vdisk_pool_volumes_free(v, count);
        return r;
    }
    if (count)
        qsort(v, count, sizeof(*v), cmp_vols);
    *vols = v;
    *n = count;
    return 0;
}

int
vdisk_dir_pool_fs_info(vdisk_pool *pool, vdisk_pool_info *info, vdisk_error *err)
{
    memset(info, 0, sizeof(*info));
    info->overcommit_max = pool->def->overcommit_max;
    if (!pool->active)
        return 0;
    info->state = VDISK_POOL_RUNNING;
    int dirfd = vdisk_pool_dirfd(pool, err);
    if (dirfd < 0)
        return dirfd;
    struct statvfs sv;
    if (fstatvfs(dirfd, &sv) < 0)
        return vdisk_error_set_errno(err, errno, "pool '%s': statvfs %s", pool->def->name,
                                     pool->def->target_path);
    /* As libvirt's dir pool reports them: available is every free block
     * (f_bfree), so that two pools on one file system show the same. */
    info->capacity = (uint64_t)sv.f_frsize * sv.f_blocks;
    info->available = (uint64_t)sv.f_frsize * sv.f_bfree;
    info->allocation = info->capacity - info->available;
    return 0;
}

/* The bytes a new volume may take: the free blocks open to unprivileged
 * users (f_bavail), so that a volume never counts on the blocks the file
 * system keeps for root. */
static int
writable_bytes(vdisk_pool *pool, uint64_t *out, vdisk_error *err)
{
    int dirfd = vdisk_pool_dirfd(pool, err);
    if (dirfd < 0)
        return dirfd;
    struct statvfs sv;
    if (fstatvfs(dirfd, &sv) < 0)
        return vdisk_error_set_errno(err, errno, "pool '%s': statvfs %s", pool->def->name,
                                     pool->def->target_path);
    *out = (uint64_t)sv.f_frsize * sv.f_bavail;
    return 0;
}

int
vdisk_dir_pool_get_info(vdisk_pool *pool, vdisk_pool_info *info, vdisk_error *err)
{
    int r = vdisk_pool_fs_info(pool, info, err);
    if (r < 0 || !pool->active)
        return r;
    vdisk_vol_def *vols;
    size_t n;
    if ((r = vdisk_pool_refresh(pool, &vols, &n, err)) < 0)
        return r;
    info->volumes = n;
    for (size_t i = 0; i < n; i++) {
        info->volume_capacity += vols[i].capacity;
        info->volume_allocation += vols[i].allocation;
    }
    vdisk_pool_volumes_free(vols, n);
    info->overcommit = info->capacity ? (double)info->volume_capacity / (double)info->capacity : 0;
    return 0;
}

int
vdisk_pool_dumpxml(vdisk_pool *pool, char **out, vdisk_error *err)
{
    vdisk_pool_info info;
    int r = 0;
    if (pool->active && (r = vdisk_pool_fs_info(pool, &info, err)) < 0)
        return r;
    vdisk_pool_def *def = pool->def;
    if (pool->active) {
        def->capacity = info.capacity;
        def->allocation = info.allocation;
        def->available = info.available;
    }
    r = vdisk_pool_def_format(def, out, err);
    def->capacity = def->allocation = def->available = 0;
    return r;
}

int
vdisk_pool_check_space(vdisk_pool *pool, const char *what, uint64_t add_capacity, uint64_t need,
                       vdisk_error *err)
{
    vdisk_pool_info info;
    /* Probing every volume is only needed to sum capacities against a cap. */
    int r = pool->def->overcommit_max > 0 ? vdisk_pool_get_info(pool, &info, err)
                                          : vdisk_pool_fs_info(pool, &info, err);
    uint64_t writable = 0;
    if (r == 0 && pool->active)
        r = writable_bytes(pool, &writable, err);
    if (r < 0)
        return r;
    if (need > writable)
        return vdisk_error_set(err, ENOSPC, "%s needs %llu bytes but pool '%s' has only %llu available",
                               what, (unsigned long long)need, pool->def->name,
                               (unsigned long long)writable);
    if (info.overcommit_max > 0 && info.capacity > 0) {
        double after = (double)(info.volume_capacity + add_capacity) / (double)info.capacity;
        if (after > info.overcommit_max)
            return vdisk_error_set(err, ENOSPC, "%s (capacity %llu) would take pool '%s' to overcommit "
                                   "%.2f, past its cap of %.2f", what, (unsigned long long)add_capacity,
                                   pool->def->name, after, info.overcommit_max);
    }
    return 0;
}
