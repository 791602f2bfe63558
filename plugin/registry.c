/* vdisk plugin — the embedded registry of pool definitions and secrets
 * (see registry.h for the layout and the guarantees). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vdisk/registry.h>

#include "dir-sync.h"
#include "registry-tmp.h"

#define REGISTRY_MAX_FILE (1u << 20)

struct vdisk_registry {
    char *dir;
    int dirfd;
    int areafd[2];        /* pools, secrets */
    int lockfd;
};

static const char *const area_names[] = { "pools", "secrets" };
static const mode_t area_modes[] = { 0755, 0700 };

int
vdisk_storage_name_check(const char *what, const char *name, vdisk_error *err)
{
    if (name == NULL || name[0] == '\0')
        return vdisk_error_set(err, EINVAL, "%s is empty", what);
    size_t len = strnlen(name, NAME_MAX + 1);
    if (len > NAME_MAX)
        return vdisk_error_set(err, EINVAL, "%s '%.40s...' is longer than %d bytes", what, name, NAME_MAX);
    if (strcmp(name, ".") == 0 || strstr(name, ".."))
        return vdisk_error_set(err, EINVAL, "%s '%s' may not be '.' or contain '..'", what, name);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == '/')
            return vdisk_error_set(err, EINVAL, "%s '%s' may not contain '/'", what, name);
        if (*p < 0x20 || *p == 0x7f)
            return vdisk_error_set(err, EINVAL, "%s may not contain control characters (byte 0x%02x at %zu)",
                                   what, *p, (size_t)(p - (const unsigned char *)name));
    }
    return 0;
}

int
vdisk_registry_default_dir(char **out, vdisk_error *err)
{
    const char *env = getenv("VDISK_CONFIG_DIR");
    char *dir = NULL;
    if (env && env[0]) {
        dir = strdup(env);
    } else if (geteuid() == 0) {
        dir = strdup("/etc/vdisk/storage");
    } else {
        const char *xdg = getenv("XDG_CONFIG_HOME");
        const char *home = getenv("HOME");
        if (!(xdg && xdg[0] == '/') && !(home && home[0])) {
            struct passwd *pw = getpwuid(geteuid());
            home = pw ? pw->pw_dir : NULL;
        }
        if (xdg && xdg[0] == '/') {
            if (asprintf(&dir, "%s/vdisk/storage", xdg) < 0)
                dir = NULL;
        } else if (home) {
            if (asprintf(&dir, "%s/.config/vdisk/storage", home) < 0)
                dir = NULL;
        } else {
            return vdisk_error_set(err, ENOENT, "registry: neither XDG_CONFIG_HOME nor HOME is set; "
                                   "set VDISK_CONFIG_DIR");
        }
    }
    if (!dir)
        return vdisk_error_set(err, ENOMEM, "registry: out of memory");
    *out = dir;
    return 0;
}

/* mkdir -p for the registry directory itself (parents get 0755), each new
 * directory's parent synced: the definitions renamed into it later must
 * not vanish with it in a power loss. */
static int
make_dirs(const char *dir, vdisk_error *err)
{
    char *failed = NULL;
    int r = vdisk_mkdir_p_durable(dir, 0755, 0700, &failed);
    if (r == -ENOMEM && !failed)
        return vdisk_error_set(err, ENOMEM, "registry: out of memory");
    if (r < 0)
        vdisk_error_set_errno(err, -r, "registry: cannot create directory %s", failed);
    free(failed);
    return r;
}

/* Open (creating) a subdirectory of the registry without following links;
 * *created tells the caller to sync the registry directory. */
