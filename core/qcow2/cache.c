/* libvdisk — qcow2 table cache: L2 tables and refcount blocks.
 *
 * A fixed number of table-sized slots, found by host offset through a small
 * hash table and recycled in least-recently-used order (an intrusive doubly
 * linked list, so hits and evictions are O(1) and do no system call).
 * Pinned slots (get without put) are never evicted.  Dirty slots are written
 * back on eviction or flush; a hook run before any write-back lets the owner
 * put dependencies on disk first (L2 tables after refcount blocks).
 * All calls run under the driver lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

#define NIL (-1)

struct slot {
    uint64_t offset;     /* host offset of the table; meaningful when used */
    int32_t hnext;       /* hash chain */
    int32_t prev, next;  /* LRU list: head = most recent */
    int32_t pins;
    bool used;
    bool dirty;
};

struct qcow2_cache {
    vdisk_file *file;
    const char *what;
    uint32_t n;
    uint32_t table_size;
    uint8_t *mem;
    struct slot *slots;
    int32_t *buckets;
    uint32_t bucket_mask;
    int32_t head, tail;
    uint32_t ndirty;
    qcow2_cache_hook hook;
    void *hook_opaque;
};

struct qcow2_cache *
qcow2_cache_new(vdisk_file *file, uint32_t n, uint32_t table_size, const char *what)
{
    struct qcow2_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    uint32_t nb = 16;
    while (nb < 2 * n)
        nb <<= 1;
    c->file = file;
    c->what = what;
    c->n = n;
    c->table_size = table_size;
    c->bucket_mask = nb - 1;
    c->slots = calloc(n, sizeof(*c->slots));
    c->buckets = malloc(nb * sizeof(*c->buckets));
    /* Untouched pages of a large aligned block are not resident, so a cache
     * sized for the whole image costs memory only as tables get used. */
    c->mem = vdisk_alloc_aligned((size_t)n * table_size, false);
    if (!c->slots || !c->buckets || !c->mem) {
        qcow2_cache_free(c);
        return NULL;
    }
    for (uint32_t i = 0; i < nb; i++)
        c->buckets[i] = NIL;
    /* All slots start on the LRU list, unused ones at the tail. */
    for (uint32_t i = 0; i < n; i++) {
        c->slots[i].prev = (int32_t)i - 1;
        c->slots[i].next = i + 1 < n ? (int32_t)i + 1 : NIL;
        c->slots[i].hnext = NIL;
    }
    c->head = 0;
    c->tail = (int32_t)n - 1;
    return c;
}

void
qcow2_cache_free(struct qcow2_cache *c)
{
    if (!c)
        return;
    free(c->mem);
    free(c->slots);
    free(c->buckets);
    free(c);
}

void
qcow2_cache_set_hook(struct qcow2_cache *c, qcow2_cache_hook hook, void *opaque)
{
    c->hook = hook;
    c->hook_opaque = opaque;
}

uint32_t
qcow2_cache_capacity(const struct qcow2_cache *c)
{
    return c->n;
}

bool
qcow2_cache_is_dirty(const struct qcow2_cache *c)
{
    return c->ndirty > 0;
}

static uint32_t
bucket_of(const struct qcow2_cache *c, uint64_t off)
{
    uint64_t h = (off / c->table_size) * UINT64_C(0x9e3779b97f4a7c15);
    return (uint32_t)(h >> 32) & c->bucket_mask;
}

static uint8_t *
table_of(const struct qcow2_cache *c, int32_t i)
{
    return c->mem + (size_t)i * c->table_size;
}

static int32_t
slot_of(const struct qcow2_cache *c, const uint8_t *table)
{
    return (int32_t)((size_t)(table - c->mem) / c->table_size);
}

static int32_t
find(const struct qcow2_cache *c, uint64_t off)
{
    for (int32_t i = c->buckets[bucket_of(c, off)]; i != NIL; i = c->slots[i].hnext)
        if (c->slots[i].offset == off)
            return i;
    return NIL;
}

static void
lru_unlink(struct qcow2_cache *c, int32_t i)
{
    struct slot *s = &c->slots[i];
    if (s->prev != NIL)
        c->slots[s->prev].next = s->next;
    else
        c->head = s->next;
    if (s->next != NIL)
        c->slots[s->next].prev = s->prev;
    else
        c->tail = s->prev;
    s->prev = s->next = NIL;
}

static void
lru_push_front(struct qcow2_cache *c, int32_t i)
{
    struct slot *s = &c->slots[i];
    s->prev = NIL;
    s->next = c->head;
    if (c->head != NIL)
        c->slots[c->head].prev = i;
    c->head = i;
    if (c->tail == NIL)
        c->tail = i;
}

static void
lru_push_back(struct qcow2_cache *c, int32_t i)
{
    struct slot *s = &c->slots[i];
    s->next = NIL;
    s->prev = c->tail;
    if (c->tail != NIL)
        c->slots[c->tail].next = i;
    c->tail = i;
    if (c->head == NIL)
        c->head = i;
}

