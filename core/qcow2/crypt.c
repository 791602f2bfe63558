/* libvdisk — qcow2 encryption.
 *
 *   crypt_method 2 (LUKS): a LUKS1 header with its key material lives in
 *   clusters named by the full disk encryption header extension
 *   (0x0537be77: offset, length).  Data clusters are encrypted in 512-byte
 *   sectors whose IV is the sector's HOST offset / 512 -- QEMU's
 *   crypt_physical_offset, which it uses for every method except AES.
 *
 *   crypt_method 1 (legacy AES): AES-128-CBC, key = the passphrase's first
 *   16 bytes (zero padded), plain64 IV from the GUEST offset / 512.  No
 *   header of its own: the method in the qcow2 header is all there is.  It
 *   is weak (no key derivation, the IV is predictable, a passphrase change
 *   means re-encrypting everything) and QEMU's system emulators refuse it;
 *   libvdisk reads, writes and creates it for what qemu-img still does
 *   (vdisk-virsh creates it only when run as qemu-img: docs/formats.md).
 *
 * Compressed clusters are never encrypted-and-compressed by QEMU, so
 * compressed writes are refused on encrypted images.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/gnutls-load.h"
#include "crypto/luks.h"
#include "qcow2.h"

#define CHUNK (4u << 20)

struct qcow2_crypt {
    vdisk_sectors *sectors;    /* NULL when opened without the passphrase */
    bool physical_iv;          /* LUKS: IV from the host offset */
    bool luks;
    struct vdisk_luks_header hdr;
    struct vdisk_luks_algs algs;
    uint8_t mk[64];            /* LUKS master key (for new key slots); wiped on free */
};

/* Key material I/O inside the LUKS header clusters. */
static int
hdr_io(void *opaque, void *buf, size_t len, uint64_t off, bool write, vdisk_error *err)
{
    qcow2_state *s = opaque;
    if (off > s->crypt_hdr_length || len > s->crypt_hdr_length - off)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: LUKS data at 0x%" PRIx64 " (+%zu) is outside the "
                                    "encryption header area (%" PRIu64 " bytes)", s->name, off, len,
                                    s->crypt_hdr_length);
    uint64_t at = s->crypt_hdr_offset + off;
    return write ? vdisk_file_pwrite(s->file, buf, len, at, err) : vdisk_file_pread(s->file, buf, len, at, err);
}

/* LUKS: check the extension, parse the header, unlock (with a passphrase). */
static int
open_luks(qcow2_state *s, struct qcow2_crypt *c, const void *secret, size_t secret_len, vdisk_error *err)
{
    uint64_t flen;
    int r = vdisk_file_get_length(s->file, &flen, err);
    if (r < 0)
        return r;
    if (!s->crypt_hdr_length)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: LUKS encryption (crypt_method 2) without an encryption "
                                    "header extension", s->name);
    if ((s->crypt_hdr_offset & (s->cluster_size - 1)) || s->crypt_hdr_length < VDISK_LUKS_HDR_LEN ||
        s->crypt_hdr_offset > flen || s->crypt_hdr_length > flen - s->crypt_hdr_offset)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: encryption header at 0x%" PRIx64 " (%" PRIu64 " bytes) "
                                    "is not cluster aligned, too short or past the end of the file", s->name,
                                    s->crypt_hdr_offset, s->crypt_hdr_length);
    uint8_t buf[VDISK_LUKS_HDR_LEN];
    r = hdr_io(s, buf, sizeof(buf), 0, false, err);
    if (r == 0)
        r = vdisk_luks_header_parse(buf, sizeof(buf), s->crypt_hdr_length, &c->hdr, &c->algs, s->name, err);
    if (r < 0 || !secret)
        return r;
    uint8_t mk[64];
    int slot;
    r = vdisk_luks_unlock(&c->hdr, &c->algs, secret, secret_len, hdr_io, s, mk, &slot, s->name, err);
    if (r == 0 && (r = vdisk_sectors_new(&c->algs.crypt, mk, c->hdr.key_bytes, &c->sectors, err)) < 0)
        vdisk_error_prefix(err, "%s: LUKS data cipher", s->name);
    if (r == 0)
        memcpy(c->mk, mk, c->hdr.key_bytes);
    vdisk_wipe(mk, sizeof(mk));
    return r;
}

