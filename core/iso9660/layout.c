/* libvdisk — ISO writer: identifiers, system use data and addresses.
 *
 * Sector map of an image:
 *   0-15 system area | 16 primary | [boot record] | [Joliet] | terminator
 *   | [boot catalog] | path tables (L, M, Joliet L, Joliet M)
 *   | ISO directories | Joliet directories | SUSP continuation areas
 *   | boot images | file data (in ISO tree order)
 * Directories are numbered breadth first with children in identifier
 * order, which is the path table order ECMA-119 6.9.1 asks for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build.h"

#define RR_CORE_LEN 62u     /* PX (36) + TF (26) */
#define RR_SP_LEN 7u

/* ---- unique identifiers per directory ------------------------------------ */

typedef struct id_set {
    const uint8_t **key;
    uint8_t *len;
    size_t cap;
} id_set;

static uint32_t
id_hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Insert; 1 if present, 0 if added (the table is sized for every key).
 * The key memory is the caller's. */
static int
id_set_add(id_set *s, const uint8_t *p, size_t n)
{
    size_t h = id_hash(p, n) & (s->cap - 1);
    while (s->key[h]) {
        if (s->len[h] == n && memcmp(s->key[h], p, n) == 0)
            return 1;
        h = (h + 1) & (s->cap - 1);
    }
    s->key[h] = p;
    s->len[h] = (uint8_t)n;
    return 0;
}

static int
cmp_name(const void *a, const void *b)
{
    return strcmp((*(iso_node *const *)a)->name, (*(iso_node *const *)b)->name);
}

static int
cmp_iso(const void *a, const void *b)
{
    return strcmp((*(iso_node *const *)a)->iso_id, (*(iso_node *const *)b)->iso_id);
}

static int
cmp_joliet(const void *a, const void *b)
{
    const iso_node *x = *(iso_node *const *)a, *y = *(iso_node *const *)b;
    size_t n = x->joliet_len < y->joliet_len ? x->joliet_len : y->joliet_len;
    int c = memcmp(x->joliet_id, y->joliet_id, n);
    return c ? c : (int)x->joliet_len - (int)y->joliet_len;
}

/* Give every child of dir its ISO and Joliet identifiers. */
static int
name_kids(iso_node *dir)
{
    size_t cap = 16;
    while (cap < 4 * dir->n_kids)
        cap *= 2;
    id_set iso = { calloc(cap, sizeof(*iso.key)), calloc(cap, 1), cap };
    id_set jol = { calloc(cap, sizeof(*jol.key)), calloc(cap, 1), cap };
    dir->jkids = malloc((dir->n_kids ? dir->n_kids : 1) * sizeof(*dir->jkids));
    int r = iso.key && iso.len && jol.key && jol.len && dir->jkids ? 0 : -ENOMEM;
    /* Name order decides who keeps the unmangled identifier. */
    qsort(dir->kids, dir->n_kids, sizeof(*dir->kids), cmp_name);
    unsigned iso_serial = 0, jol_serial = 0;
    for (size_t i = 0; r == 0 && i < dir->n_kids; i++) {
        iso_node *k = dir->kids[i];
        bool d = iso_node_is_dir(k);
        /* Until the set takes it (id_set_add returns 1 while it is taken). */
        iso_name_level1(k->name, d, 0, k->iso_id);
        while (id_set_add(&iso, (const uint8_t *)k->iso_id, strlen(k->iso_id)) == 1)
            iso_name_level1(k->name, d, ++iso_serial, k->iso_id);
        k->iso_id_len = (uint8_t)strlen(k->iso_id);
        k->joliet_len = (uint8_t)iso_name_joliet_encode(k->name, 0, k->joliet_id);
        while (id_set_add(&jol, k->joliet_id, k->joliet_len) == 1)
            k->joliet_len = (uint8_t)iso_name_joliet_encode(k->name, ++jol_serial, k->joliet_id);
        dir->jkids[i] = k;
    }
    if (r == 0) {
        qsort(dir->kids, dir->n_kids, sizeof(*dir->kids), cmp_iso);
        qsort(dir->jkids, dir->n_kids, sizeof(*dir->jkids), cmp_joliet);
    }
    free(iso.key);
    free(iso.len);
    free(jol.key);
    free(jol.len);
    return r;
}

/* ---- system use data ------------------------------------------------------- */

static size_t
su_room(const iso_node *n)
{
    /* A record is at most 254 bytes (even) and holds 33 + id + pad first. */
    return 254 - (33 + n->iso_id_len + !(n->iso_id_len & 1));
}

