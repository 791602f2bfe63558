/* libvdisk — the LUKS1 anti-forensic splitter (AF-split / AF-merge), from
 * the LUKS1 on-disk format specification: the key is spread over `stripes`
 * blocks, all but the last random, chained through a hash "diffusion" so
 * that losing any one stripe loses the key. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

/* diffuse: every digest-sized piece i of buf becomes H(be32(i) || piece),
 * the last piece truncated to its length. */
static int
diffuse(vdisk_hash_alg hash, uint8_t *buf, size_t len)
{
    size_t dl = vdisk_hash_len(hash);
    uint8_t d[VDISK_HASH_MAX_LEN];
    for (size_t i = 0, off = 0; off < len; i++, off += dl) {
        size_t n = len - off < dl ? len - off : dl;
        uint8_t be[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
        int r = vdisk_hash2(hash, be, 4, buf + off, n, d);
        if (r < 0)
            return r;
        memcpy(buf + off, d, n);
    }
    vdisk_wipe(d, sizeof(d));
    return 0;
}

static void
xor_into(uint8_t *dst, const uint8_t *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] ^= src[i];
}

/* Fold the first stripes-1 stripes of `stripes` into acc (len bytes). */
static int
fold(vdisk_hash_alg hash, const uint8_t *stripes, size_t len, uint32_t n, uint8_t *acc)
{
    memset(acc, 0, len);
    for (uint32_t i = 0; i + 1 < n; i++) {
        xor_into(acc, stripes + (size_t)i * len, len);
        int r = diffuse(hash, acc, len);
        if (r < 0)
            return r;
    }
    return 0;
}

int
vdisk_af_split(vdisk_hash_alg hash, const uint8_t *key, size_t len, uint32_t stripes, uint8_t *out)
{
    if (stripes == 0 || vdisk_hash_len(hash) == 0)
        return -EINVAL;
    uint8_t *acc = malloc(len);
    if (!acc)
        return -ENOMEM;
    int r = vdisk_random(out, len * (stripes - 1));
    if (r == 0)
        r = fold(hash, out, len, stripes, acc);
    if (r == 0) {
        memcpy(out + (size_t)(stripes - 1) * len, acc, len);
        xor_into(out + (size_t)(stripes - 1) * len, key, len);
    }
    vdisk_wipe_free(acc, len);
    return r;
}

int
vdisk_af_merge(vdisk_hash_alg hash, const uint8_t *in, size_t len, uint32_t stripes, uint8_t *key)
{
    if (stripes == 0 || vdisk_hash_len(hash) == 0)
        return -EINVAL;
    int r = fold(hash, in, len, stripes, key);
    if (r == 0)
        xor_into(key, in + (size_t)(stripes - 1) * len, len);
    return r;
}
