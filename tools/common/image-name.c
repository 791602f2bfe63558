/* vdisk-virsh — images named on the command line (see image-name.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/vdisk.h>

#include "image-name.h"
#include "options.h"

static int
dup_into(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    return *dst ? 0 : -1;
}

/* The protocol node of --image-opts: file.driver= and its file.* keys
 * (rbd: pool, image...; nbd: server.*, export), named by libvdisk. */
#define MAX_PROTOCOL_KEYS 16
typedef struct protocol_opts {
    const char *driver;
    const char *keys[MAX_PROTOCOL_KEYS];
    const char *values[MAX_PROTOCOL_KEYS];
    size_t n;
} protocol_opts;

static int
protocol_opt(protocol_opts *p, const char *key, const char *value, const char *what)
{
    if (strcmp(key, "driver") == 0) {
        p->driver = value;
        return 0;
    }
    if (p->n == MAX_PROTOCOL_KEYS) {
        vv_error("%s: too many file.* options", what);
        return -1;
    }
    p->keys[p->n] = key;
    p->values[p->n++] = value;
    return 0;
}

/* QEMU's qcow2 cache tuning (l2-cache-size, l2-cache-entry-size,
 * refcount-cache-size, cache-size, cache-clean-interval): how much of the
 * metadata QEMU keeps in memory, never what is read or written.  libvdisk
 * sizes its own caches (core/qcow2/driver.c), so these are checked as QEMU
 * checks them and then have no effect (said in the man page).  True when
 * key is one of them; *bad when its value is not what QEMU takes. */
static bool
cache_tuning_opt(const char *key, const char *value, bool *bad, const char *what)
{
    static const char *const keys[] = { "l2-cache-size", "l2-cache-entry-size",
                                        "refcount-cache-size", "cache-size",
                                        "cache-clean-interval" };
    size_t i;
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(key, keys[i]) == 0)
            break;
    if (i == sizeof(keys) / sizeof(keys[0]))
        return false;
    uint64_t v = 0;
    vdisk_error err = { 0 };
    *bad = vdisk_parse_size(value, &v, &err) < 0;
    if (*bad)
        vv_error("%s: %s: '%s' is not a size", what, key, value);
    else if (strcmp(key, "l2-cache-entry-size") == 0 && (v < 512 || v > (2u << 20) || (v & (v - 1)))) {
        vv_error("L2 cache entry size must be a power of two between 512 and the cluster size");
        *bad = true;
    }
    return true;
}

/* file.filename=, or the name libvdisk makes of file.driver=rbd|nbd and
 * its options. */
static int
protocol_filename(const protocol_opts *p, vv_image_name *out, const char *what)
{
    bool plain_file = !p->driver || strcmp(p->driver, "file") == 0 ||
                      strcmp(p->driver, "host_device") == 0;
    if (!p->n && plain_file)
        return 0;
    if (out->filename && !plain_file) {
        /* blkdebug, quorum ...: never a plain file under another name */
        vv_error("%s: file.driver=%s does not go with file.filename (protocols: file, rbd, nbd)",
                 what, p->driver);
        return -1;
    }
    if (out->filename) {
        vv_error("%s: file.filename and file.%s do not go together", what, p->keys[0]);
        return -1;
    }
    vdisk_error err = { 0 };
    if (vdisk_protocol_name(p->driver, p->keys, p->values, p->n, &out->filename, &err) < 0) {
        vv_error("%s: %s", what, err.message);
        return -1;
    }
    return 0;
}

/* ---- option lists ------------------------------------------------------ */

int
vv_opt_list_add(vv_opt_list *l, const char *key, size_t keylen, const char *value)
{
    char **nk = realloc(l->keys, (l->n + 1) * sizeof(*nk));
    if (nk)
        l->keys = nk;
    char **nv = nk ? realloc(l->values, (l->n + 1) * sizeof(*nv)) : NULL;
    if (nv)
        l->values = nv;
    char *k = nv ? strndup(key, keylen) : NULL;
    char *v = k && value ? strdup(value) : NULL;
    if (!k || (value && !v)) {
        free(k);
        vv_error("out of memory");
        return -1;
    }
    l->keys[l->n] = k;
    l->values[l->n++] = v;
    return 0;
}

void
vv_opt_list_clear(vv_opt_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->keys[i]);
        free(l->values[i]);
    }
    free(l->keys);
    free(l->values);
    memset(l, 0, sizeof(*l));
}

/* --image-opts: "key=value,key=value", ",," a literal comma (in values,
 * as QEMU's option parser reads them). */
