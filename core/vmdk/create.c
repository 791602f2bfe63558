/* libvdisk — new VMDK images, every subformat qemu-img makes.
 *
 * Layouts (Virtual Disk Format 5.0; sizes in 512-byte sectors):
 *   sparse extent    header | descriptor (20) | redundant GD | redundant GTs |
 *                    GD | GTs | grains from the next 64 KiB boundary --
 *                    64 KiB grains, 512-entry tables, every table in place
 *                    (as VMware and qemu-img lay it out)
 *   streamOptimized  header (GD at end) | descriptor (20) | grains from
 *                    64 KiB, then GD marker | GD | footer marker | footer |
 *                    end-of-stream marker (stream.c appends the grains)
 *   monolithicFlat   descriptor file + NAME-flat.EXT
 *   twoGbMaxExtent*  descriptor file + NAME-s001.EXT ... (sparse) or
 *                    NAME-f001.EXT ... (flat), 2 GiB each, the last shorter
 * The descriptor is the layout qemu-img writes (descriptor.c).  Extent
 * files are named from the descriptor's name as qemu-img names them, so
 * tools that expect either find the same files.  A failed create removes
 * the extent files it made (vdisk_create removes the descriptor).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmdk.h"

#define GRAIN_SECTORS 128u
#define GT_ENTRIES 512u
#define DESC_SECTORS 20u
#define MAX_EMBEDDED (DESC_SECTORS * VMDK_SECTOR)

/* Tables of extent layout, computed once per extent. */
typedef struct sparse_layout {
    uint64_t capacity;      /* sectors */
    uint64_t grains;
    uint32_t gt_count;
    uint64_t gd_sectors;
    uint64_t rgd, gd;       /* sectors */
    uint64_t overhead;      /* sectors */
} sparse_layout;

static void
plan_sparse(uint64_t size, sparse_layout *l)
{
    l->capacity = size / VMDK_SECTOR;
    l->grains = (l->capacity + GRAIN_SECTORS - 1) / GRAIN_SECTORS;
    l->gt_count = (uint32_t)((l->grains + GT_ENTRIES - 1) / GT_ENTRIES);
    l->gd_sectors = vmdk_table_sectors(l->gt_count);
    uint64_t gts = (uint64_t)l->gt_count * vmdk_table_sectors(GT_ENTRIES);
    l->rgd = 1 + DESC_SECTORS;
    l->gd = l->rgd + l->gd_sectors + gts;
    l->overhead = (l->gd + l->gd_sectors + gts + GRAIN_SECTORS - 1) / GRAIN_SECTORS * GRAIN_SECTORS;
}

/* A directory whose table t lies at first + t * 4 sectors. */
static int
write_directory(vdisk_file *f, const sparse_layout *l, uint64_t at, vdisk_error *err)
{
    size_t len = (size_t)l->gd_sectors * VMDK_SECTOR;
    uint8_t *buf = calloc(1, len ? len : 1);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", f->path);
    uint64_t first = at + l->gd_sectors;
    for (uint32_t t = 0; t < l->gt_count; t++)
        vmdk_put_le32(buf + 4 * (size_t)t, (uint32_t)(first + (uint64_t)t * vmdk_table_sectors(GT_ENTRIES)));
    int r = vdisk_file_pwrite(f, buf, len, at * VMDK_SECTOR, err);
    free(buf);
    return r;
}

/* Preallocation of a sparse extent: grain i at overhead + i grains, in
 * every table (both copies), then the grains reserved or zeroed. */
static int
map_every_grain(vdisk_file *f, const sparse_layout *l, vdisk_prealloc p, vdisk_progress_fn progress,
                void *opaque, vdisk_error *err)
{
    if (l->overhead + l->grains * GRAIN_SECTORS > UINT32_MAX)
        return vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                    "%s: a preallocated sparse extent cannot hold more than "
                                    "2 TiB", f->path);
    uint8_t *gt = malloc(GT_ENTRIES * 4);
    if (!gt)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", f->path);
    int r = 0;
    for (uint32_t t = 0; r == 0 && t < l->gt_count; t++) {
        for (uint32_t i = 0; i < GT_ENTRIES; i++) {
            uint64_t g = (uint64_t)t * GT_ENTRIES + i;
            vmdk_put_le32(gt + 4 * i, g < l->grains ? (uint32_t)(l->overhead + g * GRAIN_SECTORS) : 0);
        }
        uint64_t rel = l->gd_sectors + (uint64_t)t * vmdk_table_sectors(GT_ENTRIES);
        r = vdisk_file_pwrite(f, gt, GT_ENTRIES * 4, (l->rgd + rel) * VMDK_SECTOR, err);
        if (r == 0)
            r = vdisk_file_pwrite(f, gt, GT_ENTRIES * 4, (l->gd + rel) * VMDK_SECTOR, err);
    }
    free(gt);
    uint64_t off = l->overhead * VMDK_SECTOR, len = l->grains * GRAIN_SECTORS * VMDK_SECTOR;
    if (r == 0 && p == VDISK_PREALLOC_FALLOC)
        r = vdisk_file_allocate(f, off, len, err);
    else if (r == 0)
        r = vdisk_file_write_zeroes_full(f, off, len, progress, opaque, err);
    return r;
}