/* Legacy AES: the key is the passphrase itself, cut or padded to 16 bytes. */
static int
open_aes(qcow2_state *s, struct qcow2_crypt *c, const void *secret, size_t secret_len, vdisk_error *err)
{
    if (!secret)
        return 0;
    /* AES-128-CBC is GnuTLS's */
    if (vdisk_gnutls_load(s->name, err) < 0)
        return -ENOTSUP;
    uint8_t key[16] = { 0 };
    memcpy(key, secret, secret_len < 16 ? secret_len : 16);
    struct vdisk_crypt_spec spec = { .cipher = VDISK_CIPHER_AES_128, .mode = VDISK_CIPHER_MODE_CBC,
                                     .ivgen = VDISK_IVGEN_PLAIN64 };
    int r = vdisk_sectors_new(&spec, key, sizeof(key), &c->sectors, err);
    vdisk_wipe(key, sizeof(key));
    return r;
}

int
qcow2_crypt_open(qcow2_state *s, const void *secret, size_t secret_len, vdisk_error *err)
{
    if (s->crypt_method == QCOW2_CRYPT_NONE) {
        if (s->crypt_hdr_length)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: encryption header extension on an image that is "
                                        "not LUKS encrypted", s->name);
        return 0;
    }
    if (s->crypt_method == QCOW2_CRYPT_AES && s->crypt_hdr_length)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: encryption header extension on a legacy AES image", s->name);
    if (!secret && !(s->img->flags & VDISK_OPEN_NO_KEY))
        return vdisk_error_set(err, EACCES, "%s: Parameter 'encrypt.key-secret' is required for cipher: "
                               "the image is encrypted (%s), a passphrase is required "
                               "(--passphrase-file, or --object secret + encrypt.key-secret)", s->name,
                               s->crypt_method == QCOW2_CRYPT_LUKS ? "luks" : "aes");
    struct qcow2_crypt *c = calloc(1, sizeof(*c));
    if (!c)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    c->luks = s->crypt_method == QCOW2_CRYPT_LUKS;
    c->physical_iv = c->luks;
    int r = c->luks ? open_luks(s, c, secret, secret_len, err) : open_aes(s, c, secret, secret_len, err);
    s->crypt = c;
    if (r < 0)
        qcow2_crypt_free(s);
    return r;
}

void
qcow2_crypt_free(qcow2_state *s)
{
    if (!s->crypt)
        return;
    vdisk_sectors_free(s->crypt->sectors);
    vdisk_wipe_free(s->crypt, sizeof(*s->crypt));
    s->crypt = NULL;
}

static int
need_key(qcow2_state *s, vdisk_error *err)
{
    return s->crypt->sectors ? 0 : vdisk_error_set(err, EACCES, "%s: encrypted data cannot be read or "
                                                   "written: the image was opened without its passphrase",
                                                   s->name);
}

int
qcow2_crypt_pread(qcow2_state *s, uint8_t *buf, uint64_t n, uint64_t host, uint64_t guest, vdisk_error *err)
{
    int r = need_key(s, err);
    if (r < 0)
        return r;
    uint64_t a = host & ~UINT64_C(511), e = (host + n + 511) & ~UINT64_C(511);
    uint64_t sector = (s->crypt->physical_iv ? a : guest - (host - a)) / 512;
    if (a == host && e == host + n) {
        r = vdisk_file_pread(s->file, buf, (size_t)n, host, err);
        return r < 0 ? r : vdisk_sectors_decrypt(s->crypt->sectors, sector, buf, (size_t)n, err);
    }
    uint8_t *b = qcow2_buf_get(s, e - a);
    if (!b)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    r = vdisk_file_pread(s->file, b, (size_t)(e - a), a, err);
    if (r == 0)
        r = vdisk_sectors_decrypt(s->crypt->sectors, sector, b, (size_t)(e - a), err);
    if (r == 0)
        memcpy(buf, b + (host - a), n);
    qcow2_buf_put(s, b, e - a);
    return r;
}

