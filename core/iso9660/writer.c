/* libvdisk — ISO writer: the bytes.
 *
 * The metadata (descriptors, path tables, directories, continuation
 * areas, boot catalog) is built in memory, then the file data is copied in
 * tree order, skipping holes of sparse sources (the output stays sparse
 * there).  Everything goes to a temporary file beside the target that is
 * renamed into place only when complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build.h"

#define COPY_CHUNK (1u << 20)

void
vdisk_iso_create_opts_init(vdisk_iso_create_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->rock_ridge = true;
    o->joliet = true;
}

/* System use bytes of a "." (dot) or ".." record. */
static size_t
dot_su(const iso_tree *t, const iso_node *d, bool is_dot, uint8_t *out)
{
    if (!t->opts.rock_ridge)
        return 0;
    iso_buf b = { 0 };
    const iso_node *who = is_dot || d == t->root ? d : d->parent;
    iso_rr_attrs a = { .mode = who->mode, .nlink = who->nlink, .uid = who->uid, .gid = who->gid,
                       .mtime = who->mtime };
    if (is_dot && d == t->root)
        iso_buf_append(&b, t->root->su.data, t->root->su.len);   /* SP first */
    iso_rrip_entries(&b, &a);
    if (is_dot && d == t->root) {
        iso_rrip_ce(out + b.len, t->ce_lba + d->ce_sector, d->ce_off, (uint32_t)d->su_ce.len);
        memcpy(out, b.data, b.len);
        size_t n = b.len + ISO_CE_LEN;
        iso_buf_free(&b);
        return n;
    }
    memcpy(out, b.data, b.len);
    size_t n = b.len;
    iso_buf_free(&b);
    return n;
}

/* Place a record of `len` bytes at *pos, moving to the next sector if it
 * would cross one. */
static uint8_t *
slot(uint8_t *buf, size_t *pos, size_t len)
{
    if (*pos / ISO_SECTOR != (*pos + len - 1) / ISO_SECTOR)
        *pos = (*pos / ISO_SECTOR + 1) * ISO_SECTOR;
    uint8_t *p = buf + *pos;
    *pos += len;
    return p;
}

static void
encode_kid(const iso_tree *t, const iso_node *k, bool joliet, uint8_t *buf, size_t *pos)
{
    uint8_t su[256];
    size_t su_len = 0;
    if (!joliet && t->opts.rock_ridge) {
        memcpy(su, k->su.data, k->su.len);
        su_len = k->su.len;
        if (k->su_ce.len) {
            iso_rrip_ce(su + su_len, t->ce_lba + k->ce_sector, k->ce_off, (uint32_t)k->su_ce.len);
            su_len += ISO_CE_LEN;
        }
    }
    const uint8_t *id = joliet ? k->joliet_id : (const uint8_t *)k->iso_id;
    size_t id_len = joliet ? k->joliet_len : k->iso_id_len;
    if (iso_node_is_dir(k)) {
        uint32_t lba = joliet ? k->jlba : k->lba;
        uint32_t size = joliet ? k->jdir_size : k->dir_size;
        uint8_t *p = slot(buf, pos, iso_dirrec_size(id_len, su_len));
        iso_dirrec_encode(p, lba, size, ISO_FLAG_DIR, k->mtime, id, id_len, su, su_len);
        return;
    }
    uint32_t n = iso_node_records(k);
    uint64_t left = iso_node_is_reg(k) ? k->size : 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = left > ISO_EXTENT_MAX ? ISO_EXTENT_MAX : (uint32_t)left;
        uint32_t lba = left ? k->lba + i * (ISO_EXTENT_MAX / ISO_SECTOR) : 0;
        uint8_t *p = slot(buf, pos, iso_dirrec_size(id_len, su_len));
        iso_dirrec_encode(p, lba, len, i + 1 < n ? ISO_FLAG_MULTI : 0, k->mtime, id, id_len, su, su_len);
        left -= len;
    }
}

