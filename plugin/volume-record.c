/* vdisk plugin — the format of each volume, as vdisk recorded it.
 *
 * A volume's format is the one it was created or imported with, never what
 * its bytes look like today: a guest writes the bytes of a raw volume, and a
 * qcow2 header it writes there (naming /etc/shadow as backing file) must not
 * turn the volume into a qcow2 image at the next refresh (the CVE-2008-2004
 * class of bug).  So vdisk records the format when it creates a volume, and
 * probes a file only once: when it first sees it (a file the administrator
 * copied into the pool directory), recording the result.
 *
 * Where the record lives: in the pool directory itself, in the file
 * `.vdisk-volumes` (names starting with ".vdisk-" are vdisk's own: never
 * listed as volumes, refused as volume names).  Not in the embedded
 * registry's config directory, because the libvirt daemon, whose storage
 * driver keeps volume definitions only in memory, manages the same kind of
 * pool and must find the record again after a restart or a reboot; a file in
 * the pool directory serves both, travels with the pool, and guests cannot
 * write it (they write volume contents, never the directory).
 *
 * One line per volume: "FORMAT DEV INODE NAME", then, for a volume created
 * with a backing store outside the pool that the administrator named, a
 * tab and that path (volume-backing.c allows it for this volume only).
 * The inode tells a volume from a different file later put under the same
 * name (probed afresh), and finds the record of a volume the administrator
 * renamed or linked.
 *
 * Concurrency: the file is replaced atomically (hidden temporary file,
 * fsync, rename, fsync of the directory), so readers never lock.  Writers
 * serialise on flock of the file itself, then check that the file they hold
 * is still the one in place (a writer that replaced it released the old
 * one), and re-read it before changing anything: a record is only ever
 * added by "insert if still absent" under that lock.  Creates write their
 * record before the new volume appears under its name, so no refresh can
 * see the new volume without its record.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <vdisk/volume.h>

#include "pool-internal.h"

/* A sanity bound on the file (names are at most 255 bytes). */
#define RECORDS_MAX (64u << 20)

typedef struct vol_record {
    char *name;
    vdisk_format format;
    vdisk_vol_id id;
    char *backing;      /* approved backing file outside the pool, or NULL */
} vol_record;

struct vdisk_vol_records {
    vol_record *v;      /* sorted by name */
    size_t n, cap;
};

void
vdisk_vol_records_free(vdisk_vol_records *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].name);
        free(t->v[i].backing);
    }
    free(t->v);
    free(t);
}

static int
cmp_records(const void *a, const void *b)
{
    return strcmp(((const vol_record *)a)->name, ((const vol_record *)b)->name);
}

static vol_record *
find_name(const vdisk_vol_records *t, const char *name)
{
    vol_record key = { .name = (char *)name };
    return t->n ? bsearch(&key, t->v, t->n, sizeof(*t->v), cmp_records) : NULL;
}

/* The same file: device, inode and, where the file system keeps it, birth
 * time (an inode number is reused at once for the next file created). */
static bool
same_file(const vol_record *r, const vdisk_vol_id *id)
{
    return r->id.dev == id->dev && r->id.ino == id->ino && r->id.btime == id->btime;
}

int
vdisk_vol_id_of(int dirfd, const char *name, vdisk_vol_id *id)
{
    struct statx sx;
    if (statx(dirfd, name ? name : "", (name ? 0 : AT_EMPTY_PATH) | AT_SYMLINK_NOFOLLOW,
              STATX_INO | STATX_BTIME, &sx) < 0)
        return -errno;
    id->dev = (uint64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor);
    id->ino = sx.stx_ino;
    id->btime = (sx.stx_mask & STATX_BTIME) ? (uint64_t)sx.stx_btime.tv_sec * 1000000000u +
                                                 sx.stx_btime.tv_nsec : 0;
    return 0;
}

