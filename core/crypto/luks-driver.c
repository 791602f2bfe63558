/* libvdisk — the LUKS1 format driver (qemu-img's "luks" format): a LUKS1
 * header and key material, then the payload, every 512-byte sector
 * encrypted with the master key and a sector-number IV (sector 0 is the
 * first payload sector).  The guest sees the decrypted payload.
 *
 * Requests that do not cover whole sectors are read-modify-write through a
 * bounce buffer; the guest sees byte granularity as with any other format.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "luks.h"
#include "options.h"

/* Largest bounce buffer one step of a request uses. */
#define CHUNK (4u << 20)

typedef struct luks_state {
    struct vdisk_luks_header hdr;
    struct vdisk_luks_algs algs;
    vdisk_sectors *sectors;
    uint64_t payload;          /* bytes */
    uint8_t mk[64];            /* master key (for new key slots); wiped on close */
    /* Held across the read-modify-write of a partial sector, so that two
     * requests writing different bytes of one sector cannot both read the
     * old sector and the second write back lose the first's bytes. */
    pthread_mutex_t rmw_lock;
} luks_state;

/* Key material I/O: the header is at offset 0 of the file. */
static int
file_io(void *opaque, void *buf, size_t len, uint64_t off, bool write, vdisk_error *err)
{
    vdisk_file *f = opaque;
    return write ? vdisk_file_pwrite(f, buf, len, off, err) : vdisk_file_pread(f, buf, len, off, err);
}

/* Make key material and header writes durable. */
static int
file_flush(void *opaque, vdisk_error *err)
{
    return vdisk_file_flush(opaque, err);
}

/* Read, check and unlock the header of f with the passphrase. */
static int
luks_unlock_file(vdisk_file *f, const char *name, const void *secret, size_t secret_len,
                 bool no_key, luks_state *s, vdisk_error *err)
{
    uint8_t buf[VDISK_LUKS_HDR_LEN];
    uint64_t len;
    int r = vdisk_file_get_length(f, &len, err);
    if (r == 0)
        r = vdisk_file_pread(f, buf, sizeof(buf), 0, err);
    if (r == 0)
        r = vdisk_luks_header_parse(buf, sizeof(buf), len, &s->hdr, &s->algs, name, err);
    if (r < 0)
        return r;
    s->payload = (uint64_t)s->hdr.payload_offset * 512;
    if (s->payload > len)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: LUKS payload offset 0x%llx is past the end of the file "
                                    "(%llu bytes)", name, (unsigned long long)s->payload, (unsigned long long)len);
    if (!secret && no_key)
        return 0;
    if (!secret)
        return vdisk_error_set(err, EACCES, "%s: Parameter 'key-secret' is required for cipher: the image "
                               "is encrypted (LUKS), a passphrase is required (--passphrase-file, "
                               "or --object secret + key-secret)", name);
    uint8_t mk[64];
    int slot;
    r = vdisk_luks_unlock(&s->hdr, &s->algs, secret, secret_len, file_io, f, mk, &slot, name, err);
    if (r == 0 && (r = vdisk_sectors_new(&s->algs.crypt, mk, s->hdr.key_bytes, &s->sectors, err)) < 0)
        vdisk_error_prefix(err, "%s: LUKS payload cipher", name);
    if (r == 0)
        memcpy(s->mk, mk, s->hdr.key_bytes);
    vdisk_wipe(mk, sizeof(mk));
    return r;
}

/* Open: unlock the master key with the passphrase lent by vdisk_open. */
static int
luks_open(vdisk_image *img, vdisk_error *err)
{
    luks_state *s = calloc(1, sizeof(*s));
    if (!s)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    int r = luks_unlock_file(img->file, img->filename, img->secret, img->secret_len,
                             img->flags & VDISK_OPEN_NO_KEY, s, err);
    uint64_t len = 0;
    if (r == 0)
        r = vdisk_file_get_length(img->file, &len, err);
    if (r < 0) {
        vdisk_sectors_free(s->sectors);
        free(s);
        return r;
    }
    img->size = (len - s->payload) / 512 * 512;
    pthread_mutex_init(&s->rmw_lock, NULL);
    img->priv = s;
    return 0;
}

