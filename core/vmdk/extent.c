/* libvdisk — the extents of a VMDK descriptor, and the path policy for
 * the files they name.
 *
 * Extent names are resolved against the directory of the descriptor, as
 * VMware and QEMU do ("disk-flat.vmdk" next to "disk.vmdk").
 *
 * Security boundary.  A descriptor is a text file naming other files whose
 * bytes become the disk.  Whoever can write a descriptor that vdisk follows
 * could make a guest read (or write) any host file -- the VMDK cousin of a
 * qcow2 backing file naming /etc/shadow.  So an extent must be a regular
 * file at or below the descriptor's directory (checked on the opened file,
 * through /proc/self/fd, so a symlink cannot lead out either); an absolute
 * name, a ".." component, a device or a FIFO is refused.  The one
 * exception is a descriptor the user opened explicitly: the top image of
 * the open, with its format named by the caller (-f vmdk).  VMDK
 * descriptors are imports an admin hands in, and ESXi or Workstation
 * descriptors may legitimately name absolute paths or devices; naming the
 * format of that file is how the admin vouches for it.  A probed
 * descriptor, the descriptor of a parent (delta) disk, and anything below
 * it stay confined.  A volume created or recorded as raw is never opened as
 * VMDK at all (image.c keeps probed-raw images from acquiring a
 * descriptor's first bytes).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lock.h"
#include "vmdk.h"

/* Did the user name this file and its format? */
static bool
explicit_open(const vdisk_image *img)
{
    return img->depth == 0 && !img->probed;
}

static bool
has_dotdot(const char *name)
{
    for (const char *p = name; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p += n + (slash ? 1 : 0);
    }
    return false;
}

/* The real path of the directory holding `path` (malloc'ed). */
static char *
real_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
    if (!dir)
        return NULL;
    char *real = realpath(dir, NULL);
    free(dir);
    return real;
}

/* The real path of an open file: what /proc says the descriptor is. */
static char *
real_path_of_fd(int fd, const char *path)
{
    char link[64], buf[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, sizeof(buf) - 1);
    if (n <= 0)
        return realpath(path, NULL);   /* no /proc: the name, checked once */
    buf[n] = '\0';
    return strdup(buf);
}

static int
refuse(const vmdk_state *st, const char *name, const char *why, vdisk_error *err)
{
    return vdisk_error_set(err, EPERM, "%s: extent '%s' %s; vdisk follows it only when this "
                           "descriptor is opened with its format named (-f vmdk)",
                           st->img->filename, name, why);
}

/* The name itself, before anything is opened. */
static int
check_name(const vmdk_state *st, const char *name, vdisk_error *err)
{
    if (explicit_open(st->img))
        return 0;
    if (name[0] == '/')
        return refuse(st, name, "has an absolute path", err);
    if (has_dotdot(name))
        return refuse(st, name, "leads out of the descriptor's directory ('..')", err);
    return 0;
}

/* The opened file: a regular file inside the descriptor's directory. */
static int
check_file(const vmdk_state *st, const char *name, const vdisk_file *f, vdisk_error *err)
{
    if (explicit_open(st->img))
        return 0;
    int fd = vdisk_file_host_fd((vdisk_file *)f);
    if (fd < 0)
        return refuse(st, name, "is not a host file", err);
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return vdisk_error_set_errno(err, errno, "%s: stat", f->path);
    if (!S_ISREG(sb.st_mode))
        return refuse(st, name, "is a device or special file, not a regular file", err);
    char *dir = real_dir_of(st->img->filename);
    char *real = real_path_of_fd(fd, f->path);
    int r = 0;
    if (!dir || !real)
        r = vdisk_error_set(err, errno ? errno : ENOMEM, "%s: cannot resolve the path of extent '%s'",
                            st->img->filename, name);
    else if (strncmp(real, dir, strlen(dir)) != 0 ||
             (real[strlen(dir)] != '/' && strcmp(dir, "/") != 0))
        r = refuse(st, name, "lies outside the descriptor's directory (through a symbolic link)", err);
    free(dir);
    free(real);
    return r;
}

/* dir(descriptor) + name, or name when absolute. */
static char *
extent_path(const char *desc, const char *name)
{
    const char *slash = strrchr(desc, '/');
    if (name[0] == '/' || !slash)
        return strdup(name);
    size_t d = (size_t)(slash - desc) + 1, n = strlen(name);
    char *p = malloc(d + n + 1);
    if (p) {
        memcpy(p, desc, d);
        memcpy(p + d, name, n + 1);
    }
    return p;
}

/* Open and lock an extent's file as QEMU would lock it (flat extents as
 * data-only raw files, sparse ones as files with metadata). */
