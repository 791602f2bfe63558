/* libvdisk — LUKS1 header: parsing with every bounds check a hostile file
 * needs, building, and decoding of the cipher/mode/hash strings. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vdisk/encrypt.h>

#include "luks.h"

static const uint8_t luks_magic[6] = { 'L', 'U', 'K', 'S', 0xba, 0xbe };

static uint32_t
be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Copy a fixed-size, possibly unterminated text field. */
static void
get_text(char *dst, const uint8_t *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = '\0';
}

uint64_t
vdisk_luks_slot_bytes(uint32_t key_bytes, uint32_t stripes)
{
    uint64_t n = (uint64_t)key_bytes * stripes;
    return (n + VDISK_LUKS_ALIGN - 1) / VDISK_LUKS_ALIGN * VDISK_LUKS_ALIGN;
}

uint32_t
vdisk_luks_payload_sectors(uint32_t key_bytes)
{
    uint64_t slot = vdisk_luks_slot_bytes(key_bytes, VDISK_LUKS_STRIPES) / 512;
    return (uint32_t)(VDISK_LUKS_ALIGN / 512 + VDISK_LUKS_SLOTS * slot);
}

int
vdisk_luks_essiv_cipher(vdisk_cipher_alg cipher, vdisk_hash_alg hash, vdisk_cipher_alg *out)
{
    return vdisk_cipher_alg_for(vdisk_cipher_family(cipher), vdisk_hash_len(hash), out);
}

/* "xts-plain64", "cbc-essiv:sha256", "ecb" into mode and IV generator. */
static int
decode_mode(const char *text, struct vdisk_crypt_spec *c, const char *name, vdisk_error *err)
{
    char mode[33], ivgen[33] = "plain64", *hash = NULL;
    snprintf(mode, sizeof(mode), "%s", text);
    char *dash = strchr(mode, '-');
    if (dash) {
        *dash = '\0';
        snprintf(ivgen, sizeof(ivgen), "%s", dash + 1);
        if ((hash = strchr(ivgen, ':')))
            *hash++ = '\0';
    }
    if (vdisk_cipher_mode_from_name(mode, &c->mode) < 0)
        return vdisk_error_set(err, ENOTSUP, "%s: LUKS header: cipher mode '%s' is not supported "
                               "(expected ecb, cbc or xts)", name, text);
    if (!dash && c->mode != VDISK_CIPHER_MODE_ECB)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: LUKS header: cipher mode '%s' names no IV generator",
                                    name, text);
    if (vdisk_ivgen_from_name(ivgen, &c->ivgen) < 0)
        return vdisk_error_set(err, ENOTSUP, "%s: LUKS header: IV generator '%s' is not supported "
                               "(expected plain, plain64 or essiv)", name, ivgen);
    /* A hash after plain/plain64 ("cbc-plain64:sha256", which QEMU writes when asked) is
     * ignored, as QEMU and dm-crypt ignore it; essiv cannot do without one. */
    if (c->ivgen == VDISK_IVGEN_ESSIV && !hash)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: LUKS header: cipher mode '%s': essiv needs a hash "
                                    "('essiv:sha256')", name, text);
    if (hash && vdisk_hash_from_name(hash, &c->ivgen_hash) < 0)
        return vdisk_error_set(err, ENOTSUP, "%s: LUKS header: IV hash '%s' is not supported", name, hash);
    c->ivgen_hashed = hash != NULL;
    if (c->ivgen == VDISK_IVGEN_ESSIV && vdisk_luks_essiv_cipher(c->cipher, c->ivgen_hash, &c->ivgen_cipher) < 0)
        return vdisk_error_set(err, ENOTSUP, "%s: LUKS header: no %s cipher takes the %zu-byte %s "
                               "digest as an essiv key", name, vdisk_cipher_family(c->cipher),
                               vdisk_hash_len(c->ivgen_hash), hash);
    return 0;
}

