/* libvdisk — qcow2 compressed writes: a fast, conservative test for
 * clusters that deflate (or zstd) cannot shrink, so that convert -c need
 * not spend the compressor's time on them.
 *
 * In the manner of the Linux btrfs compression heuristic (repeated
 * patterns, byte distribution), but over the whole cluster rather than a
 * sample, since a cluster is small next to what deflate costs on it (about
 * 25 ns a byte at QEMU's level for data that does not compress; this test
 * costs one or two):
 *
 *  1. Byte distribution.  Pearson's chi-square of the byte histogram
 *     against the uniform distribution, for every 4 KiB piece, every
 *     aligned 32 KiB window (about one deflate block) and the whole
 *     cluster.  For random bytes it follows chi-square with 255 degrees of
 *     freedom whatever the size (mean 255, deviation 23); anything with a
 *     skew an entropy coder could use (text, code, zeros, base64, a
 *     compressible region of a few hundred bytes in a 4 KiB piece) lies far
 *     above.  It bounds the entropy coder's gain: N * (8 - H) bits is at
 *     most chi-square / ln 2 (KL divergence <= chi-square divergence).
 *  2. Repeats, which byte statistics miss (a random block written twice):
 *     4-byte strings are looked up in a hash table of the latest position
 *     with that hash, at any distance in a 64 KiB cluster (deflate's 4 KiB
 *     window is a subset) and at least 4 KiB back in larger ones, and
 *     confirmed byte by byte.  Random data has about one chance 4-byte
 *     repeat per eight 64 KiB clusters.
 *
 * convert -c runs it before deflate only: zstd gives up on random data by
 * itself, faster than this test. A cluster is the unit throughout because
 * QEMU compresses each cluster on its own.
 *
 * The trade-off: a cluster is called incompressible only when both tests
 * see nothing.  The thresholds are far below what deflate needs to win
 * (QEMU stores a cluster compressed only when it shrinks at all; a 64 KiB
 * random cluster deflates to about 65620 bytes, and it takes about 100
 * bytes of repeats or zeros to bring it under 65536).  Still, a test on
 * statistics is not a compressor: a cluster that deflate would shrink by a
 * few bytes in a way neither test sees (many 3-byte repeats of a byte-wise
 * uniform text, say) is stored uncompressed where qemu-img stores it
 * compressed.  Both are valid images of the same data; only the file size
 * differs, by less than the cluster.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qcow2.h"

#define HEUR_PIECE      4096u       /* histogram piece */
#define HEUR_WINDOW     32768u      /* about one deflate block */
#define HEUR_CHI2_MAX   350u        /* random: 255 +- 23; P(> 350) ~ 1e-4 */
#define HEUR_HASH_BITS  13
#define HEUR_REPEAT_MAX 16u         /* repeated bytes per 64 KiB */

static uint32_t
load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint32_t
hash4(uint32_t v)
{
    return (v * 2654435761u) >> (32 - HEUR_HASH_BITS);
}

/* Pearson's chi-square of a histogram of n bytes against uniform, times n
 * (integer: sum(256 c^2) - n^2, compared to n * limit). */
static bool
hist_uniform(const uint32_t *h, uint64_t n)
{
    uint64_t sq = 0;
    for (int b = 0; b < 256; b++)
        sq += (uint64_t)h[b] * h[b];
    return 256 * sq - n * n <= n * HEUR_CHI2_MAX;
}

/* Histogram of one piece; four interleaved tables so that runs of one
 * byte value do not serialise on one counter. */
static void
piece_hist(const uint8_t *p, size_t n, uint32_t *h)
{
    uint32_t t[4][256];
    memset(t, 0, sizeof(t));
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        t[0][p[i]]++;
        t[1][p[i + 1]]++;
        t[2][p[i + 2]]++;
        t[3][p[i + 3]]++;
    }
    for (; i < n; i++)
        t[0][p[i]]++;
    for (int b = 0; b < 256; b++)
        h[b] = t[0][b] + t[1][b] + t[2][b] + t[3][b];
}