/* Close: drop the keys. */
static void
luks_close(vdisk_image *img)
{
    luks_state *s = img->priv;
    if (!s)
        return;
    vdisk_sectors_free(s->sectors);
    pthread_mutex_destroy(&s->rmw_lock);
    vdisk_wipe_free(s, sizeof(*s));
    img->priv = NULL;
}

/* The next step of a request at off with len bytes left: its byte count,
 * and the whole sectors [*a, *e) around it (at most CHUNK bytes). */
static uint64_t
step(uint64_t off, uint64_t len, uint64_t *a, uint64_t *e)
{
    *a = off & ~UINT64_C(511);
    uint64_t n = len < CHUNK - (off - *a) ? len : CHUNK - (off - *a);
    *e = (off + n + 511) & ~UINT64_C(511);
    return n;
}

static int
need_key(vdisk_image *img, vdisk_error *err)
{
    luks_state *s = img->priv;
    return s->sectors ? 0 : vdisk_error_set(err, EACCES, "%s: encrypted data cannot be read or written: "
                                            "the image was opened without its passphrase", img->filename);
}

/* Read: whole sectors from the payload, decrypted, the asked bytes copied. */
static int
luks_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    luks_state *s = img->priv;
    uint8_t *out = buf;
    uint8_t *bounce = NULL;
    int r = need_key(img, err);
    while (len > 0 && r == 0) {
        uint64_t a, e, n = step(off, len, &a, &e);
        if (a == off && e == off + n) {
            r = vdisk_file_pread(img->file, out, n, s->payload + a, err);
            if (r == 0)
                r = vdisk_sectors_decrypt(s->sectors, a / 512, out, n, err);
        } else {
            if (!bounce && !(bounce = vdisk_alloc_aligned(CHUNK, false)))
                return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
            r = vdisk_file_pread(img->file, bounce, e - a, s->payload + a, err);
            if (r == 0)
                r = vdisk_sectors_decrypt(s->sectors, a / 512, bounce, e - a, err);
            if (r == 0)
                memcpy(out, bounce + (off - a), n);
        }
        out += n;
        off += n;
        len -= n;
    }
    free(bounce);
    return r;
}

/* One chunk of a write: the whole sectors [a, e) around [off, off+n),
 * partial head/tail sectors read and merged, encrypted in bounce and
 * written (the caller holds rmw_lock when a sector is partial). */
static int
write_chunk(vdisk_image *img, uint8_t *bounce, const uint8_t *buf, uint64_t n, uint64_t off,
            uint64_t a, uint64_t e, vdisk_error *err)
{
    luks_state *s = img->priv;
    int r = 0;
    if (a != off)
        r = luks_pread(img, bounce, 512, a, err);
    if (r == 0 && e != off + n && (e - 512 != a || a == off))
        r = luks_pread(img, bounce + (e - 512 - a), 512, e - 512, err);
    if (r < 0)
        return r;
    if (buf)
        memcpy(bounce + (off - a), buf, n);
    else
        memset(bounce + (off - a), 0, n);
    r = vdisk_sectors_encrypt(s->sectors, a / 512, bounce, e - a, err);
    if (r == 0)
        r = vdisk_file_pwrite(img->file, bounce, e - a, s->payload + a, err);
    return r;
}

/* Write (buf NULL: zeros) in chunks of whole sectors; only chunks with a
 * partial sector at an edge take rmw_lock (guests write whole sectors). */
