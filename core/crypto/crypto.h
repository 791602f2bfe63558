/* libvdisk internals — the crypto layer used by LUKS and qcow2 encryption.
 *
 * GnuTLS is the crypto library (DESIGN.md): hashes, PBKDF2, random bytes and
 * the AES-CBC/AES-XTS data ciphers.  Nettle -- GnuTLS's own crypto backend,
 * so no new library in practice -- supplies the block ciphers LUKS offers
 * that GnuTLS does not expose (serpent, twofish, cast5, and AES-ECB) with its
 * generic CBC and XTS helpers.  No cipher is written by hand here.
 *
 * GnuTLS is not linked: the first hash, PBKDF2, key-quality random bytes or
 * GnuTLS cipher loads it (gnutls-load.h), so that processes that never
 * encrypt do not carry it and the libraries under it.  The LUKS entry
 * points load it first with the image's name, for the error.
 *
 * Key material: every buffer that held a key or passphrase is wiped with
 * vdisk_wipe before it is freed.
 */
#ifndef VDISK_CRYPTO_H
#define VDISK_CRYPTO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdisk/error.h>

/* ---- hashes, PBKDF2, random (hash.c) ------------------------------------ */

typedef enum vdisk_hash_alg {
    VDISK_HASH_MD5,
    VDISK_HASH_SHA1,
    VDISK_HASH_SHA224,
    VDISK_HASH_SHA256,
    VDISK_HASH_SHA384,
    VDISK_HASH_SHA512,
    VDISK_HASH_RIPEMD160,
    VDISK_HASH__COUNT,
} vdisk_hash_alg;

#define VDISK_HASH_MAX_LEN 64

/* "sha256" -> VDISK_HASH_SHA256; -EINVAL for names QEMU's LUKS does not know. */
int vdisk_hash_from_name(const char *name, vdisk_hash_alg *out);
const char *vdisk_hash_name(vdisk_hash_alg alg);
size_t vdisk_hash_len(vdisk_hash_alg alg);
/* out = H(a || b); b may be NULL.  0, -EIO, or -ENOTSUP if GnuTLS cannot
 * be loaded (this and the two below load it on first use). */
int vdisk_hash2(vdisk_hash_alg alg, const void *a, size_t alen, const void *b, size_t blen,
                uint8_t *out);
/* PBKDF2-HMAC-alg (RFC 8018).  0 or -EIO/-EINVAL/-ENOTSUP. */
int vdisk_pbkdf2(vdisk_hash_alg alg, const uint8_t *pass, size_t passlen, const uint8_t *salt,
                 size_t saltlen, uint64_t iterations, uint8_t *out, size_t outlen);
/* How many PBKDF2 iterations of this hash take `ms` milliseconds of CPU
 * time here (at least 1).  Measured on a throw-away key of keylen bytes. */
int vdisk_pbkdf2_count_iters(vdisk_hash_alg alg, size_t keylen, uint64_t ms, uint64_t *iters);
/* Key-quality random bytes (gnutls_rnd; loads GnuTLS).  0, -EIO, or
 * -ENOTSUP if GnuTLS cannot be loaded (vdisk_gnutls_load says why). */
int vdisk_random(void *buf, size_t len);
/* Random bytes for identifiers that are no secret (UUIDs, sequence
 * numbers of VHD / VHDX): getrandom(2), without GnuTLS.  0 or -errno. */
int vdisk_random_id(void *buf, size_t len);
/* Zero memory in a way the compiler cannot drop (explicit_bzero: wiping
 * never needs GnuTLS, and a passphrase may be wiped before it is used). */
void vdisk_wipe(void *p, size_t len);
/* Wipe, then free. p may be NULL. */
void vdisk_wipe_free(void *p, size_t len);

/* ---- block ciphers (cipher.c) ------------------------------------------- */

typedef enum vdisk_cipher_alg {
    VDISK_CIPHER_AES_128,
    VDISK_CIPHER_AES_192,
    VDISK_CIPHER_AES_256,
    VDISK_CIPHER_SERPENT_128,
    VDISK_CIPHER_SERPENT_192,
    VDISK_CIPHER_SERPENT_256,
    VDISK_CIPHER_TWOFISH_128,
    VDISK_CIPHER_TWOFISH_192,
    VDISK_CIPHER_TWOFISH_256,
    VDISK_CIPHER_CAST5_128,
    VDISK_CIPHER__COUNT,
} vdisk_cipher_alg;

typedef enum vdisk_cipher_mode {
    VDISK_CIPHER_MODE_ECB,
    VDISK_CIPHER_MODE_CBC,
    VDISK_CIPHER_MODE_XTS,
    VDISK_CIPHER_MODE__COUNT,
} vdisk_cipher_mode;

