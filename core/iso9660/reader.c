/* libvdisk — the ISO 9660 reader handle: open, directory reading, path
 * lookup, file reads.
 *
 * A directory is read whole (bounded by ISO_DIR_MAX) and turned into
 * entries: "." and ".." dropped, multi-extent records merged, names taken
 * from Rock Ridge, Joliet or the ISO identifiers, Rock Ridge attributes
 * applied, relocated directories (RE) hidden and their placeholders (CL)
 * turned back into directories.  Every extent is checked against the end
 * of the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iso9660.h"

int
iso_file_read(void *opaque, void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    vdisk_iso *iso = opaque;
    return vdisk_file_pread(iso->file, buf, len, off, err);
}

/* Is the extent (lba, size) inside the file? */
static bool
extent_ok(const vdisk_iso *iso, uint32_t lba, uint64_t size)
{
    return (uint64_t)lba * ISO_SECTOR + size <= iso->file_size;
}

int
vdisk_iso_names_from_name(const char *name, vdisk_iso_names *out, vdisk_error *err)
{
    static const char *const names[] = { "auto", "rock", "joliet", "iso" };
    for (size_t i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (vdisk_iso_names)i;
            return 0;
        }
    return vdisk_error_set(err, EINVAL, "unknown name mode '%s' (expected auto, rock, joliet or iso)", name);
}

/* Look at the root's "." record for the SUSP indicator and Rock Ridge. */
static int
probe_rock_ridge(vdisk_iso *iso, vdisk_error *err)
{
    uint8_t sec[ISO_SECTOR];
    int r = vdisk_file_pread(iso->file, sec, sizeof(sec), (uint64_t)iso->d.root_lba * ISO_SECTOR, err);
    if (r < 0)
        return r;
    char where[300];
    snprintf(where, sizeof(where), "%s: root directory at sector %u, first record", iso->file->path,
             iso->d.root_lba);
    iso_dirrec rec;
    r = iso_dirrec_parse(sec, sizeof(sec), where, &rec, err);
    if (r < 0)
        return r;
    iso_rr *rr = malloc(sizeof(*rr));
    if (!rr)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", iso->file->path);
    r = iso_susp_parse(rec.su, rec.su_len, iso_file_read, iso, iso->file_size, where, rr, err);
    if (r == 0 && rr->sp) {
        iso->su_skip = rr->sp_skip;
        iso->d.vol.rock_ridge = rr->rr;
    }
    free(rr);
    return r;
}

