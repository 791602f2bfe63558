/* libvdisk — LUKS1 key slots: unlocking the master key with a passphrase,
 * storing it under a passphrase in a slot, and formatting a new header. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnutls-load.h"
#include "luks.h"

/* Derive the slot key, decrypt and merge the slot's stripes into mk. */
static int
open_slot(const struct vdisk_luks_header *h, const struct vdisk_luks_algs *a, int i,
          const uint8_t *pass, size_t passlen, vdisk_luks_io_fn io, void *opaque, uint8_t *mk,
          const char *name, vdisk_error *err)
{
    const struct vdisk_luks_slot *s = &h->slots[i];
    size_t mat_len = (size_t)vdisk_luks_slot_bytes(h->key_bytes, s->stripes);
    uint8_t *mat = malloc(mat_len);
    uint8_t *key = malloc(h->key_bytes);
    vdisk_sectors *sec = NULL;
    int r = -ENOMEM;
    if (!mat || !key) {
        vdisk_error_set(err, ENOMEM, "%s: out of memory for LUKS key slot %d", name, i);
        goto out;
    }
    r = vdisk_pbkdf2(a->hash, pass, passlen, s->salt, VDISK_LUKS_SALT_LEN, s->iterations, key,
                     h->key_bytes);
    if (r < 0) {
        vdisk_error_set(err, -r, "%s: LUKS key slot %d: PBKDF2-%s failed", name, i, h->hash_spec);
        goto out;
    }
    r = io(opaque, mat, mat_len, (uint64_t)s->key_offset * 512, false, err);
    if (r == 0 && (r = vdisk_sectors_new(&a->crypt, key, h->key_bytes, &sec, err)) < 0)
        vdisk_error_prefix(err, "%s: LUKS key slot %d", name, i);
    if (r == 0)
        r = vdisk_sectors_decrypt(sec, 0, mat, mat_len, err);
    if (r == 0 && vdisk_af_merge(a->hash, mat, h->key_bytes, s->stripes, mk) < 0)
        r = vdisk_error_set(err, EIO, "%s: LUKS key slot %d: AF merge failed", name, i);
out:
    vdisk_sectors_free(sec);
    vdisk_wipe_free(key, h->key_bytes);
    vdisk_wipe_free(mat, mat_len);
    return r;
}

/* Does mk match the header's master key digest? */
static int
check_digest(const struct vdisk_luks_header *h, const struct vdisk_luks_algs *a, const uint8_t *mk,
             bool *ok)
{
    uint8_t d[VDISK_LUKS_DIGEST_LEN];
    int r = vdisk_pbkdf2(a->hash, mk, h->key_bytes, h->mk_salt, VDISK_LUKS_SALT_LEN, h->mk_iterations,
                         d, sizeof(d));
    *ok = r == 0 && memcmp(d, h->mk_digest, sizeof(d)) == 0;
    return r;
}

int
vdisk_luks_try_slot(const struct vdisk_luks_header *h, const struct vdisk_luks_algs *a, int i,
                    const uint8_t *pass, size_t passlen, vdisk_luks_io_fn io, void *opaque, uint8_t *mk,
                    bool *match, const char *name, vdisk_error *err)
{
    *match = false;
    if (h->slots[i].active != VDISK_LUKS_SLOT_ACTIVE)
        return 0;
    int r = open_slot(h, a, i, pass, passlen, io, opaque, mk, name, err);
    if (r == 0)
        r = check_digest(h, a, mk, match);
    if (!*match)
        vdisk_wipe(mk, h->key_bytes);
    return r;
}

int
vdisk_luks_unlock(const struct vdisk_luks_header *h, const struct vdisk_luks_algs *a,
                  const uint8_t *pass, size_t passlen, vdisk_luks_io_fn io, void *opaque, uint8_t *mk,
                  int *slot, const char *name, vdisk_error *err)
{
    if (vdisk_gnutls_load(name, err) < 0)
        return -ENOTSUP;
    for (int i = 0; i < VDISK_LUKS_SLOTS; i++) {
        bool ok;
        int r = vdisk_luks_try_slot(h, a, i, pass, passlen, io, opaque, mk, &ok, name, err);
        if (r < 0)
            return r;
        if (ok) {
            *slot = i;
            return 0;
        }
    }
    vdisk_wipe(mk, h->key_bytes);
    return vdisk_error_set(err, EACCES, "%s: Invalid password, cannot unlock any keyslot", name);
}

/* A random version 4 UUID in its 36-character text form. */
static int
make_uuid(char *out)
{
    uint8_t u[16];
    int r = vdisk_random(u, sizeof(u));
    if (r < 0)
        return r;
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
    return 0;
}

/* Header text fields and slot layout for p (QEMU's layout). */
static int
fill_header(const struct vdisk_luks_params *p, struct vdisk_luks_header *h, uint32_t key_bytes)
{
    const struct vdisk_crypt_spec *c = &p->algs.crypt;
    memset(h, 0, sizeof(*h));
    h->version = 1;
    snprintf(h->cipher_name, sizeof(h->cipher_name), "%s", vdisk_cipher_family(c->cipher));
    if (c->ivgen == VDISK_IVGEN_ESSIV || c->ivgen_hashed)
        snprintf(h->cipher_mode, sizeof(h->cipher_mode), "%s-%s:%s", vdisk_cipher_mode_name(c->mode),
                 vdisk_ivgen_name(c->ivgen), vdisk_hash_name(c->ivgen_hash));
    else
        snprintf(h->cipher_mode, sizeof(h->cipher_mode), "%s-%s", vdisk_cipher_mode_name(c->mode),
                 vdisk_ivgen_name(c->ivgen));
    snprintf(h->hash_spec, sizeof(h->hash_spec), "%s", vdisk_hash_name(p->algs.hash));
    h->key_bytes = key_bytes;
    h->payload_offset = vdisk_luks_payload_sectors(key_bytes);
    uint32_t slot_sectors = (uint32_t)(vdisk_luks_slot_bytes(key_bytes, VDISK_LUKS_STRIPES) / 512);
    for (int i = 0; i < VDISK_LUKS_SLOTS; i++) {
        h->slots[i].active = VDISK_LUKS_SLOT_INACTIVE;
        h->slots[i].key_offset = VDISK_LUKS_ALIGN / 512 + (uint32_t)i * slot_sectors;
        h->slots[i].stripes = VDISK_LUKS_STRIPES;
    }
    return make_uuid(h->uuid);
}