static int
open_subdir(vdisk_registry *reg, const char *name, mode_t mode, bool *created, vdisk_error *err)
{
    if (mkdirat(reg->dirfd, name, mode) == 0)
        *created = true;
    else if (errno != EEXIST)
        return vdisk_error_set_errno(err, errno, "registry %s: cannot create %s", reg->dir, name);
    int fd = openat(reg->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return vdisk_error_set_errno(err, errno, "registry %s: cannot open %s", reg->dir, name);
    return fd;
}

/* The lock file, created if missing (*created then set). */
static int
open_lock(vdisk_registry *reg, bool *created)
{
    int fd = openat(reg->dirfd, "lock", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        *created = true;
        return fd;
    }
    return errno == EEXIST ? openat(reg->dirfd, "lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC) : -1;
}

int
vdisk_registry_open(const char *dir, vdisk_registry **out, vdisk_error *err)
{
    char *owned = NULL;
    int r;
    if (!dir) {
        if ((r = vdisk_registry_default_dir(&owned, err)) < 0)
            return r;
        dir = owned;
    }
    vdisk_registry *reg = calloc(1, sizeof(*reg));
    if (!reg) {
        free(owned);
        return vdisk_error_set(err, ENOMEM, "registry: out of memory");
    }
    reg->dirfd = reg->lockfd = reg->areafd[0] = reg->areafd[1] = -1;
    reg->dir = owned ? owned : strdup(dir);
    if (!reg->dir) {
        r = vdisk_error_set(err, ENOMEM, "registry: out of memory");
        goto fail;
    }
    if ((r = make_dirs(reg->dir, err)) < 0)
        goto fail;
    reg->dirfd = open(reg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (reg->dirfd < 0) {
        r = vdisk_error_set_errno(err, errno, "registry: cannot open %s", reg->dir);
        goto fail;
    }
    bool created = false;
    for (int i = 0; i < 2; i++)
        if ((reg->areafd[i] = r = open_subdir(reg, area_names[i], area_modes[i], &created, err)) < 0)
            goto fail;
    reg->lockfd = open_lock(reg, &created);
    if (reg->lockfd < 0) {
        r = vdisk_error_set_errno(err, errno, "registry %s: cannot open its lock file", reg->dir);
        goto fail;
    }
    /* New entries of the registry directory survive a power loss. */
    if (created && fsync(reg->dirfd) < 0) {
        r = vdisk_error_set_errno(err, errno, "registry %s: cannot sync the directory", reg->dir);
        goto fail;
    }
    *out = reg;
    return 0;
fail:
    vdisk_registry_close(reg);
    return r;
}

void
vdisk_registry_close(vdisk_registry *reg)
{
    if (!reg)
        return;
    int fds[] = { reg->dirfd, reg->areafd[0], reg->areafd[1], reg->lockfd };
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(reg->dir);
    free(reg);
}

const char *
vdisk_registry_dir(const vdisk_registry *reg)
{
    return reg->dir;
}

int
vdisk_registry_lock(vdisk_registry *reg, bool exclusive, vdisk_error *err)
{
    while (flock(reg->lockfd, exclusive ? LOCK_EX : LOCK_SH) < 0)
        if (errno != EINTR)
            return vdisk_error_set_errno(err, errno, "registry %s: cannot lock", reg->dir);
    return 0;
}

void
vdisk_registry_unlock(vdisk_registry *reg)
{
    flock(reg->lockfd, LOCK_UN);
}

void
vdisk_registry_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
vdisk_registry_list(vdisk_registry *reg, vdisk_registry_area area, const char *suffix,
                    char ***names, size_t *n, vdisk_error *err)
{
    int fd = dup(reg->areafd[area]);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return vdisk_error_set_errno(err, errno, "registry %s: cannot read %s", reg->dir, area_names[area]);
    }
    rewinddir(d);
    char **v = NULL;
    size_t count = 0, cap = 0, slen = strlen(suffix);
    int r = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= slen || strcmp(e->d_name + len - slen, suffix) != 0)
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(v, cap * sizeof(*v));
            if (!nv) { r = -ENOMEM; break; }
            v = nv;
        }
        if (!(v[count] = strndup(e->d_name, len - slen))) { r = -ENOMEM; break; }
        count++;
    }
    closedir(d);
    if (r < 0) {
        vdisk_registry_names_free(v, count);
        return vdisk_error_set(err, ENOMEM, "registry: out of memory");
    }
    if (count)
        qsort(v, count, sizeof(*v), cmp_names);
    *names = v;
    *n = count;
    return 0;
}

int
vdisk_registry_read(vdisk_registry *reg, vdisk_registry_area area, const char *file,
                    char **data, size_t *len, vdisk_error *err)
{
    int fd = openat(reg->areafd[area], file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ENOENT
             : vdisk_error_set_errno(err, errno, "registry %s/%s/%s: cannot open", reg->dir, area_names[area], file);
    struct stat st;
    int r = 0;
    char *buf = NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > REGISTRY_MAX_FILE) {
        r = vdisk_error_set(err, EINVAL, "registry %s/%s/%s: not a regular file of at most 1 MiB",
                            reg->dir, area_names[area], file);
        goto out;
    }
    if (!(buf = malloc((size_t)st.st_size + 1))) {
        r = vdisk_error_set(err, ENOMEM, "registry: out of memory");
        goto out;
    }
    ssize_t got = pread(fd, buf, (size_t)st.st_size, 0);
    if (got != st.st_size) {
        r = vdisk_error_set_errno(err, got < 0 ? errno : EIO, "registry %s/%s/%s: short read",
                                  reg->dir, area_names[area], file);
        free(buf);
        goto out;
    }
    buf[got] = '\0';
    *data = buf;
    if (len)
        *len = (size_t)got;
out:
    close(fd);
    return r;
}

/* Write all of buf to fd (EINTR and short writes handled). */
static int
write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int
vdisk_registry_write(vdisk_registry *reg, vdisk_registry_area area, const char *file,
                     const void *data, size_t len, mode_t mode, vdisk_error *err)
{
    int afd = reg->areafd[area];
    vdisk_registry_tmp_reap(afd);      /* left by a crash inside an earlier write */
    char tmp[64];
    int fd = vdisk_registry_tmp_create(afd, mode, tmp, sizeof(tmp));
    if (fd < 0)
        return vdisk_error_set_errno(err, -fd, "registry %s/%s: cannot create a temporary file",
                                     reg->dir, area_names[area]);
    int r = write_all(fd, data, len);
    if (r == 0 && fchmod(fd, mode) < 0)
        r = -errno;
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    /* Held (open) until renamed: nobody reaps it meanwhile. */
    if (r == 0 && renameat(afd, tmp, afd, file) < 0)
        r = -errno;
    if (r < 0)
        unlinkat(afd, tmp, 0);
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "registry %s/%s/%s: cannot write", reg->dir, area_names[area], file);
    if (fsync(afd) < 0)
        return vdisk_error_set_errno(err, errno, "registry %s/%s: fsync", reg->dir, area_names[area]);
    return 0;
}

int
vdisk_registry_remove(vdisk_registry *reg, vdisk_registry_area area, const char *file,
                      vdisk_error *err)
{
    if (unlinkat(reg->areafd[area], file, 0) < 0 && errno != ENOENT)
        return vdisk_error_set_errno(err, errno, "registry %s/%s/%s: cannot remove", reg->dir, area_names[area], file);
    fsync(reg->areafd[area]);
    return 0;
}