static int
write_chunks(vdisk_image *img, const uint8_t *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    luks_state *s = img->priv;
    if (!s->sectors)
        return need_key(img, err);
    uint8_t *bounce = vdisk_alloc_aligned(CHUNK, false);
    if (!bounce)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    int r = 0;
    while (len > 0 && r == 0) {
        uint64_t a, e, n = step(off, len, &a, &e);
        bool partial = a != off || e != off + n;
        if (partial)
            pthread_mutex_lock(&s->rmw_lock);
        r = write_chunk(img, bounce, buf, n, off, a, e, err);
        if (partial)
            pthread_mutex_unlock(&s->rmw_lock);
        if (buf)
            buf += n;
        off += n;
        len -= n;
    }
    free(bounce);
    return r;
}

/* Write: see write_chunks. */
static int
luks_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    return write_chunks(img, buf, len, off, err);
}

/* Zeroes: encrypted zeros (a hole would decrypt to noise). */
static int
luks_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags, vdisk_error *err)
{
    return write_chunks(img, NULL, len, off, err);
}

/* Discard: the range must read as zeros afterwards, so write them. */
static int
luks_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err)
{
    return write_chunks(img, NULL, len, off, err);
}

static int
luks_flush(vdisk_image *img, vdisk_error *err)
{
    return vdisk_file_flush(img->file, err);
}

/* Block status: every sector is data (its plaintext is not known without
 * decrypting); the host offset is not a plain copy, so none is given. */
static int
luks_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err)
{
    ext->length = len;
    ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA;
    return 0;
}

/* Info: the LUKS header as qemu-img info shows it. */
static int
luks_get_info(vdisk_image *img, vdisk_info *info, vdisk_error *err)
{
    luks_state *s = img->priv;
    info->encrypted = true;
    info->encrypt = calloc(1, sizeof(*info->encrypt));
    if (!info->encrypt)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    vdisk_luks_fill_info(&s->hdr, &s->algs, info->encrypt);
    return 0;
}

/* Create: LUKS header and slot 0 from the options, then the payload. */
static int
luks_create(vdisk_file *file, const vdisk_create_opts *opts, vdisk_progress_fn progress, void *opaque,
            vdisk_error *err)
{
    struct vdisk_luks_params p;
    struct vdisk_luks_header h;
    uint8_t mk[64];
    int r = vdisk_luks_params_from_opts(&opts->encrypt, &p, err);
    if (r < 0)
        return r;
    if (opts->prealloc != VDISK_PREALLOC_OFF && opts->prealloc != VDISK_PREALLOC_FALLOC)
        return vdisk_error_set(err, ENOTSUP, "%s: preallocation mode '%s' is not supported for luks "
                               "images (use off or falloc)", file->path, vdisk_prealloc_name(opts->prealloc));
    r = vdisk_luks_format(&p, opts->encrypt.secret, opts->encrypt.secret_len, file_io, file, &h, mk,
                          file->path, err);
    vdisk_wipe(mk, sizeof(mk));
    if (r < 0)
        return r;
    uint64_t payload = (uint64_t)h.payload_offset * 512;
    if (opts->prealloc == VDISK_PREALLOC_FALLOC)
        return vdisk_file_allocate(file, payload, opts->size, err);
    return vdisk_file_truncate(file, payload + opts->size, err);
}

/* Resize: the payload ends at the new size.  As with qemu-img, a grown
 * part (off, falloc) reads as whatever its zero bytes decrypt to; full
 * preallocation writes encrypted zeros, so that it reads as zeros.  On
 * failure the file keeps its old length. */
static int
luks_truncate(vdisk_image *img, uint64_t size, vdisk_prealloc prealloc,
              vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    luks_state *s = img->priv;
    uint64_t old = img->size, len = s->payload + old;
    size = (size + 511) / 512 * 512;
    (void)progress;
    (void)opaque;
    if (prealloc == VDISK_PREALLOC_METADATA)
        return vdisk_error_set(err, ENOTSUP, "%s: Unsupported preallocation mode: metadata "
                               "(luks images take off, falloc or full)", img->filename);
    int r = 0;
    if (prealloc == VDISK_PREALLOC_FALLOC && size > old)
        r = vdisk_file_allocate(img->file, len, size - old, err);
    if (r == 0)
        r = vdisk_file_truncate(img->file, s->payload + size, err);
    if (r == 0)
        img->size = size;
    if (r == 0 && prealloc == VDISK_PREALLOC_FULL && size > old)
        r = write_chunks(img, NULL, size - old, old, err);
    if (r < 0) {
        vdisk_file_truncate(img->file, len, NULL);
        img->size = old;
    }
    return r;
}

