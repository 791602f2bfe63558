/* vdisk plugin — wiping volumes with libvirt's algorithm names: zero,
 * random and trim over the file's data; the multi-pass patterns of
 * scrub(1) over the whole file (volume-wipe-passes.c).  A qcow2 volume is formatted again afterwards, empty, with the
 * same virtual size and options (thick ones stay thick), so it stays a
 * usable volume. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vdisk/create.h>
#include <vdisk/volume.h>

#include "pool-backend.h"
#include "pool-internal.h"
#include "volume-encrypt.h"
#include "volume-wipe.h"

#define WIPE_CHUNK (1u << 20)

/* By vdisk_wipe_alg. */
static const char *const alg_names[] = {
    "zero", "random", "trim", "nnsa", "dod", "bsi", "gutmann", "schneier", "pfitzner7", "pfitzner33",
};

int
vdisk_wipe_alg_from_name(const char *name, vdisk_wipe_alg *alg, vdisk_error *err)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (strcmp(name, alg_names[i]) == 0) {
            *alg = (vdisk_wipe_alg)i;
            return 0;
        }
    return vdisk_error_set(err, EINVAL, "unknown wipe algorithm '%s' (expected zero, nnsa, dod, bsi, gutmann, "
                           "schneier, pfitzner7, pfitzner33, random or trim)", name);
}

/* xorshift64*: random bytes at memory speed, seeded from getrandom(2). */
static void
fill_random(uint64_t *state, unsigned char *buf, size_t len)
{
    uint64_t x = *state;
    for (size_t i = 0; i < len; i += 8) {
        x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
        uint64_t v = x * 0x2545F4914F6CDD1DULL;
        memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
    }
    *state = x;
}

/* Overwrite [off, end) of fd with zeros or random bytes. */
static int
overwrite(int fd, vdisk_wipe_alg alg, unsigned char *buf, uint64_t *seed, uint64_t off, uint64_t end,
          uint64_t size, vdisk_progress_fn progress, void *opaque)
{
    while (off < end) {
        size_t n = end - off < WIPE_CHUNK ? (size_t)(end - off) : WIPE_CHUNK;
        if (alg == VDISK_WIPE_RANDOM)
            fill_random(seed, buf, n);
        ssize_t w = pwrite(fd, buf, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        off += (uint64_t)w;
        if (progress && progress(opaque, off, size))
            return -ECANCELED;
    }
    return 0;
}

/* Every data extent of the file (SEEK_DATA/SEEK_HOLE): holes already read
 * as zeros and hold nothing to wipe. */
static int
wipe_extents(int fd, vdisk_wipe_alg alg, uint64_t size, vdisk_progress_fn progress, void *opaque)
{
    unsigned char *buf = calloc(1, WIPE_CHUNK);
    if (!buf)
        return -ENOMEM;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed) || seed == 0)
        seed ^= (uint64_t)getpid() << 17 | 1;
    int r = 0;
    uint64_t off = 0;
    while (r == 0 && off < size) {
        off_t data = lseek(fd, (off_t)off, SEEK_DATA);
        if (data < 0) {
            if (errno == ENXIO)
                break;          /* only a hole is left */
            data = (off_t)off;  /* no SEEK_DATA: everything is data */
        }
        off_t hole = lseek(fd, data, SEEK_HOLE);
        uint64_t end = hole < 0 ? size : (uint64_t)hole;
        r = overwrite(fd, alg, buf, &seed, (uint64_t)data, end > size ? size : end, size, progress, opaque);
        off = end;
    }
    free(buf);
    if (r == 0 && fdatasync(fd) < 0)
        r = -errno;
    return r;
}

/* Options to format a qcow2 volume again as it was. */
static int
qcow2_opts(vdisk_pool *pool, const char *name, vdisk_image *img, vdisk_create_opts *o,
           vdisk_vol_key *key, uint64_t *reserve, vdisk_error *err)
{
    vdisk_info info;
    int r = vdisk_get_info(img, &info, err);
    if (r < 0)
        return r;
    vdisk_create_opts_init(o, VDISK_FORMAT_QCOW2);
    o->size = info.virtual_size;
    o->cluster_size = info.cluster_size;
    o->compat = info.qcow2_version;
    o->refcount_bits = info.refcount_bits;
    o->lazy_refcounts = info.lazy_refcounts;
    o->extended_l2 = info.extended_l2;
    if (info.backing_file && !(o->backing_file = strdup(info.backing_file)))
        r = vdisk_error_set(err, ENOMEM, "out of memory");
    if (info.backing_format)
        vdisk_format_from_name(info.backing_format, &o->backing_format, NULL);
    o->backing_policy = &pool->backing;     /* the backing chain is checked as it was opened */
    /* A thick volume stays thick (lazy-zeroed: its data is gone anyway). */
    if (info.actual_size >= info.virtual_size)
        o->prealloc = VDISK_PREALLOC_FALLOC;
    if (r == 0 && info.encrypted)   /* encrypted again, with its cipher and secret */
        r = vdisk_vol_wipe_encrypt_opts(pool, name, &info, o, key, reserve, err);
    vdisk_info_clear(&info);
    return r;
}

