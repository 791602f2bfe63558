/* libvdisk — hashes, PBKDF2 and key-quality random bytes through GnuTLS
 * (loaded by the first of them, gnutls-load.h); random identifiers and
 * wiping through glibc, which never need GnuTLS. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "crypto.h"
#include "gnutls-load.h"

static const struct {
    const char *name;
    gnutls_digest_algorithm_t dig;
    gnutls_mac_algorithm_t mac;
    size_t len;
} hashes[VDISK_HASH__COUNT] = {
    [VDISK_HASH_MD5] = { "md5", GNUTLS_DIG_MD5, GNUTLS_MAC_MD5, 16 },
    [VDISK_HASH_SHA1] = { "sha1", GNUTLS_DIG_SHA1, GNUTLS_MAC_SHA1, 20 },
    [VDISK_HASH_SHA224] = { "sha224", GNUTLS_DIG_SHA224, GNUTLS_MAC_SHA224, 28 },
    [VDISK_HASH_SHA256] = { "sha256", GNUTLS_DIG_SHA256, GNUTLS_MAC_SHA256, 32 },
    [VDISK_HASH_SHA384] = { "sha384", GNUTLS_DIG_SHA384, GNUTLS_MAC_SHA384, 48 },
    [VDISK_HASH_SHA512] = { "sha512", GNUTLS_DIG_SHA512, GNUTLS_MAC_SHA512, 64 },
    [VDISK_HASH_RIPEMD160] = { "ripemd160", GNUTLS_DIG_RMD160, GNUTLS_MAC_RMD160, 20 },
};

int
vdisk_hash_from_name(const char *name, vdisk_hash_alg *out)
{
    for (int i = 0; i < VDISK_HASH__COUNT; i++)
        if (strcmp(hashes[i].name, name) == 0) {
            *out = (vdisk_hash_alg)i;
            return 0;
        }
    return -EINVAL;
}

const char *
vdisk_hash_name(vdisk_hash_alg alg)
{
    return (unsigned)alg < VDISK_HASH__COUNT ? hashes[alg].name : "unknown";
}

size_t
vdisk_hash_len(vdisk_hash_alg alg)
{
    return (unsigned)alg < VDISK_HASH__COUNT ? hashes[alg].len : 0;
}

int
vdisk_hash2(vdisk_hash_alg alg, const void *a, size_t alen, const void *b, size_t blen,
            uint8_t *out)
{
    if (!vdisk_gnutls_loaded())
        return -ENOTSUP;
    gnutls_hash_hd_t h;
    if ((unsigned)alg >= VDISK_HASH__COUNT || gnutls_hash_init(&h, hashes[alg].dig) < 0)
        return -EIO;
    int r = gnutls_hash(h, a, alen);
    if (r == 0 && b && blen)
        r = gnutls_hash(h, b, blen);
    gnutls_hash_deinit(h, out);
    return r < 0 ? -EIO : 0;
}

int
vdisk_pbkdf2(vdisk_hash_alg alg, const uint8_t *pass, size_t passlen, const uint8_t *salt,
             size_t saltlen, uint64_t iterations, uint8_t *out, size_t outlen)
{
    if ((unsigned)alg >= VDISK_HASH__COUNT || iterations == 0 || iterations > UINT32_MAX)
        return -EINVAL;
    if (!vdisk_gnutls_loaded())
        return -ENOTSUP;
    /* gnutls_pbkdf2 takes the key as a datum; an empty passphrase is legal
     * in LUKS, but a NULL pointer is not for GnuTLS. */
    static const uint8_t empty[1];
    gnutls_datum_t key = { .data = (unsigned char *)(passlen ? pass : empty), .size = (unsigned)passlen };
    gnutls_datum_t s = { .data = (unsigned char *)salt, .size = (unsigned)saltlen };
    int r = gnutls_pbkdf2(hashes[alg].mac, &key, &s, (unsigned)iterations, out, outlen);
    return r < 0 ? -EIO : 0;
}

static uint64_t
cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
vdisk_pbkdf2_count_iters(vdisk_hash_alg alg, size_t keylen, uint64_t ms, uint64_t *iters)
{
    static const uint8_t pass[] = "calibration passphrase";
    uint8_t salt[32] = { 0 }, out[VDISK_HASH_MAX_LEN * 2];
    if (keylen > sizeof(out))
        keylen = sizeof(out);
    /* Double the work until one run takes at least 20 ms of CPU time: long
     * enough for a clock tick-free estimate, short for small iter-times. */
    for (uint64_t n = 1024; n <= (UINT64_C(1) << 31); n *= 2) {
        uint64_t t0 = cpu_ns();
        int r = vdisk_pbkdf2(alg, pass, sizeof(pass) - 1, salt, sizeof(salt), n, out, keylen);
        uint64_t dt = cpu_ns() - t0;
        if (r < 0)
            return r;
        if (dt >= 20000000u || n == (UINT64_C(1) << 31)) {
            long double per_ms = (long double)n * 1e6L / (long double)(dt ? dt : 1);
            long double want = per_ms * (long double)ms;
            *iters = want < 1 ? 1 : want > UINT32_MAX ? UINT32_MAX : (uint64_t)want;
            vdisk_wipe(out, sizeof(out));
            return 0;
        }
    }
    return -EIO;
}

int
vdisk_random(void *buf, size_t len)
{
    if (!vdisk_gnutls_loaded())
        return -ENOTSUP;
    return gnutls_rnd(GNUTLS_RND_KEY, buf, len) < 0 ? -EIO : 0;
}

int
vdisk_random_id(void *buf, size_t len)
{
    /* the kernel's generator: blocks only until it is seeded at boot;
     * reads of up to 256 bytes are never cut short, longer ones may be */
    for (size_t done = 0; done < len;) {
        ssize_t n = getrandom((char *)buf + done, len - done, 0);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n > 0)
            done += (size_t)n;
    }
    return 0;
}

void
vdisk_wipe(void *p, size_t len)
{
    if (p && len)
        explicit_bzero(p, len);
}

void
vdisk_wipe_free(void *p, size_t len)
{
    vdisk_wipe(p, len);
    free(p);
}