int
vdisk_luks_decode_algs(const struct vdisk_luks_header *h, struct vdisk_luks_algs *a, const char *name,
                       vdisk_error *err)
{
    memset(a, 0, sizeof(*a));
    if (vdisk_hash_from_name(h->hash_spec, &a->hash) < 0)
        return vdisk_error_set(err, ENOTSUP, "%s: LUKS header: hash '%s' is not supported", name,
                               h->hash_spec);
    /* The key length depends on the mode: decode the mode with a
     * provisional cipher of the family first. */
    char mode[33];
    vdisk_cipher_mode m;
    snprintf(mode, sizeof(mode), "%s", h->cipher_mode);
    mode[strcspn(mode, "-")] = '\0';
    if (vdisk_cipher_mode_from_name(mode, &m) < 0)
        return vdisk_error_set(err, ENOTSUP, "%s: LUKS header: cipher mode '%s' is not supported "
                               "(expected ecb, cbc or xts)", name, h->cipher_mode);
    bool xts = m == VDISK_CIPHER_MODE_XTS;
    uint32_t one = xts ? h->key_bytes / 2 : h->key_bytes;
    if ((xts && h->key_bytes % 2) ||
        vdisk_cipher_alg_for(h->cipher_name, one, &a->crypt.cipher) < 0)
        return vdisk_error_set(err, ENOTSUP, "%s: LUKS header: cipher '%s' with a %u-byte key is not "
                               "supported", name, h->cipher_name, h->key_bytes);
    int r = decode_mode(h->cipher_mode, &a->crypt, name, err);
    if (r == 0 && !vdisk_cipher_supports(a->crypt.cipher, a->crypt.mode))
        r = vdisk_error_set(err, ENOTSUP, "%s: LUKS header: cipher %s in mode %s is not supported",
                            name, vdisk_cipher_alg_name(a->crypt.cipher), a->crypt.mode == VDISK_CIPHER_MODE_XTS ?
                            "xts (it needs a 16-byte block cipher)" : h->cipher_mode);
    return r;
}

static void
parse_slots(const uint8_t *p, struct vdisk_luks_header *h)
{
    for (int i = 0; i < VDISK_LUKS_SLOTS; i++, p += 48) {
        struct vdisk_luks_slot *s = &h->slots[i];
        s->active = be32(p);
        s->iterations = be32(p + 4);
        memcpy(s->salt, p + 8, VDISK_LUKS_SALT_LEN);
        s->key_offset = be32(p + 40);
        s->stripes = be32(p + 44);
    }
}

/* Bounds and overlap checks of the key slots, as QEMU makes them. */
static int
check_slots(const struct vdisk_luks_header *h, uint64_t area_len, const char *name, vdisk_error *err)
{
    for (int i = 0; i < VDISK_LUKS_SLOTS; i++) {
        const struct vdisk_luks_slot *s = &h->slots[i];
        if (s->active != VDISK_LUKS_SLOT_ACTIVE && s->active != VDISK_LUKS_SLOT_INACTIVE)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: LUKS key slot %d has state 0x%08x (neither active "
                                        "nor disabled)", name, i, s->active);
        if (s->stripes != VDISK_LUKS_STRIPES)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: LUKS key slot %d is corrupted (stripes %u != %u)",
                                        name, i, s->stripes, VDISK_LUKS_STRIPES);
        uint64_t start = (uint64_t)s->key_offset * 512;
        uint64_t end = start + vdisk_luks_slot_bytes(h->key_bytes, s->stripes);
        if (start < VDISK_LUKS_HDR_LEN)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: LUKS key slot %d at 0x%llx overlaps the LUKS header",
                                        name, i, (unsigned long long)start);
        if (end > (uint64_t)h->payload_offset * 512 && h->payload_offset != 0)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: LUKS key slot %d (0x%llx..0x%llx) overlaps the "
                                        "encrypted payload at 0x%llx", name, i, (unsigned long long)start,
                                        (unsigned long long)end, (unsigned long long)h->payload_offset * 512);
        if (s->active == VDISK_LUKS_SLOT_ACTIVE && area_len && end > area_len)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: LUKS key slot %d (0x%llx..0x%llx) ends past the "
                                        "LUKS header area (%llu bytes)", name, i, (unsigned long long)start,
                                        (unsigned long long)end, (unsigned long long)area_len);
        if (s->active == VDISK_LUKS_SLOT_ACTIVE && s->iterations == 0)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: LUKS key slot %d is active with 0 iterations", name, i);
        for (int j = 0; j < i; j++) {
            uint64_t js = (uint64_t)h->slots[j].key_offset * 512;
            uint64_t je = js + vdisk_luks_slot_bytes(h->key_bytes, h->slots[j].stripes);
            if (start < je && js < end)
                return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                            "%s: LUKS key slots %d and %d overlap", name, j, i);
        }
    }
    return 0;
}

