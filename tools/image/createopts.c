/* vdisk-virsh — image creation options as the user typed them (see createopts.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
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
    [VV_KEY_ENCRYPTION] = "encryption",
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
    for (int i = 0; i < VV_FORMAT_KEYS_MAX; i++)
        free(s->format_shown[i]);
    free(s->late_error);
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

/* The i-th of the options a format has of its own (listed by -o help, not
 * size, preallocation or nocow), for the formats whose "Formatting" line
 * shows them in table order (vpc, vhdx, vmdk); NULL past the last, and for
 * raw, qcow2 and luks, whose lines have qemu-img's own orders (below). */
static const vdisk_option *
own_option(vdisk_format fmt, int i)
{
    if (fmt == VDISK_FORMAT_RAW || fmt == VDISK_FORMAT_QCOW2 || fmt == VDISK_FORMAT_LUKS)
        return NULL;
    for (const vdisk_option *o = vdisk_format_options(fmt); o->name; o++)
        if ((o->ops & VDISK_OPTION_CREATE) && !(o->flags & (VDISK_OPTION_COMMON | VDISK_OPTION_HIDDEN))
            && i-- == 0)
            return o;
    return NULL;
}

/* Where the typed value of one of the format's own options is kept. */
static char **
format_slot(vv_create_spec *s, const char *key)
{
    const vdisk_option *o;
    for (int i = 0; i < VV_FORMAT_KEYS_MAX && (o = own_option(s->opts.format, i)); i++)
        if (strcmp(o->name, key) == 0)
            return &s->format_shown[i];
    return NULL;
}

/* Keep the text of an option as typed (for the "Formatting" line). */
static int
keep_shown(char **slot, const char *value)
{
    char *copy = strdup(value);
    if (!copy) {
        vv_error("out of memory");
        return -ENOMEM;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

/* Run as qemu-img: a value of compat= or preallocation= that is refused
 * is reported after the "Formatting" line, in qemu-img's words (its
 * compat= is the QAPI option 'version'). */
static int
defer_bad_value(vv_create_spec *s, int k, const char *value, const char *file)
{
    const char *param = k == VV_KEY_COMPAT ? "version" : "preallocation";
    free(s->late_error);
    if (asprintf(&s->late_error, "%s%sParameter '%s' does not accept value '%s'",
                 file ? file : "", file ? ": " : "", param, value) < 0) {
        s->late_error = NULL;
        vv_error("out of memory");
        return -ENOMEM;
    }
    return keep_shown(&s->shown[k], value);
}

int
vv_create_spec_set(vv_create_spec *s, const char *key, const char *value, const char *file)
{
    vdisk_error err = { 0 };
    int k = find_key(key);
    int r = vdisk_create_opts_set(&s->opts, key, value, &err);
    if (r < 0) {
        if (vv_as_qemu_img() && err.kind == VDISK_ERR_INVALID &&
            (k == VV_KEY_COMPAT || k == VV_KEY_PREALLOCATION))
            return defer_bad_value(s, k, value, file);
        if (file)
            vv_error("%s: %s", file, err.message);
        else
            vv_report(&err);
        return r;
    }
    char **slot = k >= 0 ? &s->shown[k] : format_slot(s, key);
    return slot ? keep_shown(slot, value) : 0;
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

/* A format with its own option table (vpc, vhdx, vmdk): size, its options
 * in table order (sizes in bytes, the rest as typed, defaults qemu-img
 * always shows), then the file options given. */
static void
print_format_options(const vv_create_spec *s, FILE *out)
{
    print_option(s, VV_KEY_SIZE, out);
    const vdisk_option *o;
    for (int i = 0; i < VV_FORMAT_KEYS_MAX && (o = own_option(s->opts.format, i)); i++) {
        int k = find_key(o->name);   /* backing_file, backing_fmt (vmdk) */
        const char *typed = k >= 0 ? s->shown[k] : s->format_shown[i];
        const char *v = typed ? typed : o->def;
        uint64_t n;
        if (!v)
            continue;
        if (o->type == VDISK_OPTION_SIZE && vdisk_parse_size(v, &n, NULL) == 0)
            fprintf(out, " %s=%" PRIu64, o->name, n);
        else {
            fprintf(out, " %s=", o->name);
            print_escaped(out, v);
        }
    }
    print_option(s, VV_KEY_NOCOW, out);
    print_option(s, VV_KEY_PREALLOCATION, out);
}

void
vv_create_spec_print(const vv_create_spec *s, const char *file, FILE *out)
{
    if (own_option(s->opts.format, 0)) {
        fprintf(out, "Formatting '%s', fmt=%s", file, vdisk_format_name(s->opts.format));
        print_format_options(s, out);
        fputc('\n', out);
        return;
    }
    bool qcow2 = s->opts.format == VDISK_FORMAT_QCOW2;
    const enum vv_create_key *order = qcow2 ? qcow2_order : raw_order;
    size_t n = qcow2 ? sizeof(qcow2_order) / sizeof(qcow2_order[0])
                     : sizeof(raw_order) / sizeof(raw_order[0]);
    fprintf(out, "Formatting '%s', fmt=%s", file, vdisk_format_name(s->opts.format));
    /* encryption=on stands for encrypt.format=aes, and qemu-img shows only
     * what was typed */
    if (qcow2) {
        print_option(s, VV_KEY_ENCRYPTION, out);
        vv_encrypt_opts_print(&s->opts.encrypt, "encrypt.", !s->shown[VV_KEY_ENCRYPTION], out);
    }
    for (size_t i = 0; i < n; i++)
        print_option(s, order[i], out);
    if (s->opts.format == VDISK_FORMAT_LUKS)
        vv_encrypt_opts_print(&s->opts.encrypt, "", false, out);
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