/* A hosted sparse extent of `size` bytes in f. */
static int
init_sparse(vdisk_file *f, uint64_t size, const vdisk_create_opts *o, vdisk_progress_fn progress,
            void *opaque, vdisk_error *err)
{
    sparse_layout l;
    plan_sparse(size, &l);
    bool zg = o->vmdk.zeroed_grain;
    vmdk_header h = {
        .version = zg ? 2 : 1,
        .flags = VMDK_FLAG_RGD | VMDK_FLAG_NL_DETECT | (zg ? VMDK_FLAG_ZEROED_GRAIN : 0),
        .capacity = l.capacity, .grain_sectors = GRAIN_SECTORS, .desc_offset = 1,
        .desc_size = DESC_SECTORS, .gt_entries = GT_ENTRIES, .rgd_offset = l.rgd,
        .gd_offset = l.gd, .overhead = l.overhead,
    };
    uint8_t sector[VMDK_SECTOR];
    vmdk_header_encode(&h, sector);
    int r = vdisk_file_pwrite(f, sector, sizeof(sector), 0, err);
    if (r == 0)
        r = vdisk_file_truncate(f, l.overhead * VMDK_SECTOR, err);
    if (r == 0)
        r = write_directory(f, &l, l.rgd, err);
    if (r == 0)
        r = write_directory(f, &l, l.gd, err);
    if (r == 0 && o->prealloc != VDISK_PREALLOC_OFF)
        r = map_every_grain(f, &l, o->prealloc, progress, opaque, err);
    return r;
}

/* An empty stream: header, room for the descriptor up to the first grain,
 * then directory, footer and end marker (stream.c). */
static int
init_stream(vdisk_file *f, uint64_t size, vdisk_error *err)
{
    vmdk_sparse s;
    memset(&s, 0, sizeof(s));
    s.file = f;
    s.name = f->path;
    s.h = (vmdk_header){
        .version = 3, .flags = VMDK_FLAG_NL_DETECT | VMDK_FLAG_COMPRESSED | VMDK_FLAG_MARKERS,
        .capacity = size / VMDK_SECTOR, .grain_sectors = GRAIN_SECTORS, .desc_offset = 1,
        .desc_size = DESC_SECTORS, .gt_entries = GT_ENTRIES, .gd_offset = VMDK_GD_AT_END,
        .overhead = GRAIN_SECTORS, .compress = VMDK_COMPRESS_DEFLATE,
    };
    uint64_t cover = (uint64_t)GRAIN_SECTORS * GT_ENTRIES;
    s.gd_entries = (uint32_t)((s.h.capacity + cover - 1) / cover);
    s.alloc = (uint64_t)GRAIN_SECTORS * VMDK_SECTOR;
    s.gd = calloc(s.gd_entries ? s.gd_entries : 1, sizeof(*s.gd));
    if (!s.gd)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", f->path);
    uint8_t sector[VMDK_SECTOR];
    vmdk_header_encode(&s.h, sector);
    int r = vdisk_file_pwrite(f, sector, sizeof(sector), 0, err);
    if (r == 0)
        r = vmdk_stream_write_trailer(&s, err);
    free(s.gd);
    return r;
}

/* The parts of the file name qemu-img builds extent names from:
 * "dir/disk.vmdk" -> "dir/", "disk", ".vmdk". */
typedef struct name_parts {
    char *dir, *prefix, *postfix;
} name_parts;

