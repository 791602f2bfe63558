/* libvdisk — block ciphers for LUKS: AES-CBC/XTS through GnuTLS (loaded by
 * the first such cipher, gnutls-load.h), the rest (serpent, twofish, cast5,
 * AES-192-XTS, every ECB) through Nettle's block functions and its CBC/XTS
 * helpers.  Nettle is GnuTLS's own backend. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/aes.h>
#include <nettle/cast128.h>
#include <nettle/cbc.h>
#include <nettle/serpent.h>
#include <nettle/twofish.h>
#include <nettle/xts.h>

#include "crypto.h"
#include "gnutls-load.h"

static const struct {
    const char *name;     /* QEMU's encrypt.cipher-alg */
    const char *family;   /* LUKS cipher-name */
    size_t key_len, block_len;
} algs[VDISK_CIPHER__COUNT] = {
    [VDISK_CIPHER_AES_128] = { "aes-128", "aes", 16, 16 },
    [VDISK_CIPHER_AES_192] = { "aes-192", "aes", 24, 16 },
    [VDISK_CIPHER_AES_256] = { "aes-256", "aes", 32, 16 },
    [VDISK_CIPHER_SERPENT_128] = { "serpent-128", "serpent", 16, 16 },
    [VDISK_CIPHER_SERPENT_192] = { "serpent-192", "serpent", 24, 16 },
    [VDISK_CIPHER_SERPENT_256] = { "serpent-256", "serpent", 32, 16 },
    [VDISK_CIPHER_TWOFISH_128] = { "twofish-128", "twofish", 16, 16 },
    [VDISK_CIPHER_TWOFISH_192] = { "twofish-192", "twofish", 24, 16 },
    [VDISK_CIPHER_TWOFISH_256] = { "twofish-256", "twofish", 32, 16 },
    [VDISK_CIPHER_CAST5_128] = { "cast5-128", "cast5", 16, 8 },
};

static const char *const mode_names[VDISK_CIPHER_MODE__COUNT] = {
    [VDISK_CIPHER_MODE_ECB] = "ecb",
    [VDISK_CIPHER_MODE_CBC] = "cbc",
    [VDISK_CIPHER_MODE_XTS] = "xts",
};

int
vdisk_cipher_alg_from_name(const char *name, vdisk_cipher_alg *out)
{
    for (int i = 0; i < VDISK_CIPHER__COUNT; i++)
        if (strcmp(algs[i].name, name) == 0) {
            *out = (vdisk_cipher_alg)i;
            return 0;
        }
    return -EINVAL;
}

const char *
vdisk_cipher_alg_name(vdisk_cipher_alg alg)
{
    return (unsigned)alg < VDISK_CIPHER__COUNT ? algs[alg].name : "unknown";
}

const char *
vdisk_cipher_family(vdisk_cipher_alg alg)
{
    return (unsigned)alg < VDISK_CIPHER__COUNT ? algs[alg].family : "unknown";
}

int
vdisk_cipher_alg_for(const char *family, size_t keylen, vdisk_cipher_alg *out)
{
    for (int i = 0; i < VDISK_CIPHER__COUNT; i++)
        if (strcmp(algs[i].family, family) == 0 && algs[i].key_len == keylen) {
            *out = (vdisk_cipher_alg)i;
            return 0;
        }
    return -EINVAL;
}

size_t
vdisk_cipher_key_len(vdisk_cipher_alg alg)
{
    return (unsigned)alg < VDISK_CIPHER__COUNT ? algs[alg].key_len : 0;
}

size_t
vdisk_cipher_block_len(vdisk_cipher_alg alg)
{
    return (unsigned)alg < VDISK_CIPHER__COUNT ? algs[alg].block_len : 0;
}

int
vdisk_cipher_mode_from_name(const char *name, vdisk_cipher_mode *out)
{
    for (int i = 0; i < VDISK_CIPHER_MODE__COUNT; i++)
        if (strcmp(mode_names[i], name) == 0) {
            *out = (vdisk_cipher_mode)i;
            return 0;
        }
    return -EINVAL;
}

const char *
vdisk_cipher_mode_name(vdisk_cipher_mode mode)
{
    return (unsigned)mode < VDISK_CIPHER_MODE__COUNT ? mode_names[mode] : "unknown";
}

bool
vdisk_cipher_supports(vdisk_cipher_alg alg, vdisk_cipher_mode mode)
{
    if ((unsigned)alg >= VDISK_CIPHER__COUNT || (unsigned)mode >= VDISK_CIPHER_MODE__COUNT)
        return false;
    return mode != VDISK_CIPHER_MODE_XTS || algs[alg].block_len == 16;
}

