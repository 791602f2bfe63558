/* libvdisk — the rbd protocol: a Ceph RBD image through librbd.
 *
 * One cluster connection per handle (as QEMU's rbd driver), opened from
 * the name's conf= file (else Ceph's default search), id= user and any
 * other KEY=VALUE as Ceph options -- an unknown option is refused by
 * librados, never ignored.  Without a bound a missing monitor would hang
 * the client for librados' default five minutes, so the mount and
 * operation timeouts get defaults of their own (the name can override them).
 *
 * RBD images do not grow on write: a write past the end resizes first
 * (as QEMU does), so formats with metadata (qcow2) grow on RBD as on a file.
 * A resize is a round trip to the image header that every watcher hears
 * about, and qcow2 grows a cluster at a time, so the image grows in steps
 * (GROW_STEP_MIN up to an eighth of its size) and is cut back to the length
 * written when it is closed.
 * A writer takes RBD's exclusive lock in exclusive mode (rbd_lock_acquire):
 * another client's open for writing then fails instead of taking the lock
 * over, which is what QEMU's OFD locks give on files.
 *
 * librbd's synchronous calls are safe from several threads at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbd.h"

/* Seconds: reaching the monitors, a monitor command, an OSD operation. */
#define DEFAULT_MOUNT_TIMEOUT "10"
#define DEFAULT_MON_OP_TIMEOUT "30"
#define DEFAULT_OSD_OP_TIMEOUT "120"
/* Growth past the end: at least this much at once, at most this much more. */
#define GROW_STEP_MIN (UINT64_C(16) << 20)
#define GROW_STEP_MAX (UINT64_C(1) << 30)

static const struct {
    const char *key, *value;
} default_timeouts[] = {
    { "client_mount_timeout", DEFAULT_MOUNT_TIMEOUT },
    { "rados_mon_op_timeout", DEFAULT_MON_OP_TIMEOUT },
    { "rados_osd_op_timeout", DEFAULT_OSD_OP_TIMEOUT },
};

/* What a librados/librbd error means to the person who named the image. */
static int
cluster_error(const char *name, int r, const char *what, vdisk_error *err)
{
    const char *hint = "";
    if (r == -ETIMEDOUT)
        hint = " (no answer from the cluster's monitors: check mon_host / conf=, and that the "
               "cluster is up)";
    else if (r == -EACCES || r == -EPERM)
        hint = " (authentication refused: check id= and the keyring)";
    else if (r == -ENOENT && strstr(what, "connect"))
        hint = " (no keyring for this user: check id= and keyring=)";
    return vdisk_error_set_errno(err, -r, "%s: cannot %s%s", name, what, hint);
}

/* Our timeout defaults, unless the name sets the same option. */
static int
set_default_timeouts(rados_t cluster, const vdisk_location *loc, vdisk_error *err)
{
    for (size_t i = 0; i < sizeof(default_timeouts) / sizeof(default_timeouts[0]); i++) {
        bool named = false;
        for (size_t j = 0; j < loc->nopts; j++)
            named |= strcmp(loc->opts[j].key, default_timeouts[i].key) == 0;
        int r = named ? 0 : rados_conf_set(cluster, default_timeouts[i].key, default_timeouts[i].value);
        if (r < 0)
            return cluster_error(loc->name, r, "set a Ceph timeout", err);
    }
    return 0;
}

/* Configure (conf file, user, options), connect, and open the pool.
 * no_cache: cache=none, as QEMU maps it: librbd's own cache off. */
