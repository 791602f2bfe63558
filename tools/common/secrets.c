/* vdisk-virsh — passphrases for encrypted images (see secrets.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "options.h"
#include "secrets.h"

/* A passphrase file is small; anything larger is a mistake. */
#define MAX_SECRET (64u << 10)

static void
wipe_free(void *p, size_t len)
{
    if (p)
        explicit_bzero(p, len);
    free(p);
}

/* Read all of fd (at most MAX_SECRET bytes) into *data. */
static int
read_all(int fd, const char *what, uint8_t **data, size_t *len)
{
    uint8_t *buf = malloc(MAX_SECRET + 1);
    size_t n = 0;
    if (!buf) {
        vv_error("%s: out of memory", what);
        return -1;
    }
    for (;;) {
        ssize_t k = read(fd, buf + n, MAX_SECRET + 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            vv_error("%s: cannot read the passphrase: %s", what, strerror(errno));
            wipe_free(buf, MAX_SECRET + 1);
            return -1;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n > MAX_SECRET) {
            vv_error("%s: passphrase longer than %u bytes", what, MAX_SECRET);
            wipe_free(buf, MAX_SECRET + 1);
            return -1;
        }
    }
    *data = buf;
    *len = n;
    return 0;
}

static int
read_file(const char *path, uint8_t **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        vv_error("%s: cannot open the passphrase file: %s", path, strerror(errno));
        return -1;
    }
    int r = read_all(fd, path, data, len);
    close(fd);
    return r;
}

static int
set_pass_fd(vv_secrets *s, const char *arg)
{
    unsigned long fd;
    char what[64];
    if (vv_parse_ulong(arg, 1u << 20, &fd) < 0) {
        vv_error("--passphrase-fd: invalid file descriptor '%s'", arg);
        return -1;
    }
    snprintf(what, sizeof(what), "passphrase fd %lu", fd);
    return read_all((int)fd, what, &s->pass.data, &s->pass.len);
}

/* data=VALUE, taken only when run as qemu-img (scripts written for it pass
 * passphrases so; as vdisk-virsh the refusal teaches file=). */
static int
copy_data(const char *value, uint8_t **data, size_t *len)
{
    size_t n = strlen(value);
    if (n > MAX_SECRET) {
        vv_error("--object secret: data longer than %u bytes", MAX_SECRET);
        return -1;
    }
    uint8_t *buf = malloc(MAX_SECRET + 1);
    if (!buf) {
        vv_error("--object secret: out of memory");
        return -1;
    }
    memcpy(buf, value, n);
    *data = buf;
    *len = n;
    return 0;
}

/* The secret's bytes: file= or data=, decoded when format=base64. */
static int
load_secret(vv_secret *o, const char *file, const char *data, bool base64)
{
    if ((file ? read_file(file, &o->data, &o->len) : copy_data(data, &o->data, &o->len)) < 0)
        return -1;
    if (base64) {
        long n = vv_base64_decode((char *)o->data, o->len);
        if (n < 0) {
            if (vv_as_qemu_img())
                vv_error("Base64 data contains invalid characters");
            else
                vv_error("--object secret,id=%s: the value is not base64 (format=base64)", o->id);
            return -1;
        }
        o->len = (size_t)n;
    }
    return 0;
}

/* --object secret,id=ID,file=PATH[,format=raw|base64]; run as qemu-img
 * also data=VALUE in place of file= */