union nettle_ctx {
    struct aes128_ctx a128;
    struct aes192_ctx a192;
    struct aes256_ctx a256;
    struct serpent_ctx serpent;
    struct twofish_ctx twofish;
    struct cast128_ctx cast5;
};

struct vdisk_cipher {
    vdisk_cipher_alg alg;
    vdisk_cipher_mode mode;
    size_t blk;
    gnutls_cipher_hd_t gh;          /* AES-CBC, AES-128/256-XTS; else NULL */
    nettle_cipher_func *encf, *decf;
    union nettle_ctx enc, dec, twk; /* twk: XTS tweak key (encrypt direction) */
};

/* GnuTLS's cipher for the combination, or GNUTLS_CIPHER_UNKNOWN. */
static gnutls_cipher_algorithm_t
gnutls_alg(vdisk_cipher_alg alg, vdisk_cipher_mode mode)
{
    if (mode == VDISK_CIPHER_MODE_CBC) {
        switch (alg) {
        case VDISK_CIPHER_AES_128: return GNUTLS_CIPHER_AES_128_CBC;
        case VDISK_CIPHER_AES_192: return GNUTLS_CIPHER_AES_192_CBC;
        case VDISK_CIPHER_AES_256: return GNUTLS_CIPHER_AES_256_CBC;
        default: return GNUTLS_CIPHER_UNKNOWN;
        }
    }
    if (mode == VDISK_CIPHER_MODE_XTS && alg == VDISK_CIPHER_AES_128)
        return GNUTLS_CIPHER_AES_128_XTS;
    if (mode == VDISK_CIPHER_MODE_XTS && alg == VDISK_CIPHER_AES_256)
        return GNUTLS_CIPHER_AES_256_XTS;
    return GNUTLS_CIPHER_UNKNOWN;
}

/* Key one Nettle context for encryption (enc) or decryption. */
static void
nettle_key(vdisk_cipher_alg alg, union nettle_ctx *ctx, const uint8_t *key, bool enc)
{
    size_t kl = algs[alg].key_len;
    switch (alg) {
    case VDISK_CIPHER_AES_128:
        (enc ? aes128_set_encrypt_key : aes128_set_decrypt_key)(&ctx->a128, key);
        break;
    case VDISK_CIPHER_AES_192:
        (enc ? aes192_set_encrypt_key : aes192_set_decrypt_key)(&ctx->a192, key);
        break;
    case VDISK_CIPHER_AES_256:
        (enc ? aes256_set_encrypt_key : aes256_set_decrypt_key)(&ctx->a256, key);
        break;
    case VDISK_CIPHER_SERPENT_128: case VDISK_CIPHER_SERPENT_192: case VDISK_CIPHER_SERPENT_256:
        serpent_set_key(&ctx->serpent, kl, key);
        break;
    case VDISK_CIPHER_TWOFISH_128: case VDISK_CIPHER_TWOFISH_192: case VDISK_CIPHER_TWOFISH_256:
        twofish_set_key(&ctx->twofish, kl, key);
        break;
    default:
        cast5_set_key(&ctx->cast5, kl, key);
        break;
    }
}

static void
nettle_funcs(vdisk_cipher_alg alg, nettle_cipher_func **encf, nettle_cipher_func **decf)
{
    switch (alg) {
    case VDISK_CIPHER_AES_128:
        *encf = (nettle_cipher_func *)aes128_encrypt;
        *decf = (nettle_cipher_func *)aes128_decrypt;
        break;
    case VDISK_CIPHER_AES_192:
        *encf = (nettle_cipher_func *)aes192_encrypt;
        *decf = (nettle_cipher_func *)aes192_decrypt;
        break;
    case VDISK_CIPHER_AES_256:
        *encf = (nettle_cipher_func *)aes256_encrypt;
        *decf = (nettle_cipher_func *)aes256_decrypt;
        break;
    case VDISK_CIPHER_SERPENT_128: case VDISK_CIPHER_SERPENT_192: case VDISK_CIPHER_SERPENT_256:
        *encf = (nettle_cipher_func *)serpent_encrypt;
        *decf = (nettle_cipher_func *)serpent_decrypt;
        break;
    case VDISK_CIPHER_TWOFISH_128: case VDISK_CIPHER_TWOFISH_192: case VDISK_CIPHER_TWOFISH_256:
        *encf = (nettle_cipher_func *)twofish_encrypt;
        *decf = (nettle_cipher_func *)twofish_decrypt;
        break;
    default:
        *encf = (nettle_cipher_func *)cast128_encrypt;
        *decf = (nettle_cipher_func *)cast128_decrypt;
        break;
    }
}