static int
connect_pool(const vdisk_location *loc, bool no_cache, rados_t *cluster, rados_ioctx_t *io,
             vdisk_error *err)
{
    rados_t c;
    int r = rados_create(&c, loc->user);
    if (r < 0)
        return cluster_error(loc->name, r, "create a Ceph client", err);
    /* As QEMU: without conf= try Ceph's default places, quietly. */
    r = rados_conf_read_file(c, loc->conf);
    if (r < 0 && !loc->conf)
        r = 0;
    if (r < 0)
        r = cluster_error(loc->name, r, "read the configuration file", err);
    if (r == 0)
        r = set_default_timeouts(c, loc, err);
    for (size_t i = 0; r == 0 && i < loc->nopts; i++) {
        r = rados_conf_set(c, loc->opts[i].key, loc->opts[i].value);
        if (r == -ENOENT)
            r = vdisk_error_set(err, EINVAL, "%s: '%s' is not a Ceph option", loc->name,
                                loc->opts[i].key);
        else if (r < 0)
            r = vdisk_error_set_errno(err, -r, "%s: Ceph refused option %s=%s", loc->name,
                                      loc->opts[i].key, loc->opts[i].value);
    }
    if (r == 0 && no_cache && (r = rados_conf_set(c, "rbd_cache", "false")) < 0)
        r = cluster_error(loc->name, r, "turn librbd's cache off", err);
    if (r == 0 && (r = rados_connect(c)) < 0)
        r = cluster_error(loc->name, r, "connect to the Ceph cluster", err);
    if (r == 0 && (r = rados_ioctx_create(c, loc->pool, io)) < 0)
        r = r == -ENOENT ? vdisk_error_set(err, ENOENT, "%s: pool '%s' does not exist", loc->name, loc->pool)
                         : cluster_error(loc->name, r, "open the pool", err);
    if (r < 0) {
        rados_shutdown(c);
        return r;
    }
    if (loc->ns)
        rados_ioctx_set_namespace(*io, loc->ns);
    *cluster = c;
    return 0;
}

static void
rbd_file_free(rbd_file *p)
{
    /* Cut a step of growth back to what was written (best effort: a
     * longer image only holds zeros past its data). */
    if (p->image && p->rbd_size > atomic_load(&p->size))
        rbd_resize(p->image, atomic_load(&p->size));
    if (p->image)
        rbd_close(p->image);
    if (p->io)
        rados_ioctx_destroy(p->io);
    if (p->cluster)
        rados_shutdown(p->cluster);
    vdisk_location_clear(&p->where);
    pthread_mutex_destroy(&p->grow_lock);
    free(p);
}

/* Keep what identifies the image (same_as, remove). */
static int
copy_where(rbd_file *p, const vdisk_location *loc, vdisk_error *err)
{
    return vdisk_location_parse(loc->name, &p->where, err);
}

static int
connect_handle(vdisk_file *f, const vdisk_location *loc, bool no_cache, rbd_file **out,
               vdisk_error *err)
{
    rbd_file *p = calloc(1, sizeof(*p));
    if (!p)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", f->path);
    pthread_mutex_init(&p->grow_lock, NULL);
    int r = copy_where(p, loc, err);
    if (r == 0)
        r = connect_pool(loc, no_cache, &p->cluster, &p->io, err);
    if (r < 0) {
        rbd_file_free(p);
        return r;
    }
    *out = p;
    return 0;
}

static int
open_image(vdisk_file *f, rbd_file *p, const vdisk_location *loc, bool rw, vdisk_error *err)
{
    int r = rw ? rbd_open(p->io, loc->image, &p->image, NULL)
               : rbd_open_read_only(p->io, loc->image, &p->image, loc->snap);
    if (r < 0)
        p->image = NULL;
    if (r == -ENOENT && loc->snap && !rw)
        return vdisk_error_set(err, ENOENT, "%s: image '%s' or its snapshot '%s' does not exist in "
                               "pool '%s'", f->path, loc->image, loc->snap, loc->pool);
    if (r == -ENOENT)
        return vdisk_error_set(err, ENOENT, "%s: image '%s' does not exist in pool '%s'", f->path,
                               loc->image, loc->pool);
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "%s: cannot open the image", f->path);
    uint64_t size;
    r = rbd_get_size(p->image, &size);
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "%s: cannot read the image size", f->path);
    atomic_store(&p->size, size);
    p->rbd_size = size;
    return 0;
}

/* Open an existing image (a snapshot only read-only); cache=none turns
 * librbd's cache off. */
