/* libvdisk — ISO 9660 directories: records -> entries, and path lookup.
 *
 * A directory is read whole (at most ISO_DIR_MAX bytes) and turned into
 * entries: "." and ".." dropped, multi-extent records merged, names taken
 * from Rock Ridge, Joliet or the ISO identifiers, Rock Ridge attributes
 * applied, relocated directories (RE) hidden and their placeholders (CL)
 * turned back into directories.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iso9660.h"

/* Where an entry's strings and extents are, until the entries are packed
 * into one allocation (a directory of 10,000 entries costs 3 allocations,
 * not 30,000). */
typedef struct entry_offs {
    size_t name, link, ext;     /* link: NO_LINK when none */
} entry_offs;
#define NO_LINK SIZE_MAX

typedef struct dir_state {
    vdisk_iso *iso;
    uint32_t lba;
    vdisk_iso_entry *v;
    entry_offs *offs;
    size_t n, cap;
    iso_buf strings;            /* names and link targets, NUL terminated */
    iso_buf extents;            /* vdisk_iso_extent of all entries, in order */
    bool prev_multi;            /* the previous record continues in this one */
    size_t pos;                 /* byte of the record being read */
    char where[400];            /* "<file>: directory at sector N, record at byte P" */
    iso_rr rr;
} dir_state;

/* The message context of the current record, formatted only when an error
 * needs it (a directory of 10,000 entries would otherwise format 10,000). */
static const char *
where_of(dir_state *s)
{
    snprintf(s->where, sizeof(s->where), "%s: directory at sector %u, record at byte %zu",
             s->iso->file->path, s->lba, s->pos);
    return s->where;
}

/* A standalone entry's extent list grows by one. */
static int
entry_add_extent(vdisk_iso_entry *e, uint32_t lba, uint32_t len)
{
    vdisk_iso_extent *nx = realloc(e->extents, (e->n_extents + 1) * sizeof(*nx));
    if (!nx)
        return -ENOMEM;
    e->extents = nx;
    e->extents[e->n_extents].lba = lba;
    e->extents[e->n_extents].length = len;
    e->n_extents++;
    e->size += len;
    return 0;
}

/* The last entry read gets one more extent (they are consecutive). */
static int
add_extent(dir_state *s, uint32_t lba, uint32_t len)
{
    vdisk_iso_extent x = { lba, len };
    vdisk_iso_entry *e = &s->v[s->n - 1];
    if (iso_buf_append(&s->extents, &x, sizeof(x)) < 0)
        return -ENOMEM;
    e->n_extents++;
    e->size += len;
    return 0;
}

/* Store a string for the last entry; *off gets its place. */
static int
add_string(dir_state *s, const char *str, size_t len, size_t *off)
{
    *off = s->strings.len;
    return iso_buf_append(&s->strings, str, len + 1);
}

/* One block: the entries, then their extents, then their strings. */
static vdisk_iso_entry *
pack(dir_state *s)
{
    size_t ents = s->n * sizeof(vdisk_iso_entry);
    uint8_t *blk = malloc(ents + s->extents.len + s->strings.len + 1);
    if (!blk)
        return NULL;
    vdisk_iso_extent *x = (vdisk_iso_extent *)(blk + ents);
    char *str = (char *)(blk + ents + s->extents.len);
    if (s->n)
        memcpy(blk, s->v, ents);
    if (s->extents.len)
        memcpy(x, s->extents.data, s->extents.len);
    if (s->strings.len)
        memcpy(str, s->strings.data, s->strings.len);
    vdisk_iso_entry *v = (vdisk_iso_entry *)blk;
    for (size_t i = 0; i < s->n; i++) {
        v[i].name = str + s->offs[i].name;
        v[i].link_target = s->offs[i].link == NO_LINK ? NULL : str + s->offs[i].link;
        v[i].extents = x + s->offs[i].ext;
    }
    return v;
}