static int
split_name(const char *path, name_parts *n)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    n->dir = strndup(path, (size_t)(base - path));
    n->prefix = strndup(base, dot ? (size_t)(dot - base) : strlen(base));
    n->postfix = strdup(dot ? dot : "");
    return n->dir && n->prefix && n->postfix ? 0 : -ENOMEM;
}

static void
free_name(name_parts *n)
{
    free(n->dir);
    free(n->prefix);
    free(n->postfix);
}

/* Everything a create is building. */
typedef struct create_job {
    vdisk_file *desc;                 /* the image file vdisk_create opened */
    const vdisk_create_opts *o;
    vdisk_progress_fn progress;
    void *opaque;
    name_parts name;
    vmdk_desc_extent *lines;          /* descriptor extent lines */
    size_t nlines;
    char **made;                      /* extent files created, removed on failure */
    size_t nmade;
} create_job;

static bool
is_flat(vdisk_vmdk_subformat s)
{
    return s == VDISK_VMDK_MONOLITHIC_FLAT || s == VDISK_VMDK_TWOGB_FLAT;
}

/* Create extent number idx (1-based) of `size` bytes as its own file. */
static int
make_extent(create_job *j, unsigned idx, uint64_t size, vdisk_error *err)
{
    vdisk_vmdk_subformat sf = j->o->vmdk.subformat;
    bool flat = is_flat(sf);
    char tag[16];
    if (sf == VDISK_VMDK_MONOLITHIC_FLAT)
        snprintf(tag, sizeof(tag), "-flat");
    else
        snprintf(tag, sizeof(tag), "-%c%03u", flat ? 'f' : 's', idx);
    size_t dl = strlen(j->name.dir), pl = strlen(j->name.prefix);
    char *path = malloc(dl + pl + strlen(tag) + strlen(j->name.postfix) + 1);
    if (path)
        sprintf(path, "%s%s%s%s", j->name.dir, j->name.prefix, tag, j->name.postfix);
    const char *base = path ? path + dl : NULL;
    vmdk_desc_extent *lines = realloc(j->lines, (j->nlines + 1) * sizeof(*lines));
    char **made = realloc(j->made, (j->nmade + 1) * sizeof(*made));
    if (lines)
        j->lines = lines;
    if (made)
        j->made = made;
    if (!path || !lines || !made) {
        free(path);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", j->desc->path);
    }
    vmdk_desc_extent *e = &j->lines[j->nlines];
    memset(e, 0, sizeof(*e));
    e->sectors = size / VMDK_SECTOR;
    strcpy(e->type, flat ? "FLAT" : "SPARSE");
    if (!(e->filename = strdup(base))) {
        free(path);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", j->desc->path);
    }
    j->nlines++;
    vdisk_file *f;
    int r = vdisk_file_create(path, j->o->nocow, &f, err);
    if (r < 0) {
        free(path);
        return r;
    }
    j->made[j->nmade++] = path;
    if (!flat)
        r = init_sparse(f, size, j->o, j->progress, j->opaque, err);
    else if (j->o->prealloc == VDISK_PREALLOC_FALLOC)
        r = vdisk_file_allocate(f, 0, size, err);
    else if (j->o->prealloc == VDISK_PREALLOC_FULL)
        r = vdisk_file_write_zeroes_full(f, 0, size, j->progress, j->opaque, err);
    else
        r = vdisk_file_truncate(f, size, err);
    if (r == 0)
        r = vdisk_file_flush(f, err);
    vdisk_file_close(f);
    return r;
}

