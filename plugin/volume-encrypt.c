/* vdisk plugin — encrypted volumes: the passphrase of the secret a volume's
 * <encryption format='luks'> names, read from the embedded registry as
 * libvirt's storage driver reads it from its secret driver, and what a
 * refresh reports about an encrypted image. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vdisk/encrypt.h>
#include <vdisk/secret.h>
#include <vdisk/volume.h>

#include "pool-internal.h"
#include "volume-encrypt.h"

void
vdisk_vol_key_clear(vdisk_vol_key *key)
{
    if (!key)
        return;
    if (key->data) {
        explicit_bzero(key->data, key->len);
        free(key->data);
    }
    key->data = NULL;
    key->len = 0;
}

/* The UUID of the secret of usage type 'volume' whose usage is `usage`;
 * -ENOENT (no message) when there is none. */
static int
find_in_registry(vdisk_registry *reg, const char *usage, unsigned char uuid[16], vdisk_error *err)
{
    vdisk_secret_def *all;
    size_t n;
    int r = vdisk_secret_list(reg, &all, &n, err);
    if (r < 0)
        return r;
    r = -ENOENT;
    for (size_t i = 0; i < n && r == -ENOENT; i++)
        if (all[i].usage_type && all[i].usage_id && strcmp(all[i].usage_type, "volume") == 0 &&
            strcmp(all[i].usage_id, usage) == 0) {
            memcpy(uuid, all[i].uuid, 16);
            r = 0;
        }
    vdisk_secret_defs_free(all, n);
    return r;
}

/* The same, from the pool's registry or, for an unmanaged pool, from its
 * secret source. */
static int
find_by_usage(vdisk_pool *pool, const char *usage, unsigned char uuid[16], vdisk_error *err)
{
    if (pool->reg)
        return find_in_registry(pool->reg, usage, uuid, err);
    if (!pool->has_secrets || !pool->secrets.lookup_usage)
        return -ENOENT;
    return pool->secrets.lookup_usage(pool->secrets.opaque, usage, uuid, err);
}

/* The value of secret `uuid` from the registry (which must know it as a
 * secret of usage 'volume' or of none, as libvirt accepts). */
static int
read_registry_value(vdisk_registry *reg, const unsigned char uuid[16], vdisk_vol_key *key,
                    vdisk_error *err)
{
    char u[VDISK_UUID_STRING_LEN];
    vdisk_uuid_format(uuid, u);
    vdisk_secret_def def;
    memset(&def, 0, sizeof(def));
    int r = vdisk_secret_lookup(reg, u, &def, err);
    /* As libvirt: a secret without usage is accepted, one for another use is not. */
    if (r == 0 && def.usage_type && strcmp(def.usage_type, "volume") != 0)
        r = vdisk_error_set(err, EINVAL, "secret with uuid %s is of type '%s' not expected 'volume' type",
                            u, def.usage_type);
    if (r == 0)
        r = vdisk_secret_get_value(reg, uuid, &key->data, &key->len, err);
    vdisk_secret_def_clear(&def);
    return r;
}

/* The value of secret `uuid`, refusing an empty one (no usable passphrase). */
static int
read_value(vdisk_pool *pool, const unsigned char uuid[16], const char *what, vdisk_vol_key *key,
           vdisk_error *err)
{
    char u[VDISK_UUID_STRING_LEN];
    vdisk_uuid_format(uuid, u);
    int r;
    if (pool->reg)
        r = read_registry_value(pool->reg, uuid, key, err);
    else if (pool->has_secrets && pool->secrets.get_value)
        r = pool->secrets.get_value(pool->secrets.opaque, uuid, &key->data, &key->len, err);
    else
        r = vdisk_error_set(err, ENOENT, "no secret source to read secret '%s' from", u);
    if (r == 0 && key->len == 0) {
        vdisk_vol_key_clear(key);
        r = vdisk_error_set(err, EINVAL, "secret '%s' has an empty value", u);
    }
    if (r < 0)
        vdisk_store_error_prefix(err, "%s", what);
    return r;
}

int
vdisk_vol_key_from_def(vdisk_pool *pool, const vdisk_vol_encryption_def *enc, const char *what,
                       vdisk_vol_key *key, vdisk_error *err)
{
    memset(key, 0, sizeof(*key));
    if (enc->format != VDISK_VOL_ENCRYPTION_LUKS)
        return vdisk_error_set(err, ENOTSUP, "%s: unsupported volume encryption format (luks only)",
                               what);
    if (!enc->has_secret_uuid && !enc->secret_usage)
        return vdisk_error_set(err, EINVAL, "%s: no secret provided for luks encryption "
                               "(<secret type='passphrase' uuid='...'/>)", what);
    unsigned char uuid[16];
    if (enc->has_secret_uuid) {
        memcpy(uuid, enc->secret_uuid, 16);
    } else {
        int r = find_by_usage(pool, enc->secret_usage, uuid, err);
        if (r == -ENOENT)
            return vdisk_error_set(err, ENOENT, "%s: no secret with matching usage '%s'", what,
                                   enc->secret_usage);
        if (r < 0) {
            vdisk_store_error_prefix(err, "%s", what);   /* every error here names the volume */
            return r;
        }
    }
    return read_value(pool, uuid, what, key, err);
}

int
vdisk_vol_default_secret(vdisk_pool *pool, const char *name, unsigned char uuid[16])
{
    char *path = vdisk_vol_path(pool, name);
    if (!path)
        return -ENOMEM;
    int r = find_by_usage(pool, path, uuid, NULL);
    free(path);
    return r;
}

