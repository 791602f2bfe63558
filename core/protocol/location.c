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

/* Names QEMU gives to its other protocol and debug drivers (the block/ sources'
 * protocol_name): vdisk has none of them, and a name that starts so is
 * refused by name rather than looked for as a file, as QEMU would not look
 * for it either ("file:NAME" is still a file of that name). */
static const struct {
    const char *prefix, *driver;
} qemu_only[] = {
    { "blkdebug:", "blkdebug" }, { "blkverify:", "blkverify" }, { "null-co://", "null-co" },
    { "null-aio://", "null-aio" }, { "fat:", "vvfat" }, { "nvme://", "nvme" },
    { "iscsi://", "iscsi" }, { "iser://", "iscsi" }, { "gluster://", "gluster" },
    { "gluster+tcp://", "gluster" }, { "gluster+unix://", "gluster" }, { "gluster+rdma://", "gluster" },
    { "nfs://", "nfs" }, { "ssh://", "ssh" }, { "http://", "http" }, { "https://", "https" },
    { "ftp://", "ftp" }, { "ftps://", "ftps" },
};

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
    free(loc->nbd_context);
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

static int
hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decode s[0..n) into a new string (NULL on ENOMEM). */
static char *
uri_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
            *o++ = (char)(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

/* The URI goes to libnbd as is, except for one query parameter of our
 * own: x-dirty-bitmap=CONTEXT (percent-encoded), which is how QEMU's
 * --image-opts option of that name (options.c) reaches the nbd protocol;
 * it is taken out of what libnbd sees. */
static int
parse_nbd(vdisk_location *loc, vdisk_error *err)
{
    static const char key[] = "x-dirty-bitmap=";
    const char *name = loc->name, *q = strchr(name, '?');
    size_t base = q ? (size_t)(q - name) : strlen(name);
    if (!(loc->uri = malloc(strlen(name) + 1)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", name);
    memcpy(loc->uri, name, base);
    size_t len = base;
    for (const char *p = q ? q + 1 : NULL; p; ) {
        size_t n = strcspn(p, "&#");
        if (n > strlen(key) - 1 && strncmp(p, key, strlen(key)) == 0) {
            free(loc->nbd_context);
            if (!(loc->nbd_context = uri_decode(p + strlen(key), n - strlen(key))))
                return vdisk_error_set(err, ENOMEM, "%s: out of memory", name);
            if (!loc->nbd_context[0])
                return vdisk_error_set(err, EINVAL, "%s: x-dirty-bitmap needs the name of a "
                                       "metadata context", name);
        } else if (n > 0) {
            loc->uri[len] = len == base ? '?' : '&';
            len++;
            memcpy(loc->uri + len, p, n);
            len += n;
        }
        if (p[n] != '&') {
            strcpy(loc->uri + len, p + n);     /* a #fragment, or nothing */
            len += strlen(p + n);
            break;
        }
        p += n + 1;
    }
    loc->uri[len] = '\0';
    return 0;
}

int
vdisk_location_parse(const char *name, vdisk_location *loc, vdisk_error *err)
{
    memset(loc, 0, sizeof(*loc));
    for (size_t i = 0; i < sizeof(qemu_only) / sizeof(qemu_only[0]); i++)
        if (strncmp(name, qemu_only[i].prefix, strlen(qemu_only[i].prefix)) == 0)
            return vdisk_error_set(err, ENOTSUP, "%s: '%s' names QEMU's %s driver, which vdisk "
                                   "does not have (it opens files, rbd: and nbd:// names; "
                                   "file:%s is a file of that name)", name, qemu_only[i].prefix,
                                   qemu_only[i].driver, name);
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
        r = parse_nbd(loc, err);
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
