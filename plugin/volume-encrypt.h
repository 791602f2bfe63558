/* vdisk plugin — encrypted volumes (volume-encrypt.c): passphrases of the
 * embedded registry's secrets for <encryption format='luks'> volumes, and
 * what a refresh learns about an encrypted volume.  Internal to plugin/. */
#ifndef VDISK_VOLUME_ENCRYPT_H
#define VDISK_VOLUME_ENCRYPT_H

#include <stddef.h>
#include <stdint.h>

#include <vdisk/create.h>
#include <vdisk/image.h>
#include <vdisk/pool.h>
#include <vdisk/storage-def.h>

/* A passphrase read from a secret.  data is malloc'ed; vdisk_vol_key_clear
 * wipes and frees it (also valid on a zeroed, never loaded key). */
typedef struct vdisk_vol_key {
    unsigned char *data;
    size_t len;
} vdisk_vol_key;

void vdisk_vol_key_clear(vdisk_vol_key *key);

/* The passphrase of the secret an <encryption> names (by uuid, or by a
 * usage of type 'volume'), as libvirt reads it for qemu-img.  Errors start
 * with `what` (e.g. "volume 'x'") and name the secret: no secret given,
 * secret not found, secret without a value. */
int vdisk_vol_key_from_def(vdisk_pool *pool, const vdisk_vol_encryption_def *enc, const char *what,
                           vdisk_vol_key *key, vdisk_error *err);

/* libvirt's default secret of an existing volume: the secret whose usage
 * (type 'volume') is the volume's path.  -ENOENT, without a message, when
 * no secret names the volume. */
int vdisk_vol_default_secret(vdisk_pool *pool, const char *name, unsigned char uuid[16]);

/* The default secret's passphrase.  -ENOENT with a message naming the
 * volume and its path when no secret names it. */
int vdisk_vol_key_default(vdisk_pool *pool, const char *name, vdisk_vol_key *key, vdisk_error *err);

/* What a refresh shows of an encrypted image, as libvirt's: a raw LUKS
 * container is format raw with <encryption format='luks'>, a qcow2 with
 * LUKS inside keeps format qcow2; legacy AES is format 'qcow'.  The secret
 * is the volume's default secret when there is one; cipher and ivgen are
 * not shown (libvirt's refresh does not read them either). */
void vdisk_vol_probe_encryption(vdisk_pool *pool, vdisk_vol_def *def, const vdisk_info *info);

/* vol-resize of a raw LUKS volume (img: the open volume, its key given, as
 * qemu-img resize needs): the payload becomes `capacity` rounded up to whole
 * sectors.  VDISK_VOL_RESIZE_ALLOCATE is refused, as libvirt refuses it. */
int vdisk_vol_luks_resize(vdisk_pool *pool, const char *name, vdisk_image *img, uint64_t capacity,
                          unsigned flags, vdisk_error *err);

/* vol-wipe formats an encrypted qcow2 volume again: set o's encryption to
 * what info (the volume's, before the wipe) shows, with the passphrase of
 * the volume's default secret, loaded into key (the caller clears it after
 * the create).  Refused before anything is written when there is none.
 * Preallocation is turned off (encrypted clusters would not read as zeros);
 * *reserve is what to reserve past the end afterwards (0: thin). */
int vdisk_vol_wipe_encrypt_opts(vdisk_pool *pool, const char *name, const vdisk_info *info,
                                vdisk_create_opts *o, vdisk_vol_key *key, uint64_t *reserve,
                                vdisk_error *err);
/* fallocate `bytes` past the end of volume `name`, keeping its size. */
int vdisk_vol_reserve_tail(vdisk_pool *pool, const char *name, uint64_t bytes, vdisk_error *err);

/* PBKDF2 time per key slot for new LUKS volumes, in ms: QEMU's default
 * (0 = 2000 ms) unless the environment sets VDISK_LUKS_ITER_TIME. */
uint64_t vdisk_vol_luks_iter_time(void);

#endif