/* The extents of a descriptor-file subformat (none for size 0, as qemu-img). */
static int
make_extents(create_job *j, vdisk_error *err)
{
    uint64_t size = j->o->size;
    uint64_t step = j->o->vmdk.subformat == VDISK_VMDK_MONOLITHIC_FLAT ? size : VMDK_SPLIT_SIZE;
    unsigned idx = 1;
    for (uint64_t done = 0; done < size; done += step, idx++) {
        if (idx > VMDK_MAX_EXTENTS)
            return vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                        "%s: more than %u extents of 2 GiB", j->desc->path,
                                        VMDK_MAX_EXTENTS);
        int r = make_extent(j, idx, size - done < step ? size - done : step, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The CID of the parent disk (which must be a VMDK). */
static int
parent_cid(const create_job *j, uint32_t *cid, vdisk_error *err)
{
    char *path = vdisk_resolve_backing_name(j->desc->path, j->o->backing_file);
    if (!path)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", j->desc->path);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_VMDK,
                           .flags = VDISK_OPEN_NO_BACKING | VDISK_OPEN_FORCE_SHARE };
    vdisk_image *p;
    int r = vdisk_open(path, &oo, &p, err);
    free(path);
    if (r < 0) {
        vdisk_error_prefix(err, "%s: Failed to read parent CID", j->desc->path);
        return r;
    }
    *cid = ((const vmdk_state *)p->priv)->cid;
    vdisk_close(p, NULL);
    return 0;
}

/* The descriptor text for what was made. */
static int
write_descriptor(create_job *j, bool embedded, vdisk_error *err)
{
    const vdisk_create_opts *o = j->o;
    const vdisk_vmdk_create_opts *v = &o->vmdk;
    vmdk_desc_params p = {
        .cid = vmdk_random_cid(), .parent_cid = VMDK_NO_PARENT_CID,
        .create_type = vdisk_vmdk_subformat_name(v->subformat), .parent_hint = o->backing_file,
        .extents = j->lines, .nextents = j->nlines,
        .hwversion = v->compat6 ? "6" : v->hwversion[0] ? v->hwversion : "4",
        .adapter = vdisk_vmdk_adapter_name(v->adapter_type),
        .toolsversion = v->toolsversion[0] ? v->toolsversion : "2147483647",
        .heads = v->adapter_type == VDISK_VMDK_ADAPTER_IDE ? 16 : 255,
    };
    p.cylinders = o->size / (63 * (uint64_t)p.heads * VMDK_SECTOR);
    int r = o->backing_file ? parent_cid(j, &p.parent_cid, err) : 0;
    if (r < 0)
        return r;
    char *text = vmdk_descriptor_format(&p);
    if (!text)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", j->desc->path);
    size_t len = strlen(text);
    if (embedded && len > MAX_EMBEDDED)
        r = vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                 "%s: the descriptor (%zu bytes) does not fit in %u bytes",
                                 j->desc->path, len, MAX_EMBEDDED);
    else
        r = vdisk_file_pwrite(j->desc, text, len, embedded ? VMDK_SECTOR : 0, err);
    if (r == 0 && !embedded)
        r = vdisk_file_truncate(j->desc, len, err);
    free(text);
    return r;
}

/* The one extent of a monolithic file: the file itself. */
static int
add_self_line(create_job *j, vdisk_error *err)
{
    const char *slash = strrchr(j->desc->path, '/');
    if (!(j->lines = calloc(1, sizeof(*j->lines))) ||
        !(j->lines[0].filename = strdup(slash ? slash + 1 : j->desc->path)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", j->desc->path);
    j->nlines = 1;
    j->lines[0].sectors = j->o->size / VMDK_SECTOR;
    strcpy(j->lines[0].type, "SPARSE");
    return 0;
}

static void
job_free(create_job *j, bool failed)
{
    for (size_t i = 0; i < j->nlines; i++)
        free(j->lines[i].filename);
    free(j->lines);
    for (size_t i = 0; i < j->nmade; i++) {
        if (failed)
            unlink(j->made[i]);
        free(j->made[i]);
    }
    free(j->made);
    free_name(&j->name);
}

int
vmdk_create(vdisk_file *file, const vdisk_create_opts *opts, vdisk_progress_fn progress,
            void *opaque, vdisk_error *err)
{
    create_job j = { .desc = file, .o = opts, .progress = progress, .opaque = opaque };
    vdisk_vmdk_subformat sf = opts->vmdk.subformat;
    bool monolithic = sf == VDISK_VMDK_MONOLITHIC_SPARSE || sf == VDISK_VMDK_STREAM_OPTIMIZED;
    int r = split_name(file->path, &j.name) < 0
                ? vdisk_error_set(err, ENOMEM, "%s: out of memory", file->path) : 0;
    if (r == 0 && monolithic)
        r = add_self_line(&j, err);
    if (r == 0 && sf == VDISK_VMDK_MONOLITHIC_SPARSE)
        r = init_sparse(file, opts->size, opts, progress, opaque, err);
    else if (r == 0 && sf == VDISK_VMDK_STREAM_OPTIMIZED)
        r = init_stream(file, opts->size, err);
    else if (r == 0)
        r = make_extents(&j, err);
    if (r == 0)
        r = write_descriptor(&j, monolithic, err);
    job_free(&j, r < 0);
    return r;
}