static int
add_object(vv_secrets *s, const char *spec)
{
    char *copy = strdup(spec), *save = NULL, *id = NULL, *file = NULL, *data = NULL;
    bool base64 = false;
    int r = copy ? 0 : -1;
    char *type = copy ? strtok_r(copy, ",", &save) : NULL;
    if (r == 0 && (!type || strcmp(type, "secret") != 0)) {
        vv_error("--object %s: only 'secret' objects are supported", type ? type : "");
        r = -1;
    }
    for (char *kv; r == 0 && (kv = strtok_r(NULL, ",", &save));) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq++ = '\0';
        if (eq && strcmp(kv, "id") == 0)
            id = eq;
        else if (eq && strcmp(kv, "file") == 0)
            file = eq;
        else if (eq && strcmp(kv, "format") == 0 && (strcmp(eq, "raw") == 0 || strcmp(eq, "base64") == 0))
            base64 = strcmp(eq, "base64") == 0;
        else if (eq && strcmp(kv, "data") == 0 && vv_as_qemu_img())
            data = eq;
        else if (strcmp(kv, "data") == 0) {
            vv_error("--object secret: data= would put the passphrase in the command line; use file=PATH");
            r = -1;
        } else {
            vv_error("--object secret: unsupported parameter '%s' (expected id, file, format=raw|base64)", kv);
            r = -1;
        }
    }
    if (r == 0 && (!id || !file == !data)) {
        vv_error(vv_as_qemu_img() ? "--object secret needs id=ID and one of file=PATH or data=VALUE"
                                  : "--object secret needs id=ID and file=PATH");
        r = -1;
    }
    vv_secret *nv = r == 0 ? realloc(s->objects, (s->n + 1) * sizeof(*nv)) : NULL;
    if (r == 0 && nv) {
        s->objects = nv;
        vv_secret *o = &nv[s->n];
        memset(o, 0, sizeof(*o));
        if (!(o->id = strdup(id)) || load_secret(o, file, data, base64) < 0) {
            wipe_free(o->data, MAX_SECRET + 1);
            free(o->id);
            r = -1;
        } else {
            s->n++;
        }
    } else if (r == 0) {
        r = -1;
    }
    if (copy)
        explicit_bzero(copy, strlen(spec));
    free(copy);
    return r;
}

int
vv_secrets_option(vv_secrets *s, int c, const char *arg)
{
    switch (c) {
    case VV_OPT_OBJECT:
        return add_object(s, arg) < 0 ? -1 : 1;
    case VV_OPT_PASSPHRASE_FILE:
    case VV_OPT_PASSPHRASE_FD:
        if (s->have_pass) {
            vv_error("only one of --passphrase-file and --passphrase-fd may be given, once");
            return -1;
        }
        if ((c == VV_OPT_PASSPHRASE_FILE ? read_file(arg, &s->pass.data, &s->pass.len)
                                         : set_pass_fd(s, arg)) < 0)
            return -1;
        s->have_pass = true;
        return 1;
    case VV_OPT_IMAGE_OPTS:
        s->image_opts = true;
        return 1;
    default:
        return 0;
    }
}

int
vv_image_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
                vv_secrets *s)
{
    static const struct option common[] = {
        { "help", no_argument, NULL, 'h' },
        VV_SECRET_LONGOPTS,
    };
    enum { COMMON = sizeof(common) / sizeof(common[0]), MAX = 48 };
    struct option all[MAX];
    size_t n = 0;
    memcpy(all, common, sizeof(common));
    n = COMMON;
    for (size_t i = 0; longopts && longopts[i].name; i++) {
        if (n + 1 >= MAX)
            abort();   /* a command with more long options than any has: raise MAX */
        all[n++] = longopts[i];
    }
    all[n] = (struct option){ 0 };
    for (;;) {
        int c = getopt_long(argc, argv, shortopts, all, NULL);
        int sr = vv_secrets_option(s, c, optarg);
        if (sr < 0)
            return VV_GETOPT_FAILED;
        if (sr == 0)
            return c;
    }
}

const vv_secret *
vv_secrets_lookup(const vv_secrets *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->objects[i].id, id) == 0)
            return &s->objects[i];
    vv_error("No secret with id '%s' (give it with --object secret,id=%s,file=PATH)", id, id);
    return NULL;
}