/* The node's Rock Ridge entries as a child record: inline, or PX+TF inline
 * and NM/SL in a continuation area. */
static int
node_su(iso_node *n)
{
    iso_rr_attrs a = { .mode = n->mode, .nlink = n->nlink, .uid = n->uid, .gid = n->gid, .mtime = n->mtime,
                       .name = n->name, .link = n->link };
    int r = iso_rrip_entries(&n->su, &a);
    if (r < 0 || n->su.len <= su_room(n))
        return r;
    /* Split after PX and TF (always the first RR_CORE_LEN bytes). */
    r = iso_buf_append(&n->su_ce, n->su.data + RR_CORE_LEN, n->su.len - RR_CORE_LEN);
    n->su.len = RR_CORE_LEN;
    return r;
}

/* ---- directories ------------------------------------------------------------ */

uint32_t
iso_node_records(const iso_node *n)
{
    if (!iso_node_is_reg(n) || n->size == 0)
        return 1;
    return (uint32_t)((n->size + ISO_EXTENT_MAX - 1) / ISO_EXTENT_MAX);
}

size_t
iso_child_records_size(const iso_node *kid, bool joliet)
{
    size_t one = joliet ? iso_dirrec_size(kid->joliet_len, 0)
                        : iso_dirrec_size(kid->iso_id_len, kid->su.len + (kid->su_ce.len ? ISO_CE_LEN : 0));
    return one * iso_node_records(kid);
}

/* Bytes of a directory's records, packed so none crosses a sector. */
static uint32_t
dir_bytes(const iso_tree *t, const iso_node *dir, bool joliet)
{
    bool rr = t->opts.rock_ridge && !joliet;
    size_t dot = iso_dirrec_size(1, rr ? RR_CORE_LEN + (dir == t->root ? RR_SP_LEN + ISO_CE_LEN : 0) : 0);
    size_t dotdot = iso_dirrec_size(1, rr ? RR_CORE_LEN : 0);
    uint64_t pos = dot + dotdot;
    for (size_t i = 0; i < dir->n_kids; i++) {
        const iso_node *k = joliet ? dir->jkids[i] : dir->kids[i];
        size_t one = iso_child_records_size(k, joliet) / iso_node_records(k);
        for (uint32_t j = 0; j < iso_node_records(k); j++) {
            if (pos / ISO_SECTOR != (pos + one - 1) / ISO_SECTOR)
                pos = (pos / ISO_SECTOR + 1) * ISO_SECTOR;
            pos += one;
        }
    }
    return (uint32_t)((pos + ISO_SECTOR - 1) / ISO_SECTOR * ISO_SECTOR);
}

/* Breadth-first list of directories; identifiers, nlink and su on the way. */
static int
collect_dirs(iso_tree *t, vdisk_error *err)
{
    size_t cap = 64;
    t->dirs = malloc(cap * sizeof(*t->dirs));
    if (!t->dirs)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    t->dirs[t->n_dirs++] = t->root;
    for (size_t i = 0; i < t->n_dirs; i++) {
        iso_node *d = t->dirs[i];
        if (name_kids(d) < 0)
            return vdisk_error_set(err, ENOMEM, "out of memory");
        d->nlink = 2;
        for (size_t k = 0; k < d->n_kids; k++) {
            iso_node *kid = d->kids[k];
            if (!iso_node_is_dir(kid))
                continue;
            d->nlink++;
            if (t->n_dirs == 65535)
                return vdisk_error_set(err, E2BIG, "more than 65535 directories (the path table limit)");
            if (t->n_dirs == cap) {
                iso_node **nv = realloc(t->dirs, 2 * cap * sizeof(*nv));
                if (!nv)
                    return vdisk_error_set(err, ENOMEM, "out of memory");
                t->dirs = nv;
                cap *= 2;
            }
            t->dirs[t->n_dirs++] = kid;
        }
    }
    for (size_t i = 0; i < t->n_dirs; i++)
        t->dirs[i]->dir_number = t->dirs[i]->jdir_number = (uint16_t)(i + 1);
    return 0;
}

static uint32_t
path_table_bytes(const iso_tree *t, bool joliet)
{
    uint32_t n = 0;
    for (size_t i = 0; i < t->n_dirs; i++) {
        const iso_node *d = t->dirs[i];
        size_t id = d == t->root ? 1 : joliet ? d->joliet_len : d->iso_id_len;
        n += (uint32_t)(8 + id + (id & 1));
    }
    return n;
}