/* The size of the directory at lba, from its "." record (for CL). */
static int
dir_size_at(vdisk_iso *iso, uint32_t lba, const char *where, uint32_t *size, vdisk_error *err)
{
    if ((uint64_t)(lba + 1ull) * ISO_SECTOR > iso->file_size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: Rock Ridge CL points at sector %u, past the end of "
                                    "the file", where, lba);
    uint8_t sec[ISO_SECTOR];
    int r = vdisk_file_pread(iso->file, sec, sizeof(sec), (uint64_t)lba * ISO_SECTOR, err);
    if (r < 0)
        return r;
    iso_dirrec rec;
    r = iso_dirrec_parse(sec, sizeof(sec), where, &rec, err);
    if (r < 0)
        return r;
    *size = rec.size;
    return 0;
}

/* Name, mode, owner and times of a new entry from its record. */
static int
fill_entry(dir_state *s, vdisk_iso_entry *e, const iso_dirrec *rec, vdisk_error *err)
{
    vdisk_iso *iso = s->iso;
    const iso_rr *rr = &s->rr;
    bool rock = iso->d.vol.names == VDISK_ISO_NAMES_ROCK;
    char name[ISO_RR_NAME_MAX + 1];
    if (rock && rr->has_nm)
        memcpy(name, rr->name, rr->name_len + 1);
    else if (iso->d.vol.names == VDISK_ISO_NAMES_JOLIET && iso_name_joliet(rec->name, rec->name_len, name, sizeof(name)) < 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: Joliet identifier has an odd length (%u)", where_of(s),
                                    rec->name_len);
    else if (iso->d.vol.names != VDISK_ISO_NAMES_JOLIET && !(rock && rr->has_nm))
        iso_name_plain(rec->name, rec->name_len, name);
    bool dir = (rec->flags & ISO_FLAG_DIR) || (rock && rr->has_cl);
    e->mode = dir ? S_IFDIR | 0555 : S_IFREG | 0444;
    e->nlink = dir ? 2 : 1;
    if (rock && rr->has_px) {
        e->mode = rr->mode;
        e->nlink = rr->nlink;
        e->uid = rr->uid;
        e->gid = rr->gid;
    }
    if (rock && rr->has_sl) {
        if (!rr->has_px)
            e->mode = S_IFLNK | 0777;
        if (S_ISLNK(e->mode) && add_string(s, rr->link, rr->link_len, &s->offs[s->n - 1].link) < 0)
            return -ENOMEM;
    }
    /* The directory flag wins over a contradicting PX type. */
    if (dir)
        e->mode = S_IFDIR | (e->mode & 07777);
    else if (S_ISDIR(e->mode))
        e->mode = S_IFREG | (e->mode & 07777);
    e->mtime = rock && rr->mtime != VDISK_ISO_TIME_UNSET ? rr->mtime : iso_date7_parse(rec->date);
    e->atime = rock && rr->atime != VDISK_ISO_TIME_UNSET ? rr->atime : e->mtime;
    e->ctime = rock && rr->ctime != VDISK_ISO_TIME_UNSET ? rr->ctime : e->mtime;
    if (add_string(s, name, strlen(name), &s->offs[s->n - 1].name) < 0)
        return -ENOMEM;
    s->offs[s->n - 1].ext = s->extents.len / sizeof(vdisk_iso_extent);
    if (rock && rr->has_cl) {
        uint32_t size = 0;
        int r = dir_size_at(iso, rr->cl_lba, where_of(s), &size, err);
        return r < 0 ? r : add_extent(s, rr->cl_lba, size);
    }
    int r = add_extent(s, rec->lba, S_ISLNK(e->mode) ? 0 : rec->size);
    if (r == 0 && rock && rr->zf && S_ISREG(e->mode)) {
        e->zisofs = true;
        e->size = rr->zf_size;   /* the stored size is the extents' */
    }
    return r;
}