/* Iterations for `ms` of PBKDF2, never below the LUKS floor.  QEMU (as
 * cryptsetup) spends an eighth of the slot's time on the digest. */
static int
iterations(vdisk_hash_alg hash, uint32_t key_bytes, uint64_t ms, uint32_t *out)
{
    uint64_t n;
    int r = vdisk_pbkdf2_count_iters(hash, key_bytes, ms, &n);
    if (r < 0)
        return r;
    *out = n < VDISK_LUKS_MIN_ITERS ? VDISK_LUKS_MIN_ITERS : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    return 0;
}

int
vdisk_luks_store_key(const struct vdisk_luks_algs *a, struct vdisk_luks_header *h, int i,
                     const uint8_t *pass, size_t passlen, const uint8_t *mk, uint64_t iter_ms,
                     vdisk_luks_io_fn io, void *opaque, const char *name, vdisk_error *err)
{
    struct vdisk_luks_slot *s = &h->slots[i];
    size_t mat_len = (size_t)vdisk_luks_slot_bytes(h->key_bytes, s->stripes);
    uint8_t *mat = calloc(1, mat_len);
    uint8_t *key = malloc(h->key_bytes);
    vdisk_sectors *sec = NULL;
    int r = mat && key ? 0 : vdisk_error_set(err, ENOMEM, "%s: out of memory for LUKS key slot %d", name, i);
    if (r == 0 && (vdisk_random(s->salt, sizeof(s->salt)) < 0 ||
                   iterations(a->hash, h->key_bytes, iter_ms ? iter_ms : 2000, &s->iterations) < 0 ||
                   vdisk_pbkdf2(a->hash, pass, passlen, s->salt, sizeof(s->salt), s->iterations,
                                key, h->key_bytes) < 0 ||
                   vdisk_af_split(a->hash, mk, h->key_bytes, s->stripes, mat) < 0))
        r = vdisk_error_set(err, EIO, "%s: deriving LUKS key slot %d with PBKDF2-%s failed", name, i,
                            h->hash_spec);
    if (r == 0 && (r = vdisk_sectors_new(&a->crypt, key, h->key_bytes, &sec, err)) < 0)
        vdisk_error_prefix(err, "%s: LUKS key slot %d", name, i);
    if (r == 0)
        r = vdisk_sectors_encrypt(sec, 0, mat, mat_len, err);
    if (r == 0)
        r = io(opaque, mat, mat_len, (uint64_t)s->key_offset * 512, true, err);
    if (r == 0)
        s->active = VDISK_LUKS_SLOT_ACTIVE;
    vdisk_sectors_free(sec);
    vdisk_wipe_free(key, h->key_bytes);
    vdisk_wipe_free(mat, mat_len);
    return r;
}

int
vdisk_luks_format(const struct vdisk_luks_params *p, const uint8_t *pass, size_t passlen,
                  vdisk_luks_io_fn io, void *opaque, struct vdisk_luks_header *h, uint8_t *mk,
                  const char *name, vdisk_error *err)
{
    const struct vdisk_crypt_spec *c = &p->algs.crypt;
    if (!vdisk_cipher_supports(c->cipher, c->mode))
        return vdisk_error_set(err, ENOTSUP, "%s: cipher %s in mode %s is not supported%s", name,
                               vdisk_cipher_alg_name(c->cipher), vdisk_cipher_mode_name(c->mode),
                               c->mode == VDISK_CIPHER_MODE_XTS ? " (XTS needs a 16-byte block cipher)" : "");
    if (vdisk_gnutls_load(name, err) < 0)
        return -ENOTSUP;
    uint32_t key_bytes = (uint32_t)vdisk_cipher_mode_key_len(c->cipher, c->mode);
    int r = fill_header(p, h, key_bytes);
    uint64_t ms = p->iter_time_ms ? p->iter_time_ms : 2000;
    if (r == 0)
        r = vdisk_random(mk, key_bytes);
    if (r == 0)
        r = vdisk_random(h->mk_salt, sizeof(h->mk_salt));
    if (r == 0)
        r = iterations(p->algs.hash, key_bytes, ms / 8 ? ms / 8 : 1, &h->mk_iterations);
    if (r == 0)
        r = vdisk_pbkdf2(p->algs.hash, mk, key_bytes, h->mk_salt, sizeof(h->mk_salt), h->mk_iterations,
                         h->mk_digest, sizeof(h->mk_digest));
    if (r < 0)
        return vdisk_error_set(err, -r, "%s: making the LUKS master key failed", name);
    r = vdisk_luks_store_key(&p->algs, h, 0, pass, passlen, mk, ms, io, opaque, name, err);
    if (r < 0)
        return r;
    uint8_t buf[VDISK_LUKS_HDR_LEN];
    vdisk_luks_header_build(h, buf);
    return io(opaque, buf, sizeof(buf), 0, true, err);
}