static int
rbd_proto_open(vdisk_file *f, const vdisk_location *loc, unsigned flags, vdisk_error *err)
{
    bool rw = flags & VDISK_OPEN_RDWR;
    if (rw && loc->snap)
        return vdisk_error_set(err, EROFS, "%s: RBD snapshots are read-only", f->path);
    rbd_file *p;
    int r = connect_handle(f, loc, flags & VDISK_OPEN_DIRECT, &p, err);
    if (r < 0)
        return r;
    r = open_image(f, p, loc, rw, err);
    if (r < 0) {
        rbd_file_free(p);
        return r;
    }
    f->priv = p;
    return 0;
}

/* Who holds the exclusive lock, for the message. */
static void
describe_owner(rbd_file *p, char *buf, size_t len)
{
    rbd_lock_mode_t mode;
    char *owners[4];
    size_t n = 4;
    snprintf(buf, len, "another client");
    if (rbd_lock_get_owners(p->image, &mode, owners, &n) == 0 && n > 0) {
        snprintf(buf, len, "client %s", owners[0]);
        rbd_lock_get_owners_cleanup(owners, n);
    }
}

static int
in_use(vdisk_file *f, rbd_file *p, vdisk_error *err)
{
    char owner[160];
    describe_owner(p, owner, sizeof(owner));
    return vdisk_error_set(err, EBUSY, "%s: image is in use: %s holds its exclusive lock "
                           "(another writer has it open)", f->path, owner);
}

/* Does another client own the exclusive lock right now? */
static bool
owned_by_another(rbd_file *p)
{
    rbd_lock_mode_t mode;
    char *owners[4];
    size_t n = 4;
    if (rbd_lock_get_owners(p->image, &mode, owners, &n) < 0 || n == 0)
        return false;
    rbd_lock_get_owners_cleanup(owners, n);
    return true;
}

/* A writer's lock: RBD's exclusive lock in exclusive mode.  A client that
 * owns the lock already (a running VM: QEMU takes it on its first write
 * and would hand it over on request) is never asked to give it up. */
static int
take_exclusive_lock(vdisk_file *f, rbd_file *p, vdisk_error *err)
{
    if (p->lock_held)
        return 0;
    if (owned_by_another(p))
        return in_use(f, p, err);
    int r = rbd_lock_acquire(p->image, RBD_LOCK_MODE_EXCLUSIVE);
    if (r == -EINVAL) {
        uint64_t features = 0;
        if (rbd_get_features(p->image, &features) == 0 && !(features & RBD_FEATURE_EXCLUSIVE_LOCK))
            return 0;   /* no exclusive-lock feature: nothing to lock with, as QEMU */
    }
    if (r == -EROFS || r == -EBUSY || r == -EAGAIN)
        return in_use(f, p, err);
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "%s: cannot take the image's exclusive lock", f->path);
    p->lock_held = true;
    return 0;
}

/* Create a new image of size 0 (the format driver sizes it) and lock it.
 * An existing image is refused, as qemu-img create does. */
static int
rbd_proto_create(vdisk_file *f, const vdisk_location *loc, bool nocow, vdisk_error *err)
{
    if (nocow)
        return vdisk_error_set(err, ENOTSUP, "%s: nocow applies to files on copy-on-write file "
                               "systems, not to RBD images", f->path);
    if (loc->snap)
        return vdisk_error_set(err, EINVAL, "%s: cannot create a snapshot as an image", f->path);
    rbd_file *p;
    int r = connect_handle(f, loc, false, &p, err);
    if (r < 0)
        return r;
    rbd_image_options_t opts;
    rbd_image_options_create(&opts);
    r = rbd_create4(p->io, loc->image, 0, opts);
    rbd_image_options_destroy(opts);
    if (r == -EEXIST)
        r = vdisk_error_set(err, EEXIST, "%s: image '%s' already exists in pool '%s'", f->path,
                            loc->image, loc->pool);
    else if (r < 0)
        r = vdisk_error_set_errno(err, -r, "%s: cannot create the image", f->path);
    if (r < 0) {
        rbd_file_free(p);
        return r;
    }
    f->priv = p;
    r = open_image(f, p, loc, true, err);
    if (r == 0)
        r = take_exclusive_lock(f, p, err);
    if (r < 0) {
        if (p->image) {
            rbd_close(p->image);
            p->image = NULL;
        }
        rbd_remove(p->io, loc->image);   /* nothing half-made */
        rbd_file_free(p);
        f->priv = NULL;
        return r;
    }
    return 0;
}