/* Rock Ridge of the current record; the context is formatted on failure only. */
static int
parse_rr(dir_state *s, const iso_dirrec *rec, vdisk_error *err)
{
    vdisk_iso *iso = s->iso;
    size_t skip = iso->su_skip < rec->su_len ? iso->su_skip : rec->su_len;
    const uint8_t *su = rec->su + skip;
    size_t len = rec->su_len - skip;
    if (iso_susp_parse(su, len, iso_file_read, iso, iso->file_size, "", &s->rr, NULL) == 0)
        return 0;
    return iso_susp_parse(su, len, iso_file_read, iso, iso->file_size, where_of(s), &s->rr, err);
}

static int
nomem(dir_state *s, vdisk_error *err)
{
    return vdisk_error_set(err, ENOMEM, "%s: out of memory", where_of(s));
}

/* One record at byte s->pos of the directory. */
static int
take_record(dir_state *s, const iso_dirrec *rec, vdisk_error *err)
{
    vdisk_iso *iso = s->iso;
    if (rec->name_len == 1 && (rec->name[0] == 0 || rec->name[0] == 1))
        return 0;
    if (rec->flags & ISO_FLAG_DIR && (rec->size > ISO_DIR_MAX || (uint64_t)rec->lba * ISO_SECTOR + rec->size > iso->file_size))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: directory extent at sector %u, %u bytes, lies past "
                                    "the end of the file (%llu bytes) or is too large", where_of(s), rec->lba,
                                    rec->size, (unsigned long long)iso->file_size);
    bool continued = s->prev_multi;
    s->prev_multi = rec->flags & ISO_FLAG_MULTI;
    if (continued && s->n > 0) {
        vdisk_iso_entry *e = &s->v[s->n - 1];
        if (e->n_extents >= 65536)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: more than 65536 extents in one file", where_of(s));
        return add_extent(s, rec->lba, rec->size) < 0 ? nomem(s, err) : 0;
    }
    if (iso->d.vol.names == VDISK_ISO_NAMES_ROCK) {
        int r = parse_rr(s, rec, err);
        if (r < 0)
            return r;
        if (s->rr.relocated)
            return 0;   /* shown where its CL placeholder is */
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        vdisk_iso_entry *nv = realloc(s->v, cap * sizeof(*nv));
        if (nv)
            s->v = nv;
        entry_offs *no = nv ? realloc(s->offs, cap * sizeof(*no)) : NULL;
        if (!no)
            return nomem(s, err);
        s->offs = no;
        s->cap = cap;
    }
    vdisk_iso_entry *e = &s->v[s->n];
    memset(e, 0, sizeof(*e));
    s->offs[s->n++].link = NO_LINK;
    int r = fill_entry(s, e, rec, err);
    return r == -ENOMEM ? nomem(s, err) : r;
}

static int
walk_records(dir_state *s, const uint8_t *buf, uint32_t size, vdisk_error *err)
{
    for (size_t pos = 0; pos < size;) {
        size_t sector_end = (pos / ISO_SECTOR + 1) * ISO_SECTOR;
        if (sector_end > size)
            sector_end = size;
        if (buf[pos] == 0) {
            pos = sector_end;   /* rest of the sector is padding */
            continue;
        }
        iso_dirrec rec;
        s->pos = pos;
        int r = iso_dirrec_parse(buf + pos, sector_end - pos, "", &rec, NULL);
        if (r < 0) {
            /* Again, with the context in the message. */
            char where[320];
            snprintf(where, sizeof(where), "%s: directory at sector %u, byte %zu", s->iso->file->path,
                     s->lba, pos);
            r = iso_dirrec_parse(buf + pos, sector_end - pos, where, &rec, err);
        }
        if (r == 0)
            r = take_record(s, &rec, err);
        if (r < 0)
            return r;
        pos += rec.len;
    }
    return 0;
}