static int
split_keyvals(const char *arg, vv_opt_list *out)
{
    char *value = malloc(strlen(arg) + 1);
    if (!value) {
        vv_error("out of memory");
        return -1;
    }
    const char *p = arg;
    int r = 0;
    while (r == 0 && *p) {
        const char *key = p;
        size_t keylen = strcspn(p, "=,");
        if (p[keylen] != '=') {
            vv_error("--image-opts: '%.*s' is not key=value", (int)keylen, key);
            r = -1;
            break;
        }
        p += keylen + 1;
        size_t n = 0;
        while (*p && !(p[0] == ',' && p[1] != ',')) {
            if (p[0] == ',')
                p++;   /* ",," */
            value[n++] = *p++;
        }
        value[n] = '\0';
        if (*p == ',')
            p++;
        r = vv_opt_list_add(out, key, keylen, value);
    }
    free(value);
    if (r < 0)
        vv_opt_list_clear(out);
    return r;
}

/* ---- what the options mean --------------------------------------------- */

/* driver=nbd|rbd|file|host_device: the protocol itself is the top node
 * (qemu opens it without a format layer: the export's bytes as they are). */
static bool
is_protocol_driver(const char *driver)
{
    static const char *const protocols[] = { "nbd", "rbd", "file", "host_device" };
    for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
        if (strcmp(driver, protocols[i]) == 0)
            return true;
    return false;
}

static const char *
top_driver(const vv_opt_list *l)
{
    const char *driver = NULL;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->keys[i], "driver") == 0)
            driver = l->values[i];
    return driver;
}

/* One option; its strings stay in the list until the name is made.
 * top_protocol: driver= named a protocol, whose options are then top-level
 * keys (server.path=, export=, pool= ...). */
static int
apply_opt(vv_image_name *out, protocol_opts *proto, const char *kv, const char *eq,
          bool top_protocol, const char *what)
{
    bool bad = false;
    if (strcmp(kv, "backing") == 0 && (!eq || !eq[0])) {
        out->no_backing = true;   /* null, or "": no backing file */
        return 0;
    }
    if (!eq) {
        vv_error("%s: option '%s' cannot be null", what, kv);
        return -1;
    }
    if (strcmp(kv, "driver") == 0 && top_protocol) {
        proto->driver = eq;
        return 0;
    }
    if (strcmp(kv, "driver") == 0)
        return dup_into(&out->format, eq);
    if (strcmp(kv, "file.filename") == 0 || strcmp(kv, "filename") == 0)
        return dup_into(&out->filename, eq);
    if (strcmp(kv, "encrypt.key-secret") == 0 || strcmp(kv, "key-secret") == 0)
        return dup_into(&out->key_secret, eq);
    if (strcmp(kv, "backing.encrypt.key-secret") == 0 || strcmp(kv, "backing.key-secret") == 0)
        return dup_into(&out->backing_secret, eq);
    if (strcmp(kv, "encrypt.format") == 0)
        return 0;
    if (cache_tuning_opt(kv, eq, &bad, what))
        return bad ? -1 : 0;
    if (strncmp(kv, "file.", 5) == 0 && !top_protocol)
        return protocol_opt(proto, kv + 5, eq, what);
    if (top_protocol)
        return protocol_opt(proto, kv, eq, what);
    vv_error("%s: unsupported option '%s'", what, kv);
    return -1;
}

int
vv_image_name_parse(const char *arg, bool image_opts, vv_image_name *out)
{
    memset(out, 0, sizeof(*out));
    bool json = !image_opts && strncmp(arg, "json:", 5) == 0;
    if (!image_opts && !json)
        return dup_into(&out->filename, arg);
    const char *what = json ? "json" : "--image-opts";
    vv_opt_list l = { 0 };
    if ((json ? vv_json_name_options(arg, &l) : split_keyvals(arg, &l)) < 0)
        return -1;
    protocol_opts proto = { 0 };
    const char *driver = top_driver(&l);
    bool top_protocol = driver && is_protocol_driver(driver);
    int r = top_protocol ? dup_into(&out->format, "raw") : 0;
    for (size_t i = 0; r == 0 && i < l.n; i++)
        r = apply_opt(out, &proto, l.keys[i], l.values[i], top_protocol, what);
    if (r == 0)
        r = protocol_filename(&proto, out, what);
    vdisk_format fmt;
    if (r == 0 && out->format && vv_parse_format(out->format, &fmt) < 0)
        r = -1;   /* null-co, blkdebug ...: said before "no file.filename" */
    vv_opt_list_clear(&l);
    if (r == 0 && !out->filename) {
        vv_error("%s: no file.filename in '%s'", what, arg);
        r = -1;
    }
    if (r < 0)
        vv_image_name_clear(out);
    return r;
}

void
vv_image_name_clear(vv_image_name *n)
{
    free(n->filename);
    free(n->format);
    free(n->key_secret);
    free(n->backing_secret);
    memset(n, 0, sizeof(*n));
}