/* Close the image and the cluster connection. */
static void
rbd_proto_close(vdisk_file *f)
{
    if (f->priv)
        rbd_file_free(f->priv);
    f->priv = NULL;
}

/* A create that failed: close the image, then remove it. */
static void
rbd_proto_remove_created(vdisk_file *f)
{
    rbd_file *p = f->priv;
    if (!p || !p->image)
        return;
    rbd_close(p->image);
    p->image = NULL;
    rbd_remove(p->io, p->where.image);
}

/* Remove by name (convert's failed target). */
static void
rbd_proto_remove(const vdisk_location *loc)
{
    rados_t cluster;
    rados_ioctx_t io;
    if (loc->snap || connect_pool(loc, false, &cluster, &io, NULL) < 0)
        return;
    rbd_remove(io, loc->image);
    rados_ioctx_destroy(io);
    rados_shutdown(cluster);
}

/* Read; past the end reads as zeros. */
static int
rbd_proto_pread(vdisk_file *f, void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    rbd_file *p = f->priv;
    uint64_t size = atomic_load(&p->size);
    size_t n = off >= size ? 0 : (size - off < len ? (size_t)(size - off) : len);
    size_t done = 0;
    while (done < n) {
        ssize_t r = rbd_read(p->image, off + done, n - done, (char *)buf + done);
        if (r < 0)
            return vdisk_error_set_errno(err, (int)-r, "%s: read of %zu bytes at offset 0x%llx failed",
                                         f->path, len, (unsigned long long)off);
        if (r == 0)
            break;
        done += (size_t)r;
    }
    memset((char *)buf + done, 0, len - done);
    return 0;
}

/* Make the image at least `end` bytes long, resizing the RBD image a step
 * ahead.  (size only grows under grow_lock, so readers need no lock.) */
static int
grow_to(vdisk_file *f, rbd_file *p, uint64_t end, vdisk_error *err)
{
    if (end <= atomic_load(&p->size))
        return 0;
    pthread_mutex_lock(&p->grow_lock);
    int r = 0;
    if (end > p->rbd_size) {
        uint64_t step = p->rbd_size / 8;
        step = step < GROW_STEP_MIN ? GROW_STEP_MIN : step > GROW_STEP_MAX ? GROW_STEP_MAX : step;
        uint64_t target = end > p->rbd_size + step ? end : p->rbd_size + step;
        r = rbd_resize(p->image, target);
        if (r == 0)
            p->rbd_size = target;
    }
    if (r == 0 && end > atomic_load(&p->size))
        atomic_store(&p->size, end);
    pthread_mutex_unlock(&p->grow_lock);
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "%s: cannot grow the image to %llu bytes", f->path,
                                     (unsigned long long)end);
    return 0;
}

/* Write, growing the image first when the write ends past it. */
static int
rbd_proto_pwrite(vdisk_file *f, const void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    rbd_file *p = f->priv;
    int r = grow_to(f, p, off + len, err);
    if (r < 0)
        return r;
    size_t done = 0;
    while (done < len) {
        ssize_t w = rbd_write(p->image, off + done, len - done, (const char *)buf + done);
        if (w <= 0)
            return vdisk_error_set_errno(err, w < 0 ? (int)-w : EIO,
                                         "%s: write of %zu bytes at offset 0x%llx failed", f->path,
                                         len, (unsigned long long)off);
        done += (size_t)w;
    }
    return 0;
}

/* rbd_flush: acknowledged writes reach the OSDs. */
static int
rbd_proto_flush(vdisk_file *f, vdisk_error *err)
{
    rbd_file *p = f->priv;
    int r = rbd_flush(p->image);
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "%s: flush failed", f->path);
    return 0;
}