/* The record of another name for the same file (a rename or a hard link). */
static const vol_record *
find_inode(const vdisk_vol_records *t, const vdisk_vol_id *id)
{
    for (size_t i = 0; i < t->n; i++)
        if (same_file(&t->v[i], id))
            return &t->v[i];
    return NULL;
}

bool
vdisk_vol_records_find(const vdisk_vol_records *t, const char *name, const vdisk_vol_id *id,
                       vdisk_format *fmt)
{
    const vol_record *r = find_name(t, name);
    if (r && same_file(r, id)) {
        *fmt = r->format;
        return true;
    }
    return false;
}

const char *
vdisk_vol_records_backing(const vdisk_vol_records *t, const char *name, const vdisk_vol_id *id)
{
    const vol_record *r = find_name(t, name);
    if (r && same_file(r, id))
        return r->backing;
    return NULL;
}

/* Add or replace the record of name. */
static int
put(vdisk_vol_records *t, const char *name, const vdisk_vol_id *id, vdisk_format fmt,
    const char *backing)
{
    char *b = backing ? strdup(backing) : NULL;
    if (backing && !b)
        return -ENOMEM;
    vol_record *r = find_name(t, name);
    if (!r) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 16;
            vol_record *nv = realloc(t->v, cap * sizeof(*nv));
            if (!nv) {
                free(b);
                return -ENOMEM;
            }
            t->v = nv;
            t->cap = cap;
        }
        char *copy = strdup(name);
        if (!copy) {
            free(b);
            return -ENOMEM;
        }
        r = &t->v[t->n++];
        r->name = copy;
        r->backing = NULL;
    }
    free(r->backing);
    r->backing = b;
    r->format = fmt;
    r->id = *id;
    qsort(t->v, t->n, sizeof(*t->v), cmp_records);
    return 0;
}

static void
drop(vdisk_vol_records *t, const char *name)
{
    vol_record *r = find_name(t, name);
    if (!r)
        return;
    free(r->name);
    free(r->backing);
    size_t i = (size_t)(r - t->v);
    memmove(r, r + 1, (t->n - i - 1) * sizeof(*r));
    t->n--;
}

/* One line "FORMAT DEV INODE BIRTH NAME[<tab>BACKING]" into t. */
static int
parse_line(vdisk_vol_records *t, char *line)
{
    char fmtname[32];
    unsigned long long dev, ino, btime;
    int used = 0;
    vdisk_format fmt;
    if (sscanf(line, "%31s %llu %llu %llu %n", fmtname, &dev, &ino, &btime, &used) != 4 || used == 0)
        return -EINVAL;
    char *backing = strchr(line + used, '\t');
    if (backing)
        *backing++ = '\0';
    if (vdisk_format_from_name(fmtname, &fmt, NULL) < 0 ||
        vdisk_storage_name_check("volume name", line + used, NULL) < 0 ||
        (backing && backing[0] != '/'))
        return -EINVAL;
    vdisk_vol_id id = { .dev = dev, .ino = ino, .btime = btime };
    return put(t, line + used, &id, fmt, backing);
}

static int
parse(vdisk_pool *pool, char *text, vdisk_vol_records **out, vdisk_error *err)
{
    vdisk_vol_records *t = calloc(1, sizeof(*t));
    if (!t)
        return vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    int r = 0;
    unsigned lineno = 0;
    for (char *line = text, *next; r == 0 && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if ((r = parse_line(t, line)) == -ENOMEM)
            vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
        else if (r < 0)
            vdisk_error_set(err, EINVAL, "pool '%s': %s/%s line %u is not a volume record "
                            "(FORMAT DEV INODE BIRTH NAME)", pool->def->name, pool->def->target_path,
                            VDISK_VOL_RECORDS, lineno);
    }
    if (r < 0) {
        vdisk_vol_records_free(t);
        return r;
    }
    *out = t;
    return 0;
}