static uint32_t
sectors(uint64_t bytes)
{
    return (uint32_t)((bytes + ISO_SECTOR - 1) / ISO_SECTOR);
}

/* Rock Ridge data of every child record, and continuation area places. */
static int
place_su(iso_tree *t, uint32_t *ce_sectors, vdisk_error *err)
{
    uint32_t sec = 0, off = 0;
    int r = iso_rrip_root_entries(&t->root->su, &t->root->su_ce);
    for (size_t i = 0; r == 0 && i <= t->n_dirs; i++) {
        iso_node **kids = i < t->n_dirs ? t->dirs[i]->kids : &t->root;
        size_t n = i < t->n_dirs ? t->dirs[i]->n_kids : 1;
        for (size_t k = 0; r == 0 && k < n; k++) {
            iso_node *kid = kids[k];
            if (kid != t->root)
                r = node_su(kid);
            if (r < 0 || kid->su_ce.len == 0)
                continue;
            if (off + kid->su_ce.len > ISO_SECTOR)
                sec++, off = 0;
            kid->ce_sector = sec;
            kid->ce_off = off;
            off += (uint32_t)kid->su_ce.len;
        }
    }
    *ce_sectors = off ? sec + 1 : sec;
    return r < 0 ? vdisk_error_set(err, ENOMEM, "out of memory") : 0;
}

/* Data of every regular file, in ISO tree order (depth first). */
static void
place_data(iso_tree *t, iso_node *dir, uint64_t *cur)
{
    for (size_t i = 0; i < dir->n_kids; i++) {
        iso_node *k = dir->kids[i];
        if (iso_node_is_dir(k)) {
            place_data(t, k, cur);
        } else if (k == t->catalog) {
            k->lba = t->catalog_lba;      /* its data is the catalog sector */
        } else if (iso_node_is_reg(k) && k->size) {
            k->lba = (uint32_t)*cur;
            *cur += sectors(k->size);
            t->data_bytes += k->size;
        }
    }
}

int
iso_layout(iso_tree *t, vdisk_error *err)
{
    int r = collect_dirs(t, err);
    uint32_t ce_sectors = 0;
    if (r == 0 && t->opts.rock_ridge)
        r = place_su(t, &ce_sectors, err);
    if (r < 0)
        return r;
    uint32_t cur = ISO_VD_FIRST + 1;
    bool boot = t->boot || t->efi;
    if (boot)
        cur++;
    t->svd_sector = t->opts.joliet ? cur++ : 0;
    t->term_sector = cur++;
    t->catalog_lba = boot ? cur++ : 0;
    t->path_table_size = path_table_bytes(t, false);
    t->l_path_lba = cur;
    cur += sectors(t->path_table_size);
    t->m_path_lba = cur;
    cur += sectors(t->path_table_size);
    if (t->opts.joliet) {
        t->jpath_table_size = path_table_bytes(t, true);
        t->jl_path_lba = cur;
        cur += sectors(t->jpath_table_size);
        t->jm_path_lba = cur;
        cur += sectors(t->jpath_table_size);
    }
    for (size_t i = 0; i < t->n_dirs; i++) {
        t->dirs[i]->lba = cur;
        t->dirs[i]->dir_size = dir_bytes(t, t->dirs[i], false);
        cur += sectors(t->dirs[i]->dir_size);
    }
    for (size_t i = 0; t->opts.joliet && i < t->n_dirs; i++) {
        t->dirs[i]->jlba = cur;
        t->dirs[i]->jdir_size = dir_bytes(t, t->dirs[i], true);
        cur += sectors(t->dirs[i]->jdir_size);
    }
    t->ce_lba = cur;
    t->ce_sectors = ce_sectors;
    cur += ce_sectors;
    t->meta_sectors = cur;
    iso_node *imgs[2] = { t->boot_in_tree ? NULL : t->boot, t->efi_in_tree ? NULL : t->efi };
    for (int i = 0; i < 2; i++)
        if (imgs[i]) {
            imgs[i]->lba = cur;
            cur += sectors(imgs[i]->size);
            t->data_bytes += imgs[i]->size;
        }
    uint64_t end = cur;
    place_data(t, t->root, &end);
    if (end > UINT32_MAX)
        return vdisk_error_set(err, EFBIG, "the image would be larger than 8 TiB (2^32 sectors)");
    t->space_size = (uint32_t)end;
    return 0;
}