static int
open_file(vmdk_state *st, vmdk_extent *e, const char *name, bool writable, vdisk_error *err)
{
    vdisk_image *img = st->img;
    int r = check_name(st, name, err);
    if (r < 0)
        return r;
    if (!(e->path = extent_path(img->filename, name)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    unsigned flags = (img->flags & VDISK_OPEN_DIRECT) | (writable ? VDISK_OPEN_RDWR : 0);
    r = vdisk_file_open(e->path, flags, &e->file, err);
    if (r < 0) {
        vdisk_error_prefix(err, "%s: cannot open extent", img->filename);
        return r;
    }
    e->own_file = true;
    r = check_file(st, name, e->file, err);
    if (r < 0)
        return r;
    unsigned perm, shared;
    vdisk_format as = e->kind == VMDK_EXTENT_FLAT ? VDISK_FORMAT_RAW : VDISK_FORMAT_VMDK;
    vdisk_lock_perms_for_open(as, img->flags & ~(writable ? 0u : VDISK_OPEN_RDWR), &perm, &shared);
    return vdisk_file_lock(e->file, perm, shared, err);
}

/* The extent kind of a descriptor type word; -ENOTSUP for the ones vdisk
 * does not read. */
static int
kind_of(const vmdk_state *st, const vmdk_desc_extent *d, vmdk_extent_kind *kind, vdisk_error *err)
{
    const char *t = d->type;
    if (strcmp(t, "FLAT") == 0 || strcmp(t, "VMFS") == 0)
        *kind = VMDK_EXTENT_FLAT;
    else if (strcmp(t, "SPARSE") == 0 || strcmp(t, "VMFSSPARSE") == 0)
        *kind = VMDK_EXTENT_SPARSE;
    else if (strcmp(t, "ZERO") == 0)
        *kind = VMDK_EXTENT_ZERO;
    else if (strcmp(t, "SESPARSE") == 0)
        return vdisk_error_set(err, ENOTSUP, "%s: line %u: seSparse extents (ESXi snapshot deltas on "
                               "VMFS-6) are not supported: consolidate the snapshots first",
                               st->img->filename, d->line);
    else if (strcmp(t, "VMFSRDM") == 0 || strcmp(t, "VMFSRAW") == 0)
        return vdisk_error_set(err, ENOTSUP, "%s: line %u: raw device mapping extents are not "
                               "supported: copy the mapped LUN itself", st->img->filename, d->line);
    else
        return vdisk_error_set(err, ENOTSUP, "%s: line %u: unknown extent type '%s'",
                               st->img->filename, d->line, t);
    return 0;
}

static vmdk_extent *
append_extent(vmdk_state *st, vdisk_error *err)
{
    vmdk_extent *v = realloc(st->extents, (st->nextents + 1) * sizeof(*v));
    if (!v) {
        vdisk_error_set(err, ENOMEM, "%s: out of memory", st->img->filename);
        return NULL;
    }
    st->extents = v;
    memset(&v[st->nextents], 0, sizeof(*v));
    return &v[st->nextents++];
}

static int
open_one(vmdk_state *st, const vmdk_desc_extent *d, uint64_t start, vdisk_error *err)
{
    vmdk_extent_kind kind = VMDK_EXTENT_ZERO;
    int r = kind_of(st, d, &kind, err);
    if (r < 0)
        return r;
    if (d->access == VMDK_ACCESS_NOACCESS)
        return vdisk_error_set(err, EACCES, "%s: line %u: extent marked NOACCESS",
                               st->img->filename, d->line);
    vmdk_extent *e = append_extent(st, err);
    if (!e)
        return -ENOMEM;
    e->kind = kind;
    e->start = start;
    e->size = d->sectors * VMDK_SECTOR;
    e->read_only = d->access == VMDK_ACCESS_RDONLY;
    e->flat_offset = d->offset * VMDK_SECTOR;
    if (!(e->type = strdup(d->type)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", st->img->filename);
    if (kind == VMDK_EXTENT_ZERO)
        return 0;
    bool writable = (st->img->flags & VDISK_OPEN_RDWR) && !e->read_only;
    r = open_file(st, e, d->filename, writable, err);
    if (r == 0 && kind == VMDK_EXTENT_SPARSE) {
        r = vmdk_sparse_open(e->file, e->path, writable, &e->sparse, err);
        /* As QEMU: the sparse header, not the descriptor, sizes the extent. */
        if (r == 0)
            e->size = e->sparse->capacity;
    }
    return r;
}

int
vmdk_extents_open(vmdk_state *st, const vmdk_descriptor *d, vdisk_error *err)
{
    uint64_t start = 0;
    for (size_t i = 0; i < d->nextents; i++) {
        if (d->extents[i].sectors == 0)
            continue;   /* as QEMU: an empty extent holds nothing */
        int r = open_one(st, &d->extents[i], start, err);
        if (r < 0)
            return r;
        vmdk_extent *e = &st->extents[st->nextents - 1];
        if (e->size > (UINT64_C(1) << 62) - start)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                        "%s: the extents add up to more than 4 EiB",
                                        st->img->filename);
        start += e->size;
    }
    st->img->size = start;
    return 0;
}

int
vmdk_extents_monolithic(vmdk_state *st, vmdk_sparse *s, vdisk_error *err)
{
    vmdk_extent *e = append_extent(st, err);
    if (!e) {
        vmdk_sparse_free(s);
        return -ENOMEM;
    }
    e->kind = VMDK_EXTENT_SPARSE;
    e->sparse = s;
    e->file = st->img->file;
    e->size = s->capacity;
    e->type = strdup("");
    e->path = strdup(st->img->filename);
    if (!e->type || !e->path)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", st->img->filename);
    s->name = e->path;
    st->img->size = e->size;
    return 0;
}

void
vmdk_extents_close(vmdk_state *st)
{
    for (size_t i = 0; i < st->nextents; i++) {
        vmdk_extent *e = &st->extents[i];
        vmdk_sparse_free(e->sparse);
        if (e->own_file)
            vdisk_file_close(e->file);
        free(e->type);
        free(e->path);
    }
    free(st->extents);
    st->extents = NULL;
    st->nextents = 0;
}

vmdk_extent *
vmdk_extent_find(vmdk_state *st, uint64_t off)
{
    size_t lo = 0, hi = st->nextents;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->extents[mid].start <= off)
            lo = mid;
        else
            hi = mid;
    }
    vmdk_extent *e = st->nextents ? &st->extents[lo] : NULL;
    return e && off >= e->start && off - e->start < e->size ? e : NULL;
}
