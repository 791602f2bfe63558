/* libvdisk — walking an ISO 9660 tree.
 *
 * Directories are identified by their first sector.  A hostile image can
 * make a directory its own descendant (a loop) or hang one directory under
 * many parents (exponential fan-out), so every directory may be entered
 * once per walk; a second visit is refused.  Nesting is bounded too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iso9660.h"

typedef struct walk_state {
    vdisk_iso *iso;
    vdisk_iso_walk_fn fn;
    void *opaque;
    uint32_t *seen;             /* open-addressing set of directory sectors (+1) */
    size_t seen_cap, seen_n;
    char path[8192];
} walk_state;

static int
seen_grow(walk_state *w)
{
    size_t cap = w->seen_cap ? 2 * w->seen_cap : 256;
    uint32_t *nv = calloc(cap, sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    for (size_t i = 0; i < w->seen_cap; i++) {
        if (!w->seen[i])
            continue;
        size_t h = (w->seen[i] * 2654435761u) & (cap - 1);
        while (nv[h])
            h = (h + 1) & (cap - 1);
        nv[h] = w->seen[i];
    }
    free(w->seen);
    w->seen = nv;
    w->seen_cap = cap;
    return 0;
}

/* Insert lba; returns 1 if it was already there. */
static int
seen_insert(walk_state *w, uint32_t lba)
{
    if (2 * (w->seen_n + 1) > w->seen_cap && seen_grow(w) < 0)
        return -ENOMEM;
    uint32_t key = lba + 1;
    size_t h = (key * 2654435761u) & (w->seen_cap - 1);
    while (w->seen[h]) {
        if (w->seen[h] == key)
            return 1;
        h = (h + 1) & (w->seen_cap - 1);
    }
    w->seen[h] = key;
    w->seen_n++;
    return 0;
}

static int
visit(walk_state *w, const vdisk_iso_entry *e, size_t plen, unsigned depth, vdisk_error *err)
{
    int r = w->fn(w->opaque, plen ? w->path : "/", e);
    if (r != 0 || !iso_entry_is_dir(e))
        return r;
    const char *file = w->iso->file->path;
    if (depth >= ISO_DEPTH_MAX)
        return vdisk_error_set(err, ELOOP, "%s: %s: directories nested deeper than %u levels",
                               file, w->path, ISO_DEPTH_MAX);
    r = seen_insert(w, e->extents[0].lba);
    if (r < 0)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", file);
    if (r == 1)
        return vdisk_error_set(err, ELOOP, "%s: %s: directory at sector %u was reached before "
                               "(a directory loop or a shared directory)", file,
                               plen ? w->path : "/", e->extents[0].lba);
    vdisk_iso_entry *v;
    size_t n;
    r = iso_read_dir(w->iso, e->extents[0].lba, e->extents[0].length, &v, &n, err);
    for (size_t i = 0; r == 0 && i < n; i++) {
        size_t nl = strlen(v[i].name);
        if (plen + 1 + nl >= sizeof(w->path)) {
            r = vdisk_error_set(err, ENAMETOOLONG, "%s: path %s/%s is too long", file, w->path, v[i].name);
            break;
        }
        w->path[plen] = '/';
        memcpy(w->path + plen + 1, v[i].name, nl + 1);
        r = visit(w, &v[i], plen + 1 + nl, depth + 1, err);
        w->path[plen] = '\0';
    }
    vdisk_iso_entries_free(v, n);
    return r;
}

int
vdisk_iso_walk(vdisk_iso *iso, const char *path, vdisk_iso_walk_fn fn, void *opaque, vdisk_error *err)
{
    vdisk_iso_entry top;
    int r = vdisk_iso_stat(iso, path, &top, err);
    if (r < 0)
        return r;
    walk_state *w = calloc(1, sizeof(*w));
    if (!w) {
        vdisk_iso_entry_clear(&top);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", iso->file->path);
    }
    w->iso = iso;
    w->fn = fn;
    w->opaque = opaque;
    iso_path_normalize(path, w->path, sizeof(w->path));   /* stat accepted it */
    size_t plen = strlen(w->path);
    r = visit(w, &top, plen, 0, err);
    vdisk_iso_entry_clear(&top);
    free(w->seen);
    free(w);
    return r;
}
