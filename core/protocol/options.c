/* libvdisk — image names from qemu's structured protocol options
 * (--image-opts file.driver=rbd|nbd,...).  See vdisk/protocol.h.
 *
 * The name is the image's identity everywhere else (messages, backing file
 * names, loops), so the options become the same name a user would type and
 * location.c parses it: one grammar, one parser.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/protocol.h>

#include "protocol.h"

/* A growing string; on ENOMEM `failed` is set and appends are ignored. */
typedef struct name_buf {
    char *s;
    size_t len, cap;
    bool failed;
} name_buf;

static void
put_char(name_buf *b, char c)
{
    if (b->failed)
        return;
    if (b->len + 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    b->s[b->len++] = c;
    b->s[b->len] = '\0';
}

static void
put_str(name_buf *b, const char *s)
{
    while (*s)
        put_char(b, *s++);
}

/* rbd: fields escape their separators with '\': pool, namespace and
 * image stop at ':', '@' and '/', option values only at ':'. */
static void
put_rbd_field(name_buf *b, const char *s, const char *seps)
{
    for (; *s; s++) {
        if (*s == '\\' || strchr(seps, *s))
            put_char(b, '\\');
        put_char(b, *s);
    }
}

/* URI components: everything but RFC 3986's unreserved characters (and
 * '/' where it separates path segments) is percent-encoded. */
static void
put_uri_part(name_buf *b, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     strchr("-._~", c) || (keep_slash && c == '/');
        if (plain) {
            put_char(b, (char)c);
        } else {
            put_char(b, '%');
            put_char(b, hex[c >> 4]);
            put_char(b, hex[c & 15]);
        }
    }
}

enum { MAX_KEYS = 10 };

/* The value of each known key (NULL when absent); an unknown key is
 * refused by name. */
static int
pick(const char *driver, const char *const *known, const char **vals, const char *const *keys,
     const char *const *values, size_t n, vdisk_error *err)
{
    for (size_t k = 0; known[k]; k++)
        vals[k] = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (known[k] && strcmp(known[k], keys[i]) != 0)
            k++;
        if (!known[k])
            return vdisk_error_set(err, EINVAL, "protocol %s: unknown option 'file.%s'", driver, keys[i]);
        vals[k] = values[i];
    }
    return 0;
}

static int
missing(const char *driver, const char *key, vdisk_error *err)
{
    return vdisk_error_set(err, EINVAL, "protocol %s: option 'file.%s' is required", driver, key);
}

static int
rbd_name(const char *const *keys, const char *const *values, size_t n, name_buf *b, vdisk_error *err)
{
    static const char *const known[] = { "pool", "namespace", "image", "snapshot", "conf", "user", NULL };
    const char *v[MAX_KEYS];
    int r = pick("rbd", known, v, keys, values, n, err);
    if (r < 0)
        return r;
    if (!v[0] || !v[0][0])
        return missing("rbd", "pool", err);
    if (!v[2] || !v[2][0])
        return missing("rbd", "image", err);
    put_str(b, "rbd:");
    put_rbd_field(b, v[0], ":@/");
    put_char(b, '/');
    if (v[1] && v[1][0]) {
        put_rbd_field(b, v[1], ":@/");
        put_char(b, '/');
    }
    put_rbd_field(b, v[2], ":@/");
    if (v[3]) {
        put_char(b, '@');
        put_rbd_field(b, v[3], ":");
    }
    if (v[4]) {
        put_str(b, ":conf=");
        put_rbd_field(b, v[4], ":");
    }
    if (v[5]) {
        put_str(b, ":id=");
        put_rbd_field(b, v[5], ":");
    }
    return 0;
}