int
vdisk_luks_header_parse(const uint8_t *buf, size_t len, uint64_t area_len, struct vdisk_luks_header *h,
                        struct vdisk_luks_algs *a, const char *name, vdisk_error *err)
{
    memset(h, 0, sizeof(*h));
    if (len < VDISK_LUKS_HDR_LEN || memcmp(buf, luks_magic, 6) != 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: no LUKS header (bad magic at offset 0)", name);
    h->version = (uint16_t)((buf[6] << 8) | buf[7]);
    if (h->version != 1)
        return vdisk_error_set(err, ENOTSUP, "%s: LUKS version %u is not supported (only LUKS1)",
                               name, h->version);
    get_text(h->cipher_name, buf + 8, 32);
    get_text(h->cipher_mode, buf + 40, 32);
    get_text(h->hash_spec, buf + 72, 32);
    h->payload_offset = be32(buf + 104);
    h->key_bytes = be32(buf + 108);
    memcpy(h->mk_digest, buf + 112, VDISK_LUKS_DIGEST_LEN);
    memcpy(h->mk_salt, buf + 132, VDISK_LUKS_SALT_LEN);
    h->mk_iterations = be32(buf + 164);
    get_text(h->uuid, buf + 168, 40);
    parse_slots(buf + 208, h);
    if (h->key_bytes == 0 || h->key_bytes > 2 * 32)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: LUKS header: key length %u bytes is invalid", name,
                                    h->key_bytes);
    if (h->mk_iterations == 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: LUKS header: master key digest has 0 iterations", name);
    int r = vdisk_luks_decode_algs(h, a, name, err);
    return r < 0 ? r : check_slots(h, area_len, name, err);
}

void
vdisk_luks_header_build(const struct vdisk_luks_header *h, uint8_t *buf)
{
    memset(buf, 0, VDISK_LUKS_HDR_LEN);
    memcpy(buf, luks_magic, 6);
    buf[6] = (uint8_t)(h->version >> 8);
    buf[7] = (uint8_t)h->version;
    memcpy(buf + 8, h->cipher_name, strnlen(h->cipher_name, 32));
    memcpy(buf + 40, h->cipher_mode, strnlen(h->cipher_mode, 32));
    memcpy(buf + 72, h->hash_spec, strnlen(h->hash_spec, 32));
    put_be32(buf + 104, h->payload_offset);
    put_be32(buf + 108, h->key_bytes);
    memcpy(buf + 112, h->mk_digest, VDISK_LUKS_DIGEST_LEN);
    memcpy(buf + 132, h->mk_salt, VDISK_LUKS_SALT_LEN);
    put_be32(buf + 164, h->mk_iterations);
    memcpy(buf + 168, h->uuid, strnlen(h->uuid, 40));
    uint8_t *p = buf + 208;
    for (int i = 0; i < VDISK_LUKS_SLOTS; i++, p += 48) {
        const struct vdisk_luks_slot *s = &h->slots[i];
        put_be32(p, s->active);
        put_be32(p + 4, s->iterations);
        memcpy(p + 8, s->salt, VDISK_LUKS_SALT_LEN);
        put_be32(p + 40, s->key_offset);
        put_be32(p + 44, s->stripes);
    }
}

void
vdisk_luks_fill_info(const struct vdisk_luks_header *h, const struct vdisk_luks_algs *a,
                     vdisk_encrypt_info *info)
{
    const struct vdisk_crypt_spec *c = &a->crypt;
    memset(info, 0, sizeof(*info));
    info->format = VDISK_ENCRYPT_LUKS;
    snprintf(info->cipher_alg, sizeof(info->cipher_alg), "%s", vdisk_cipher_alg_name(c->cipher));
    snprintf(info->cipher_mode, sizeof(info->cipher_mode), "%s", vdisk_cipher_mode_name(c->mode));
    snprintf(info->ivgen_alg, sizeof(info->ivgen_alg), "%s", vdisk_ivgen_name(c->ivgen));
    if (c->ivgen == VDISK_IVGEN_ESSIV)
        snprintf(info->ivgen_hash_alg, sizeof(info->ivgen_hash_alg), "%s", vdisk_hash_name(c->ivgen_hash));
    snprintf(info->hash_alg, sizeof(info->hash_alg), "%s", vdisk_hash_name(a->hash));
    snprintf(info->uuid, sizeof(info->uuid), "%s", h->uuid);
    info->payload_offset = (uint64_t)h->payload_offset * 512;
    info->master_key_iters = h->mk_iterations;
    info->nslots = VDISK_LUKS_SLOTS;
    for (int i = 0; i < VDISK_LUKS_SLOTS; i++) {
        const struct vdisk_luks_slot *s = &h->slots[i];
        info->slots[i].active = s->active == VDISK_LUKS_SLOT_ACTIVE;
        info->slots[i].key_offset = (uint64_t)s->key_offset * 512;
        if (info->slots[i].active) {
            info->slots[i].iters = s->iterations;
            info->slots[i].stripes = s->stripes;
        }
    }
}