/* The size read at open, kept by our own resizes. */
static int
rbd_proto_get_length(vdisk_file *f, uint64_t *len, vdisk_error *err)
{
    (void)err;
    *len = atomic_load(&((rbd_file *)f->priv)->size);
    return 0;
}

/* rbd_resize, either way. */
static int
rbd_proto_truncate(vdisk_file *f, uint64_t len, vdisk_error *err)
{
    rbd_file *p = f->priv;
    pthread_mutex_lock(&p->grow_lock);
    int r = rbd_resize(p->image, len);
    if (r == 0) {
        atomic_store(&p->size, len);
        p->rbd_size = len;
    }
    pthread_mutex_unlock(&p->grow_lock);
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "%s: cannot resize the image to %llu bytes", f->path,
                                     (unsigned long long)len);
    return 0;
}

/* rbd_write_zeroes: deallocates whole objects when allowed, else keeps
 * them allocated (thick provisioning). */
static int
rbd_proto_zero(vdisk_file *f, uint64_t off, uint64_t len, bool may_unmap, vdisk_error *err)
{
    rbd_file *p = f->priv;
    int r = grow_to(f, p, off + len, err);
    if (r < 0)
        return r;
    int flags = may_unmap ? 0 : RBD_WRITE_ZEROES_FLAG_THICK_PROVISION;
    ssize_t w = rbd_write_zeroes(p->image, off, (size_t)len, flags, 0);
    if (w == -EOPNOTSUPP || w == -ENOTSUP)
        return -ENOTSUP;
    if (w < 0)
        return vdisk_error_set_errno(err, (int)-w, "%s: cannot zero %llu bytes at offset 0x%llx",
                                     f->path, (unsigned long long)len, (unsigned long long)off);
    return 0;
}

/* rbd_discard inside the image (librbd zeroes what it cannot free). */
static int
rbd_proto_punch_hole(vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err)
{
    rbd_file *p = f->priv;
    uint64_t size = atomic_load(&p->size);
    if (off >= size)
        return 0;
    if (len > size - off)
        len = size - off;
    int r = rbd_discard(p->image, off, len);
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "%s: cannot discard at offset 0x%llx", f->path,
                                     (unsigned long long)off);
    return 0;
}

/* Writers (write or resize permission) hold the exclusive lock; readers
 * need nothing. */
static int
rbd_proto_lock(vdisk_file *f, unsigned perm, unsigned shared, vdisk_error *err)
{
    (void)shared;
    if (!(perm & (VDISK_PERM_WRITE | VDISK_PERM_RESIZE)) || f->read_only)
        return 0;
    return take_exclusive_lock(f, f->priv, err);
}

/* Same pool, namespace, image and snapshot. */
static bool
rbd_proto_same_as(vdisk_file *f, const vdisk_location *loc)
{
    return vdisk_location_same(&((rbd_file *)f->priv)->where, loc);
}

/* Images are created new (an existing one is refused): all zeros. */
static bool
rbd_proto_zero_init(vdisk_file *f)
{
    (void)f;
    return true;
}

const struct vdisk_protocol vdisk_protocol_rbd = {
    .name = "rbd",
    .open = rbd_proto_open,
    .create = rbd_proto_create,
    .close = rbd_proto_close,
    .remove_created = rbd_proto_remove_created,
    .remove = rbd_proto_remove,
    .pread = rbd_proto_pread,
    .pwrite = rbd_proto_pwrite,
    .flush = rbd_proto_flush,
    .get_length = rbd_proto_get_length,
    .truncate = rbd_proto_truncate,
    .allocated = vdisk_rbd_allocated,
    .zero = rbd_proto_zero,
    .punch_hole = rbd_proto_punch_hole,
    .extent = vdisk_rbd_extent,
    .lock = rbd_proto_lock,
    .same_as = rbd_proto_same_as,
    .zero_init = rbd_proto_zero_init,
};
