/* libvdisk — 512-byte sector encryption (the LUKS payload, qcow2 clusters).
 *
 * Cipher contexts are not thread safe, and parallel convert workers
 * encrypt at the same time: each call borrows a context from a small pool
 * (creating one when all are busy), so workers never serialise on a lock
 * held during encryption. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define POOL_MAX 16

struct vdisk_sectors {
    struct vdisk_crypt_spec spec;
    uint8_t *key;
    size_t keylen;
    size_t blk;
    vdisk_ivgen *ivgen;
    pthread_mutex_t lock;
    vdisk_cipher *pool[POOL_MAX];
    unsigned n;
};

int
vdisk_sectors_new(const struct vdisk_crypt_spec *spec, const uint8_t *key, size_t keylen,
                  vdisk_sectors **out, vdisk_error *err)
{
    vdisk_sectors *s = calloc(1, sizeof(*s));
    if (!s || !(s->key = malloc(keylen ? keylen : 1))) {
        free(s);
        return vdisk_error_set(err, ENOMEM, "out of memory for the sector cipher");
    }
    pthread_mutex_init(&s->lock, NULL);
    s->spec = *spec;
    memcpy(s->key, key, keylen);
    s->keylen = keylen;
    s->blk = vdisk_cipher_block_len(spec->cipher);
    /* One context now: it checks the key and the combination. */
    int r = vdisk_cipher_new(spec->cipher, spec->mode, key, keylen, &s->pool[0], err);
    if (r == 0) {
        s->n = 1;
        r = vdisk_ivgen_new(spec->ivgen, spec->ivgen_cipher, spec->ivgen_hash, key, keylen, s->blk,
                            &s->ivgen, err);
    }
    if (r < 0) {
        vdisk_sectors_free(s);
        return r;
    }
    *out = s;
    return 0;
}

void
vdisk_sectors_free(vdisk_sectors *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->n; i++)
        vdisk_cipher_free(s->pool[i]);
    vdisk_ivgen_free(s->ivgen);
    vdisk_wipe_free(s->key, s->keylen);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static vdisk_cipher *
borrow(vdisk_sectors *s, vdisk_error *err)
{
    vdisk_cipher *c = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->n)
        c = s->pool[--s->n];
    pthread_mutex_unlock(&s->lock);
    if (!c && vdisk_cipher_new(s->spec.cipher, s->spec.mode, s->key, s->keylen, &c, err) < 0)
        return NULL;
    return c;
}

static void
give_back(vdisk_sectors *s, vdisk_cipher *c)
{
    pthread_mutex_lock(&s->lock);
    if (s->n < POOL_MAX) {
        s->pool[s->n++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    vdisk_cipher_free(c);
}

static int
crypt_sectors(vdisk_sectors *s, uint64_t sector, uint8_t *buf, size_t len, bool enc,
              vdisk_error *err)
{
    if (len % VDISK_CRYPT_SECTOR)
        return vdisk_error_set(err, EINVAL, "encryption of %zu bytes: not whole 512-byte sectors", len);
    vdisk_cipher *c = borrow(s, err);
    if (!c)
        return err ? err->code : -ENOMEM;
    int r = 0;
    uint8_t iv[16];
    for (size_t off = 0; off < len && r == 0; off += VDISK_CRYPT_SECTOR, sector++) {
        r = vdisk_ivgen_calc(s->ivgen, sector, iv);
        if (r == 0)
            r = enc ? vdisk_cipher_encrypt(c, iv, buf + off, VDISK_CRYPT_SECTOR)
                    : vdisk_cipher_decrypt(c, iv, buf + off, VDISK_CRYPT_SECTOR);
    }
    give_back(s, c);
    if (r < 0)
        return vdisk_error_set(err, EIO, "%scryption of sector %llu with %s-%s failed",
                               enc ? "en" : "de", (unsigned long long)sector,
                               vdisk_cipher_alg_name(s->spec.cipher), vdisk_cipher_mode_name(s->spec.mode));
    return 0;
}

int
vdisk_sectors_encrypt(vdisk_sectors *s, uint64_t sector, uint8_t *buf, size_t len, vdisk_error *err)
{
    return crypt_sectors(s, sector, buf, len, true, err);
}

int
vdisk_sectors_decrypt(vdisk_sectors *s, uint64_t sector, uint8_t *buf, size_t len, vdisk_error *err)
{
    return crypt_sectors(s, sector, buf, len, false, err);
}