void
iso_dir_encode(const iso_tree *t, const iso_node *d, bool joliet, uint8_t *buf)
{
    uint8_t su[256] = { 0 };
    size_t pos = 0;
    const iso_node *parent = d == t->root ? d : d->parent;
    uint32_t lba = joliet ? d->jlba : d->lba, size = joliet ? d->jdir_size : d->dir_size;
    uint32_t plba = joliet ? parent->jlba : parent->lba;
    uint32_t psize = joliet ? parent->jdir_size : parent->dir_size;
    size_t n = joliet ? 0 : dot_su(t, d, true, su);
    pos += iso_dirrec_encode(buf + pos, lba, size, ISO_FLAG_DIR, d->mtime, (const uint8_t *)"\0", 1, su, n);
    n = joliet ? 0 : dot_su(t, d, false, su);
    pos += iso_dirrec_encode(buf + pos, plba, psize, ISO_FLAG_DIR, parent->mtime, (const uint8_t *)"\1", 1, su, n);
    for (size_t i = 0; i < d->n_kids; i++)
        encode_kid(t, joliet ? d->jkids[i] : d->kids[i], joliet, buf, &pos);
}

static void
encode_path_table(const iso_tree *t, bool joliet, bool msb, uint8_t *p)
{
    for (size_t i = 0; i < t->n_dirs; i++) {
        const iso_node *d = t->dirs[i];
        const uint8_t *id = d == t->root ? (const uint8_t *)"\0"
                          : joliet ? d->joliet_id : (const uint8_t *)d->iso_id;
        size_t id_len = d == t->root ? 1 : joliet ? d->joliet_len : d->iso_id_len;
        uint32_t lba = joliet ? d->jlba : d->lba;
        uint16_t parent = d == t->root ? 1 : d->parent->dir_number;
        p[0] = (uint8_t)id_len;
        p[1] = 0;
        if (msb) {
            iso_put_be32(p + 2, lba);
            iso_put_be16(p + 6, parent);
        } else {
            iso_put_le32(p + 2, lba);
            iso_put_le16(p + 6, parent);
        }
        memcpy(p + 8, id, id_len);
        p += 8 + id_len + (id_len & 1);
    }
}

static void
root_record(const iso_tree *t, bool joliet, uint8_t rec[34])
{
    const iso_node *r = t->root;
    iso_dirrec_encode(rec, joliet ? r->jlba : r->lba, joliet ? r->jdir_size : r->dir_size, ISO_FLAG_DIR,
                      r->mtime, (const uint8_t *)"\0", 1, NULL, 0);
}

/* El Torito entries of the boot images. */
static int
boot_entry(const iso_tree *t, const iso_node *img, bool efi, vdisk_iso_boot_entry *e, vdisk_error *err)
{
    memset(e, 0, sizeof(*e));
    e->bootable = true;
    e->lba = img->lba;
    e->platform = efi ? VDISK_ISO_PLATFORM_EFI : VDISK_ISO_PLATFORM_X86;
    uint64_t secs512 = (img->size + 511) / 512;
    if (efi || t->opts.boot_no_emul) {
        e->media = VDISK_ISO_MEDIA_NO_EMUL;
        uint64_t want = !efi && t->opts.boot_load_size ? t->opts.boot_load_size : secs512;
        e->sector_count = (uint16_t)(want > 0xFFFF ? 0xFFFF : want);
        return 0;
    }
    switch (img->size) {
    case 1228800: e->media = VDISK_ISO_MEDIA_FLOPPY_1200K; break;
    case 1474560: e->media = VDISK_ISO_MEDIA_FLOPPY_1440K; break;
    case 2949120: e->media = VDISK_ISO_MEDIA_FLOPPY_2880K; break;
    default:
        return vdisk_error_set(err, EINVAL, "%s: a %llu-byte boot image is no floppy size (1200, 1440 "
                               "or 2880 KiB) for floppy emulation; use --boot-no-emul",
                               t->opts.boot_image, (unsigned long long)img->size);
    }
    e->sector_count = 1;
    return 0;
}

