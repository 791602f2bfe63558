/* libvdisk internals — LUKS1 headers and key slots (the cryptsetup LUKS1
 * on-disk format), shared by the raw LUKS driver (crypto/luks-driver.c) and qcow2
 * encryption (core/qcow2/crypt.c), which keeps the same header in clusters.
 *
 * All on-disk integers are big endian.  Offsets in the header count
 * 512-byte sectors from the start of the LUKS header.
 */
#ifndef VDISK_LUKS_H
#define VDISK_LUKS_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto.h"

#define VDISK_LUKS_HDR_LEN 592u
#define VDISK_LUKS_SLOTS 8
#define VDISK_LUKS_STRIPES 4000u
#define VDISK_LUKS_SLOT_ACTIVE 0x00ac71f3u
#define VDISK_LUKS_SLOT_INACTIVE 0x0000deadu
#define VDISK_LUKS_DIGEST_LEN 20
#define VDISK_LUKS_SALT_LEN 32
/* Key material starts 4 KiB aligned, as QEMU and cryptsetup lay it out. */
#define VDISK_LUKS_ALIGN 4096u
/* QEMU's and cryptsetup's floor for PBKDF2 iterations. */
#define VDISK_LUKS_MIN_ITERS 1000u

struct vdisk_luks_slot {
    uint32_t active;            /* VDISK_LUKS_SLOT_ACTIVE / _INACTIVE */
    uint32_t iterations;
    uint8_t salt[VDISK_LUKS_SALT_LEN];
    uint32_t key_offset;        /* sectors */
    uint32_t stripes;
};

struct vdisk_luks_header {
    uint16_t version;
    char cipher_name[33];       /* NUL terminated copies of the 32-byte fields */
    char cipher_mode[33];
    char hash_spec[33];
    uint32_t payload_offset;    /* sectors */
    uint32_t key_bytes;
    uint8_t mk_digest[VDISK_LUKS_DIGEST_LEN];
    uint8_t mk_salt[VDISK_LUKS_SALT_LEN];
    uint32_t mk_iterations;
    char uuid[41];
    struct vdisk_luks_slot slots[VDISK_LUKS_SLOTS];
};

/* What the text fields of a header say, decoded. */
struct vdisk_luks_algs {
    struct vdisk_crypt_spec crypt;
    vdisk_hash_alg hash;        /* PBKDF2 and AF hash */
};

/* Parse and check a header.  area_len: bytes available for key material
 * (the file, or the qcow2 header extension); 0 to skip the bounds checks.
 * name names the image in messages. */
int vdisk_luks_header_parse(const uint8_t *buf, size_t len, uint64_t area_len,
                            struct vdisk_luks_header *h, struct vdisk_luks_algs *a,
                            const char *name, vdisk_error *err);
/* The 592 on-disk bytes of h. */
void vdisk_luks_header_build(const struct vdisk_luks_header *h, uint8_t *buf);
/* Decode cipher-name/cipher-mode/hash-spec + key_bytes into algorithms. */
int vdisk_luks_decode_algs(const struct vdisk_luks_header *h, struct vdisk_luks_algs *a,
                           const char *name, vdisk_error *err);
/* The ESSIV cipher QEMU pairs with a data cipher and a hash: same family,
 * key length == digest length. */
int vdisk_luks_essiv_cipher(vdisk_cipher_alg cipher, vdisk_hash_alg hash, vdisk_cipher_alg *out);
/* Bytes of key material one slot holds, rounded up to VDISK_LUKS_ALIGN. */
uint64_t vdisk_luks_slot_bytes(uint32_t key_bytes, uint32_t stripes);
/* Sectors from the start of the header to the payload in QEMU's layout. */
uint32_t vdisk_luks_payload_sectors(uint32_t key_bytes);

/* Read/write len bytes at `off` from the start of the LUKS header. */
typedef int (*vdisk_luks_io_fn)(void *opaque, void *buf, size_t len, uint64_t off, bool write,
                                vdisk_error *err);

/* Try the passphrase on every active slot; on success the master key
 * (h->key_bytes) is in mk and *slot says which slot opened.  -EACCES when
 * no slot takes the passphrase. */
int vdisk_luks_unlock(const struct vdisk_luks_header *h, const struct vdisk_luks_algs *a,
                      const uint8_t *pass, size_t passlen, vdisk_luks_io_fn io, void *opaque,
                      uint8_t *mk, int *slot, const char *name, vdisk_error *err);

/* Try the passphrase on slot i alone: *match true (and the master key in
 * mk) if the slot is active and the passphrase opens it.  Errors only for
 * I/O and crypto failures. */
int vdisk_luks_try_slot(const struct vdisk_luks_header *h, const struct vdisk_luks_algs *a, int i,
                        const uint8_t *pass, size_t passlen, vdisk_luks_io_fn io, void *opaque, uint8_t *mk,
                        bool *match, const char *name, vdisk_error *err);

/* Store mk in slot i under the passphrase: new salt, iterations for
 * iter_ms (0: 2000) of PBKDF2, AF split, encrypted, written through io.
 * Marks the slot active in h only; the caller writes the header. */
int vdisk_luks_store_key(const struct vdisk_luks_algs *a, struct vdisk_luks_header *h, int i,
                         const uint8_t *pass, size_t passlen, const uint8_t *mk, uint64_t iter_ms,
                         vdisk_luks_io_fn io, void *opaque, const char *name, vdisk_error *err);

struct vdisk_luks_params {
    struct vdisk_luks_algs algs;
    uint64_t iter_time_ms;      /* PBKDF2 time per slot (QEMU default 2000) */
};

/* Make a new header with a random master key (returned in mk, which must
 * hold vdisk_cipher_mode_key_len bytes) and the passphrase in slot 0; writes
 * header and key material through io (the area must read as zeros). */
int vdisk_luks_format(const struct vdisk_luks_params *p, const uint8_t *pass, size_t passlen,
                      vdisk_luks_io_fn io, void *opaque, struct vdisk_luks_header *h, uint8_t *mk,
                      const char *name, vdisk_error *err);

/* Where a LUKS header lives: key material and header I/O, and a flush
 * that makes what was written durable (key-slot changes are ordered). */
struct vdisk_luks_dev {
    vdisk_luks_io_fn io;
    int (*flush)(void *opaque, vdisk_error *err);
    void *opaque;
    const char *name;          /* the image, for messages */
    uint64_t area_len;         /* bytes key material may use from the header on */
};

struct vdisk_keyslot_opts;
/* qemu-img amend's key-slot changes (state=active: add new-secret to a
 * slot; state=inactive: erase slots by index or old-secret) with QEMU's
 * rules and messages.  mk: the unlocked master key (h->key_bytes).  On
 * success h is what the disk now holds; on a refusal nothing was written. */
int vdisk_luks_amend_keyslots(struct vdisk_luks_header *h, const struct vdisk_luks_algs *a,
                              const uint8_t *mk, const struct vdisk_keyslot_opts *o,
                              const struct vdisk_luks_dev *dev, vdisk_error *err);

struct vdisk_encrypt_opts;
struct vdisk_encrypt_info;
/* Creation options (QEMU's defaults for what is not given) into params. */
int vdisk_luks_params_from_opts(const struct vdisk_encrypt_opts *o, struct vdisk_luks_params *p,
                                vdisk_error *err);
/* What `qemu-img info` shows of a header (key offsets in bytes). */
void vdisk_luks_fill_info(const struct vdisk_luks_header *h, const struct vdisk_luks_algs *a,
                          struct vdisk_encrypt_info *info);

#endif
