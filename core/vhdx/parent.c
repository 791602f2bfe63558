/* libvdisk — the parent of a differencing VHDX (spec 2.6.2.6).
 *
 * The parent locator's keys name the parent three ways, tried in the
 * spec's order: relative_path, volume_path, absolute_win32_path.  Windows
 * paths become paths of this host (winpath.c): a relative path resolves
 * against the child's directory; a volume GUID path or a drive-letter
 * path cannot exist here and is skipped.  The parent is opened read-only
 * as a VHDX (never probed), loops are refused (image.c), and it must be
 * the disk the child was made from: its DataWriteGuid must equal the
 * locator's parent_linkage (or parent_linkage2).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vhdx.h"
#include "winpath.h"

static const char *const keys[] = { "relative_path", "volume_path", "absolute_win32_path" };

int
vhdx_parent_name(vhdx_state *s, char **out, vdisk_error *err)
{
    *out = NULL;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const char *v = vhdx_locator_get(s, keys[k]);
        if (!v)
            continue;
        char *p = strdup(v);
        if (!p)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        if (!vdisk_windows_path_to_host(p)) {
            free(p);
            continue;
        }
        char *full = vdisk_resolve_backing_name(s->name, p);
        struct stat st;
        bool exists = full && stat(full, &st) == 0;
        free(full);
        if (exists) {
            free(*out);
            *out = p;
            return 0;
        }
        if (!*out)
            *out = p;
        else
            free(p);
    }
    return 0;
}

/* Does the parent's DataWriteGuid match parent_linkage (or _linkage2)? */
static bool
linkage_matches(const vhdx_state *s, const vhdx_state *parent)
{
    static const char *const links[] = { "parent_linkage", "parent_linkage2" };
    for (size_t i = 0; i < 2; i++) {
        const char *v = vhdx_locator_get(s, links[i]);
        vhdx_guid g;
        if (v && vhdx_guid_parse(v, &g) == 0 && vhdx_guid_equal(&g, &vhdx_cur(parent)->data_write))
            return true;
    }
    return false;
}

int
vhdx_open_parent(vhdx_state *s, vdisk_error *err)
{
    if (!vhdx_locator_get(s, "parent_linkage"))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: differencing VHDX whose parent locator has no "
                                    "parent_linkage", s->name);
    char *name;
    int r = vhdx_parent_name(s, &name, err);
    if (r < 0)
        return r;
    if (!name)
        return vdisk_error_set(err, ENOENT, "%s: differencing VHDX without a parent path this host can use "
                               "(relative_path, or an absolute path without a drive letter)", s->name);
    r = vdisk_open_backing(s->img, name, VDISK_FORMAT_VHDX, &s->img->backing, err);
    if (r == 0 && !linkage_matches(s, s->img->backing->priv)) {
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                 "%s: parent '%s' is not the disk this differencing VHDX was made "
                                 "from (its DataWriteGuid is not the parent_linkage): it changed since",
                                 s->name, name);
        vdisk_close(s->img->backing, NULL);
        s->img->backing = NULL;
    }
    free(name);
    return r;
}
