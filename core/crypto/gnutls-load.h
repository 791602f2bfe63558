/* libvdisk internals — GnuTLS, loaded by the first encryption work.
 *
 * Linked, libgnutls brings p11-kit (whose constructor GnuTLS's own runs),
 * libunistring, libgmp, libhogweed, libidn2, libtasn1 and libffi into every
 * process that uses libvdisk, encrypting or not: about 2 MiB of the
 * resident set of `vdisk-virsh info` of a plain file.  Only the crypto
 * layer calls it (hash.c: hashes, PBKDF2, key-quality random bytes;
 * cipher.c: the AES-CBC / AES-XTS data ciphers), so those call GnuTLS
 * through a table of function pointers that gnutls-load.c fills with
 * vdisk_library_load (vdisk-private/library-load.h) the first time one of
 * them is needed; the names below make those calls read as plain GnuTLS
 * calls.  A function used without being listed here fails to link
 * (GnuTLS is not linked), so the list cannot fall behind.
 *
 * The LUKS entry points (unlock, format, keyslot changes; qcow2's legacy
 * AES) call vdisk_gnutls_load with the image's name first, so that a
 * missing library is reported against the image; the primitives load it
 * themselves as well (as "encryption", or -ENOTSUP where they take no
 * vdisk_error).  Wiping (vdisk_wipe) is glibc's explicit_bzero and never
 * needs GnuTLS; Nettle, small and without constructors, stays linked.
 *
 * Include this instead of <gnutls/crypto.h>; only libvdisk calls GnuTLS,
 * so the table is not exported.
 */
#ifndef VDISK_CRYPTO_GNUTLS_LOAD_H
#define VDISK_CRYPTO_GNUTLS_LOAD_H

#include <stdbool.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <vdisk/error.h>

/* Every GnuTLS function libvdisk calls. */
#define VDISK_GNUTLS_FUNCTIONS(X) \
    X(gnutls_cipher_decrypt) \
    X(gnutls_cipher_deinit) \
    X(gnutls_cipher_encrypt) \
    X(gnutls_cipher_init) \
    X(gnutls_cipher_set_iv) \
    X(gnutls_hash) \
    X(gnutls_hash_deinit) \
    X(gnutls_hash_init) \
    X(gnutls_pbkdf2) \
    X(gnutls_rnd)

typedef struct vdisk_gnutls_api {
#define VDISK_GNUTLS_MEMBER(name) __typeof__(name) *name;
    VDISK_GNUTLS_FUNCTIONS(VDISK_GNUTLS_MEMBER)
#undef VDISK_GNUTLS_MEMBER
} vdisk_gnutls_api;

/* Load GnuTLS (once per process; later calls return the first result).
 * 0, or -ENOTSUP: "WHAT: cannot load GnuTLS (install libgnutls30): REASON"
 * -- `what` names the image asking, or the work ("encryption"). */
int vdisk_gnutls_load(const char *what, vdisk_error *err);
/* Is it loaded?  Loads it if not tried yet; for callers without a
 * vdisk_error, whose caller reports. */
bool vdisk_gnutls_loaded(void);
/* The table; only after vdisk_gnutls_load succeeded. */
const vdisk_gnutls_api *vdisk_gnutls_api_table(void);

#ifndef VDISK_GNUTLS_LOAD_IMPL
#define gnutls_cipher_decrypt (vdisk_gnutls_api_table()->gnutls_cipher_decrypt)
#define gnutls_cipher_deinit (vdisk_gnutls_api_table()->gnutls_cipher_deinit)
#define gnutls_cipher_encrypt (vdisk_gnutls_api_table()->gnutls_cipher_encrypt)
#define gnutls_cipher_init (vdisk_gnutls_api_table()->gnutls_cipher_init)
#define gnutls_cipher_set_iv (vdisk_gnutls_api_table()->gnutls_cipher_set_iv)
#define gnutls_hash (vdisk_gnutls_api_table()->gnutls_hash)
#define gnutls_hash_deinit (vdisk_gnutls_api_table()->gnutls_hash_deinit)
#define gnutls_hash_init (vdisk_gnutls_api_table()->gnutls_hash_init)
#define gnutls_pbkdf2 (vdisk_gnutls_api_table()->gnutls_pbkdf2)
#define gnutls_rnd (vdisk_gnutls_api_table()->gnutls_rnd)
#endif

#endif