int
qcow2_crypt_pwrite(qcow2_state *s, const uint8_t *buf, uint64_t n, uint64_t host, uint64_t guest,
                   vdisk_error *err)
{
    int r = need_key(s, err);
    if (r < 0)
        return r;
    if ((host | n) & 511)
        return vdisk_error_set(err, EINVAL, "%s: encrypted write of %" PRIu64 " bytes at 0x%" PRIx64
                               " is not sector aligned", s->name, n, host);
    uint64_t cap = n < CHUNK ? n : CHUNK;
    uint8_t *b = qcow2_buf_get(s, cap);
    if (!b)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    for (uint64_t done = 0; done < n && r == 0;) {
        uint64_t k = n - done < cap ? n - done : cap;
        memcpy(b, buf + done, k);
        uint64_t sector = ((s->crypt->physical_iv ? host : guest) + done) / 512;
        r = vdisk_sectors_encrypt(s->crypt->sectors, sector, b, (size_t)k, err);
        if (r == 0)
            r = vdisk_file_pwrite(s->file, b, (size_t)k, host + done, err);
        done += k;
    }
    qcow2_buf_put(s, b, cap);
    return r;
}

uint64_t
qcow2_crypt_header_size(const vdisk_create_opts *o)
{
    struct vdisk_luks_params p;
    if (o->encrypt.format != VDISK_ENCRYPT_LUKS || vdisk_luks_params_from_opts(&o->encrypt, &p, NULL) < 0)
        return 0;
    uint32_t kb = (uint32_t)vdisk_cipher_mode_key_len(p.algs.crypt.cipher, p.algs.crypt.mode);
    uint64_t len = (uint64_t)vdisk_luks_payload_sectors(kb) * 512, cs = o->cluster_size;
    return (len + cs - 1) / cs * cs;
}

int
qcow2_crypt_create(qcow2_state *s, const vdisk_create_opts *o, vdisk_error *err)
{
    struct vdisk_luks_params p;
    int r = vdisk_luks_params_from_opts(&o->encrypt, &p, err);
    if (r < 0)
        return r;
    uint32_t kb = (uint32_t)vdisk_cipher_mode_key_len(p.algs.crypt.cipher, p.algs.crypt.mode);
    uint64_t len = (uint64_t)vdisk_luks_payload_sectors(kb) * 512;
    uint64_t clusters = (len + s->cluster_size - 1) >> s->cluster_bits, off;
    r = qcow2_alloc_clusters(s, clusters, &off, err);
    if (r == 0)
        r = vdisk_file_zero(s->file, off, clusters << s->cluster_bits, false, err);
    if (r < 0)
        return r;
    s->crypt_hdr_offset = off;
    s->crypt_hdr_length = len;
    struct vdisk_luks_header h;
    uint8_t mk[64];
    r = vdisk_luks_format(&p, o->encrypt.secret, o->encrypt.secret_len, hdr_io, s, &h, mk, s->name, err);
    vdisk_wipe(mk, sizeof(mk));
    return r;
}

/* Make the LUKS header clusters' writes durable. */
static int
hdr_flush(void *opaque, vdisk_error *err)
{
    qcow2_state *s = opaque;
    return vdisk_file_flush(s->file, err);
}

int
qcow2_crypt_amend_keyslots(vdisk_image *img, const vdisk_keyslot_opts *o, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    if (!s->crypt)
        return vdisk_error_set(err, EINVAL, "%s: Can't amend encryption options - encryption not present",
                               s->name);
    if (!s->crypt->luks)
        return vdisk_error_set(err, ENOTSUP, "%s: Only LUKS encryption options can be amended", s->name);
    struct qcow2_crypt *c = s->crypt;
    struct vdisk_luks_dev dev = { .io = hdr_io, .flush = hdr_flush, .opaque = s, .name = s->name,
                                  .area_len = s->crypt_hdr_length };
    pthread_mutex_lock(&s->lock);
    int r = vdisk_luks_amend_keyslots(&c->hdr, &c->algs, c->sectors ? c->mk : NULL, o, &dev, err);
    pthread_mutex_unlock(&s->lock);
    return r;
}

int
qcow2_crypt_info(qcow2_state *s, vdisk_info *info, vdisk_error *err)
{
    if (!s->crypt)
        return 0;
    info->encrypt = calloc(1, sizeof(*info->encrypt));
    if (!info->encrypt)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    if (s->crypt->luks)
        vdisk_luks_fill_info(&s->crypt->hdr, &s->crypt->algs, info->encrypt);
    else
        info->encrypt->format = VDISK_ENCRYPT_AES;
    return 0;
}
