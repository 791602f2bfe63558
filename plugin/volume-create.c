/* vdisk plugin — creating volumes: the provisioning plan a definition asks
 * for (thin, lazy- or eager-zeroed thick, thin with a reservation), the
 * space and overcommit checks made before a byte is written, and the
 * write-to-a-hidden-file-then-rename sequence that leaves nothing behind
 * when anything fails.  Encrypted volumes take their passphrase from the
 * secret their <encryption> names (volume-encrypt.c), read before the
 * first byte is written and wiped at the end. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <vdisk/convert.h>
#include <vdisk/create.h>
#include <vdisk/vol-provision.h>
#include <vdisk/resize.h>
#include <vdisk/volume.h>

#include "pool-backend.h"
#include "pool-internal.h"
#include "volume-encrypt.h"

typedef struct create_plan {
    vdisk_create_opts opts;
    uint64_t reserve;       /* bytes reserved for a thin volume with 0 < allocation < capacity */
    bool thick;
    mode_t mode;
    uid_t uid;              /* (uid_t)-1: keep */
    gid_t gid;
    vdisk_vol_key key;      /* passphrase of an encrypted volume (wiped by plan_clear) */
    vdisk_format record;    /* the format recorded for the volume (volume-record.c) */
    bool backing_named;     /* a backing store outside the pool the definition names */
    bool grow;              /* a copy grown to the definition's capacity after (grow_copy) */
} create_plan;

static void
plan_clear(create_plan *p)
{
    vdisk_create_opts_clear(&p->opts);
    vdisk_vol_key_clear(&p->key);
}

/* What fills the hidden file: a fresh image or a converted copy. */
typedef struct create_source {
    const char *src_path;            /* NULL: vdisk_create; else vdisk_convert from here */
    vdisk_format src_format;         /* the source volume's recorded format */
    const vdisk_backing_policy *src_policy;   /* its pool's policy for its backing files */
    const vdisk_vol_key *src_key;    /* passphrase of an encrypted source, else NULL */
    vdisk_progress_fn progress;
    void *opaque;
} create_source;

/* The backing store: an absolute path.  A volume of the pool has its
 * recorded format (a definition naming another is refused); a file outside
 * the pool, named by the administrator, the format the definition gives,
 * else probed (as qemu-img and libvirt's dir pools do) -- and the volume's
 * record then allows that file as its backing file (volume-backing.c).
 * The format is recorded in the new image. */