static void
hash_remove(struct qcow2_cache *c, int32_t i)
{
    int32_t *pp = &c->buckets[bucket_of(c, c->slots[i].offset)];
    while (*pp != NIL && *pp != i)
        pp = &c->slots[*pp].hnext;
    if (*pp == i)
        *pp = c->slots[i].hnext;
    c->slots[i].hnext = NIL;
}

static int
write_back(struct qcow2_cache *c, int32_t i, vdisk_error *err)
{
    struct slot *s = &c->slots[i];
    if (!s->dirty)
        return 0;
    if (c->hook) {
        int r = c->hook(c->hook_opaque, err);
        if (r < 0)
            return r;
    }
    int r = vdisk_file_pwrite(c->file, table_of(c, i), c->table_size, s->offset, err);
    if (r < 0) {
        vdisk_error_prefix(err, "%s: cannot write %s at 0x%" PRIx64, c->file->path, c->what,
                           s->offset);
        return r;
    }
    s->dirty = false;
    c->ndirty--;
    return 0;
}

/* Pick the least recently used unpinned slot, writing it back if dirty. */
static int
evict(struct qcow2_cache *c, int32_t *out, vdisk_error *err)
{
    for (int32_t i = c->tail; i != NIL; i = c->slots[i].prev) {
        struct slot *s = &c->slots[i];
        if (s->pins > 0)
            continue;
        if (s->used) {
            int r = write_back(c, i, err);
            if (r < 0)
                return r;
            hash_remove(c, i);
            s->used = false;
        }
        *out = i;
        return 0;
    }
    return vdisk_error_set(err, ENOSPC, "%s: every %s cache slot is in use", c->file->path, c->what);
}

int
qcow2_cache_get(struct qcow2_cache *c, uint64_t off, bool fresh, uint8_t **table, vdisk_error *err)
{
    int32_t i = find(c, off);
    if (i == NIL) {
        int r = evict(c, &i, err);
        if (r < 0)
            return r;
        struct slot *s = &c->slots[i];
        if (fresh) {
            memset(table_of(c, i), 0, c->table_size);
        } else {
            r = vdisk_file_pread(c->file, table_of(c, i), c->table_size, off, err);
            if (r < 0) {
                vdisk_error_prefix(err, "%s: cannot read %s at 0x%" PRIx64, c->file->path,
                                   c->what, off);
                return r;
            }
        }
        s->offset = off;
        s->used = true;
        s->dirty = false;
        uint32_t b = bucket_of(c, off);
        s->hnext = c->buckets[b];
        c->buckets[b] = i;
    } else if (fresh) {
        memset(table_of(c, i), 0, c->table_size);
    }
    if (fresh && !c->slots[i].dirty) {
        c->slots[i].dirty = true;
        c->ndirty++;
    }
    c->slots[i].pins++;
    lru_unlink(c, i);
    lru_push_front(c, i);
    *table = table_of(c, i);
    return 0;
}

void
qcow2_cache_put(struct qcow2_cache *c, uint8_t *table)
{
    c->slots[slot_of(c, table)].pins--;
}

void
qcow2_cache_mark_dirty(struct qcow2_cache *c, uint8_t *table)
{
    struct slot *s = &c->slots[slot_of(c, table)];
    if (!s->dirty) {
        s->dirty = true;
        c->ndirty++;
    }
}

static int
cmp_offset(const void *a, const void *b, void *arg)
{
    const struct qcow2_cache *c = arg;
    uint64_t x = c->slots[*(const int32_t *)a].offset, y = c->slots[*(const int32_t *)b].offset;
    return x < y ? -1 : x > y;
}

int
qcow2_cache_flush(struct qcow2_cache *c, vdisk_error *err)
{
    if (c->ndirty == 0)
        return 0;
    int32_t *order = malloc(c->ndirty * sizeof(*order));
    if (!order)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", c->file->path);
    uint32_t k = 0;
    for (uint32_t i = 0; i < c->n && k < c->ndirty; i++)
        if (c->slots[i].used && c->slots[i].dirty)
            order[k++] = (int32_t)i;
    /* Ascending offsets: the file system sees one forward sweep. */
    qsort_r(order, k, sizeof(*order), cmp_offset, c);
    int r = 0;
    for (uint32_t j = 0; j < k && r == 0; j++)
        r = write_back(c, order[j], err);
    free(order);
    return r;
}

int
qcow2_cache_flush_one(struct qcow2_cache *c, uint64_t off, vdisk_error *err)
{
    int32_t i = find(c, off);
    return i == NIL ? 0 : write_back(c, i, err);
}

void
qcow2_cache_discard(struct qcow2_cache *c, uint64_t off)
{
    int32_t i = find(c, off);
    if (i == NIL)
        return;
    struct slot *s = &c->slots[i];
    if (s->dirty) {
        s->dirty = false;
        c->ndirty--;
    }
    hash_remove(c, i);
    s->used = false;
    /* A freed slot is the first to be reused. */
    lru_unlink(c, i);
    lru_push_back(c, i);
}
