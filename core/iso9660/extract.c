/* libvdisk — extracting files from an ISO image, safely.
 *
 * Everything is created relative to a directory descriptor of the
 * destination, one path component at a time, with O_NOFOLLOW: a symlink
 * already in the destination (or one just extracted from the image) is
 * never followed, so nothing can be written outside it.  Names from the
 * image that are empty, "." or ".." or hold '/' are refused.  Directories
 * get their final mode and time after their contents are written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iso9660.h"

#define COPY_CHUNK (1u << 20)

typedef struct dir_fixup {
    char *rel;
    uint32_t mode;
    int64_t mtime;
} dir_fixup;

typedef struct ex_state {
    vdisk_iso *iso;
    const char *dest;
    int root_fd;
    int cur_fd;                 /* cached descriptor of cur_dir (-1: none) */
    char cur_dir[8192];
    uint8_t *buf;
    dir_fixup *fix;
    size_t n_fix, cap_fix;
    bool no_copy_range;         /* copy_file_range failed once: use the buffer */
    vdisk_error *err;
} ex_state;

static int
fail_errno(ex_state *s, int e, const char *rel, const char *what)
{
    return vdisk_error_set_errno(s->err, e, "%s: extracting /%s: %s/%s: %s", s->iso->file->path, rel,
                                 s->dest, rel, what);
}

static bool
name_ok(const char *name)
{
    return name[0] && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && !strchr(name, '/');
}

/* A descriptor of directory `rel` ("" = dest), creating missing parts. */
static int
open_dir(ex_state *s, const char *rel, int *out)
{
    int fd = dup(s->root_fd);
    if (fd < 0)
        return fail_errno(s, errno, rel, "dup");
    for (const char *p = rel; *p;) {
        size_t len = strcspn(p, "/");
        char comp[1024];
        if (len >= sizeof(comp)) {
            close(fd);
            return fail_errno(s, ENAMETOOLONG, rel, "path component too long");
        }
        memcpy(comp, p, len);
        comp[len] = '\0';
        /* Directories not in the walk (parents of a PATH) keep this mode. */
        if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
            int e = errno;
            close(fd);
            return fail_errno(s, e, rel, "cannot create directory");
        }
        int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(fd);
        if (nfd < 0)
            return fail_errno(s, e, rel, e == ELOOP || e == ENOTDIR
                              ? "refusing to go through a symlink or non-directory in the destination"
                              : "cannot open directory");
        fd = nfd;
        p += len;
        while (*p == '/')
            p++;
    }
    *out = fd;
    return 0;
}

/* The cached descriptor of the parent directory of rel, and the last name. */
static int
parent_of(ex_state *s, const char *rel, int *fd, const char **name)
{
    const char *slash = strrchr(rel, '/');
    size_t plen = slash ? (size_t)(slash - rel) : 0;
    *name = slash ? slash + 1 : rel;
    if (plen >= sizeof(s->cur_dir))
        return fail_errno(s, ENAMETOOLONG, rel, "path too long");
    if (s->cur_fd >= 0 && strlen(s->cur_dir) == plen && memcmp(s->cur_dir, rel, plen) == 0) {
        *fd = s->cur_fd;
        return 0;
    }
    if (s->cur_fd >= 0)
        close(s->cur_fd);
    s->cur_fd = -1;
    memcpy(s->cur_dir, rel, plen);
    s->cur_dir[plen] = '\0';
    int r = open_dir(s, s->cur_dir, &s->cur_fd);
    *fd = s->cur_fd;
    return r;
}