/* All sectors before the file data. */
static int
build_meta(const iso_tree *t, uint8_t *m, vdisk_error *err)
{
    uint8_t rec[34];
    const char *vid = t->opts.volume_id ? t->opts.volume_id : "CDROM";
    iso_vd_spec s = { .type = ISO_VD_PRIMARY, .volume_id = vid, .system_id = "LINUX",
                      .application_id = "VDISK", .space_size = t->space_size,
                      .path_table_size = t->path_table_size, .l_path_lba = t->l_path_lba,
                      .m_path_lba = t->m_path_lba, .root_record = rec, .date = t->now };
    root_record(t, false, rec);
    iso_descriptor_build(m + ISO_VD_FIRST * ISO_SECTOR, &s);
    if (t->catalog_lba) {
        iso_boot_record_build(m + (ISO_VD_FIRST + 1) * ISO_SECTOR, t->catalog_lba);
        vdisk_iso_boot_entry b, e;
        int r = t->boot ? boot_entry(t, t->boot, false, &b, err) : 0;
        if (r == 0 && t->efi)
            r = boot_entry(t, t->efi, true, &e, err);
        if (r < 0)
            return r;
        iso_eltorito_build(m + t->catalog_lba * ISO_SECTOR, t->boot ? &b : NULL, t->efi ? &e : NULL);
    }
    if (t->opts.joliet) {
        s.type = ISO_VD_SUPPLEMENTARY;
        s.path_table_size = t->jpath_table_size;
        s.l_path_lba = t->jl_path_lba;
        s.m_path_lba = t->jm_path_lba;
        root_record(t, true, rec);
        iso_descriptor_build(m + t->svd_sector * ISO_SECTOR, &s);
    }
    iso_terminator_build(m + t->term_sector * ISO_SECTOR);
    encode_path_table(t, false, false, m + t->l_path_lba * ISO_SECTOR);
    encode_path_table(t, false, true, m + t->m_path_lba * ISO_SECTOR);
    if (t->opts.joliet) {
        encode_path_table(t, true, false, m + t->jl_path_lba * ISO_SECTOR);
        encode_path_table(t, true, true, m + t->jm_path_lba * ISO_SECTOR);
    }
    for (size_t i = 0; i < t->n_dirs; i++) {
        iso_dir_encode(t, t->dirs[i], false, m + (size_t)t->dirs[i]->lba * ISO_SECTOR);
        if (t->opts.joliet)
            iso_dir_encode(t, t->dirs[i], true, m + (size_t)t->dirs[i]->jlba * ISO_SECTOR);
    }
    for (size_t i = 0; t->opts.rock_ridge && i <= t->n_dirs; i++) {
        iso_node *const *kids = i < t->n_dirs ? t->dirs[i]->kids : &t->root;
        size_t n = i < t->n_dirs ? t->dirs[i]->n_kids : 1;
        for (size_t k = 0; k < n; k++)
            if (kids[k]->su_ce.len)
                memcpy(m + (size_t)(t->ce_lba + kids[k]->ce_sector) * ISO_SECTOR + kids[k]->ce_off,
                       kids[k]->su_ce.data, kids[k]->su_ce.len);
    }
    return 0;
}

typedef struct copy_state {
    int out;
    const char *tmp;
    uint8_t *buf;
    uint64_t done, total;
    vdisk_progress_fn progress;
    void *opaque;
    bool no_copy_range;         /* copy_file_range failed once: use the buffer */
} copy_state;

