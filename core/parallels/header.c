/* libvdisk — Parallels: the header and the BAT, checked.  The BAT must lie
 * inside the file (so its allocation is bounded by the file's size), the
 * cluster size must be sane, and the BAT must cover the virtual size. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "foreign.h"
#include "parallels.h"

/* Largest cluster accepted (Parallels uses 1 MiB; older versions less). */
#define PRL_CLUSTER_MAX (256u << 20)

static int
read_header(vdisk_file *f, const char *name, prl_state *s, uint8_t *b, vdisk_error *err)
{
    if (s->file_size < PRL_HEADER_BYTES)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: too short for a Parallels header", name);
    int r = vdisk_file_pread(f, b, PRL_HEADER_BYTES, 0, err);
    if (r < 0)
        return r;
    bool ext = memcmp(b, "WithouFreSpacExt", 16) == 0;
    if (!ext && memcmp(b, "WithoutFreeSpace", 16) != 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: no Parallels magic", name);
    if (vdisk_le32(b + 16) != 2)
        return vdisk_error_set(err, ENOTSUP, "%s: Parallels version %u is not supported (2)", name,
                               vdisk_le32(b + 16));
    uint32_t tracks = vdisk_le32(b + 28);
    if (tracks == 0 || (uint64_t)tracks * PRL_SECTOR > PRL_CLUSTER_MAX)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: Parallels cluster of %u sectors is empty or "
                                    "larger than 256 MiB", name, tracks);
    s->cluster_size = (uint64_t)tracks * PRL_SECTOR;
    s->multiplier = ext ? tracks : 1;
    s->bat_entries = vdisk_le32(b + 32);
    uint64_t sectors = vdisk_le64(b + 36);
    if (!ext)
        sectors &= 0xffffffffu;     /* the old format uses the low 32 bits only */
    if (sectors > (uint64_t)s->bat_entries * tracks)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: Parallels size of %llu sectors is more than its "
                                    "%u BAT entries of %u sectors cover", name,
                                    (unsigned long long)sectors, s->bat_entries, tracks);
    s->size = sectors * PRL_SECTOR;
    s->unclean = vdisk_le32(b + 44) == PRL_INUSE;
    return 0;
}

int
prl_load(vdisk_file *f, const char *name, prl_state *s, bool tolerate_bad, vdisk_error *err)
{
    uint8_t b[PRL_HEADER_BYTES];
    int r = read_header(f, name, s, b, err);
    if (r < 0)
        return r;
    uint64_t bat_end = PRL_HEADER_BYTES + (uint64_t)s->bat_entries * 4;
    if (bat_end > s->file_size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: Parallels BAT of %u entries does not fit the file "
                                    "(%llu bytes)", name, s->bat_entries, (unsigned long long)s->file_size);
    uint64_t data_off = (uint64_t)vdisk_le32(b + 48) * PRL_SECTOR;
    s->data_start = data_off ? data_off : (bat_end + PRL_SECTOR - 1) / PRL_SECTOR * PRL_SECTOR;
    if (s->data_start < bat_end)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: Parallels data area at 0x%llx overlaps the BAT",
                                    name, (unsigned long long)s->data_start);
    size_t bytes = (size_t)s->bat_entries * 4;
    uint8_t *raw = malloc(bytes ? bytes : 1);
    s->bat = malloc(bytes ? bytes : 1);
    if (!raw || !s->bat) {
        free(raw);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for a BAT of %u entries", name,
                               s->bat_entries);
    }
    r = bytes ? vdisk_file_pread(f, raw, bytes, PRL_HEADER_BYTES, err) : 0;
    for (uint32_t i = 0; r == 0 && i < s->bat_entries; i++) {
        s->bat[i] = vdisk_le32(raw + (size_t)i * 4);
        if (!s->bat[i] || prl_entry_ok(s, i))
            continue;
        s->bad_entries++;
        if (!tolerate_bad)
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                     "%s: Parallels BAT entry %u points at 0x%llx, outside "
                                     "the data area (0x%llx to the end of the file, 0x%llx)", name, i,
                                     (unsigned long long)prl_host(s, i),
                                     (unsigned long long)s->data_start,
                                     (unsigned long long)s->file_size);
    }
    free(raw);
    return r;
}
