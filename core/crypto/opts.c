/* libvdisk — encryption creation options (qemu-img's encrypt.* keys) and
 * their translation into LUKS parameters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/encrypt.h>

#include "luks.h"

const char *
vdisk_encrypt_format_name(vdisk_encrypt_format f)
{
    switch (f) {
    case VDISK_ENCRYPT_LUKS: return "luks";
    case VDISK_ENCRYPT_AES: return "aes";
    default: return "none";
    }
}

/* Copy a value into a fixed field, refusing what does not fit. */
static int
set_text(char *dst, size_t cap, const char *key, const char *value, vdisk_error *err)
{
    if (strlen(value) >= cap)
        return vdisk_error_set(err, EINVAL, "Parameter '%s' does not accept value '%s'", key, value);
    memcpy(dst, value, strlen(value) + 1);
    return 0;
}

int
vdisk_encrypt_opts_set(vdisk_encrypt_opts *o, const char *key, const char *value, vdisk_error *err)
{
    if (strcmp(key, "format") == 0) {
        if (strcmp(value, "luks") == 0)
            o->format = VDISK_ENCRYPT_LUKS;
        else if (strcmp(value, "aes") == 0)
            o->format = VDISK_ENCRYPT_AES;
        else
            return vdisk_error_set(err, EINVAL, "Parameter 'encrypt.format' does not accept value '%s' "
                                   "(expected luks or aes)", value);
        return 0;
    }
    if (strcmp(key, "cipher-alg") == 0)
        return set_text(o->cipher_alg, sizeof(o->cipher_alg), key, value, err);
    if (strcmp(key, "cipher-mode") == 0)
        return set_text(o->cipher_mode, sizeof(o->cipher_mode), key, value, err);
    if (strcmp(key, "ivgen-alg") == 0)
        return set_text(o->ivgen_alg, sizeof(o->ivgen_alg), key, value, err);
    if (strcmp(key, "ivgen-hash-alg") == 0)
        return set_text(o->ivgen_hash_alg, sizeof(o->ivgen_hash_alg), key, value, err);
    if (strcmp(key, "hash-alg") == 0)
        return set_text(o->hash_alg, sizeof(o->hash_alg), key, value, err);
    if (strcmp(key, "key-secret") == 0)
        return set_text(o->key_secret, sizeof(o->key_secret), key, value, err);
    if (strcmp(key, "iter-time") == 0) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end || value[0] == '-' || v == 0 || v > 1000000)
            return vdisk_error_set(err, EINVAL, "Parameter 'iter-time' expects milliseconds between 1 "
                                   "and 1000000 (not '%s')", value);
        o->iter_time = v;
        return 0;
    }
    return -ENOENT;
}

/* Names (or QEMU's defaults) into algorithms; errors use QEMU's words. */
int
vdisk_luks_params_from_opts(const vdisk_encrypt_opts *o, struct vdisk_luks_params *p, vdisk_error *err)
{
    memset(p, 0, sizeof(*p));
    struct vdisk_crypt_spec *c = &p->algs.crypt;
    const char *alg = o->cipher_alg[0] ? o->cipher_alg : "aes-256";
    const char *mode = o->cipher_mode[0] ? o->cipher_mode : "xts";
    const char *ivgen = o->ivgen_alg[0] ? o->ivgen_alg : "plain64";
    const char *hash = o->hash_alg[0] ? o->hash_alg : "sha256";
    if (vdisk_cipher_alg_from_name(alg, &c->cipher) < 0)
        return vdisk_error_set(err, EINVAL, "Unsupported cipher algorithm '%s' (expected aes-128, "
                               "aes-192, aes-256, serpent-*, twofish-* or cast5-128)", alg);
    if (vdisk_cipher_mode_from_name(mode, &c->mode) < 0)
        return vdisk_error_set(err, EINVAL, "Unsupported cipher mode '%s' (expected ecb, cbc or xts)", mode);
    if (!vdisk_cipher_supports(c->cipher, c->mode))
        return vdisk_error_set(err, ENOTSUP, "Unsupported cipher mode %s for cipher %s (XTS needs a "
                               "16-byte block cipher)", mode, alg);
    if (vdisk_ivgen_from_name(ivgen, &c->ivgen) < 0)
        return vdisk_error_set(err, EINVAL, "Unsupported IV generator '%s' (expected plain, plain64 "
                               "or essiv)", ivgen);
    if (vdisk_hash_from_name(hash, &p->algs.hash) < 0)
        return vdisk_error_set(err, EINVAL, "Unsupported hash algorithm '%s'", hash);
    if (c->ivgen == VDISK_IVGEN_ESSIV) {
        const char *ih = o->ivgen_hash_alg[0] ? o->ivgen_hash_alg : "sha256";
        if (vdisk_hash_from_name(ih, &c->ivgen_hash) < 0)
            return vdisk_error_set(err, EINVAL, "Unsupported IV hash algorithm '%s'", ih);
        if (vdisk_luks_essiv_cipher(c->cipher, c->ivgen_hash, &c->ivgen_cipher) < 0)
            return vdisk_error_set(err, ENOTSUP, "No %s cipher with key size %zu available for essiv "
                                   "with %s", vdisk_cipher_family(c->cipher), vdisk_hash_len(c->ivgen_hash), ih);
        c->ivgen_hashed = true;
    } else if (o->ivgen_hash_alg[0]) {
        /* As QEMU (for dm-crypt compatibility): written into the header, unused. */
        if (vdisk_hash_from_name(o->ivgen_hash_alg, &c->ivgen_hash) < 0)
            return vdisk_error_set(err, EINVAL, "Unsupported IV hash algorithm '%s'", o->ivgen_hash_alg);
        c->ivgen_hashed = true;
    }
    p->iter_time_ms = o->iter_time ? o->iter_time : 2000;
    return 0;
}

/* Legacy qcow AES: the passphrase is the key, nothing else can be chosen
 * (QEMU's qcow options have only key-secret). */
static int
aes_opts_check(const vdisk_encrypt_opts *o, vdisk_error *err)
{
    const struct { const char *key, *value; } fixed[] = {
        { "cipher-alg", o->cipher_alg }, { "cipher-mode", o->cipher_mode }, { "ivgen-alg", o->ivgen_alg },
        { "ivgen-hash-alg", o->ivgen_hash_alg }, { "hash-alg", o->hash_alg },
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (fixed[i].value[0])
            return vdisk_error_set(err, EINVAL, "Parameter 'encrypt.%s' is unexpected (legacy qcow AES "
                                   "encryption takes only encrypt.key-secret)", fixed[i].key);
    if (o->iter_time)
        return vdisk_error_set(err, EINVAL, "Parameter 'encrypt.iter-time' is unexpected (legacy qcow AES "
                               "encryption takes only encrypt.key-secret)");
    return 0;
}

int
vdisk_encrypt_opts_validate(const vdisk_encrypt_opts *o, vdisk_error *err)
{
    if (o->format == VDISK_ENCRYPT_NONE)
        return 0;
    if (!o->secret)
        return vdisk_error_set(err, EINVAL, "Parameter 'encrypt.key-secret' is required for cipher "
                               "(give a passphrase: --object secret,id=ID,file=F -o encrypt.key-secret=ID, "
                               "or --passphrase-file)");
    if (o->format == VDISK_ENCRYPT_AES)
        return aes_opts_check(o, err);
    struct vdisk_luks_params p;
    return vdisk_luks_params_from_opts(o, &p, err);
}
