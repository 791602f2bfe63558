/* libvdisk — encrypted images: LUKS1 (raw "luks" images and qcow2
 * encrypt.format=luks) and legacy qcow2 AES (weak: kept for what qemu-img
 * still reads, writes and creates; see docs/formats.md).
 *
 * Passphrases are given by pointer and length (vdisk_open_opts.secret,
 * vdisk_create_opts.encrypt.secret); libvdisk never copies them into
 * messages and wipes every derived key when it is done with it.
 */
#ifndef VDISK_ENCRYPT_H
#define VDISK_ENCRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdisk/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vdisk_encrypt_format {
    VDISK_ENCRYPT_NONE = 0,
    VDISK_ENCRYPT_LUKS,   /* LUKS1 */
    VDISK_ENCRYPT_AES,    /* legacy qcow AES-CBC: weak; the passphrase is the key */
} vdisk_encrypt_format;

/* Creation options, by qemu-img's names (encrypt.* for qcow2, the bare
 * names for -f luks).  Empty strings mean QEMU's defaults: aes-256, xts,
 * plain64, sha256, iter-time 2000 ms. */
typedef struct vdisk_encrypt_opts {
    vdisk_encrypt_format format;
    char cipher_alg[16];       /* aes-128|192|256, serpent-*, twofish-*, cast5-128 */
    char cipher_mode[8];       /* ecb, cbc, xts */
    char ivgen_alg[8];         /* plain, plain64, essiv */
    char ivgen_hash_alg[16];   /* essiv's hash */
    char hash_alg[16];         /* PBKDF2 / AF hash: sha1, sha256, sha512, ... */
    uint64_t iter_time;        /* ms of PBKDF2 per key slot; 0: 2000 */
    char key_secret[64];       /* id of the secret object (tools resolve it) */
    const void *secret;        /* the passphrase (not owned, not NUL terminated) */
    size_t secret_len;
} vdisk_encrypt_opts;

/* One key slot as `qemu-img info` shows it. */
typedef struct vdisk_encrypt_slot {
    bool active;
    uint32_t iters;            /* active slots only */
    uint32_t stripes;          /* active slots only */
    uint64_t key_offset;       /* bytes from the start of the LUKS header */
} vdisk_encrypt_slot;

/* What `qemu-img info` prints under "encrypt:" (qcow2) or as the
 * format-specific block of a luks image. */
typedef struct vdisk_encrypt_info {
    vdisk_encrypt_format format;
    char cipher_alg[16], cipher_mode[8], ivgen_alg[8], ivgen_hash_alg[16], hash_alg[16];
    char uuid[41];
    uint64_t payload_offset;   /* bytes */
    uint32_t master_key_iters;
    unsigned nslots;           /* 8 for LUKS1, 0 for AES */
    vdisk_encrypt_slot slots[8];
} vdisk_encrypt_info;

/* "luks", "aes", or "none". */
const char *vdisk_encrypt_format_name(vdisk_encrypt_format f);

/* Set one encryption option by its qemu-img name without the "encrypt."
 * prefix (format, cipher-alg, cipher-mode, ivgen-alg, ivgen-hash-alg,
 * hash-alg, iter-time, key-secret).  -ENOENT if the key is not one of
 * them; -EINVAL with a message for a bad value. */
int vdisk_encrypt_opts_set(vdisk_encrypt_opts *o, const char *key, const char *value,
                           vdisk_error *err);
/* Check the combination (known cipher/mode/hash, XTS only with 16-byte
 * block ciphers, essiv with a hash whose length keys the cipher, a
 * passphrase present; AES with none of the LUKS algorithm options). */
int vdisk_encrypt_opts_validate(const vdisk_encrypt_opts *o, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