int
vdisk_cipher_new(vdisk_cipher_alg alg, vdisk_cipher_mode mode, const uint8_t *key, size_t keylen,
                 vdisk_cipher **out, vdisk_error *err)
{
    if (!vdisk_cipher_supports(alg, mode))
        return vdisk_error_set(err, ENOTSUP, "cipher %s in mode %s is not supported",
                               vdisk_cipher_alg_name(alg), vdisk_cipher_mode_name(mode));
    size_t kl = algs[alg].key_len;
    if (keylen != vdisk_cipher_mode_key_len(alg, mode))
        return vdisk_error_set(err, EINVAL, "cipher %s-%s needs a %zu-byte key, not %zu bytes",
                               algs[alg].name, mode_names[mode], vdisk_cipher_mode_key_len(alg, mode),
                               keylen);
    gnutls_cipher_algorithm_t ga = gnutls_alg(alg, mode);
    if (ga != GNUTLS_CIPHER_UNKNOWN && vdisk_gnutls_load("encryption", err) < 0)
        return -ENOTSUP;
    vdisk_cipher *c = calloc(1, sizeof(*c));
    if (!c)
        return vdisk_error_set(err, ENOMEM, "out of memory for a cipher context");
    c->alg = alg;
    c->mode = mode;
    c->blk = algs[alg].block_len;
    if (ga != GNUTLS_CIPHER_UNKNOWN) {
        gnutls_datum_t k = { .data = (unsigned char *)key, .size = (unsigned)keylen };
        if (gnutls_cipher_init(&c->gh, ga, &k, NULL) < 0) {
            vdisk_wipe_free(c, sizeof(*c));
            return vdisk_error_set(err, EINVAL, "GnuTLS refused the %s-%s key (XTS keys must have "
                                   "two different halves)", algs[alg].name, mode_names[mode]);
        }
    } else {
        nettle_funcs(alg, &c->encf, &c->decf);
        nettle_key(alg, &c->enc, key, true);
        nettle_key(alg, &c->dec, key, false);
        if (mode == VDISK_CIPHER_MODE_XTS)
            nettle_key(alg, &c->twk, key + kl, true);
    }
    *out = c;
    return 0;
}

void
vdisk_cipher_free(vdisk_cipher *c)
{
    if (!c)
        return;
    if (c->gh)
        gnutls_cipher_deinit(c->gh);
    vdisk_wipe_free(c, sizeof(*c));
}

static int
crypt_unit(vdisk_cipher *c, const uint8_t *iv, uint8_t *buf, size_t len, bool enc)
{
    if (len % c->blk)
        return -EINVAL;
    if (c->gh) {
        gnutls_cipher_set_iv(c->gh, (void *)iv, c->blk);
        int r = enc ? gnutls_cipher_encrypt(c->gh, buf, len) : gnutls_cipher_decrypt(c->gh, buf, len);
        return r < 0 ? -EIO : 0;
    }
    uint8_t ivbuf[16];
    switch (c->mode) {
    case VDISK_CIPHER_MODE_ECB:
        (enc ? c->encf : c->decf)(enc ? (void *)&c->enc : (void *)&c->dec, len, buf, buf);
        return 0;
    case VDISK_CIPHER_MODE_CBC:
        memcpy(ivbuf, iv, c->blk);
        if (enc)
            cbc_encrypt(&c->enc, c->encf, c->blk, ivbuf, len, buf, buf);
        else
            cbc_decrypt(&c->dec, c->decf, c->blk, ivbuf, len, buf, buf);
        return 0;
    default:
        if (enc)
            xts_encrypt_message(&c->enc, &c->twk, c->encf, iv, len, buf, buf);
        else
            xts_decrypt_message(&c->dec, &c->twk, c->decf, c->encf, iv, len, buf, buf);
        return 0;
    }
}

int
vdisk_cipher_encrypt(vdisk_cipher *c, const uint8_t *iv, uint8_t *buf, size_t len)
{
    return crypt_unit(c, iv, buf, len, true);
}

int
vdisk_cipher_decrypt(vdisk_cipher *c, const uint8_t *iv, uint8_t *buf, size_t len)
{
    return crypt_unit(c, iv, buf, len, false);
}
