/* libvdisk — image names: which protocol, and where (see protocol.h).
 *
 * qemu-img's spellings: "rbd:pool/image@snap:conf=F:id=U" (block/rbd.c's
 * legacy filename syntax, with '\' escaping the separators) and NBD URIs
 * (libnbd parses those itself; here they are only recognised).  A name
 * that is neither is a host file, whatever ':' it contains, as before;
 * "file:PATH" names the host file PATH, as in QEMU.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define RBD_PREFIX "rbd:"
#define FILE_PREFIX "file:"

static const char *const nbd_schemes[] = {
    "nbd://", "nbd+unix://", "nbds://", "nbds+unix://", "nbd+vsock://", "nbds+vsock://",
};

void
vdisk_location_clear(vdisk_location *loc)
{
    free(loc->name);
    free(loc->path);
    free(loc->pool);
    free(loc->ns);
    free(loc->image);
    free(loc->snap);
    free(loc->conf);
    free(loc->user);
    for (size_t i = 0; i < loc->nopts; i++) {
        free(loc->opts[i].key);
        free(loc->opts[i].value);
    }
    free(loc->opts);
    free(loc->uri);
    memset(loc, 0, sizeof(*loc));
}

/* Copy the next field of an rbd: name up to an unescaped character of
 * `stops` (or the end), removing the escapes.  *p moves to the stop. */
static char *
take_field(const char **p, const char *stops)
{
    const char *s = *p;
    char *out = malloc(strlen(s) + 1), *o = out;
    if (!out)
        return NULL;
    while (*s && !strchr(stops, *s)) {
        if (*s == '\\' && s[1])
            s++;
        *o++ = *s++;
    }
    *o = '\0';
    *p = s;
    return out;
}

static int
rbd_bad(const char *name, const char *why, vdisk_error *err)
{
    return vdisk_error_set(err, EINVAL, "%s: invalid RBD image name: %s "
                           "(expected rbd:POOL/[NAMESPACE/]IMAGE[@SNAPSHOT][:conf=FILE][:id=USER])",
                           name, why);
}

/* One ":KEY=VALUE" of an rbd: name. */
static int
rbd_option(vdisk_location *loc, const char **p, vdisk_error *err)
{
    char *key = take_field(p, "=:");
    if (!key)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", loc->name);
    if (**p != '=' || !key[0]) {
        free(key);
        return rbd_bad(loc->name, "an option is not KEY=VALUE", err);
    }
    (*p)++;
    char *value = take_field(p, ":");
    if (!value) {
        free(key);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", loc->name);
    }
    char **slot = strcmp(key, "conf") == 0 ? &loc->conf : strcmp(key, "id") == 0 ? &loc->user : NULL;
    if (slot) {
        free(*slot);
        *slot = value;
        free(key);
        return 0;
    }
    vdisk_rbd_option *o = realloc(loc->opts, (loc->nopts + 1) * sizeof(*o));
    if (!o) {
        free(key);
        free(value);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", loc->name);
    }
    loc->opts = o;
    o[loc->nopts++] = (vdisk_rbd_option){ .key = key, .value = value };
    return 0;
}

static int
parse_rbd(vdisk_location *loc, vdisk_error *err)
{
    const char *p = loc->name + strlen(RBD_PREFIX);
    char *parts[3] = { NULL, NULL, NULL };
    int n = 0, r = 0;
    /* POOL/[NS/]IMAGE: up to three '/'-separated fields before '@' or ':'. */
    for (;;) {
        char *f = take_field(&p, "/@:");
        if (!f) {
            r = vdisk_error_set(err, ENOMEM, "%s: out of memory", loc->name);
            goto out;
        }
        if (n == 3) {
            free(f);
            r = rbd_bad(loc->name, "too many '/'", err);
            goto out;
        }
        parts[n++] = f;
        if (*p != '/')
            break;
        p++;
    }
    if (n < 2 || !parts[0][0] || !parts[n - 1][0] || (n == 3 && !parts[1][0])) {
        r = rbd_bad(loc->name, "no pool or no image", err);
        goto out;
    }
    loc->pool = parts[0];
    loc->ns = n == 3 ? parts[1] : NULL;
    loc->image = parts[n - 1];
    parts[0] = parts[1] = parts[2] = NULL;
    if (*p == '@') {
        p++;
        if (!(loc->snap = take_field(&p, ":")))
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", loc->name);
        if (!loc->snap[0])
            return rbd_bad(loc->name, "empty snapshot name", err);
    }
    while (r == 0 && *p == ':') {
        p++;
        r = rbd_option(loc, &p, err);
    }
    if (r == 0 && *p)
        r = rbd_bad(loc->name, "unexpected characters after the image", err);
out:
    for (int i = 0; i < 3; i++)
        free(parts[i]);
    return r;
}