static int
plan_backing(vdisk_pool *pool, const vdisk_vol_provision *pv, create_plan *p, const char *what,
             vdisk_error *err)
{
    vdisk_create_opts *o = &p->opts;
    if (!pv->backing_file)
        return 0;
    if (pv->backing_file[0] != '/')
        return vdisk_error_set(err, EINVAL, "%s: backing store path '%s' is not absolute", what,
                               pv->backing_file);
    if (!(o->backing_file = strdup(pv->backing_file)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", what);
    o->backing_policy = &pool->backing;
    p->backing_named = !vdisk_vol_backing_inside(pool, pv->backing_file);
    if (!p->backing_named)
        return vdisk_vol_backing_check(pool, what, pv->backing_file, &o->backing_format, err);
    int r = 0;
    if (o->backing_format == VDISK_FORMAT_UNKNOWN &&
        (r = vdisk_probe(pv->backing_file, &o->backing_format, err)) < 0)
        vdisk_store_error_prefix(err, "%s: backing store", what);
    return r;
}

/* An encrypted volume: the passphrase of its secret, read before anything
 * is written, and the PBKDF2 time (QEMU's default unless configured). */
static int
plan_key(vdisk_pool *pool, const vdisk_vol_def *def, create_plan *p, const char *what,
         vdisk_error *err)
{
    if (def->format != VDISK_FORMAT_RAW && def->format != VDISK_FORMAT_QCOW2)
        return vdisk_error_set(err, ENOTSUP, "%s: volume encryption unsupported with format %s", what,
                               vdisk_format_name(def->format));
    int r = vdisk_vol_key_from_def(pool, &def->encryption, what, &p->key, err);
    if (r < 0)
        return r;
    p->opts.encrypt.secret = p->key.data;
    p->opts.encrypt.secret_len = p->key.len;
    if (!p->opts.encrypt.iter_time)
        p->opts.encrypt.iter_time = vdisk_vol_luks_iter_time();
    return 0;
}

/* The whole plan: libvirt's image options and DESIGN.md's provisioning
 * (vol-provision.c), a reservation for 0 < allocation < capacity, the
 * pool's copy-on-write feature and the permissions. */
static int
plan_create(vdisk_pool *pool, const vdisk_vol_def *def, unsigned flags, create_plan *p,
            const char *what, vdisk_error *err)
{
    vdisk_vol_provision pv;
    unsigned pflags = (flags & VDISK_VOL_CREATE_PREALLOC_METADATA) ? VDISK_VOL_PREALLOC_METADATA : 0;
    int r = vdisk_vol_provision_plan(def, pool->def, pflags, &pv, err);
    if (r < 0)
        return r;
    if ((r = vdisk_vol_provision_create_opts(&pv, &p->opts, err)) < 0)
        vdisk_store_error_prefix(err, "%s", what);
    vdisk_format fmt = p->opts.format;
    /* An 'iso' volume is an empty file to upload an image into (as libvirt's
     * dir pools make it), but it is recorded as the iso it is meant to hold. */
    p->record = def->format == VDISK_FORMAT_ISO ? VDISK_FORMAT_ISO : fmt;
    if (r == 0 && pv.encrypted)
        r = plan_key(pool, def, p, what, err);
    p->opts.size = pv.size;
    p->thick = pv.prealloc == VDISK_PREALLOC_FALLOC || pv.prealloc == VDISK_PREALLOC_FULL;
    if (!p->thick && def->has_allocation && def->allocation < def->capacity)
        p->reserve = def->allocation;
    if (p->thick && pv.encrypted && fmt == VDISK_FORMAT_QCOW2) {
        /* Preallocated clusters of an encrypted qcow2 would not read as zeros (libvdisk
         * refuses them): a thick one gets its space reserved past its end instead. */
        p->opts.prealloc = VDISK_PREALLOC_OFF;
        p->reserve = pv.size;
    }
    if (pool->def->has_cow && !pool->def->cow)
        p->opts.nocow = true;      /* <features><cow state='no'/> of the pool */
    p->mode = def->perms.has_mode ? def->perms.mode : 0600;
    p->uid = def->perms.has_owner ? def->perms.owner : (uid_t)-1;
    p->gid = def->perms.has_group ? def->perms.group : (gid_t)-1;
    if (r == 0)
        r = plan_backing(pool, &pv, p, what, err);
    if (r == 0 && (r = vdisk_create_opts_validate(&p->opts, err)) < 0)
        vdisk_store_error_prefix(err, "%s", what);
    vdisk_vol_provision_clear(&pv);
    return r;
}

/* Bytes of free space the planned volume takes at once. */
static int
plan_need(const create_plan *p, vdisk_image *src, uint64_t *need, const char *what, vdisk_error *err)
{
    vdisk_measure m;
    int r = vdisk_measure_image(&p->opts, src, &m, err);
    if (r == -ENOTSUP) {
        /* Formats qemu-img cannot measure either (vmdk, vpc, vhdx): their
         * metadata is a small fraction of the disk, so a thick volume is
         * counted as its capacity plus 1/64 and 16 MiB of headroom for
         * tables, logs and footers; a thin one as its headroom. */
        vdisk_error_clear(err);
        uint64_t headroom = p->opts.size / 64 + 16 * 1024 * 1024;
        m.fully_allocated = p->opts.size + headroom;
        m.required = headroom;
        r = 0;
    }
    if (r < 0) {
        vdisk_store_error_prefix(err, "%s", what);
        return r;
    }
    if (p->thick)
        *need = m.fully_allocated;
    else if (src || p->opts.format == VDISK_FORMAT_QCOW2)
        *need = m.required;
    else
        *need = 0;
    if (p->reserve > *need)
        *need = p->reserve;
    return 0;
}

/* Fill the hidden file (open as fd) with the new image. */
static int
fill(const create_plan *p, const create_source *s, int fd, const char *real, vdisk_error *err)
{
    char fdp[VDISK_FD_PATH_MAX];
    vdisk_fd_path(fd, fdp);
    int r;
    if (s->src_path) {
        vdisk_convert_opts co = { .src_format = s->src_format, .src_flags = VDISK_OPEN_FORCE_SHARE,
                                  .src_backing_policy = s->src_policy,
                                  .target = &p->opts, .progress = s->progress, .opaque = s->opaque };
        if (s->src_key) {
            co.src_secret = s->src_key->data;
            co.src_secret_len = s->src_key->len;
        }
        r = vdisk_convert(s->src_path, fdp, &co, err);
    } else {
        r = vdisk_create(fdp, &p->opts, s->progress, s->opaque, err);
    }
    vdisk_error_rename(err, fdp, real);
    if (r < 0)
        return r;
    struct stat st;
    if (p->reserve && fstat(fd, &st) == 0) {
        /* raw: blocks at the start of the (sparse) file; qcow2: room past its end for growth. */
        bool raw = p->opts.format == VDISK_FORMAT_RAW;
        if (fallocate(fd, raw ? 0 : FALLOC_FL_KEEP_SIZE, raw ? 0 : (off_t)st.st_size, (off_t)p->reserve) < 0)
            return vdisk_error_set_errno(err, errno, "%s: cannot reserve %llu bytes", real,
                                         (unsigned long long)p->reserve);
    }
    if ((p->uid != (uid_t)-1 || p->gid != (gid_t)-1) && fchown(fd, p->uid, p->gid) < 0)
        return vdisk_error_set_errno(err, errno, "%s: cannot change owner to %d:%d", real, (int)p->uid, (int)p->gid);
    if (fchmod(fd, p->mode) < 0)
        return vdisk_error_set_errno(err, errno, "%s: cannot set mode %04o", real, (unsigned)p->mode);
    if (fsync(fd) < 0)
        return vdisk_error_set_errno(err, errno, "%s: fsync", real);
    return 0;
}

/* Move the finished hidden file to its name, never replacing anything. */
static int
publish(int dirfd, const char *tmp, const char *name, const char *real, vdisk_error *err)
{
    if (renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        goto fail;
    /* File systems without RENAME_NOREPLACE: link(2) refuses to replace too. */
    if (linkat(dirfd, tmp, dirfd, name, 0) == 0) {
        unlinkat(dirfd, tmp, 0);
        return 0;
    }
fail:
    if (errno == EEXIST)
        return vdisk_error_set(err, EEXIST, "storage volume name '%s' already in use", name);
    return vdisk_error_set_errno(err, errno, "%s: cannot move the new volume into place", real);
}

/* Checks, fill, publish; on any failure the hidden file is removed. */
static int
create_volume(vdisk_pool *pool, const char *name, const create_plan *p, uint64_t need,
              const create_source *s, vdisk_error *err)
{
    char *real = vdisk_vol_path(pool, name);
    if (!real)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    int r = vdisk_pool_lock(pool, err);
    if (r < 0)
        goto out;
    struct stat st;
    if (fstatat(pool->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        r = vdisk_error_set(err, EEXIST, "storage volume name '%s' already in use", name);
        goto unlock;
    }
    char what[300];
    snprintf(what, sizeof(what), "volume '%s'", name);
    if ((r = vdisk_pool_check_space(pool, what, p->opts.size, need, err)) < 0)
        goto unlock;
    unsigned char rnd[8];
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        memset(rnd, 0x5a, sizeof(rnd));
    char tmp[64];
    snprintf(tmp, sizeof(tmp), VDISK_VOL_TMP_PREFIX "%02x%02x%02x%02x%02x%02x%02x%02x",
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    int fd = openat(pool->dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        r = vdisk_error_set_errno(err, errno, "%s: cannot create a temporary file in %s", what,
                                  pool->def->target_path);
        goto unlock;
    }
    /* Held until the file is published or removed: refresh reaps hidden
     * files nobody holds (a create killed half-way). */
    vdisk_vol_tmp_hold(fd);
    r = fill(p, s, fd, real, err);
    /* Recorded before it appears under its name: no refresh ever sees the
     * new volume without its format (a raw copy of a guest's disk must not
     * be probed). */
    bool recorded = false;
    vdisk_vol_id id;
    if (r == 0 && !pool->formats.lookup) {
        r = vdisk_vol_id_of(fd, NULL, &id);
        r = r < 0 ? vdisk_error_set_errno(err, -r, "%s: statx", real)
                  : vdisk_vol_record_set(pool, name, &id, p->record,
                                                      p->backing_named ? p->opts.backing_file : NULL,
                                                      err);
        recorded = r == 0;
    }
    if (r == 0)
        r = publish(pool->dirfd, tmp, name, real, err);
    /* The new name must survive a crash before the volume is reported made;
     * when the directory cannot be synced, the volume goes again. */
    if (r == 0 && fsync(pool->dirfd) < 0) {
        r = vdisk_error_set_errno(err, errno, "pool '%s': cannot sync the directory %s after creating "
                                  "volume '%s'", pool->def->name, pool->def->target_path, name);
        unlinkat(pool->dirfd, name, 0);
    }
    if (r < 0) {
        unlinkat(pool->dirfd, tmp, 0);
        if (recorded)
            vdisk_vol_record_remove(pool, name, &id, NULL);
    }
    close(fd);
unlock:
    vdisk_pool_unlock(pool);
out:
    free(real);
    return r;
}

/* A new volume's name: valid, and not one of vdisk's own files. */
static int
check_new_name(const char *name, vdisk_error *err)
{
    int r = vdisk_storage_name_check("volume name", name, err);
    if (r == 0 && vdisk_vol_name_reserved(name))
        r = vdisk_error_set(err, EINVAL, "volume name '%s' is reserved: names starting with '%s' "
                            "are vdisk's own files", name, VDISK_VOL_RESERVED_PREFIX);
    return r;
}

int
vdisk_dir_vol_create(vdisk_pool *pool, const vdisk_vol_def *def, unsigned flags,
                 vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    int r = check_new_name(def->name, err);
    if (r < 0)
        return r;
    if ((r = vdisk_pool_dirfd(pool, err)) < 0)
        return r;
    char what[300];
    snprintf(what, sizeof(what), "volume '%s'", def->name);
    create_plan p;
    memset(&p, 0, sizeof(p));
    if ((r = plan_create(pool, def, flags, &p, what, err)) < 0)
        goto out;
    uint64_t need;
    if ((r = plan_need(&p, NULL, &need, what, err)) < 0)
        goto out;
    create_source s = { .progress = progress, .opaque = opaque };
    r = create_volume(pool, def->name, &p, need, &s, err);
out:
    plan_clear(&p);
    return r;
}

/* The passphrase of an encrypted source volume: its own default secret
 * (usage = its path), else the new volume's (the same secret, as libvirt's
 * vol-clone of an encrypted volume uses). */
static int
source_key(vdisk_pool *src_pool, const char *src_name, const create_plan *p, vdisk_vol_key *key,
           vdisk_error *err)
{
    vdisk_error kerr = { 0 };
    int r = vdisk_vol_key_default(src_pool, src_name, key, &kerr);
    if (r == -ENOENT && p->key.data) {
        if (!(key->data = malloc(p->key.len)))
            return vdisk_error_set(err, ENOMEM, "out of memory");
        memcpy(key->data, p->key.data, p->key.len);
        key->len = p->key.len;
        return 0;
    }
    if (r < 0 && err)
        *err = kerr;
    return r;
}

/* Whether an open image is encrypted. */
static bool
image_encrypted(vdisk_image *img)
{
    vdisk_info info;
    if (vdisk_get_info(img, &info, NULL) < 0)
        return false;
    bool enc = info.encrypted;
    vdisk_info_clear(&info);
    return enc;
}

/* Plan a copy of the source (opened without its key: sizes only), then
 * measure it, opened with its key when it is encrypted. */
static int
plan_from(vdisk_pool *pool, const vdisk_vol_def *def, vdisk_pool *src_pool, const char *src_name,
          unsigned flags, create_plan *p, vdisk_vol_key *src_key, uint64_t *need,
          vdisk_format *src_format, const char *what, vdisk_error *err)
{
    const unsigned oflags = VDISK_OPEN_FORCE_SHARE | VDISK_OPEN_NO_BACKING;
    vdisk_image *src;
    /* The source is opened through its descriptor (no symlink), then copied by path so
     * that its relative backing file names resolve. */
    int r = vdisk_vol_open_image_key(src_pool, src_name, oflags | VDISK_OPEN_NO_KEY, NULL, 0, &src, err);
    if (r < 0)
        return r;
    uint64_t size = vdisk_get_size(src);
    bool encrypted = image_encrypted(src);
    *src_format = vdisk_get_format(src);    /* as recorded, not probed */
    /* As libvirt's storage driver: the capacity is at least the source's
     * (<capacity> may be left out; see grow below); the content comes from the source, so
     * a <backingStore> of the definition is dropped; and with
     * --prealloc-metadata a qcow2 copy whose definition gives no smaller
     * allocation is made fully allocated (libvirt's dir pool converts with
     * preallocation=falloc then: its allocation defaults to the capacity). */
    vdisk_vol_def sized = *def;
    if (!sized.has_capacity || sized.capacity < size) {
        sized.has_capacity = true;
        sized.capacity = size;
    }
    sized.backing_path = NULL;
    sized.backing_format = VDISK_FORMAT_UNKNOWN;
    sized.backing_format_name = NULL;
    if ((flags & VDISK_VOL_CREATE_PREALLOC_METADATA) && def->format == VDISK_FORMAT_QCOW2 &&
        (!def->has_allocation || def->allocation >= sized.capacity)) {
        sized.has_allocation = true;
        sized.allocation = sized.capacity;
    }
    r = plan_create(pool, &sized, flags, p, what, err);
    p->opts.size = size;
    /* libvirt's dir pool writes a raw copy, and an encrypted copy or one of
     * an encrypted source, into a volume of the full capacity; a plain
     * qcow2 copy of a plain source keeps the source's size (qemu-img
     * convert). */
    p->grow = def->format == VDISK_FORMAT_RAW || def->format == VDISK_FORMAT_UNKNOWN ||
              def->encryption.format != VDISK_VOL_ENCRYPTION_NONE || encrypted;
    if (r == 0 && encrypted) {
        vdisk_close(src, NULL);
        src = NULL;
        if ((r = source_key(src_pool, src_name, p, src_key, err)) == 0)
            r = vdisk_vol_open_image_key(src_pool, src_name, oflags, src_key->data, src_key->len, &src, err);
    }
    if (r == 0)
        r = plan_need(p, src, need, what, err);
    if (src)
        vdisk_close(src, NULL);
    return r;
}

/* A copy is made at the source's size; grow it to the definition's
 * larger capacity (the new part allocated when the volume is thick), with
 * the new volume's own passphrase, or remove it. */
static int
grow_copy(vdisk_pool *pool, const vdisk_vol_def *def, const create_plan *p, vdisk_error *err)
{
    if (!def->has_capacity || !p->grow)
        return 0;
    vdisk_image *img;
    int r = vdisk_vol_open_image_key(pool, def->name, VDISK_OPEN_RDWR, p->key.data, p->key.len, &img, err);
    if (r == 0) {
        uint64_t old = vdisk_get_size(img);
        if (def->capacity > old && vdisk_get_format(img) == VDISK_FORMAT_LUKS)
            r = vdisk_vol_luks_resize(pool, def->name, img, def->capacity, 0, err);
        else if (def->capacity > old)
            r = vdisk_resize(img, def->capacity, false, p->thick ? VDISK_PREALLOC_FALLOC : VDISK_PREALLOC_OFF,
                             NULL, NULL, err);
        r = vdisk_vol_close_image(pool, def->name, img, r, err);
    }
    if (r < 0)
        vdisk_vol_delete(pool, def->name, NULL);
    return r;
}

int
vdisk_dir_vol_create_from(vdisk_pool *pool, const vdisk_vol_def *def,
                      vdisk_pool *src_pool, const char *src_name, unsigned flags,
                      vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    int r = check_new_name(def->name, err);
    if (r < 0 || (r = vdisk_pool_dirfd(pool, err)) < 0)
        return r;
    char what[300];
    snprintf(what, sizeof(what), "volume '%s'", def->name);
    create_plan p;
    memset(&p, 0, sizeof(p));
    vdisk_vol_key src_key = { 0 };
    uint64_t need = 0;
    char *src_path = vdisk_vol_path(src_pool, src_name);
    vdisk_format src_format = VDISK_FORMAT_UNKNOWN;
    r = plan_from(pool, def, src_pool, src_name, flags, &p, &src_key, &need, &src_format, what, err);
    if (r == 0 && !src_path)
        r = vdisk_error_set(err, ENOMEM, "out of memory");
    if (r == 0) {
        create_source s = { .src_path = src_path, .src_format = src_format,
                            .src_policy = &src_pool->backing,
                            .src_key = src_key.data ? &src_key : NULL,
                            .progress = progress, .opaque = opaque };
        r = create_volume(pool, def->name, &p, need, &s, err);
    }
    if (r == 0)
        r = grow_copy(pool, def, &p, err);
    plan_clear(&p);
    vdisk_vol_key_clear(&src_key);
    free(src_path);
    return r;
}