/* Read the whole file open as fd (-1: none, an empty table). */
static int
read_records(vdisk_pool *pool, int fd, vdisk_vol_records **out, vdisk_error *err)
{
    struct stat st;
    if (fd < 0 || (fstat(fd, &st) == 0 && st.st_size == 0))
        return parse(pool, NULL, out, err);
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > RECORDS_MAX)
        return vdisk_error_set(err, EINVAL, "pool '%s': %s/%s is not a regular file of at most "
                               "%u bytes", pool->def->name, pool->def->target_path,
                               VDISK_VOL_RECORDS, RECORDS_MAX);
    size_t len = (size_t)st.st_size;
    char *text = malloc(len + 1);
    if (!text)
        return vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, text + got, len - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    text[got] = '\0';
    int r = got == len ? parse(pool, text, out, err)
                       : vdisk_error_set_errno(err, errno ? errno : EIO, "pool '%s': cannot read %s/%s",
                                               pool->def->name, pool->def->target_path, VDISK_VOL_RECORDS);
    free(text);
    return r;
}

int
vdisk_vol_records_load(vdisk_pool *pool, vdisk_error *err)
{
    int dirfd = vdisk_pool_dirfd(pool, err);
    if (dirfd < 0)
        return dirfd;
    int fd = openat(dirfd, VDISK_VOL_RECORDS, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT)
        return vdisk_error_set_errno(err, errno, "pool '%s': cannot open %s/%s", pool->def->name,
                                     pool->def->target_path, VDISK_VOL_RECORDS);
    vdisk_vol_records *t;
    int r = read_records(pool, fd, &t, err);
    if (fd >= 0)
        close(fd);
    if (r == 0) {
        vdisk_vol_records_free(pool->records);
        pool->records = t;
    }
    return r;
}

/* Take the writers' lock: flock of the file in place (created empty when
 * missing), retried until the locked file is still the one in place. */