/* Key slots: add or erase, as qemu-img amend -o state=... (luks-amend.c). */
static int
luks_amend_keyslots(vdisk_image *img, const vdisk_keyslot_opts *o, vdisk_error *err)
{
    luks_state *s = img->priv;
    struct vdisk_luks_dev dev = { .io = file_io, .flush = file_flush, .opaque = img->file,
                                  .name = img->filename, .area_len = s->payload };
    return vdisk_luks_amend_keyslots(&s->hdr, &s->algs, s->sectors ? s->mk : NULL, o, &dev, err);
}

/* Measure: header and key material, then the payload, all of it. */
static int
luks_measure(const vdisk_create_opts *opts, vdisk_image *src, vdisk_measure *out, vdisk_error *err)
{
    struct vdisk_luks_params p;
    int r = vdisk_luks_params_from_opts(&opts->encrypt, &p, err);
    if (r < 0)
        return r;
    uint32_t kb = (uint32_t)vdisk_cipher_mode_key_len(p.algs.crypt.cipher, p.algs.crypt.mode);
    uint64_t size = src ? vdisk_get_size(src) : opts->size;
    out->required = out->fully_allocated = (uint64_t)vdisk_luks_payload_sectors(kb) * 512 + size;
    return 0;
}

/* New images are LUKS-encrypted whatever the options say. */
static void
luks_opts_init(vdisk_create_opts *o)
{
    o->encrypt.format = VDISK_ENCRYPT_LUKS;
}

/* No backing file; the LUKS parameters must make a header. */
static int
luks_opts_validate(const vdisk_create_opts *o, vdisk_error *err)
{
    if (o->backing_file)
        return vdisk_error_set(err, ENOTSUP, "luks images cannot have a backing file (use qcow2 with "
                               "encrypt.format=luks)");
    return vdisk_encrypt_opts_validate(&o->encrypt, err);
}

/* The LUKS parameters, the common options, and the key-slot options of
 * amend, spelled as qemu-img's luks format spells them (no "encrypt."). */
static const vdisk_option luks_options[] = {
    VDISK_OPTIONS_LUKS_CREATE("", "ID of the secret that provides the keyslot passphrase"),
    VDISK_OPTIONS_COMMON,
    VDISK_OPTIONS_LUKS_KEYSLOT(""),
    VDISK_OPTIONS_END,
};

const struct vdisk_driver vdisk_luks_driver = {
    .name = "luks",
    .format = VDISK_FORMAT_LUKS,
    .open = luks_open,                    /* parse header, unlock a key slot */
    .close = luks_close,                  /* wipe the keys */
    .create = luks_create,                /* header, slot 0, payload */
    .options = luks_options,              /* LUKS parameters and key slots */
    .opts_init = luks_opts_init,          /* encrypt.format=luks */
    .opts_validate = luks_opts_validate,  /* no backing file; the LUKS parameters */
    .pread = luks_pread,                  /* decrypt sectors */
    .pwrite = luks_pwrite,                /* encrypt sectors (RMW at the edges) */
    .write_zeroes = luks_write_zeroes,    /* encrypted zeros */
    .discard = luks_discard,              /* encrypted zeros */
    .flush = luks_flush,
    .block_status = luks_block_status,    /* all data */
    .get_info = luks_get_info,            /* LUKS header, key slots */
    .measure = luks_measure,              /* header + payload */
    .truncate = luks_truncate,            /* payload end moves; full: encrypted zeros */
    .amend_keyslots = luks_amend_keyslots, /* add / erase key slots */
};