/* Learn the qcow2 options of the volume (before its bytes are gone). */
static int
remember_format(vdisk_pool *pool, const char *name, bool *is_qcow2, vdisk_create_opts *o,
                vdisk_vol_key *key, uint64_t *reserve, vdisk_error *err)
{
    vdisk_image *img;
    *is_qcow2 = false;
    if (vdisk_vol_open_image(pool, name, VDISK_OPEN_NO_BACKING | VDISK_OPEN_NO_KEY, &img, NULL) < 0)
        return 0;   /* not an image libvdisk opens: wiped as plain bytes */
    int r = 0;
    if (vdisk_get_format(img) == VDISK_FORMAT_QCOW2) {
        *is_qcow2 = true;
        r = qcow2_opts(pool, name, img, o, key, reserve, err);
    }
    vdisk_close(img, NULL);
    return r;
}

int
vdisk_dir_vol_wipe(vdisk_pool *pool, const char *name, vdisk_wipe_alg alg,
               vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    bool is_qcow2;
    vdisk_create_opts o;
    memset(&o, 0, sizeof(o));
    vdisk_vol_key key = { 0 };
    uint64_t reserve = 0;
    int r = vdisk_vol_check_not_in_use(pool, name, err);
    if (r == 0)
        r = remember_format(pool, name, &is_qcow2, &o, &key, &reserve, err);
    int fd = r < 0 ? r : vdisk_vol_open_fd(pool, name, O_RDWR, err);
    if (fd < 0) {
        vdisk_create_opts_clear(&o);
        vdisk_vol_key_clear(&key);
        return fd;
    }
    char *real = vdisk_vol_path(pool, name);
    struct stat st;
    fstat(fd, &st);
    uint64_t size = (uint64_t)st.st_size;
    r = -EOPNOTSUPP;
    if (vdisk_wipe_is_multipass(alg))
        r = vdisk_wipe_passes(fd, alg, size, progress, opaque);
    else if (alg == VDISK_WIPE_TRIM && size > 0)
        r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)size) < 0 ? -errno : 0;
    if (r == -EOPNOTSUPP)   /* trim falls back to zeros, as libvirt */
        r = wipe_extents(fd, alg == VDISK_WIPE_TRIM ? VDISK_WIPE_ZERO : alg, size, progress, opaque);
    if (r < 0)
        vdisk_error_set_errno(err, -r, "%s: wipe (%s)", real ? real : name, alg_names[alg]);
    close(fd);
    if (r == 0 && !is_qcow2 && !pool->formats.lookup) {
        /* Only qcow2 is formatted again: what is left is the zeros or noise
         * vdisk wrote, a raw volume now (as libvirt's dir pools show it). */
        vdisk_vol_id id;
        int fdw = vdisk_vol_open_fd(pool, name, O_RDONLY, err);
        r = fdw < 0 ? fdw : vdisk_vol_id_of(fdw, NULL, &id);
        if (r == 0)
            r = vdisk_vol_record_set(pool, name, &id, VDISK_FORMAT_RAW, NULL, err);
        else if (fdw >= 0)
            vdisk_error_set_errno(err, -r, "%s: statx", real ? real : name);
        if (fdw >= 0)
            close(fdw);
    }
    if (r == 0 && is_qcow2) {
        /* Through the pool directory's descriptor, so a relative backing name resolves. */
        char path[VDISK_FD_PATH_MAX + 300];
        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", pool->dirfd, name);
        r = vdisk_create(path, &o, NULL, NULL, err);
        vdisk_error_rename(err, path, real);
        if (r == 0 && reserve)
            r = vdisk_vol_reserve_tail(pool, name, reserve, err);
    }
    vdisk_create_opts_clear(&o);
    vdisk_vol_key_clear(&key);
    free(real);
    return r;
}