static int
records_lock(vdisk_pool *pool, vdisk_error *err)
{
    for (;;) {
        int fd = openat(pool->dirfd, VDISK_VOL_RECORDS, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return vdisk_error_set_errno(err, errno, "pool '%s': cannot open %s/%s", pool->def->name,
                                         pool->def->target_path, VDISK_VOL_RECORDS);
        struct stat held, now;
        while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
            ;
        if (fstat(fd, &held) == 0 && fstatat(pool->dirfd, VDISK_VOL_RECORDS, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
            held.st_dev == now.st_dev && held.st_ino == now.st_ino)
            return fd;
        close(fd);   /* replaced (or removed) while we waited: take the new one */
    }
}

static int
format_records(const vdisk_vol_records *t, char **out, size_t *len)
{
    size_t cap = 128;
    for (size_t i = 0; i < t->n; i++)
        cap += strlen(t->v[i].name) + (t->v[i].backing ? strlen(t->v[i].backing) + 1 : 0) + 64;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    size_t o = (size_t)snprintf(buf, cap, "# vdisk: the format each volume was created or first "
                                "found with; FORMAT DEV INODE BIRTH NAME[<tab>BACKING]\n");
    for (size_t i = 0; i < t->n; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s %llu %llu %llu %s%s%s\n",
                              vdisk_format_name(t->v[i].format),
                              (unsigned long long)t->v[i].id.dev, (unsigned long long)t->v[i].id.ino,
                              (unsigned long long)t->v[i].id.btime, t->v[i].name, t->v[i].backing ? "\t" : "",
                              t->v[i].backing ? t->v[i].backing : "");
    *out = buf;
    *len = o;
    return 0;
}

/* The directory synced, so that the renamed or removed records file
 * survives a crash; a failure is reported (the change may be lost). */
static int
sync_dir(vdisk_pool *pool, vdisk_error *err)
{
    if (fsync(pool->dirfd) < 0)
        return vdisk_error_set_errno(err, errno, "pool '%s': cannot sync the directory %s after "
                                     "updating %s", pool->def->name, pool->def->target_path,
                                     VDISK_VOL_RECORDS);
    return 0;
}

/* Replace the file with t (removed when t is empty); the caller holds the lock. */
static int
write_records(vdisk_pool *pool, const vdisk_vol_records *t, vdisk_error *err)
{
    int dirfd = pool->dirfd;
    if (t->n == 0) {
        if (unlinkat(dirfd, VDISK_VOL_RECORDS, 0) < 0 && errno != ENOENT)
            return vdisk_error_set_errno(err, errno, "pool '%s': cannot remove %s/%s", pool->def->name,
                                         pool->def->target_path, VDISK_VOL_RECORDS);
        return sync_dir(pool, err);
    }
    char *text;
    size_t len;
    if (format_records(t, &text, &len) < 0)
        return vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    unsigned char rnd[6];
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        memset(rnd, 0x5a, sizeof(rnd));
    char tmp[64];
    snprintf(tmp, sizeof(tmp), VDISK_VOL_TMP_PREFIX "records-%02x%02x%02x%02x%02x%02x",
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
    int r = 0;
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        r = -errno;
    } else {
        vdisk_vol_tmp_hold(fd);     /* a refresh reaps temporary files nobody holds */
        for (size_t done = 0; r == 0 && done < len; ) {
            ssize_t n = write(fd, text + done, len - done);
            if (n < 0 && errno != EINTR)
                r = -errno;
            done += n > 0 ? (size_t)n : 0;
        }
        if (r == 0 && fsync(fd) < 0)
            r = -errno;
        if (r == 0 && renameat(dirfd, tmp, dirfd, VDISK_VOL_RECORDS) < 0)
            r = -errno;
        if (r < 0)
            unlinkat(dirfd, tmp, 0);
        close(fd);
    }
    free(text);
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "pool '%s': cannot write %s/%s", pool->def->name,
                                     pool->def->target_path, VDISK_VOL_RECORDS);
    return sync_dir(pool, err);
}

/* Under the writers' lock: re-read, apply `edit`, write back. */
static int
update(vdisk_pool *pool, int (*edit)(vdisk_pool *, vdisk_vol_records *, void *, vdisk_error *),
       void *opaque, vdisk_error *err)
{
    int r = vdisk_pool_dirfd(pool, err);
    if (r < 0)
        return r;
    int fd = records_lock(pool, err);
    if (fd < 0)
        return fd;
    vdisk_vol_records *t;
    r = read_records(pool, fd, &t, err);
    if (r == 0) {
        r = edit(pool, t, opaque, err);
        if (r > 0)          /* changed: write it */
            r = write_records(pool, t, err);
        else if (r == 0 && t->n == 0)
            r = write_records(pool, t, err);   /* no empty file left by the lock */
        if (r == 0) {
            vdisk_vol_records_free(pool->records);
            pool->records = t;
        } else {
            vdisk_vol_records_free(t);
        }
    }
    close(fd);
    return r;
}

typedef struct set_args {
    const char *name;
    const vdisk_vol_id *id;
    vdisk_format fmt;
    const char *backing;
} set_args;

static int
edit_set(vdisk_pool *pool, vdisk_vol_records *t, void *opaque, vdisk_error *err)
{
    set_args *a = opaque;
    if (put(t, a->name, a->id, a->fmt, a->backing) < 0)
        return vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    return 1;
}

int
vdisk_vol_record_set(vdisk_pool *pool, const char *name, const vdisk_vol_id *id, vdisk_format fmt,
                     const char *backing, vdisk_error *err)
{
    /* a path that cannot be written on one line is simply not approved */
    for (const char *c = backing; c && *c; c++)
        if ((unsigned char)*c < 0x20)
            backing = NULL;
    set_args a = { .name = name, .id = id, .fmt = fmt, .backing = backing };
    return update(pool, edit_set, &a, err);
}

static int
edit_remove(vdisk_pool *pool, vdisk_vol_records *t, void *opaque, vdisk_error *err)
{
    (void)pool, (void)err;
    set_args *a = opaque;
    const vol_record *r = find_name(t, a->name);
    if (!r || (a->id && !same_file(r, a->id)))
        return 0;
    drop(t, a->name);
    return 1;
}

int
vdisk_vol_record_remove(vdisk_pool *pool, const char *name, const vdisk_vol_id *id, vdisk_error *err)
{
    set_args a = { .name = name, .id = id };
    return update(pool, edit_remove, &a, err);
}

/* The format of a file vdisk has no record of: the record of another name
 * of the same file, else what its header says (probed once, now). */
static int
edit_adopt(vdisk_pool *pool, vdisk_vol_records *t, void *opaque, vdisk_error *err)
{
    set_args *a = opaque;
    if (vdisk_vol_records_find(t, a->name, a->id, &a->fmt))
        return 0;           /* recorded meanwhile (a create that just finished) */
    const vol_record *other = find_inode(t, a->id);
    if (other) {
        a->fmt = other->format;
        a->backing = other->backing;    /* copied by put() before t changes */
    } else {
        char path[VDISK_FD_PATH_MAX + 300];
        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", pool->dirfd, a->name);
        vdisk_error perr = { 0 };
        int r = vdisk_probe(path, &a->fmt, &perr);
        if (r < 0) {
            char *real = vdisk_vol_path(pool, a->name);
            vdisk_error_rename(&perr, path, real);
            free(real);
            if (err)
                *err = perr;
            return r;
        }
    }
    return edit_set(pool, t, a, err);
}

/* Probe again, whatever was recorded (an image uploaded over the volume). */
static int
edit_reprobe(vdisk_pool *pool, vdisk_vol_records *t, void *opaque, vdisk_error *err)
{
    drop(t, ((set_args *)opaque)->name);
    return edit_adopt(pool, t, opaque, err);
}

int
vdisk_vol_record_probe(vdisk_pool *pool, const char *name, int fd, vdisk_error *err)
{
    vdisk_vol_id id;
    if (pool->formats.lookup)
        return 0;
    int r = vdisk_vol_id_of(fd, NULL, &id);
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "pool '%s': cannot stat volume '%s'", pool->def->name, name);
    set_args a = { .name = name, .id = &id, .fmt = VDISK_FORMAT_UNKNOWN };
    return update(pool, edit_reprobe, &a, err);
}

