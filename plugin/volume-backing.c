/* vdisk plugin — which backing files the volumes of a pool may have.
 *
 * libvdisk asks this policy (vdisk_backing_policy) before it opens each
 * backing file of a volume's chain.  A backing file is followed only where
 * the volume's recorded format has backing files at all (a raw volume is
 * opened as raw, so a header its guest wrote is never read), and then:
 *
 *   - in the pool directory: it must be a volume (a regular file, no
 *     symlink, not one of vdisk's own files), opened with the format vdisk
 *     recorded for it -- never with what its bytes look like today.  A
 *     header naming it with another format is refused.
 *   - outside the pool directory: refused unless the pool allows it
 *     (<vdisk:backing><vdisk:outside>allow</vdisk:outside></vdisk:backing>)
 *     or the administrator named that file as the backing store when
 *     creating the volume naming it (recorded with the volume, as libvirt's
 *     dir pools accept such volumes); then opened with the format the image
 *     naming it records: vdisk never probes a file outside the pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool-internal.h"

bool
vdisk_vol_name_reserved(const char *name)
{
    return strncmp(name, VDISK_VOL_RESERVED_PREFIX, strlen(VDISK_VOL_RESERVED_PREFIX)) == 0;
}

/* The volume name `path` designates in the pool directory (malloc'ed), or
 * NULL when it lies elsewhere.  Paths come resolved by libvdisk: either
 * through the pool directory's descriptor ("/proc/self/fd/N/NAME", how the
 * plugin opens volumes) or absolute. */
static char *
pool_volume_name(vdisk_pool *pool, const char *path)
{
    char fdprefix[VDISK_FD_PATH_MAX + 1];
    if (pool->dirfd >= 0) {
        vdisk_fd_path(pool->dirfd, fdprefix);
        strcat(fdprefix, "/");
        size_t n = strlen(fdprefix);
        if (strncmp(path, fdprefix, n) == 0)
            return strchr(path + n, '/') ? NULL : strdup(path + n);
    }
    const char *slash = strrchr(path, '/');
    if (path[0] != '/' || !slash || !slash[1])
        return NULL;
    char *dir = strndup(path, (size_t)(slash - path) + 1);
    char *dir_real = dir ? realpath(dir, NULL) : NULL;
    char *pool_real = realpath(pool->def->target_path, NULL);
    char *name = dir_real && pool_real && strcmp(dir_real, pool_real) == 0 ? strdup(slash + 1) : NULL;
    free(dir);
    free(dir_real);
    free(pool_real);
    return name;
}

/* Same file, by name or by what the names resolve to. */
static bool
same_path(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return true;
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    bool same = ra && rb && strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return same;
}

/* Did the administrator name `backing` for volume `name` when creating it? */
static bool
approved(vdisk_pool *pool, const char *name, const char *backing)
{
    vdisk_vol_id id;
    if (!name || pool->formats.lookup || vdisk_pool_dirfd(pool, NULL) < 0 ||
        vdisk_vol_id_of(pool->dirfd, name, &id) < 0 ||
        (!pool->records && vdisk_vol_records_load(pool, NULL) < 0))
        return false;
    const char *ok = vdisk_vol_records_backing(pool->records, name, &id);
    return ok && same_path(ok, backing);
}

bool
vdisk_vol_backing_inside(vdisk_pool *pool, const char *backing)
{
    char *name = pool_volume_name(pool, backing);
    free(name);
    return name != NULL;
}

bool
vdisk_vol_backing_allowed(vdisk_pool *pool, const char *name, const char *backing)
{
    char *inside = pool_volume_name(pool, backing);
    bool allowed = inside != NULL || pool->def->backing_outside || approved(pool, name, backing);
    free(inside);
    return allowed;
}

/* The recorded format of the backing volume `name` of this pool. */
static int
check_pool_volume(vdisk_pool *pool, const char *overlay, const char *name, vdisk_format *fmt,
                  vdisk_error *err)
{
    vdisk_format rec = VDISK_FORMAT_UNKNOWN;
    int fd = vdisk_vol_open_fd(pool, name, O_RDONLY, err);
    if (fd < 0) {
        vdisk_store_error_prefix(err, "%s: backing file in pool '%s'", overlay, pool->def->name);
        return fd;
    }
    vdisk_error ferr = { 0 };
    int r = vdisk_vol_format_of(pool, name, fd, &rec, &ferr);
    close(fd);
    if (r == -ENOENT && pool->formats.lookup && *fmt != VDISK_FORMAT_UNKNOWN)
        return 0;   /* a directory vdisk does not manage: the format the overlay records */
    if (r == -ENOENT && pool->formats.lookup)
        return vdisk_error_set(err, EPERM, "%s: backing file '%s' of pool '%s' has no format "
                               "recorded in the image naming it; vdisk does not probe it",
                               overlay, name, pool->def->name);
    if (r < 0) {
        if (err)
            *err = ferr;
        vdisk_store_error_prefix(err, "%s", overlay);   /* every error here names the overlay */
        return r;
    }
    /* An ISO is read as its bytes, as raw: a header naming it raw agrees. */
    if (*fmt != VDISK_FORMAT_UNKNOWN && *fmt != rec && !(*fmt == VDISK_FORMAT_RAW && rec == VDISK_FORMAT_ISO))
        return vdisk_error_set(err, EPERM, "%s: names its backing file, volume '%s' of pool '%s', "
                               "as %s, but that volume is %s; refusing to open it",
                               overlay, name, pool->def->name, vdisk_format_name(*fmt),
                               vdisk_format_name(rec));
    *fmt = rec;
    return 0;
}

int
vdisk_vol_backing_check(void *opaque, const char *overlay, const char *backing, vdisk_format *fmt,
                        vdisk_error *err)
{
    vdisk_pool *pool = opaque;
    char *name = pool_volume_name(pool, backing);
    if (name) {
        int r = check_pool_volume(pool, overlay, name, fmt, err);
        free(name);
        return r;
    }
    char *overlay_name = pool_volume_name(pool, overlay);
    bool ok = pool->def->backing_outside || approved(pool, overlay_name, backing);
    free(overlay_name);
    if (!ok)
        return vdisk_error_set(err, EPERM, "%s: backing file '%s' lies outside the directory of "
                               "pool '%s', which does not allow that (<vdisk:backing><vdisk:outside>"
                               "allow</vdisk:outside></vdisk:backing> in the pool XML)",
                               overlay, backing, pool->def->name);
    if (*fmt == VDISK_FORMAT_UNKNOWN)
        return vdisk_error_set(err, EPERM, "%s: backing file '%s' outside pool '%s' has no format "
                               "recorded in the image naming it; vdisk does not probe files "
                               "outside the pool (record it: qemu-img rebase -u -F FORMAT)",
                               overlay, backing, pool->def->name);
    return 0;
}
