/* libvdisk — sector IV generators as dm-crypt and QEMU name them:
 * plain (32-bit sector number), plain64, and essiv:HASH (the plain64 IV
 * encrypted in ECB mode with a key that is the hash of the data key). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

static const char *const ivgen_names[VDISK_IVGEN__COUNT] = {
    [VDISK_IVGEN_PLAIN] = "plain",
    [VDISK_IVGEN_PLAIN64] = "plain64",
    [VDISK_IVGEN_ESSIV] = "essiv",
};

struct vdisk_ivgen {
    vdisk_ivgen_alg alg;
    size_t ivlen;
    vdisk_cipher *essiv;        /* ECB, keyed with H(key) */
    pthread_mutex_t lock;       /* the ESSIV context is used by one thread at a time */
};

int
vdisk_ivgen_from_name(const char *name, vdisk_ivgen_alg *out)
{
    for (int i = 0; i < VDISK_IVGEN__COUNT; i++)
        if (strcmp(ivgen_names[i], name) == 0) {
            *out = (vdisk_ivgen_alg)i;
            return 0;
        }
    return -EINVAL;
}

const char *
vdisk_ivgen_name(vdisk_ivgen_alg alg)
{
    return (unsigned)alg < VDISK_IVGEN__COUNT ? ivgen_names[alg] : "unknown";
}

int
vdisk_ivgen_new(vdisk_ivgen_alg alg, vdisk_cipher_alg essiv_cipher, vdisk_hash_alg hash,
                const uint8_t *key, size_t keylen, size_t ivlen, vdisk_ivgen **out,
                vdisk_error *err)
{
    if ((unsigned)alg >= VDISK_IVGEN__COUNT || ivlen > 16)
        return vdisk_error_set(err, EINVAL, "unknown IV generator");
    vdisk_ivgen *g = calloc(1, sizeof(*g));
    if (!g)
        return vdisk_error_set(err, ENOMEM, "out of memory for an IV generator");
    g->alg = alg;
    g->ivlen = ivlen;
    pthread_mutex_init(&g->lock, NULL);
    if (alg == VDISK_IVGEN_ESSIV) {
        uint8_t salt[VDISK_HASH_MAX_LEN];
        size_t hl = vdisk_hash_len(hash);
        int r = vdisk_hash2(hash, key, keylen, NULL, 0, salt);
        if (r == 0 && vdisk_cipher_key_len(essiv_cipher) != hl)
            r = vdisk_error_set(err, EINVAL, "essiv: cipher %s takes %zu-byte keys but hash %s gives %zu bytes",
                                vdisk_cipher_alg_name(essiv_cipher), vdisk_cipher_key_len(essiv_cipher),
                                vdisk_hash_name(hash), hl);
        else if (r == 0 && vdisk_cipher_block_len(essiv_cipher) != ivlen)
            r = vdisk_error_set(err, EINVAL, "essiv: cipher %s has %zu-byte blocks, the data cipher %zu",
                                vdisk_cipher_alg_name(essiv_cipher),
                                vdisk_cipher_block_len(essiv_cipher), ivlen);
        else if (r == 0)
            r = vdisk_cipher_new(essiv_cipher, VDISK_CIPHER_MODE_ECB, salt, hl, &g->essiv, err);
        else
            r = vdisk_error_set(err, EIO, "essiv: hashing the key with %s failed", vdisk_hash_name(hash));
        vdisk_wipe(salt, sizeof(salt));
        if (r < 0) {
            vdisk_ivgen_free(g);
            return r;
        }
    }
    *out = g;
    return 0;
}

void
vdisk_ivgen_free(vdisk_ivgen *g)
{
    if (!g)
        return;
    vdisk_cipher_free(g->essiv);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

int
vdisk_ivgen_calc(vdisk_ivgen *g, uint64_t sector, uint8_t *iv)
{
    memset(iv, 0, g->ivlen);
    uint64_t n = g->alg == VDISK_IVGEN_PLAIN ? (sector & UINT32_MAX) : sector;
    size_t bytes = g->alg == VDISK_IVGEN_PLAIN ? 4 : 8;
    for (size_t i = 0; i < bytes && i < g->ivlen; i++, n >>= 8)
        iv[i] = (uint8_t)n;
    if (g->alg != VDISK_IVGEN_ESSIV)
        return 0;
    pthread_mutex_lock(&g->lock);
    int r = vdisk_cipher_encrypt(g->essiv, NULL, iv, g->ivlen);
    pthread_mutex_unlock(&g->lock);
    return r;
}