static int
nbd_name(const char *const *keys, const char *const *values, size_t n, name_buf *b, vdisk_error *err)
{
    static const char *const known[] = { "server.type", "server.path", "server.host", "server.port",
                                         "export", "path", "host", "port", "x-dirty-bitmap", NULL };
    const char *v[MAX_KEYS];
    int r = pick("nbd", known, v, keys, values, n, err);
    if (r < 0)
        return r;
    const char *type = v[0], *path = v[1] ? v[1] : v[5], *host = v[2] ? v[2] : v[6];
    const char *port = v[3] ? v[3] : v[7], *export = v[4] ? v[4] : "";
    if (!type)
        type = path ? "unix" : "inet";
    if (strcmp(type, "unix") == 0) {
        if (!path)
            return missing("nbd", "server.path", err);
        if (host || port)
            return vdisk_error_set(err, EINVAL, "protocol nbd: a unix socket takes no host or port");
        put_str(b, "nbd+unix:///");
        put_uri_part(b, export, true);
        put_str(b, "?socket=");
        put_uri_part(b, path, true);
    } else if (strcmp(type, "inet") == 0) {
        if (!host)
            return missing("nbd", "server.host", err);
        if (path)
            return vdisk_error_set(err, EINVAL, "protocol nbd: an inet server takes no socket path");
        put_str(b, "nbd://");
        if (strchr(host, ':')) {
            /* An IPv6 address: literal, in brackets (RFC 3986). */
            if (strspn(host, "0123456789abcdefABCDEF:.") != strlen(host))
                return vdisk_error_set(err, EINVAL, "protocol nbd: '%s' is not an IPv6 address", host);
            put_char(b, '[');
            put_str(b, host);
            put_char(b, ']');
        } else {
            put_uri_part(b, host, false);
        }
        if (port) {
            put_char(b, ':');
            put_uri_part(b, port, false);
        }
        put_char(b, '/');
        put_uri_part(b, export, true);
    } else {
        return vdisk_error_set(err, EINVAL, "protocol nbd: server.type '%s' is not supported "
                               "(unix or inet)", type);
    }
    /* QEMU's debugging option: block status from another metadata context
     * (location.c takes it out of the URI again). */
    if (v[8]) {
        if (!v[8][0])
            return vdisk_error_set(err, EINVAL, "protocol nbd: x-dirty-bitmap needs the name of a "
                                   "metadata context");
        put_char(b, strcmp(type, "unix") == 0 ? '&' : '?');
        put_str(b, "x-dirty-bitmap=");
        put_uri_part(b, v[8], false);
    }
    return 0;
}

static int
file_name(const char *const *keys, const char *const *values, size_t n, name_buf *b, vdisk_error *err)
{
    static const char *const known[] = { "filename", NULL };
    const char *v[MAX_KEYS];
    int r = pick("file", known, v, keys, values, n, err);
    if (r < 0)
        return r;
    if (!v[0] || !v[0][0])
        return missing("file", "filename", err);
    put_str(b, v[0]);
    return 0;
}

int
vdisk_protocol_name(const char *driver, const char *const *keys, const char *const *values, size_t n,
                    char **name, vdisk_error *err)
{
    name_buf b = { 0 };
    int r;
    if (!driver || strcmp(driver, "file") == 0 || strcmp(driver, "host_device") == 0)
        r = file_name(keys, values, n, &b, err);
    else if (strcmp(driver, "rbd") == 0)
        r = rbd_name(keys, values, n, &b, err);
    else if (strcmp(driver, "nbd") == 0)
        r = nbd_name(keys, values, n, &b, err);
    else
        r = vdisk_error_set(err, ENOTSUP, "protocol '%s' is not supported (file, rbd or nbd)", driver);
    if (r == 0 && (b.failed || !b.s))
        r = vdisk_error_set(err, ENOMEM, "protocol %s: out of memory", driver ? driver : "file");
    if (r < 0) {
        free(b.s);
        return r;
    }
    *name = b.s;
    return 0;
}

bool
vdisk_protocol_supported(const char *protocol)
{
    if (strcmp(protocol, "file") == 0)
        return true;
#ifdef VDISK_HAVE_RBD
    if (strcmp(protocol, "rbd") == 0)
        return true;
#endif
#ifdef VDISK_HAVE_NBD
    if (strcmp(protocol, "nbd") == 0)
        return true;
#endif
    return false;
}
