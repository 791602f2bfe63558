/* libvdisk — the parent of a differencing VHD.
 *
 * The dynamic disk header carries up to eight parent locators, each a
 * platform code and a path stored elsewhere in the file.  They are tried
 * in this order: W2ru (relative, UTF-16LE), W2ku (absolute, UTF-16LE), the
 * deprecated Wi2r and Wi2k, then MacX (a file:// URL): the relative
 * path first, as the spec's Windows implementation does, so that a disk
 * and its parent moved together still find each other.  Windows
 * separators become '/'; an absolute path with a drive letter or a UNC
 * name cannot exist on this host and is skipped.  The parent is opened
 * as a VHD (never probed) and must carry the unique id the child
 * records.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "utf16.h"
#include "winpath.h"
#include "vpc.h"

/* Locator data longer than this is not a path (Windows allows 32767 UTF-16
 * units). */
#define MAX_LOCATOR_BYTES (64u << 10)

static const uint32_t order[] = { VPC_PLAT_W2RU, VPC_PLAT_W2KU, VPC_PLAT_WI2R, VPC_PLAT_WI2K,
                                  VPC_PLAT_MACX };

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "file://localhost/a%20b" or "file:///a%20b" -> "/a b" in place; false
 * if it is not a local file URL. */
static bool
file_url_to_path(char *s)
{
    const char *p;
    if (strncmp(s, "file://localhost/", 17) == 0)
        p = s + 16;
    else if (strncmp(s, "file:///", 8) == 0)
        p = s + 7;
    else
        return false;
    char *o = s;
    for (; *p; p++) {
        if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            *o++ = (char)(hexval(p[1]) << 4 | hexval(p[2]));
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return s[0] == '/' && !memchr(s, '\0', (size_t)(o - s));
}

/* The host path a locator names, malloc'ed in *out (NULL when it names
 * none this host can open). */
static int
locator_path(vpc_state *s, const vpc_locator *l, uint64_t file_len, char **out, vdisk_error *err)
{
    *out = NULL;
    if (l->length == 0 || l->length > MAX_LOCATOR_BYTES || l->offset > file_len ||
        file_len - l->offset < l->length)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHD parent locator at 0x%" PRIx64 " (%" PRIu32 " bytes) "
                                    "lies outside the file", s->name, l->offset, l->length);
    uint8_t *raw = malloc(l->length + 1);
    if (!raw)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = vdisk_file_pread(s->file, raw, l->length, l->offset, err);
    char *text = NULL;
    if (r == 0 && (l->platform == VPC_PLAT_W2RU || l->platform == VPC_PLAT_W2KU)) {
        r = vdisk_utf16_to_utf8(raw, l->length & ~1u, false, &text);
        if (r < 0)
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, -r,
                                     "%s: VHD parent locator at 0x%" PRIx64 " is not UTF-16 text",
                                     s->name, l->offset);
    } else if (r == 0) {
        raw[l->length] = '\0';
        text = strdup((char *)raw);
        if (!text)
            r = vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    }
    free(raw);
    if (r < 0)
        return r;
    bool ok = l->platform == VPC_PLAT_MACX ? file_url_to_path(text) : vdisk_windows_path_to_host(text);
    if (ok)
        *out = text;
    else
        free(text);
    return 0;
}

/* The parent's name: the first locator, in order of preference, that names
 * an existing file; else the first usable one (for messages and info).
 * *out is NULL when no locator names a path of this host. */
int
vpc_parent_name(vpc_state *s, char **out, vdisk_error *err)
{
    *out = NULL;
    uint64_t file_len;
    int r = vdisk_file_get_length(s->file, &file_len, err);
    if (r < 0)
        return r;
    for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++) {
        for (int i = 0; i < VPC_PARENT_LOCATORS; i++) {
            if (s->dyn.loc[i].platform != order[o])
                continue;
            char *p;
            vdisk_error local;
            r = locator_path(s, &s->dyn.loc[i], file_len, &p, &local);
            if (r == -ENOMEM) {
                free(*out);
                *out = NULL;
                if (err)
                    *err = local;
                return r;
            }
            if (r < 0 || !p)
                continue;   /* a damaged locator: the others may still do */
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
    }
    return 0;
}

int
vpc_open_parent(vpc_state *s, vdisk_error *err)
{
    char *name;
    int r = vpc_parent_name(s, &name, err);
    if (r < 0)
        return r;
    if (!name)
        return vdisk_error_set(err, ENOENT, "%s: differencing VHD without a parent locator this host can "
                               "use (relative or absolute path)", s->name);
    r = vdisk_open_backing(s->img, name, VDISK_FORMAT_VPC, &s->img->backing, err);
    if (r == 0) {
        const vpc_state *ps = s->img->backing->priv;
        if (memcmp(ps->footer.uuid, s->dyn.parent_uuid, 16) != 0)
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                     "%s: parent '%s' is not the disk this differencing VHD was "
                                     "made from (its unique id differs)", s->name, name);
        if (r < 0) {
            vdisk_close(s->img->backing, NULL);
            s->img->backing = NULL;
        }
    }
    free(name);
    return r;
}