int
vv_secrets_for_create(const vv_secrets *s, vdisk_create_opts *opts, const char *file)
{
    vdisk_encrypt_opts *e = &opts->encrypt;
    if (e->format == VDISK_ENCRYPT_NONE)
        return 0;
    if (e->key_secret[0]) {
        const vv_secret *sec = vv_secrets_lookup(s, e->key_secret);
        if (!sec)
            return -1;
        e->secret = sec->data;
        e->secret_len = sec->len;
    } else if (s->have_pass) {
        e->secret = s->pass.data;
        e->secret_len = s->pass.len;
    }
    (void)file;
    return 0;
}

int
vv_secrets_check_format(const vv_secrets *s, const char *fmt)
{
    if (s->image_opts && fmt) {
        vv_error("--image-opts and --format are mutually exclusive");
        return -1;
    }
    return 0;
}

void
vv_secrets_clear(vv_secrets *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->objects[i].id);
        wipe_free(s->objects[i].data, MAX_SECRET + 1);
    }
    free(s->objects);
    wipe_free(s->pass.data, MAX_SECRET + 1);
    memset(s, 0, sizeof(*s));
}

/* backing.encrypt.key-secret: libvdisk tries backing files with the
 * overlay's passphrase, so it must be the same one (or the overlay has
 * none, as a plain overlay over an encrypted base). */
static int
check_backing_secret(const vv_secrets *s, const char *id, vdisk_open_opts *oo)
{
    const vv_secret *b = vv_secrets_lookup(s, id);
    if (!b)
        return -1;
    if (!oo->secret) {
        oo->secret = b->data;
        oo->secret_len = b->len;
        return 0;
    }
    if (b->len == oo->secret_len && memcmp(b->data, oo->secret, b->len) == 0)
        return 0;
    vv_error("--image-opts: backing key-secret '%s' must hold the image's own passphrase "
             "(backing files are opened with the overlay's passphrase)", id);
    return -1;
}

/* A passphrase problem (missing, wrong) is reported in qemu-img's words,
 * "Could not open 'ARG': ...", ARG as given (the whole --image-opts string);
 * other errors name the file as everywhere else. */
static void
report_open_error(const vdisk_error *err, int r, const char *arg, const char *file)
{
    const char *msg = err->message[0] ? vv_error_detail(err, file) : strerror(-r);
    vv_error("Could not open '%s': %s", arg, msg);
}

int
vv_open_secure(const char *arg, const char *fmt, unsigned flags, const vv_secrets *s, vdisk_image **out)
{
    return vv_open_secure_snapshot(arg, fmt, flags, NULL, s, out);
}

int
vv_open_secure_snapshot(const char *arg, const char *fmt, unsigned flags, const char *snapshot,
                        const vv_secrets *s, vdisk_image **out)
{
    vv_image_name name;
    if (vv_image_name_parse(arg, s->image_opts, &name) < 0)
        return -EINVAL;
    bool no_backing = name.no_backing && !(flags & VV_OPEN_KEEP_BACKING);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_UNKNOWN,
                           .flags = (flags & ~VV_OPEN_KEEP_BACKING) |
                                    (no_backing ? VDISK_OPEN_NO_BACKING : 0),
                           .snapshot = snapshot };
    int r = 0;
    const char *f = name.format ? name.format : fmt;
    if (f && vv_parse_format(f, &oo.format) < 0)
        r = -EINVAL;
    if (r == 0 && name.key_secret) {
        const vv_secret *sec = vv_secrets_lookup(s, name.key_secret);
        if (!sec)
            r = -EINVAL;
        else {
            oo.secret = sec->data;
            oo.secret_len = sec->len;
        }
    } else if (r == 0 && s->have_pass) {
        oo.secret = s->pass.data;
        oo.secret_len = s->pass.len;
    }
    if (r == 0 && name.backing_secret && check_backing_secret(s, name.backing_secret, &oo) < 0)
        r = -EINVAL;
    if (r == 0) {
        vdisk_error err = { 0 };
        r = vdisk_open(name.filename, &oo, out, &err);
        if (r < 0)
            report_open_error(&err, r, arg, name.filename);
    }
    vv_image_name_clear(&name);
    return r;
}