int
iso_read_dir(vdisk_iso *iso, uint32_t lba, uint32_t size, vdisk_iso_entry **entries, size_t *n,
             vdisk_error *err)
{
    *entries = NULL;
    *n = 0;
    if (size > ISO_DIR_MAX || (uint64_t)lba * ISO_SECTOR + size > iso->file_size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: directory at sector %u, %u bytes, lies past the end "
                                    "of the file (%llu bytes) or is larger than %u bytes", iso->file->path,
                                    lba, size, (unsigned long long)iso->file_size, ISO_DIR_MAX);
    uint8_t *buf = malloc(size ? size : 1);
    /* Not calloc: the Rock Ridge scratch (5 KiB) needs no zeroing. */
    dir_state *s = malloc(sizeof(*s));
    if (s)
        memset(s, 0, offsetof(dir_state, rr));
    int r = -ENOMEM;
    if (!buf || !s) {
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", iso->file->path);
        goto out;
    }
    s->iso = iso;
    s->lba = lba;
    r = vdisk_file_pread(iso->file, buf, size, (uint64_t)lba * ISO_SECTOR, err);
    if (r == 0)
        r = walk_records(s, buf, size, err);
    if (r == 0 && !(*entries = pack(s)))
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", iso->file->path);
    if (r == 0)
        *n = s->n;
out:
    if (s) {
        free(s->v);
        free(s->offs);
        iso_buf_free(&s->strings);
        iso_buf_free(&s->extents);
    }
    free(s);
    free(buf);
    return r;
}

int
iso_root_entry(vdisk_iso *iso, vdisk_iso_entry *out, vdisk_error *err)
{
    memset(out, 0, sizeof(*out));
    out->mode = S_IFDIR | 0555;
    out->nlink = 2;
    out->mtime = out->atime = out->ctime = iso->d.vol.modification_time;
    if (!(out->name = strdup("/")) || entry_add_extent(out, iso->root_lba, iso->root_size) < 0) {
        vdisk_iso_entry_clear(out);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", iso->file->path);
    }
    if (iso->d.vol.names != VDISK_ISO_NAMES_ROCK)
        return 0;
    /* Rock Ridge attributes of the root live in its "." record. */
    uint8_t sec[ISO_SECTOR];
    int r = vdisk_file_pread(iso->file, sec, sizeof(sec), (uint64_t)iso->root_lba * ISO_SECTOR, err);
    iso_dirrec rec;
    char where[300];
    snprintf(where, sizeof(where), "%s: root directory at sector %u", iso->file->path, iso->root_lba);
    if (r == 0)
        r = iso_dirrec_parse(sec, sizeof(sec), where, &rec, err);
    iso_rr *rr = r == 0 ? malloc(sizeof(*rr)) : NULL;
    if (r == 0 && !rr)
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", where);
    if (r == 0) {
        size_t skip = iso->su_skip < rec.su_len ? iso->su_skip : rec.su_len;
        r = iso_susp_parse(rec.su + skip, rec.su_len - skip, iso_file_read, iso, iso->file_size, where, rr, err);
    }
    if (r == 0 && rr->has_px) {
        out->mode = S_IFDIR | (rr->mode & 07777);
        out->nlink = rr->nlink;
        out->uid = rr->uid;
        out->gid = rr->gid;
    }
    if (r == 0 && rr->mtime != VDISK_ISO_TIME_UNSET)
        out->mtime = out->atime = out->ctime = rr->mtime;
    free(rr);
    if (r < 0)
        vdisk_iso_entry_clear(out);
    return r;
}

/* Find `name` among entries (exact, then case-insensitively for ISO names). */
static const vdisk_iso_entry *
find_name(const vdisk_iso *iso, const vdisk_iso_entry *v, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(v[i].name) == len && memcmp(v[i].name, name, len) == 0)
            return &v[i];
    if (iso->d.vol.names != VDISK_ISO_NAMES_PLAIN)
        return NULL;
    /* ISO names as isoinfo prints them ("USER_DAT.;1") match too. */
    char bare[256];
    iso_name_plain((const uint8_t *)name, len, bare);
    len = strlen(bare);
    for (size_t i = 0; i < n; i++)
        if (strlen(v[i].name) == len && strncasecmp(v[i].name, bare, len) == 0)
            return &v[i];
    return NULL;
}