int
vdisk_vol_format_of(vdisk_pool *pool, const char *name, int fd, vdisk_format *fmt, vdisk_error *err)
{
    vdisk_vol_id id;
    if (pool->formats.lookup)
        return pool->formats.lookup(pool->formats.opaque, name, fmt, err);
    int r = vdisk_vol_id_of(fd, NULL, &id);
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "pool '%s': cannot stat volume '%s'", pool->def->name, name);
    r = pool->records ? 0 : vdisk_vol_records_load(pool, err);
    if (r < 0)
        return r;
    if (vdisk_vol_records_find(pool->records, name, &id, fmt))
        return 0;
    set_args a = { .name = name, .id = &id, .fmt = VDISK_FORMAT_UNKNOWN };
    if ((r = update(pool, edit_adopt, &a, err)) < 0)
        return r;
    *fmt = a.fmt;
    return 0;
}

int
vdisk_vol_records_drop_if_alone(const char *dir, vdisk_error *err)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 0;       /* rmdir will say what is wrong */
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    bool alone = d != NULL, found = false;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (!strcmp(e->d_name, VDISK_VOL_RECORDS))
            found = true;
        else
            alone = false;
    }
    if (d)
        closedir(d);
    else if (fd >= 0)
        close(fd);
    int r = 0;
    if (alone && found && unlinkat(dfd, VDISK_VOL_RECORDS, 0) < 0 && errno != ENOENT)
        r = vdisk_error_set_errno(err, errno, "cannot remove %s/%s", dir, VDISK_VOL_RECORDS);
    close(dfd);
    return r;
}