/* "aes-256" as QEMU's encrypt.cipher-alg; -EINVAL if unknown. */
int vdisk_cipher_alg_from_name(const char *name, vdisk_cipher_alg *out);
const char *vdisk_cipher_alg_name(vdisk_cipher_alg alg);
/* LUKS cipher-name: "aes", "serpent", "twofish", "cast5". */
const char *vdisk_cipher_family(vdisk_cipher_alg alg);
/* The algorithm of a family with a key of keylen bytes; -EINVAL if none. */
int vdisk_cipher_alg_for(const char *family, size_t keylen, vdisk_cipher_alg *out);
size_t vdisk_cipher_key_len(vdisk_cipher_alg alg);     /* one key: 16, 24, 32 */
size_t vdisk_cipher_block_len(vdisk_cipher_alg alg);   /* 16, or 8 for cast5 */
int vdisk_cipher_mode_from_name(const char *name, vdisk_cipher_mode *out);
const char *vdisk_cipher_mode_name(vdisk_cipher_mode mode);
/* Key bytes the mode needs (two keys for XTS). */
static inline size_t
vdisk_cipher_mode_key_len(vdisk_cipher_alg alg, vdisk_cipher_mode mode)
{
    return vdisk_cipher_key_len(alg) * (mode == VDISK_CIPHER_MODE_XTS ? 2 : 1);
}
/* Does this build (and the mode's rules) allow the combination?  XTS needs
 * a 16-byte block cipher. */
bool vdisk_cipher_supports(vdisk_cipher_alg alg, vdisk_cipher_mode mode);

typedef struct vdisk_cipher vdisk_cipher;

/* A cipher context keyed with key (keylen == vdisk_cipher_mode_key_len).
 * Not thread safe: one user at a time.  Free with vdisk_cipher_free. */
int vdisk_cipher_new(vdisk_cipher_alg alg, vdisk_cipher_mode mode, const uint8_t *key,
                     size_t keylen, vdisk_cipher **out, vdisk_error *err);
void vdisk_cipher_free(vdisk_cipher *c);
/* Encrypt/decrypt one data unit in place (len a multiple of the block
 * length).  iv: block-length bytes (the XTS tweak); ignored for ECB. */
int vdisk_cipher_encrypt(vdisk_cipher *c, const uint8_t *iv, uint8_t *buf, size_t len);
int vdisk_cipher_decrypt(vdisk_cipher *c, const uint8_t *iv, uint8_t *buf, size_t len);

/* ---- IV generators (ivgen.c) -------------------------------------------- */

typedef enum vdisk_ivgen_alg {
    VDISK_IVGEN_PLAIN,     /* sector number, 32-bit little endian */
    VDISK_IVGEN_PLAIN64,   /* sector number, 64-bit little endian */
    VDISK_IVGEN_ESSIV,     /* E_{H(key)}(plain64) */
    VDISK_IVGEN__COUNT,
} vdisk_ivgen_alg;

int vdisk_ivgen_from_name(const char *name, vdisk_ivgen_alg *out);
const char *vdisk_ivgen_name(vdisk_ivgen_alg alg);

typedef struct vdisk_ivgen vdisk_ivgen;
/* essiv: the IV cipher (ECB) is keyed with H(key) and must take a key of
 * the hash's length.  ivlen: the data cipher's block length. */
int vdisk_ivgen_new(vdisk_ivgen_alg alg, vdisk_cipher_alg essiv_cipher, vdisk_hash_alg hash,
                    const uint8_t *key, size_t keylen, size_t ivlen, vdisk_ivgen **out,
                    vdisk_error *err);
void vdisk_ivgen_free(vdisk_ivgen *g);
/* IV of a sector into iv (ivlen bytes).  Thread safe. */
int vdisk_ivgen_calc(vdisk_ivgen *g, uint64_t sector, uint8_t *iv);

/* ---- sector encryption (sectors.c) -------------------------------------- */

#define VDISK_CRYPT_SECTOR 512u

struct vdisk_crypt_spec {
    vdisk_cipher_alg cipher;
    vdisk_cipher_mode mode;
    vdisk_ivgen_alg ivgen;
    vdisk_cipher_alg ivgen_cipher;   /* essiv only */
    vdisk_hash_alg ivgen_hash;       /* essiv's; with plain/plain64 only recorded (see below) */
    /* The header names an IV hash ("cbc-plain64:sha256"): always for essiv;
     * QEMU and dm-crypt also accept one with plain/plain64 and ignore it. */
    bool ivgen_hashed;
};

/* 512-byte sector encryption with a cipher, a mode and an IV generator,
 * safe to use from several threads (a small pool of cipher contexts). */
typedef struct vdisk_sectors vdisk_sectors;
int vdisk_sectors_new(const struct vdisk_crypt_spec *spec, const uint8_t *key, size_t keylen,
                      vdisk_sectors **out, vdisk_error *err);
void vdisk_sectors_free(vdisk_sectors *s);
/* Encrypt/decrypt len bytes (a multiple of 512) in place; the first
 * sector's IV number is `sector`. */
int vdisk_sectors_encrypt(vdisk_sectors *s, uint64_t sector, uint8_t *buf, size_t len,
                          vdisk_error *err);
int vdisk_sectors_decrypt(vdisk_sectors *s, uint64_t sector, uint8_t *buf, size_t len,
                          vdisk_error *err);

/* ---- anti-forensic splitter (afsplit.c) --------------------------------- */

/* LUKS1 AF-split: spread `key` (len bytes) over `stripes` stripes in out
 * (len * stripes bytes) with random filler and H diffusion. */
int vdisk_af_split(vdisk_hash_alg hash, const uint8_t *key, size_t len, uint32_t stripes,
                   uint8_t *out);
/* The inverse: recover the key from len * stripes bytes of `in`. */
int vdisk_af_merge(vdisk_hash_alg hash, const uint8_t *in, size_t len, uint32_t stripes,
                   uint8_t *key);

#endif
