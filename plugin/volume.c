/* vdisk plugin — volumes of a pool: reaching the files safely, probing
 * them (lookup), finding a volume by path, deleting it.  Creating is in
 * volume-create.c, wiping in volume-wipe.c, transfers in volume-transfer.c. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vdisk/volume.h>

#include "pool-backend.h"
#include "pool-internal.h"
#include "volume-encrypt.h"

void
vdisk_fd_path(int fd, char buf[VDISK_FD_PATH_MAX])
{
    snprintf(buf, VDISK_FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

void
vdisk_error_rename(vdisk_error *err, const char *fd_path, const char *real_path)
{
    if (!err || !fd_path || !real_path)
        return;
    char out[VDISK_ERROR_MAX];
    size_t o = 0, flen = strlen(fd_path), rlen = strlen(real_path);
    /* Where the recorded name starts and ends in the new message. */
    size_t name_start = 0, name_end = 0, end = (size_t)err->name_off + err->name_len;
    for (const char *p = err->message; *p && o + 1 < sizeof(out); ) {
        if ((size_t)(p - err->message) == err->name_off)
            name_start = o;
        if ((size_t)(p - err->message) == end)
            name_end = o;
        /* Only whole descriptor paths: "/proc/self/fd/5" must not match in "/proc/self/fd/57". */
        if (strncmp(p, fd_path, flen) == 0 && !(p[flen] >= '0' && p[flen] <= '9')) {
            size_t n = rlen < sizeof(out) - 1 - o ? rlen : sizeof(out) - 1 - o;
            memcpy(out + o, real_path, n);
            o += n;
            p += flen;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    memcpy(err->message, out, o + 1);
    err->name_off = (unsigned)name_start;
    err->name_len = name_end > name_start ? (unsigned)(name_end - name_start) : 0;
}

char *
vdisk_dir_vol_path(const vdisk_pool *pool, const char *name)
{
    char *p;
    const char *dir = pool->def->target_path;
    size_t len = strlen(dir);
    bool slash = len > 0 && dir[len - 1] == '/';
    return asprintf(&p, "%s%s%s", dir, slash ? "" : "/", name) < 0 ? NULL : p;
}

int
vdisk_vol_open_fd(vdisk_pool *pool, const char *name, int flags, vdisk_error *err)
{
    int r = vdisk_storage_name_check("volume name", name, err);
    if (r < 0)
        return r;
    if (vdisk_vol_name_reserved(name))      /* vdisk's own files are no volumes */
        return vdisk_store_error_set(err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_VOLUME, ENOENT,
                                     "no storage vol with matching name '%s'", name);
    int dirfd = vdisk_pool_dirfd(pool, err);
    if (dirfd < 0)
        return dirfd;
    int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return vdisk_store_error_set(err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_VOLUME, ENOENT,
                                         "no storage vol with matching name '%s'", name);
        if (errno == ELOOP)
            return vdisk_error_set(err, ELOOP, "pool '%s': volume '%s' is a symbolic link; "
                                   "refusing to follow it", pool->def->name, name);
        return vdisk_error_set_errno(err, errno, "pool '%s': cannot open volume '%s'", pool->def->name, name);
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return vdisk_error_set(err, EINVAL, "pool '%s': '%s' is not a regular file", pool->def->name, name);
    }
    /* O_NONBLOCK only kept a FIFO from blocking the open. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/* Open with the recorded format.  A volume recorded as 'iso' is an empty
 * file to upload an image into until one is there (libvirt's dir pools make
 * it so): until it holds an ISO 9660 image it is read as raw.  Both read the
 * file's bytes as they are, with no backing file, so the choice cannot
 * expose anything else. */
static int
open_recorded(const char *path, vdisk_open_opts *oo, vdisk_image **img, vdisk_error *err)
{
    int r = vdisk_open(path, oo, img, err);
    if (r < 0 && r != -EBUSY && oo->format == VDISK_FORMAT_ISO) {
        oo->format = VDISK_FORMAT_RAW;
        r = vdisk_open(path, oo, img, err);
    }
    return r;
}

int
vdisk_vol_open_image_key(vdisk_pool *pool, const char *name, unsigned flags, const void *secret,
                         size_t secret_len, vdisk_image **img, vdisk_error *err)
{
    int fd = vdisk_vol_open_fd(pool, name, (flags & VDISK_OPEN_RDWR) ? O_RDWR : O_RDONLY, err);
    if (fd < 0)
        return fd;
    char fdp[VDISK_FD_PATH_MAX + 300];
    if (flags & VDISK_OPEN_NO_BACKING)
        vdisk_fd_path(fd, fdp);
    else
        snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d/%s", pool->dirfd, name);
    /* The recorded format, never a probe of bytes a guest may have written;
     * backing files as the pool's policy says (volume-backing.c). */
    vdisk_open_opts oo = { .flags = flags, .secret = secret, .secret_len = secret_len,
                           .backing_policy = &pool->backing };
    int r = vdisk_vol_format_of(pool, name, fd, &oo.format, err);
    if (r == 0)
        r = open_recorded(fdp, &oo, img, err);
    if (r < 0) {
        char *real = vdisk_vol_path(pool, name);
        vdisk_error_rename(err, fdp, real);
        free(real);
    }
    close(fd);   /* the image holds its own descriptor */
    return r;
}

int
vdisk_vol_open_image(vdisk_pool *pool, const char *name, unsigned flags,
                     vdisk_image **img, vdisk_error *err)
{
    vdisk_error oerr = { 0 };
    int r = vdisk_vol_open_image_key(pool, name, flags, NULL, 0, img, &oerr);
    if (r != -EACCES || (flags & VDISK_OPEN_NO_KEY)) {
        if (err)
            *err = oerr;
        return r;
    }
    /* Encrypted: libvirt's default secret, the one whose usage is the volume's path. */
    vdisk_vol_key key;
    if ((r = vdisk_vol_key_default(pool, name, &key, err)) == 0)
        r = vdisk_vol_open_image_key(pool, name, flags, key.data, key.len, img, err);
    vdisk_vol_key_clear(&key);
    return r;
}

int
vdisk_vol_close_image(vdisk_pool *pool, const char *name, vdisk_image *img, int r, vdisk_error *err)
{
    char *fdp = strdup(vdisk_get_filename(img));
    vdisk_error cerr = { 0 };
    int c = vdisk_close(img, &cerr);
    if (r == 0 && c < 0) {
        if (err)
            *err = cerr;
        r = c;
    }
    if (r < 0) {
        char *real = vdisk_vol_path(pool, name);
        vdisk_error_rename(err, fdp, real);
        free(real);
    }
    free(fdp);
    return r;
}

int
vdisk_dir_vol_check_not_in_use(vdisk_pool *pool, const char *name, vdisk_error *err)
{
    vdisk_image *img;
    vdisk_error oerr = { 0 };
    int r = vdisk_vol_open_image(pool, name, VDISK_OPEN_RDWR | VDISK_OPEN_NO_BACKING | VDISK_OPEN_NO_KEY,
                                 &img, &oerr);
    if (r == 0)
        return vdisk_vol_close_image(pool, name, img, 0, err);
    if (r == -EBUSY || r == -ENOENT || r == -ELOOP) {
        if (err)
            *err = oerr;
        return r;
    }
    return 0;      /* not an image libvdisk opens: its bytes are all there is */
}

/* Fill the image-derived fields of a volume definition. */
static void
fill_from_info(vdisk_pool *pool, vdisk_vol_def *def, const vdisk_info *info, const char *real_path)
{
    def->format = info->format;
    def->capacity = info->virtual_size;
    if (info->format == VDISK_FORMAT_QCOW2) {
        def->compat = strdup(info->qcow2_version == 2 ? "0.10" : "1.1");
        def->cluster_size = info->cluster_size;
        def->lazy_refcounts = info->lazy_refcounts;
    }
    if (info->backing_file) {
        /* Resolved against the volume's real path, not the descriptor path
         * it was opened by; one the pool would refuse to open is not shown. */
        def->backing_path = vdisk_resolve_backing_name(real_path, info->backing_file);
        if (def->backing_path && !vdisk_vol_backing_allowed(pool, def->name, def->backing_path)) {
            free(def->backing_path);
            def->backing_path = NULL;
        }
        def->backing_format = VDISK_FORMAT_UNKNOWN;
        if (info->backing_format)
            vdisk_format_from_name(info->backing_format, &def->backing_format, NULL);
    }
    vdisk_vol_probe_encryption(pool, def, info);
}

int
vdisk_vol_probe(vdisk_pool *pool, const char *name, vdisk_vol_def *def, vdisk_error *err)
{
    memset(def, 0, sizeof(*def));     /* valid to clear whatever happens */
    int fd = vdisk_vol_open_fd(pool, name, O_RDONLY, err);
    if (fd < 0)
        return fd;
    struct stat st;
    fstat(fd, &st);
    def->name = strdup(name);
    def->key = vdisk_vol_path(pool, name);
    def->target_path = vdisk_vol_path(pool, name);
    def->capacity = (uint64_t)st.st_size;
    def->physical = (uint64_t)st.st_size;
    def->has_allocation = true;
    def->allocation = (uint64_t)st.st_blocks * 512;
    vdisk_format fmt;
    int r = vdisk_vol_format_of(pool, name, fd, &fmt, err);
    if (r < 0) {
        close(fd);
        vdisk_vol_def_clear(def);
        return r;
    }
    def->format = fmt;
    def->perms.has_mode = def->perms.has_owner = def->perms.has_group = true;
    def->perms.mode = st.st_mode & 07777;
    def->perms.owner = st.st_uid;
    def->perms.group = st.st_gid;
    def->has_timestamps = true;
    def->atime.sec = st.st_atim.tv_sec, def->atime.nsec = st.st_atim.tv_nsec;
    def->mtime.sec = st.st_mtim.tv_sec, def->mtime.nsec = st.st_mtim.tv_nsec;
    def->ctime_.sec = st.st_ctim.tv_sec, def->ctime_.nsec = st.st_ctim.tv_nsec;
    char fdp[VDISK_FD_PATH_MAX];
    vdisk_fd_path(fd, fdp);
    vdisk_open_opts oo = { .format = fmt,
                           .flags = VDISK_OPEN_NO_BACKING | VDISK_OPEN_FORCE_SHARE | VDISK_OPEN_NO_KEY };
    vdisk_image *img;
    vdisk_error ierr = { 0 };
    /* A volume libvdisk cannot open (a format it has no driver for) is
     * reported as the file it is, in its recorded format. */
    if (open_recorded(fdp, &oo, &img, &ierr) == 0) {
        vdisk_info info;
        if (vdisk_get_info(img, &info, &ierr) == 0) {
            fill_from_info(pool, def, &info, def->target_path ? def->target_path : name);
            vdisk_info_clear(&info);
        }
        vdisk_close(img, NULL);
    }
    close(fd);
    if (!def->name || !def->key || !def->target_path) {
        vdisk_vol_def_clear(def);
        return vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    }
    return 0;
}

int
vdisk_dir_vol_lookup(vdisk_pool *pool, const char *name, vdisk_vol_def *def, vdisk_error *err)
{
    return vdisk_vol_probe(pool, name, def, err);
}

/* realpath() of the directory part of path, and its last component. */
static int
split_path(const char *path, char **dir_real, char **base, vdisk_error *err)
{
    char *a = strdup(path), *b = strdup(path);
    if (!a || !b) {
        free(a), free(b);
        return vdisk_error_set(err, ENOMEM, "out of memory");
    }
    *dir_real = realpath(dirname(a), NULL);
    *base = strdup(basename(b));
    free(a), free(b);
    if (!*dir_real || !*base) {
        free(*dir_real), free(*base);
        return vdisk_store_error_set(err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_VOLUME, ENOENT,
                                     "no storage vol with matching path '%s'", path);
    }
    return 0;
}

/* The active RBD pool whose volumes' paths "RBD-POOL/IMAGE" path is. */
static int
find_rbd_volume(vdisk_registry *reg, const char *path, vdisk_pool **pool, char **name)
{
    const char *slash = strchr(path, '/');
    char **names;
    size_t n;
    if (!slash || slash == path || strchr(slash + 1, '/') || !slash[1] ||
        vdisk_pool_list_names(reg, &names, &n, NULL) < 0)
        return -ENOENT;
    int r = -ENOENT;
    for (size_t i = 0; i < n && r == -ENOENT; i++) {
        vdisk_pool *p;
        if (vdisk_pool_lookup(reg, names[i], &p, NULL) < 0)
            continue;
        const char *src = p->def->source.name;
        if (p->active && src && strlen(src) == (size_t)(slash - path) && !strncmp(src, path, strlen(src)) &&
            (*name = strdup(slash + 1))) {
            *pool = p;
            r = 0;
        } else {
            vdisk_pool_free(p);
        }
    }
    vdisk_registry_names_free(names, n);
    return r;
}

int
vdisk_vol_find_by_path(vdisk_registry *reg, const char *path, vdisk_pool **pool,
                       char **name, vdisk_error *err)
{
    char *dir = NULL, *base = NULL;
    if (path[0] != '/' && find_rbd_volume(reg, path, pool, name) == 0)
        return 0;
    int r = split_path(path, &dir, &base, err);
    if (r < 0)
        return r;
    char **names;
    size_t n;
    if ((r = vdisk_pool_list_names(reg, &names, &n, err)) < 0)
        goto out;
    r = -ENOENT;
    for (size_t i = 0; i < n && r == -ENOENT; i++) {
        vdisk_pool *p;
        if (vdisk_pool_lookup(reg, names[i], &p, NULL) < 0)
            continue;
        char *pdir = p->active && p->def->target_path ? realpath(p->def->target_path, NULL) : NULL;
        if (pdir && strcmp(pdir, dir) == 0) {
            *pool = p;
            *name = base;
            base = NULL;
            r = 0;
        } else {
            vdisk_pool_free(p);
        }
        free(pdir);
    }
    vdisk_registry_names_free(names, n);
    if (r == -ENOENT)
        vdisk_store_error_set(err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_VOLUME, ENOENT,
                              "no storage vol with matching path '%s'", path);
out:
    free(dir);
    free(base);
    return r;
}

int
vdisk_dir_vol_delete(vdisk_pool *pool, const char *name, vdisk_error *err)
{
    int fd = vdisk_vol_open_fd(pool, name, O_RDONLY, err);   /* exists, regular, no symlink */
    if (fd < 0)
        return fd;
    close(fd);
    /* A running guest's disk: removing it would leave the guest writing to
     * a file nobody can reach, whose space returns only when QEMU exits.
     * QEMU's image lock says so (libvirt's dir pools unlink it anyway). */
    int r = vdisk_vol_check_not_in_use(pool, name, err);
    if (r == -EBUSY)
        vdisk_store_error_prefix(err, "cannot delete volume '%s' of pool '%s'", name, pool->def->name);
    if (r < 0)
        return r;
    r = vdisk_pool_lock(pool, err);
    if (r < 0)
        return r;
    vdisk_vol_id id;
    if (vdisk_vol_id_of(pool->dirfd, name, &id) < 0 || unlinkat(pool->dirfd, name, 0) < 0)
        r = vdisk_error_set_errno(err, errno, "pool '%s': cannot remove volume '%s'", pool->def->name, name);
    /* The removal durable before the record goes: a power loss must not
     * bring the volume back without its record (its format then probed from
     * bytes a guest wrote).  tests/crash/test_crash_registry.py found it. */
    else if (fsync(pool->dirfd) < 0)
        r = vdisk_error_set_errno(err, errno, "pool '%s': cannot sync the directory %s after removing "
                                  "volume '%s'", pool->def->name, pool->def->target_path, name);
    else if (!pool->formats.lookup)
        r = vdisk_vol_record_remove(pool, name, &id, err);
    vdisk_pool_unlock(pool);
    return r;
}
