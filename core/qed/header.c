/* libvdisk — QED: the header, checked against the specification and the
 * file before anything is looked up through it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "foreign.h"
#include "qed.h"

#define QED_CLUSTER_MIN (4u << 10)
#define QED_CLUSTER_MAX (64u << 20)
#define QED_TABLE_MAX 16u
#define QED_HEADER_BYTES 64u
/* Longest backing file name read (a path). */
#define QED_BACKING_NAME_MAX 4096u

static bool
power_of_two(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* The largest image an L1 table can address: entries^2 clusters. */
static uint64_t
max_image_size(const qed_state *s)
{
    uint64_t n = s->table_entries;
    if (n > UINT64_MAX / n)
        return UINT64_MAX;
    uint64_t clusters = n * n;
    return clusters > UINT64_MAX / s->h.cluster_size ? UINT64_MAX : clusters * s->h.cluster_size;
}

static int
check_sizes(qed_state *s, vdisk_error *err)
{
    qed_header *h = &s->h;
    if (!power_of_two(h->cluster_size) || h->cluster_size < QED_CLUSTER_MIN ||
        h->cluster_size > QED_CLUSTER_MAX)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: QED cluster size %u is not a power of two between "
                                    "4 KiB and 64 MiB", s->name, h->cluster_size);
    if (!power_of_two(h->table_size) || h->table_size > QED_TABLE_MAX)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: QED table size %u is not a power of two between 1 "
                                    "and 16 clusters", s->name, h->table_size);
    s->cluster_bits = (uint32_t)__builtin_ctz(h->cluster_size);
    s->table_entries = (uint64_t)h->table_size * h->cluster_size / 8;
    s->header_end = (uint64_t)h->header_size * h->cluster_size;
    if (h->header_size == 0 || s->header_end > s->file_size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: QED header of %u clusters does not fit the file "
                                    "(%llu bytes)", s->name, h->header_size,
                                    (unsigned long long)s->file_size);
    if (h->image_size % 512 || h->image_size > max_image_size(s))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: QED image size %llu is not a multiple of 512 or "
                                    "more than its tables address", s->name,
                                    (unsigned long long)h->image_size);
    if (!qed_table_offset_ok(s, h->l1_offset))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: QED L1 table at 0x%llx is not cluster aligned or "
                                    "lies outside the file", s->name, (unsigned long long)h->l1_offset);
    return 0;
}

/* The backing file name, stored inside the header clusters. */
static int
read_backing_name(qed_state *s, const uint8_t *b, vdisk_error *err)
{
    uint32_t off = vdisk_le32(b + 56), size = vdisk_le32(b + 60);
    if (size == 0 || size > QED_BACKING_NAME_MAX || (uint64_t)off + size > s->header_end ||
        off < QED_HEADER_BYTES)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: QED backing file name (%u bytes at %u) does not "
                                    "lie inside the header", s->name, size, off);
    char *name = malloc(size + 1);
    if (!name)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = vdisk_file_pread(s->file, name, size, off, err);
    name[size] = '\0';
    if (r == 0 && strlen(name) != size)
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                 "%s: QED backing file name contains a NUL byte", s->name);
    if (r < 0) {
        free(name);
        return r;
    }
    s->h.backing_file = name;
    return 0;
}

int
qed_read_header(qed_state *s, vdisk_error *err)
{
    uint8_t b[QED_HEADER_BYTES];
    if (s->file_size < sizeof(b))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: too short for a QED header", s->name);
    int r = vdisk_file_pread(s->file, b, sizeof(b), 0, err);
    if (r < 0)
        return r;
    if (memcmp(b, "QED\0", 4) != 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: no QED magic", s->name);
    qed_header *h = &s->h;
    h->cluster_size = vdisk_le32(b + 4);
    h->table_size = vdisk_le32(b + 8);
    h->header_size = vdisk_le32(b + 12);
    h->features = vdisk_le64(b + 16);
    h->l1_offset = vdisk_le64(b + 40);
    h->image_size = vdisk_le64(b + 48);
    /* compat and autoclear bits (none defined) are ignored, as the
     * specification allows a reader that does not write. */
    if (h->features & ~(uint64_t)QED_F_KNOWN)
        return vdisk_error_set(err, ENOTSUP, "%s: QED image has unknown features 0x%llx", s->name,
                               (unsigned long long)(h->features & ~(uint64_t)QED_F_KNOWN));
    if ((r = check_sizes(s, err)) < 0)
        return r;
    if (h->features & QED_F_BACKING_FILE)
        return read_backing_name(s, b, err);
    return 0;
}

void
qed_header_free(qed_header *h)
{
    free(h->backing_file);
    h->backing_file = NULL;
}