int
vdisk_vol_key_default(vdisk_pool *pool, const char *name, vdisk_vol_key *key, vdisk_error *err)
{
    memset(key, 0, sizeof(*key));
    char what[300];
    snprintf(what, sizeof(what), "volume '%s'", name);
    unsigned char uuid[16];
    int r = vdisk_vol_default_secret(pool, name, uuid);
    if (r == -ENOENT) {
        char *path = vdisk_vol_path(pool, name);
        r = vdisk_error_set(err, ENOENT, "%s: the volume is encrypted and no secret of usage type "
                            "'volume' names its path '%s'", what, path ? path : name);
        free(path);
        return r;
    }
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "%s: cannot look up its secret", what);
    return read_value(pool, uuid, what, key, err);
}

void
vdisk_vol_probe_encryption(vdisk_pool *pool, vdisk_vol_def *def, const vdisk_info *info)
{
    if (!info->encrypted)
        return;
    vdisk_encrypt_format f = info->encrypt ? info->encrypt->format : VDISK_ENCRYPT_LUKS;
    def->encryption.format = f == VDISK_ENCRYPT_AES ? VDISK_VOL_ENCRYPTION_QCOW
                                                    : VDISK_VOL_ENCRYPTION_LUKS;
    if (info->format == VDISK_FORMAT_LUKS)
        def->format = VDISK_FORMAT_RAW;   /* libvirt: a raw volume with <encryption format='luks'> */
    if (def->name && vdisk_vol_default_secret(pool, def->name, def->encryption.secret_uuid) == 0)
        def->encryption.has_secret_uuid = true;
}

uint64_t
vdisk_vol_luks_iter_time(void)
{
    const char *s = secure_getenv("VDISK_LUKS_ITER_TIME");
    if (!s || !*s)
        return 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    return (*end || v == 0 || v > 3600000) ? 0 : (uint64_t)v;
}

int
vdisk_vol_luks_resize(vdisk_pool *pool, const char *name, vdisk_image *img, uint64_t capacity,
                      unsigned flags, vdisk_error *err)
{
    if (flags & VDISK_VOL_RESIZE_ALLOCATE)
        return vdisk_error_set(err, ENOTSUP, "volume '%s': preallocate is only supported for an "
                               "unencrypted raw volume", name);
    vdisk_info info;
    int r = vdisk_get_info(img, &info, err);
    if (r < 0)
        return r;
    uint64_t payload = info.encrypt ? info.encrypt->payload_offset : 0;
    vdisk_info_clear(&info);
    if (!payload)
        return vdisk_error_set(err, EINVAL, "volume '%s': LUKS header without a payload offset", name);
    /* As qemu-img resize (which libvirt runs): whole sectors of payload after the header. */
    uint64_t size = (capacity + 511) / 512 * 512;
    int fd = vdisk_vol_open_fd(pool, name, O_RDWR, err);
    if (fd < 0)
        return fd;
    if (ftruncate(fd, (off_t)(payload + size)) < 0 || fsync(fd) < 0)
        r = vdisk_error_set_errno(err, errno, "volume '%s': cannot resize the LUKS payload to %llu bytes",
                                  name, (unsigned long long)size);
    close(fd);
    return r;
}

int
vdisk_vol_wipe_encrypt_opts(vdisk_pool *pool, const char *name, const vdisk_info *info,
                            vdisk_create_opts *o, vdisk_vol_key *key, uint64_t *reserve,
                            vdisk_error *err)
{
    const vdisk_encrypt_info *e = info->encrypt;
    if (!e || e->format != VDISK_ENCRYPT_LUKS)
        return vdisk_error_set(err, ENOTSUP, "volume '%s': wiping a volume with legacy qcow "
                               "encryption is not supported (it cannot be created again)", name);
    int r = vdisk_vol_key_default(pool, name, key, err);
    if (r < 0)
        return r;
    vdisk_encrypt_opts *eo = &o->encrypt;
    eo->format = VDISK_ENCRYPT_LUKS;
    snprintf(eo->cipher_alg, sizeof(eo->cipher_alg), "%s", e->cipher_alg);
    snprintf(eo->cipher_mode, sizeof(eo->cipher_mode), "%s", e->cipher_mode);
    snprintf(eo->ivgen_alg, sizeof(eo->ivgen_alg), "%s", e->ivgen_alg);
    snprintf(eo->ivgen_hash_alg, sizeof(eo->ivgen_hash_alg), "%s", e->ivgen_hash_alg);
    snprintf(eo->hash_alg, sizeof(eo->hash_alg), "%s", e->hash_alg);
    eo->iter_time = vdisk_vol_luks_iter_time();
    eo->secret = key->data;
    eo->secret_len = key->len;
    /* A thick one: space reserved past its end, as vdisk_vol_create makes it. */
    *reserve = o->prealloc != VDISK_PREALLOC_OFF ? o->size : 0;
    o->prealloc = VDISK_PREALLOC_OFF;
    return 0;
}

int
vdisk_vol_reserve_tail(vdisk_pool *pool, const char *name, uint64_t bytes, vdisk_error *err)
{
    int fd = vdisk_vol_open_fd(pool, name, O_RDWR, err);
    if (fd < 0)
        return fd;
    struct stat st;
    int r = 0;
    if (fstat(fd, &st) < 0 ||
        fallocate(fd, FALLOC_FL_KEEP_SIZE, st.st_size, (off_t)bytes) < 0 || fsync(fd) < 0)
        r = vdisk_error_set_errno(err, errno, "volume '%s': cannot reserve %llu bytes", name,
                                  (unsigned long long)bytes);
    close(fd);
    return r;
}