static int
probe_boot(vdisk_iso *iso)
{
    vdisk_iso_boot_entry *v;
    size_t n;
    if (!iso->d.boot_record || vdisk_iso_get_boot(iso, &v, &n, NULL) < 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        iso->d.vol.bootable |= v[i].bootable;
    free(v);
    return 0;
}

int
iso_open_file(vdisk_file *f, bool own, vdisk_iso_names names, vdisk_iso **out, vdisk_error *err)
{
    vdisk_iso *iso = calloc(1, sizeof(*iso));
    if (!iso) {
        if (own)
            vdisk_file_close(f);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", f->path);
    }
    iso->file = f;
    iso->own_file = own;
    int r = vdisk_file_get_length(f, &iso->file_size, err);
    if (r == 0)
        r = iso_descriptors_read(f, iso->file_size, &iso->d, err);
    if (r == 0)
        r = probe_rock_ridge(iso, err);
    if (r == 0)
        r = probe_boot(iso);
    if (r < 0) {
        vdisk_iso_close(iso);
        return r;
    }
    if (names == VDISK_ISO_NAMES_AUTO)
        names = iso->d.vol.rock_ridge ? VDISK_ISO_NAMES_ROCK
              : iso->d.joliet ? VDISK_ISO_NAMES_JOLIET : VDISK_ISO_NAMES_PLAIN;
    if (names == VDISK_ISO_NAMES_JOLIET && !iso->d.joliet) {
        r = vdisk_error_set(err, ENOENT, "%s: the image has no Joliet volume descriptor", f->path);
        vdisk_iso_close(iso);
        return r;
    }
    iso->d.vol.names = names;
    iso->root_lba = names == VDISK_ISO_NAMES_JOLIET ? iso->d.joliet_root_lba : iso->d.root_lba;
    iso->root_size = names == VDISK_ISO_NAMES_JOLIET ? iso->d.joliet_root_size : iso->d.root_size;
    *out = iso;
    return 0;
}

int
vdisk_iso_open(const char *path, vdisk_iso_names names, vdisk_iso **out, vdisk_error *err)
{
    vdisk_file *f;
    int r = vdisk_file_open(path, 0, &f, err);
    if (r < 0)
        return r;
    return iso_open_file(f, true, names, out, err);
}

void
vdisk_iso_close(vdisk_iso *iso)
{
    if (!iso)
        return;
    if (iso->own_file)
        vdisk_file_close(iso->file);
    free(iso);
}

const vdisk_iso_volume *
vdisk_iso_get_volume(const vdisk_iso *iso)
{
    return &iso->d.vol;
}

void
vdisk_iso_entry_clear(vdisk_iso_entry *e)
{
    if (!e)
        return;
    free(e->name);
    free(e->link_target);
    free(e->extents);
    memset(e, 0, sizeof(*e));
}

void
vdisk_iso_entries_free(vdisk_iso_entry *v, size_t n)
{
    (void)n;
    free(v);   /* one block: entries, extents and strings (directory.c) */
}

int
iso_entry_copy(vdisk_iso_entry *dst, const vdisk_iso_entry *src)
{
    *dst = *src;
    dst->name = strdup(src->name ? src->name : "");
    dst->link_target = src->link_target ? strdup(src->link_target) : NULL;
    dst->extents = malloc((src->n_extents ? src->n_extents : 1) * sizeof(*src->extents));
    if (!dst->name || (src->link_target && !dst->link_target) || !dst->extents) {
        vdisk_iso_entry_clear(dst);
        return -ENOMEM;
    }
    memcpy(dst->extents, src->extents, src->n_extents * sizeof(*src->extents));
    return 0;
}

int
vdisk_iso_get_boot(vdisk_iso *iso, vdisk_iso_boot_entry **entries, size_t *n, vdisk_error *err)
{
    *entries = NULL;
    *n = 0;
    if (!iso->d.boot_record)
        return 0;
    uint32_t lba = iso->d.boot_catalog_lba;
    if (!extent_ok(iso, lba, ISO_SECTOR))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: El Torito boot catalog at sector %u lies past the "
                                    "end of the file", iso->file->path, lba);
    uint8_t cat[ISO_SECTOR];
    int r = vdisk_file_pread(iso->file, cat, sizeof(cat), (uint64_t)lba * ISO_SECTOR, err);
    if (r < 0)
        return r;
    char where[300];
    snprintf(where, sizeof(where), "%s: El Torito boot catalog at sector %u", iso->file->path, lba);
    return iso_eltorito_parse(cat, where, entries, n, err);
}

int
iso_read_stored(vdisk_iso *iso, const vdisk_iso_entry *e, void *buf, size_t len, uint64_t off,
                vdisk_error *err)
{
    uint8_t *p = buf;
    uint64_t base = 0;
    for (size_t i = 0; i < e->n_extents && len > 0; i++) {
        const vdisk_iso_extent *x = &e->extents[i];
        if (off < base + x->length) {
            uint64_t in = off - base;
            size_t n = (size_t)(x->length - in < len ? x->length - in : len);
            if (!extent_ok(iso, x->lba, x->length))
                return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                            "%s: '%s': extent %zu at sector %u, %u bytes, lies "
                                            "past the end of the file (%llu bytes)", iso->file->path,
                                            e->name, i, x->lba, x->length,
                                            (unsigned long long)iso->file_size);
            int r = vdisk_file_pread(iso->file, p, n, (uint64_t)x->lba * ISO_SECTOR + in, err);
            if (r < 0)
                return r;
            p += n;
            off += n;
            len -= n;
        }
        base += x->length;
    }
    if (len > 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: '%s': read past the stored data", iso->file->path, e->name);
    return 0;
}

int
vdisk_iso_pread(vdisk_iso *iso, const vdisk_iso_entry *e, void *buf, size_t len, uint64_t off,
                vdisk_error *err)
{
    if (off > e->size || len > e->size - off)
        return vdisk_error_set(err, EINVAL, "%s: read of %zu bytes at %llu is past the end of '%s' "
                               "(%llu bytes)", iso->file->path, len, (unsigned long long)off,
                               e->name, (unsigned long long)e->size);
    if (e->zisofs)
        return iso_zisofs_pread(iso, e, buf, len, off, err);
    return iso_read_stored(iso, e, buf, len, off, err);
}