/* Bounce-buffer copy of [off, end) of the file's data (the slow path). */
static int
copy_buffered(ex_state *s, const vdisk_iso_entry *e, int fd, uint64_t off, const char *rel)
{
    while (off < e->size) {
        size_t n = e->size - off < COPY_CHUNK ? (size_t)(e->size - off) : COPY_CHUNK;
        int r = vdisk_iso_pread(s->iso, e, s->buf, n, off, s->err);
        if (r < 0)
            return r;
        for (size_t done = 0; done < n;) {
            ssize_t w = pwrite(fd, s->buf + done, n - done, (off_t)(off + done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return fail_errno(s, errno, rel, "write");
            done += (size_t)w;
        }
        off += n;
    }
    return 0;
}

/* Copy the data in the kernel (copy_file_range) extent by extent; fall back
 * to the bounce buffer where the file systems cannot, remembering it. */
static int
copy_data(ex_state *s, const vdisk_iso_entry *e, int fd, const char *rel)
{
    uint64_t done = 0;
    /* zisofs data must be inflated: only the buffered path can. */
    int in_fd = vdisk_file_host_fd(s->iso->file);
    for (size_t i = 0; i < e->n_extents && in_fd >= 0 && !s->no_copy_range && !e->zisofs; i++) {
        const vdisk_iso_extent *x = &e->extents[i];
        uint64_t len = x->length;
        if ((uint64_t)x->lba * ISO_SECTOR + len > s->iso->file_size)
            return vdisk_iso_pread(s->iso, e, s->buf, 1, done, s->err);   /* reports it */
        loff_t in = (loff_t)x->lba * ISO_SECTOR, out = (loff_t)done;
        while (len > 0) {
            ssize_t n = copy_file_range(in_fd, &in, fd, &out, len, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
                s->no_copy_range = true;
                break;
            }
            if (n < 0)
                return fail_errno(s, errno, rel, "copy");
            if (n == 0)
                return vdisk_error_set(s->err, EIO, "%s: '%s': data ends early", s->iso->file->path, e->name);
            len -= (uint64_t)n;
            done += (uint64_t)n;
        }
    }
    return copy_buffered(s, e, fd, done, rel);
}

static int
extract_file(ex_state *s, int dfd, const char *name, const vdisk_iso_entry *e, const char *rel)
{
    /* A fresh inode: an existing file may be a hard link to something
     * outside the destination, so it is unlinked, not truncated. */
    if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
        return fail_errno(s, errno, rel, "cannot replace the existing entry");
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail_errno(s, errno, rel, errno == ELOOP ? "refusing to write through a symlink"
                                                        : "cannot create file");
    int r = copy_data(s, e, fd, rel);
    struct timespec ts[2] = { { .tv_sec = e->atime }, { .tv_sec = e->mtime } };
    if (r == 0 && fchmod(fd, e->mode & 0777) < 0)
        r = fail_errno(s, errno, rel, "chmod");
    if (r == 0 && e->mtime != VDISK_ISO_TIME_UNSET && futimens(fd, ts) < 0)
        r = fail_errno(s, errno, rel, "set times");
    if (close(fd) < 0 && r == 0)
        r = fail_errno(s, errno, rel, "close");
    return r;
}

static int
extract_link(ex_state *s, int dfd, const char *name, const vdisk_iso_entry *e, const char *rel)
{
    if (symlinkat(e->link_target ? e->link_target : "", dfd, name) < 0) {
        struct stat st;
        /* Replace an old symlink of that name; never anything else. */
        if (errno != EEXIST || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode) ||
            unlinkat(dfd, name, 0) < 0 || symlinkat(e->link_target, dfd, name) < 0)
            return fail_errno(s, errno, rel, "cannot create symlink");
    }
    struct timespec ts[2] = { { .tv_sec = e->atime }, { .tv_sec = e->mtime } };
    if (e->mtime != VDISK_ISO_TIME_UNSET)
        utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
    return 0;
}

static int
note_dir(ex_state *s, const vdisk_iso_entry *e, const char *rel)
{
    if (s->n_fix == s->cap_fix) {
        size_t cap = s->cap_fix ? 2 * s->cap_fix : 64;
        dir_fixup *nv = realloc(s->fix, cap * sizeof(*nv));
        if (!nv)
            return fail_errno(s, ENOMEM, rel, "out of memory");
        s->fix = nv;
        s->cap_fix = cap;
    }
    dir_fixup *f = &s->fix[s->n_fix];
    if (!(f->rel = strdup(rel)))
        return fail_errno(s, ENOMEM, rel, "out of memory");
    f->mode = e->mode & 0777;
    f->mtime = e->mtime;
    s->n_fix++;
    return 0;
}

/* Walk callback: one entry at its absolute image path. */
static int
extract_one(void *opaque, const char *full, const vdisk_iso_entry *e)
{
    ex_state *s = opaque;
    const char *rel = full + 1;
    if (*rel == '\0')
        return 0;   /* the root is the destination itself */
    if (!name_ok(e->name))
        return vdisk_error_set(s->err, EINVAL, "%s: refusing to extract %s: the name '%s' is not a "
                               "plain file name", s->iso->file->path, full, e->name);
    int dfd = -1;
    const char *name;
    int r = parent_of(s, rel, &dfd, &name);
    if (r < 0)
        return r;
    if (iso_entry_is_dir(e)) {
        int fd;
        r = open_dir(s, rel, &fd);
        if (r == 0) {
            close(fd);
            r = note_dir(s, e, rel);
        }
        return r;
    }
    if (S_ISLNK(e->mode))
        return extract_link(s, dfd, name, e, rel);
    if (S_ISREG(e->mode))
        return extract_file(s, dfd, name, e, rel);
    return 0;   /* devices, fifos and sockets are not recreated */
}

/* Give directories their modes and times, deepest first. */
static int
fix_dirs(ex_state *s)
{
    int r = 0;
    for (size_t i = s->n_fix; i-- > 0;) {
        dir_fixup *f = &s->fix[i];
        int fd;
        if (r == 0 && open_dir(s, f->rel, &fd) == 0) {
            struct timespec ts[2] = { { .tv_sec = f->mtime }, { .tv_sec = f->mtime } };
            if (fchmod(fd, f->mode) < 0)
                r = fail_errno(s, errno, f->rel, "chmod");
            if (f->mtime != VDISK_ISO_TIME_UNSET)
                futimens(fd, ts);
            close(fd);
        }
        free(f->rel);
    }
    return r;
}

int
vdisk_iso_extract(vdisk_iso *iso, const char *const *paths, size_t n, const char *dest, vdisk_error *err)
{
    ex_state s = { .iso = iso, .dest = dest, .cur_fd = -1, .err = err };
    s.root_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s.root_fd < 0)
        return vdisk_error_set_errno(err, errno, "%s: cannot open destination directory %s",
                                     iso->file->path, dest);
    int r = 0;
    if (!(s.buf = malloc(COPY_CHUNK)))
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", iso->file->path);
    static const char *const all[] = { "/" };
    if (n == 0) {
        paths = all;
        n = 1;
    }
    for (size_t i = 0; r == 0 && i < n; i++)
        r = vdisk_iso_walk(iso, paths[i], extract_one, &s, err);
    if (s.cur_fd >= 0)
        close(s.cur_fd);
    int rf = fix_dirs(&s);
    free(s.fix);
    free(s.buf);
    close(s.root_fd);
    return r < 0 ? r : rf;
}