static int
write_all(copy_state *c, const uint8_t *p, size_t n, uint64_t off, vdisk_error *err)
{
    while (n > 0) {
        ssize_t w = pwrite(c->out, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return vdisk_error_set_errno(err, errno, "%s: write at offset %llu", c->tmp, (unsigned long long)off);
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* Copy up to len bytes at off of fd to out_off of the image: in the kernel
 * (copy_file_range) when the file systems allow it, else through the
 * buffer, leaving all-zero chunks unwritten.  Returns bytes copied, or -1
 * with errno. */
static ssize_t
copy_chunk(copy_state *c, int fd, size_t len, uint64_t off, uint64_t out_off)
{
    if (!c->no_copy_range) {
        loff_t in = (loff_t)off, out = (loff_t)out_off;
        ssize_t n = copy_file_range(fd, &in, c->out, &out, len, 0);
        if (n >= 0 || !(errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
            return n;
        c->no_copy_range = true;
    }
    ssize_t got = pread(fd, c->buf, len, (off_t)off);
    if (got > 0 && !vdisk_buffer_is_zero(c->buf, (size_t)got)) {
        vdisk_error werr;
        if (write_all(c, c->buf, (size_t)got, out_off, &werr) < 0) {
            errno = -werr.code;
            return -1;
        }
    }
    return got;
}

/* Copy one file's data to its sectors; holes stay holes. */
static int
copy_file(copy_state *c, const iso_node *n, vdisk_error *err)
{
    int fd = open(n->host, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vdisk_error_set_errno(err, errno, "%s: cannot open", n->host);
    struct stat st;
    int r = 0;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != n->size)
        r = vdisk_error_set(err, EIO, "%s: the file changed size while the image was being built", n->host);
    uint64_t base = (uint64_t)n->lba * ISO_SECTOR;
    for (uint64_t off = 0; r == 0 && off < n->size;) {
        /* Skip holes; without SEEK_DATA support everything is data. */
        off_t data = lseek(fd, (off_t)off, SEEK_DATA);
        if ((data < 0 && errno == ENXIO) || (data >= 0 && (uint64_t)data >= n->size))
            break;
        if (data >= 0)
            off = (uint64_t)data;
        size_t want = n->size - off < COPY_CHUNK ? (size_t)(n->size - off) : COPY_CHUNK;
        ssize_t got = copy_chunk(c, fd, want, off, base + off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            r = got < 0 ? vdisk_error_set_errno(err, errno, "%s: copy at %llu", n->host, (unsigned long long)off)
                        : vdisk_error_set(err, EIO, "%s: the file shrank while the image was being built", n->host);
            break;
        }
        off += (uint64_t)got;
        c->done += (uint64_t)got;
        if (r == 0 && c->progress && c->progress(c->opaque, c->done, c->total))
            r = vdisk_error_set(err, ECANCELED, "%s: cancelled", c->tmp);
    }
    close(fd);
    return r;
}

static int
copy_tree(copy_state *c, const iso_node *dir, vdisk_error *err)
{
    for (size_t i = 0; i < dir->n_kids; i++) {
        const iso_node *k = dir->kids[i];
        /* The boot catalog's record points at the catalog sector: no host file. */
        int r = iso_node_is_dir(k) ? copy_tree(c, k, err)
              : iso_node_is_reg(k) && k->size && k->host ? copy_file(c, k, err) : 0;
        if (r < 0)
            return r;
    }
    return 0;
}

/* The El Torito boot info table in the image's copy of the BIOS boot image
 * (bytes 8-63, as mkisofs -boot-info-table writes it): the primary
 * descriptor's sector, the image's sector, its length, and the 32-bit sum
 * of its little-endian words from byte 64 on.  The host file is untouched. */
static int
boot_info_table(copy_state *c, const iso_node *img, vdisk_error *err)
{
    if (img->size < 64)
        return vdisk_error_set(err, EINVAL, "%s: a %llu-byte boot image has no room for a boot info "
                               "table (64 bytes)", img->host, (unsigned long long)img->size);
    uint64_t base = (uint64_t)img->lba * ISO_SECTOR;
    uint32_t sum = 0;
    for (uint64_t off = 64; off < img->size;) {
        size_t n = img->size - off < COPY_CHUNK ? (size_t)(img->size - off) : COPY_CHUNK;
        memset(c->buf, 0, n + 4);
        ssize_t got = pread(c->out, c->buf, n, (off_t)(base + off));
        if (got < 0)
            return vdisk_error_set_errno(err, errno, "%s: read back the boot image", c->tmp);
        for (size_t i = 0; i < n; i += 4)
            sum += iso_le32(c->buf + i);
        off += n;
    }
    uint8_t table[56] = { 0 };
    iso_put_le32(table, ISO_VD_FIRST);
    iso_put_le32(table + 4, img->lba);
    iso_put_le32(table + 8, (uint32_t)img->size);
    iso_put_le32(table + 12, sum);
    return write_all(c, table, sizeof(table), base + 8, err);
}

/* Write everything into the open temporary file. */
static int
write_image(iso_tree *t, copy_state *c, vdisk_error *err)
{
    size_t meta = (size_t)t->meta_sectors * ISO_SECTOR;
    uint8_t *m = calloc(1, meta);
    if (!m)
        return vdisk_error_set(err, ENOMEM, "out of memory for %zu bytes of image metadata", meta);
    int r = build_meta(t, m, err);
    if (r == 0)
        r = write_all(c, m, meta, 0, err);
    free(m);
    if (r == 0 && t->boot && !t->boot_in_tree)
        r = copy_file(c, t->boot, err);
    if (r == 0 && t->efi && !t->efi_in_tree)
        r = copy_file(c, t->efi, err);
    if (r == 0)
        r = copy_tree(c, t->root, err);
    if (r == 0 && t->boot && t->opts.boot_info_table)
        r = boot_info_table(c, t->boot, err);
    if (r == 0 && ftruncate(c->out, (off_t)t->space_size * ISO_SECTOR) < 0)
        r = vdisk_error_set_errno(err, errno, "%s: set length", c->tmp);
    return r;
}

int
vdisk_iso_create(const char *path, const vdisk_iso_create_opts *opts, const vdisk_iso_source *sources,
                 size_t n_sources, vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    iso_tree t = { .opts = *opts };
    t.now = opts->fixed_date ? opts->date : (int64_t)time(NULL);
    const char *vid = opts->volume_id ? opts->volume_id : "CDROM";
    if (strlen(vid) > 32)
        return vdisk_error_set(err, EINVAL, "%s: volume id '%s' is longer than 32 characters", path, vid);
    int r = iso_tree_build(&t, sources, n_sources, err);
    if (r == 0)
        r = iso_layout(&t, err);
    if (r < 0) {
        iso_tree_free(&t);
        vdisk_error_prefix_name(err, path);
        return r;
    }
    size_t tl = strlen(path) + 16;
    char *tmp = malloc(tl);
    copy_state c = { .out = -1, .tmp = tmp, .buf = malloc(COPY_CHUNK + 4), .total = t.data_bytes,
                     .progress = progress, .opaque = opaque };
    if (!tmp || !c.buf) {
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", path);
        goto out;
    }
    snprintf(tmp, tl, "%s.tmp-XXXXXX", path);
    c.out = mkstemp(tmp);
    if (c.out < 0) {
        r = vdisk_error_set_errno(err, errno, "%s: cannot create", path);
        goto out;
    }
    r = write_image(&t, &c, err);
    if (r == 0 && fchmod(c.out, 0644) < 0)
        r = vdisk_error_set_errno(err, errno, "%s: chmod", tmp);
    if (close(c.out) < 0 && r == 0)
        r = vdisk_error_set_errno(err, errno, "%s: close", tmp);
    if (r == 0 && rename(tmp, path) < 0)
        r = vdisk_error_set_errno(err, errno, "%s: cannot rename %s into place", path, tmp);
    if (r < 0)
        unlink(tmp);
out:
    free(c.buf);
    free(tmp);
    iso_tree_free(&t);
    return r;
}