static bool
is_nbd_uri(const char *name)
{
    for (size_t i = 0; i < sizeof(nbd_schemes) / sizeof(nbd_schemes[0]); i++)
        if (strncmp(name, nbd_schemes[i], strlen(nbd_schemes[i])) == 0)
            return true;
    return false;
}

int
vdisk_location_parse(const char *name, vdisk_location *loc, vdisk_error *err)
{
    memset(loc, 0, sizeof(*loc));
    if (!(loc->name = strdup(name)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", name);
    int r = 0;
    if (strncmp(name, RBD_PREFIX, strlen(RBD_PREFIX)) == 0) {
        loc->kind = VDISK_LOCATION_RBD;
        r = parse_rbd(loc, err);
#ifdef VDISK_HAVE_RECORD
    } else if (strncmp(name, VDISK_RECORD_PREFIX, strlen(VDISK_RECORD_PREFIX)) == 0) {
        loc->kind = VDISK_LOCATION_RECORD;
        if (!(loc->path = strdup(name + strlen(VDISK_RECORD_PREFIX))))
            r = vdisk_error_set(err, ENOMEM, "%s: out of memory", name);
#endif
    } else if (is_nbd_uri(name)) {
        loc->kind = VDISK_LOCATION_NBD;
        if (!(loc->uri = strdup(name)))
            r = vdisk_error_set(err, ENOMEM, "%s: out of memory", name);
    } else {
        /* "file:PATH" is QEMU's explicit spelling of a host file (for a
         * path with a ':' in it): the path is what follows. */
        loc->kind = VDISK_LOCATION_FILE;
        const char *path = strncmp(name, FILE_PREFIX, strlen(FILE_PREFIX)) == 0
                           ? name + strlen(FILE_PREFIX) : name;
        if (!(loc->path = strdup(path)))
            r = vdisk_error_set(err, ENOMEM, "%s: out of memory", name);
    }
    if (r < 0)
        vdisk_location_clear(loc);
    return r;
}

static bool
same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool
vdisk_location_same(const vdisk_location *a, const vdisk_location *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case VDISK_LOCATION_RBD:
        return same_str(a->pool, b->pool) && same_str(a->ns, b->ns) &&
               same_str(a->image, b->image) && same_str(a->snap, b->snap);
    case VDISK_LOCATION_NBD:
        return same_str(a->uri, b->uri);
    case VDISK_LOCATION_FILE:
    default:
        return same_str(a->path, b->path);
    }
}

const struct vdisk_protocol *
vdisk_protocol_for(const vdisk_location *loc, vdisk_error *err)
{
    switch (loc->kind) {
    case VDISK_LOCATION_RBD:
#ifdef VDISK_HAVE_RBD
        return &vdisk_protocol_rbd;
#else
        vdisk_error_set(err, ENOTSUP, "%s: RBD images need vdisk built with librbd "
                        "(meson -Drbd=enabled)", loc->name);
        return NULL;
#endif
    case VDISK_LOCATION_NBD:
#ifdef VDISK_HAVE_NBD
        return &vdisk_protocol_nbd;
#else
        vdisk_error_set(err, ENOTSUP, "%s: NBD exports need vdisk built with libnbd "
                        "(meson -Dnbd=enabled)", loc->name);
        return NULL;
#endif
#ifdef VDISK_HAVE_RECORD
    case VDISK_LOCATION_RECORD:
        return &vdisk_protocol_record;
#endif
    case VDISK_LOCATION_FILE:
    default:
        return &vdisk_protocol_file;
    }
}