/* Step from the directory `cur` into component [name, name+len). */
static int
step(vdisk_iso *iso, vdisk_iso_entry *cur, const char *path, const char *name, size_t len,
     vdisk_error *err)
{
    if (!iso_entry_is_dir(cur))
        return vdisk_error_set(err, ENOTDIR, "%s: %s: '%s' is not a directory", iso->file->path, path,
                               cur->name);
    vdisk_iso_entry *v;
    size_t n;
    int r = iso_read_dir(iso, cur->extents[0].lba, cur->extents[0].length, &v, &n, err);
    if (r < 0)
        return r;
    const vdisk_iso_entry *hit = find_name(iso, v, n, name, len);
    if (!hit)
        r = vdisk_error_set(err, ENOENT, "%s: %s: no such file or directory in the image",
                            iso->file->path, path);
    vdisk_iso_entry next;
    if (hit && iso_entry_copy(&next, hit) < 0)
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", iso->file->path);
    vdisk_iso_entries_free(v, n);
    if (r < 0)
        return r;
    vdisk_iso_entry_clear(cur);
    *cur = next;
    return 0;
}

int
iso_path_normalize(const char *path, char *out, size_t outlen)
{
    size_t nl = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (nl > 0 && out[--nl] != '/')
                ;
        } else if (len && !(len == 1 && p[0] == '.')) {
            if (nl + len + 2 > outlen)
                return -ENAMETOOLONG;
            out[nl++] = '/';
            memcpy(out + nl, p, len);
            nl += len;
        }
        p += len;
    }
    out[nl] = '\0';
    return 0;
}

int
vdisk_iso_stat(vdisk_iso *iso, const char *path, vdisk_iso_entry *out, vdisk_error *err)
{
    /* ".." is resolved lexically, as a shell would before asking. */
    char norm[4096];
    if (iso_path_normalize(path, norm, sizeof(norm)) < 0)
        return vdisk_error_set(err, ENAMETOOLONG, "%s: path in the image is too long", iso->file->path);
    int r = iso_root_entry(iso, out, err);
    for (const char *p = norm; r == 0 && *p;) {
        p++;
        size_t len = strcspn(p, "/");
        r = step(iso, out, path, p, len, err);
        p += len;
    }
    if (r < 0)
        vdisk_iso_entry_clear(out);
    return r;
}

int
vdisk_iso_list(vdisk_iso *iso, const char *path, vdisk_iso_entry **entries, size_t *n,
               vdisk_error *err)
{
    vdisk_iso_entry e;
    *entries = NULL;
    *n = 0;
    int r = vdisk_iso_stat(iso, path, &e, err);
    if (r < 0)
        return r;
    if (iso_entry_is_dir(&e)) {
        r = iso_read_dir(iso, e.extents[0].lba, e.extents[0].length, entries, n, err);
        vdisk_iso_entry_clear(&e);
        return r;
    }
    /* One entry, packed like a directory's. */
    dir_state s1 = { .v = &e, .n = 1 };
    entry_offs o = { .link = NO_LINK };
    s1.offs = &o;
    r = add_string(&s1, e.name, strlen(e.name), &o.name);
    if (r == 0 && e.link_target)
        r = add_string(&s1, e.link_target, strlen(e.link_target), &o.link);
    if (r == 0)
        r = iso_buf_append(&s1.extents, e.extents, e.n_extents * sizeof(*e.extents));
    if (r == 0 && !(*entries = pack(&s1)))
        r = -ENOMEM;
    iso_buf_free(&s1.strings);
    iso_buf_free(&s1.extents);
    vdisk_iso_entry_clear(&e);
    if (r < 0)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", iso->file->path);
    *n = 1;
    return 0;
}
