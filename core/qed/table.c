/* libvdisk — QED: table entries and the lookup of a guest offset.
 *
 * A table is table_size clusters (up to 16 x 64 MiB): never read whole.
 * Entries are read in 4 KiB pages kept in a small cache (least recently
 * used page replaced), so memory stays bounded whatever the header says and
 * a sequential read touches each page once.  Every offset taken from a
 * table is checked before it is used.
 */
#include <errno.h>
#include <string.h>

#include "foreign.h"
#include "qed.h"

void
qed_cache_init(qed_state *s)
{
    for (size_t i = 0; i < QED_CACHE_PAGES; i++)
        s->pages[i].offset = UINT64_MAX;
}

bool
qed_cluster_offset_ok(const qed_state *s, uint64_t offset)
{
    return !(offset & (s->h.cluster_size - 1)) && offset >= s->header_end && offset < s->file_size;
}

bool
qed_table_offset_ok(const qed_state *s, uint64_t offset)
{
    uint64_t bytes = (uint64_t)s->h.table_size * s->h.cluster_size;
    return qed_cluster_offset_ok(s, offset) && bytes <= s->file_size - offset;
}

/* The cached page holding file offset page_off, read if missing (lock held). */
static int
page_get(qed_state *s, uint64_t page_off, const qed_page **out, vdisk_error *err)
{
    qed_page *victim = &s->pages[0];
    for (size_t i = 0; i < QED_CACHE_PAGES; i++) {
        qed_page *p = &s->pages[i];
        if (p->offset == page_off) {
            p->last_use = ++s->clock;
            *out = p;
            return 0;
        }
        if (p->last_use < victim->last_use)
            victim = p;
    }
    victim->offset = UINT64_MAX;
    int r = vdisk_file_pread(s->file, victim->data, QED_PAGE, page_off, err);
    if (r < 0)
        return r;
    victim->offset = page_off;
    victim->last_use = ++s->clock;
    *out = victim;
    return 0;
}

int
qed_table_entry(qed_state *s, uint64_t table, uint64_t index, uint64_t *value, vdisk_error *err)
{
    uint64_t at = table + index * 8;
    uint64_t page_off = at / QED_PAGE * QED_PAGE;
    const qed_page *p;
    pthread_mutex_lock(&s->lock);
    int r = page_get(s, page_off, &p, err);
    if (r == 0)
        *value = vdisk_le64(p->data + (at - page_off));
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* The kind of L2 entry e (checked); *host for data. */
static int
classify(qed_state *s, uint64_t cluster, uint64_t e, qed_kind *kind, vdisk_error *err)
{
    if (e == 0)
        *kind = QED_UNALLOCATED;
    else if (e == QED_ZERO_CLUSTER)
        *kind = QED_ZERO;
    else if (qed_cluster_offset_ok(s, e))
        *kind = QED_DATA;
    else
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                    "%s: QED L2 entry of cluster %llu points at 0x%llx, "
                                    "not a cluster of the file", s->name, (unsigned long long)cluster,
                                    (unsigned long long)e);
    return 0;
}

int
qed_lookup(qed_state *s, uint64_t off, uint64_t len, qed_kind *kind, uint64_t *host,
           uint64_t *run, vdisk_error *err)
{
    uint64_t cs = s->h.cluster_size, cluster = off >> s->cluster_bits, in = off & (cs - 1);
    uint64_t l1i = cluster / s->table_entries, l2i = cluster % s->table_entries;
    uint64_t l2, e;
    int r = qed_table_entry(s, s->h.l1_offset, l1i, &l2, err);
    if (r < 0)
        return r;
    if (l2 == 0) {
        /* The whole range this L2 table would map is unallocated. */
        *kind = QED_UNALLOCATED;
        uint64_t left = (s->table_entries - l2i) * cs - in;
        *run = left < len ? left : len;
        return 0;
    }
    if (!qed_table_offset_ok(s, l2))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                    "%s: QED L1 entry %llu points at an L2 table at 0x%llx "
                                    "that is not cluster aligned or lies outside the file", s->name,
                                    (unsigned long long)l1i, (unsigned long long)l2);
    if ((r = qed_table_entry(s, l2, l2i, &e, err)) < 0 ||
        (r = classify(s, cluster, e, kind, err)) < 0)
        return r;
    *host = *kind == QED_DATA ? e + in : 0;
    uint64_t done = cs - in;
    for (uint64_t i = l2i + 1; done < len && i < s->table_entries; i++, done += cs) {
        uint64_t next;
        qed_kind k;
        if ((r = qed_table_entry(s, l2, i, &next, err)) < 0)
            return r;
        if (classify(s, cluster + (i - l2i), next, &k, NULL) < 0 || k != *kind ||
            (k == QED_DATA && next != e + (i - l2i) * cs))
            break;
    }
    *run = done < len ? done : len;
    return 0;
}