/* Test 1: every piece, every aligned window and the whole look uniform. */
static bool
bytes_look_uniform(const uint8_t *p, size_t len)
{
    uint32_t piece[256], window[256], total[256];
    memset(window, 0, sizeof(window));
    memset(total, 0, sizeof(total));
    for (size_t off = 0; off < len; off += HEUR_PIECE) {
        size_t n = len - off < HEUR_PIECE ? len - off : HEUR_PIECE;
        piece_hist(p + off, n, piece);
        if (!hist_uniform(piece, n))
            return false;
        for (int b = 0; b < 256; b++) {
            window[b] += piece[b];
            total[b] += piece[b];
        }
        size_t wend = off + n;
        if (wend % HEUR_WINDOW == 0 || wend == len) {
            size_t wlen = wend - (off / HEUR_WINDOW) * HEUR_WINDOW;
            if (wlen > HEUR_PIECE && !hist_uniform(window, wlen))
                return false;
            memset(window, 0, sizeof(window));
        }
    }
    return len <= HEUR_WINDOW || hist_uniform(total, len);
}

/* Repeated bytes found in p[from, end), looking back as far as p[0]
 * (end <= 65536: positions fit the 16-bit table).  Every position goes
 * into the table, every fourth is looked up: a repeat of 7 bytes or more
 * has a looked-up position whatever its alignment, at a quarter of the
 * loads. */
static uint64_t
segment_repeats(const uint8_t *p, size_t from, size_t end, uint64_t limit)
{
    uint16_t tab[1u << HEUR_HASH_BITS];   /* position + 1, 0: empty */
    memset(tab, 0, sizeof(tab));
    for (size_t i = 0; i < from && i + 4 <= end; i++)
        tab[hash4(load32(p + i))] = (uint16_t)(i + 1);
    uint64_t repeated = 0;
    size_t i = from;
    while (i + 8 <= end) {
        uint64_t w;
        memcpy(&w, p + i, sizeof(w));
        uint32_t v = (uint32_t)w;
        uint32_t cand = tab[hash4(v)];
        tab[hash4(v)] = (uint16_t)(i + 1);
        tab[hash4((uint32_t)(w >> 8))] = (uint16_t)(i + 2);
        tab[hash4((uint32_t)(w >> 16))] = (uint16_t)(i + 3);
        tab[hash4((uint32_t)(w >> 24))] = (uint16_t)(i + 4);
        if (cand == 0 || load32(p + cand - 1) != v) {
            i += 4;
            continue;
        }
        size_t m = 4;
        while (i + m < end && p[cand - 1 + m] == p[i + m])
            m++;
        repeated += m;
        if (repeated >= limit)
            break;
        i += m;
    }
    return repeated;
}

/* Test 2: fewer than the allowed number of bytes repeat earlier 4-byte
 * (or longer) strings.  In 64 KiB segments (16-bit positions: a table
 * that stays in the L1 cache), each looking 4 KiB (deflate's window) into
 * the one before, so a repeat at any distance inside a 64 KiB cluster and
 * at up to 4 KiB across segments of a larger one is seen. */
static bool
few_repeats(const uint8_t *p, size_t len)
{
    uint64_t limit = HEUR_REPEAT_MAX * (len > 65536 ? len / 65536 : 1);
    uint64_t repeated = 0;
    size_t start = 0;   /* where this segment's lookups begin */
    while (start < len && repeated < limit) {
        size_t base = start < HEUR_PIECE ? 0 : start - HEUR_PIECE;
        size_t end = len - base < 65536 ? len - base : 65536;
        repeated += segment_repeats(p + base, start - base, end, limit - repeated);
        start = base + end;
    }
    return repeated < limit;
}

bool
qcow2_cluster_incompressible(const uint8_t *data, size_t len)
{
    /* Below a 4 KiB piece the statistics say too little: compress. */
    if (len < HEUR_PIECE)
        return false;
    return bytes_look_uniform(data, len) && few_repeats(data, len);
}
