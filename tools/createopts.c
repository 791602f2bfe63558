/* vdisk-virsh — image creation options as the user typed them (see createopts.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "createopts.h"
#include "options.h"

/* The options the "Formatting" line shows (their types, defaults and help
 * are the library's: vdisk/options.h). */
static const char *const key_names[VV_KEY_COUNT] = {
    [VV_KEY_SIZE] = "size",
    [VV_KEY_PREALLOCATION] = "preallocation",
    [VV_KEY_NOCOW] = "nocow",
    [VV_KEY_BACKING_FILE] = "backing_file",
    [VV_KEY_BACKING_FMT] = "backing_fmt",
    [VV_KEY_CLUSTER_SIZE] = "cluster_size",
    [VV_KEY_COMPAT] = "compat",
    [VV_KEY_REFCOUNT_BITS] = "refcount_bits",
    [VV_KEY_LAZY_REFCOUNTS] = "lazy_refcounts",
    [VV_KEY_EXTENDED_L2] = "extended_l2",
    [VV_KEY_COMPRESSION_TYPE] = "compression_type",
};

/* qemu-img's order of the "Formatting" line, per format. */
static const enum vv_create_key qcow2_order[] = {
    VV_KEY_CLUSTER_SIZE, VV_KEY_EXTENDED_L2, VV_KEY_PREALLOCATION, VV_KEY_COMPRESSION_TYPE,
    VV_KEY_SIZE, VV_KEY_BACKING_FILE, VV_KEY_BACKING_FMT, VV_KEY_COMPAT,
    VV_KEY_LAZY_REFCOUNTS, VV_KEY_REFCOUNT_BITS, VV_KEY_NOCOW,
};
static const enum vv_create_key raw_order[] = {
    VV_KEY_SIZE, VV_KEY_NOCOW, VV_KEY_PREALLOCATION,
};

void
vv_create_spec_init(vv_create_spec *s, vdisk_format fmt)
{
    memset(s, 0, sizeof(*s));
    vdisk_create_opts_init(&s->opts, fmt);
}

void
vv_create_spec_clear(vv_create_spec *s)
{
    for (int i = 0; i < VV_KEY_COUNT; i++)
        free(s->shown[i]);
    vdisk_create_opts_clear(&s->opts);
    memset(s, 0, sizeof(*s));
}

static int
find_key(const char *key)
{
    for (int i = 0; i < VV_KEY_COUNT; i++)
        if (strcmp(key_names[i], key) == 0)
            return i;
    return -1;
}

int
vv_create_spec_set(vv_create_spec *s, const char *key, const char *value, const char *file)
{
    vdisk_error err = { 0 };
    int r = vdisk_create_opts_set(&s->opts, key, value, &err);
    if (r < 0) {
        if (file)
            vv_error("%s: %s", file, err.message);
        else
            vv_report(&err);
        return r;
    }
    int k = find_key(key);
    if (k >= 0) {
        char *copy = strdup(value);
        if (!copy) {
            vv_error("out of memory");
            return -ENOMEM;
        }
        free(s->shown[k]);
        s->shown[k] = copy;
    }
    return 0;
}

/* Cut the next "key=value" item out of *p (in place), undoing ",," escapes. */
static char *
next_item(char **p)
{
    char *start = *p, *w = *p, *r = *p;
    while (*r) {
        if (r[0] == ',' && r[1] == ',') {
            *w++ = ',';
            r += 2;
        } else if (r[0] == ',') {
            r++;
            break;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    *p = r;
    return start;
}

int
vv_create_spec_parse(vv_create_spec *s, const char *list, const char *file)
{
    char *copy = strdup(list);
    if (!copy) {
        vv_error("out of memory");
        return -ENOMEM;
    }
    int r = 0;
    char *p = copy;
    while (r == 0 && *p) {
        char *item = next_item(&p);
        if (*item == '\0')
            continue;
        char *eq = strchr(item, '=');
        if (!eq) {
            if (file)
                vv_error("%s: Invalid option '%s': expected key=value", file, item);
            else
                vv_error("Invalid option '%s': expected key=value", item);
            r = -EINVAL;
            break;
        }
        *eq = '\0';
        r = vv_create_spec_set(s, item, eq + 1, file);
    }
    free(copy);
    return r;
}

/* Print a string value, doubling commas as qemu-img does. */
static void
print_escaped(FILE *out, const char *v)
{
    for (; *v; v++) {
        if (*v == ',')
            fputc(',', out);
        fputc(*v, out);
    }
}

/* The value qemu-img shows for an option: numbers normalised, strings as
 * typed, else the format's default when it has one to show. */
static void
print_option(const vv_create_spec *s, enum vv_create_key k, FILE *out)
{
    const vdisk_create_opts *o = &s->opts;
    switch (k) {
    case VV_KEY_SIZE:
        fprintf(out, " size=%" PRIu64, o->size);
        return;
    case VV_KEY_CLUSTER_SIZE:
        fprintf(out, " cluster_size=%" PRIu32, o->cluster_size);
        return;
    case VV_KEY_REFCOUNT_BITS:
        fprintf(out, " refcount_bits=%d", o->refcount_bits);
        return;
    default:
        break;
    }
    const vdisk_option *opt = vdisk_option_find(o->format, key_names[k], VDISK_OPTION_CREATE);
    const char *v = s->shown[k] ? s->shown[k] : opt ? opt->def : NULL;
    if (!v)
        return;
    fprintf(out, " %s=", key_names[k]);
    print_escaped(out, v);
}

void
vv_create_spec_print(const vv_create_spec *s, const char *file, FILE *out)
{
    bool qcow2 = s->opts.format == VDISK_FORMAT_QCOW2;
    const enum vv_create_key *order = qcow2 ? qcow2_order : raw_order;
    size_t n = qcow2 ? sizeof(qcow2_order) / sizeof(qcow2_order[0])
                     : sizeof(raw_order) / sizeof(raw_order[0]);
    fprintf(out, "Formatting '%s', fmt=%s", file, vdisk_format_name(s->opts.format));
    if (qcow2)
        vv_encrypt_opts_print(&s->opts.encrypt, "encrypt.", out);   /* encrypt-opts.c */
    for (size_t i = 0; i < n; i++)
        print_option(s, order[i], out);
    if (s->opts.format == VDISK_FORMAT_LUKS)
        vv_encrypt_opts_print(&s->opts.encrypt, "", out);
    fputc('\n', out);
}

int
vv_create_spec_help(vdisk_format fmt, FILE *out)
{
    char *text = vdisk_options_help(fmt, VDISK_OPTION_CREATE);
    if (!text) {
        vv_error("out of memory");
        return -ENOMEM;
    }
    fprintf(out, "Supported %s options:\n%s", vdisk_format_name(fmt), text);
    free(text);
    return 0;
}
