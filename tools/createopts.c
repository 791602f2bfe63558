/* vdisk-virsh — image creation options as the user typed them (see createopts.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "createopts.h"
#include "options.h"

enum opt_kind { KIND_SIZE, KIND_NUMBER, KIND_STRING, KIND_BOOL };

static const struct {
    const char *name;
    enum opt_kind kind;
    bool qcow2_only;
    const char *help;
} keys[VV_KEY_COUNT] = {
    [VV_KEY_SIZE] = { "size", KIND_SIZE, false, "Virtual disk size" },
    [VV_KEY_PREALLOCATION] = { "preallocation", KIND_STRING, false,
                               "Preallocation mode (allowed values: off, metadata, falloc, full)" },
    [VV_KEY_NOCOW] = { "nocow", KIND_BOOL, false, "Turn off copy-on-write (valid only on btrfs)" },
    [VV_KEY_BACKING_FILE] = { "backing_file", KIND_STRING, true, "File name of a base image" },
    [VV_KEY_BACKING_FMT] = { "backing_fmt", KIND_STRING, true, "Image format of the base image" },
    [VV_KEY_CLUSTER_SIZE] = { "cluster_size", KIND_SIZE, true, "qcow2 cluster size" },
    [VV_KEY_COMPAT] = { "compat", KIND_STRING, true, "Compatibility level (v2 [0.10] or v3 [1.1])" },
    [VV_KEY_REFCOUNT_BITS] = { "refcount_bits", KIND_NUMBER, true,
                               "Width of a reference count entry in bits" },
    [VV_KEY_LAZY_REFCOUNTS] = { "lazy_refcounts", KIND_BOOL, true, "Postpone refcount updates" },
    [VV_KEY_EXTENDED_L2] = { "extended_l2", KIND_BOOL, true, "Extended L2 tables" },
    [VV_KEY_COMPRESSION_TYPE] = { "compression_type", KIND_STRING, true,
                                  "Compression method used for image cluster compression" },
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
    for (size_t i = 0; i < s->ntyped; i++) {
        free(s->typed_key[i]);
        free(s->typed_value[i]);
    }
    vdisk_create_opts_clear(&s->opts);
    memset(s, 0, sizeof(*s));
}

static int
find_key(const char *key)
{
    for (int i = 0; i < VV_KEY_COUNT; i++)
        if (strcmp(keys[i].name, key) == 0)
            return i;
    return -1;
}

/* Where the typed value of one of the format's own options is kept. */
static char **
format_slot(vv_create_spec *s, const char *key)
{
    const vdisk_create_option *fo = vdisk_create_format_options(s->opts.format);
    for (int i = 0; fo && fo[i].name && i < VV_FORMAT_KEYS_MAX; i++)
        if (strcmp(fo[i].name, key) == 0)
            return &s->format_shown[i];
    return NULL;
}

/* Keep key=value as typed (the last value of a key wins). */
static int
remember_typed(vv_create_spec *s, const char *key, const char *value)
{
    size_t i = 0;
    while (i < s->ntyped && strcmp(s->typed_key[i], key) != 0)
        i++;
    if (i == VV_TYPED_MAX)
        return 0;   /* more keys than any format has: the line shows the first ones */
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        vv_error("out of memory");
        return -ENOMEM;
    }
    if (i < s->ntyped) {
        free(s->typed_key[i]);
        free(s->typed_value[i]);
    } else {
        s->ntyped++;
    }
    s->typed_key[i] = k;
    s->typed_value[i] = v;
    return 0;
}

static const char *
typed_value(const vv_create_spec *s, const char *key)
{
    for (size_t i = 0; i < s->ntyped; i++)
        if (strcmp(s->typed_key[i], key) == 0)
            return s->typed_value[i];
    return NULL;
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
    if (remember_typed(s, key, value) < 0)
        return -ENOMEM;
    int k = find_key(key);
    char **slot = k >= 0 ? &s->shown[k] : format_slot(s, key);
    if (slot) {
        char *copy = strdup(value);
        if (!copy) {
            vv_error("out of memory");
            return -ENOMEM;
        }
        free(*slot);
        *slot = copy;
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
 * typed, and the defaults it always lists for qcow2. */
static void
print_option(const vv_create_spec *s, enum vv_create_key k, FILE *out)
{
    const vdisk_create_opts *o = &s->opts;
    const char *def = NULL;
    bool qcow2 = o->format == VDISK_FORMAT_QCOW2;
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
    case VV_KEY_EXTENDED_L2:
    case VV_KEY_LAZY_REFCOUNTS:
        def = qcow2 ? "off" : NULL;
        break;
    case VV_KEY_COMPRESSION_TYPE:
        def = qcow2 ? "zlib" : NULL;
        break;
    default:
        break;
    }
    const char *v = s->shown[k] ? s->shown[k] : def;
    if (!v)
        return;
    fprintf(out, " %s=", keys[k].name);
    print_escaped(out, v);
}

/* A format with its own option table (vpc, vhdx): size, its options in
 * table order (sizes in bytes, the rest as typed, defaults qemu-img always
 * shows), then the file options given. */
static void
print_format_options(const vv_create_spec *s, const vdisk_create_option *fo, FILE *out)
{
    print_option(s, VV_KEY_SIZE, out);
    for (int i = 0; fo[i].name && i < VV_FORMAT_KEYS_MAX; i++) {
        const char *v = s->format_shown[i] ? s->format_shown[i] : fo[i].shown_default;
        uint64_t n;
        if (!v)
            continue;
        if (strcmp(fo[i].type, "size") == 0 && vdisk_parse_size(v, &n, NULL) == 0)
            fprintf(out, " %s=%" PRIu64, fo[i].name, n);
        else {
            fprintf(out, " %s=", fo[i].name);
            print_escaped(out, v);
        }
    }
    print_option(s, VV_KEY_NOCOW, out);
    print_option(s, VV_KEY_PREALLOCATION, out);
}

/* Formats with a table in the library (vmdk): its order, typed values,
 * and the defaults qemu-img shows. */
static void
print_from_table(const vv_create_spec *s, FILE *out)
{
    const vdisk_option_desc *d;
    for (size_t i = 0; (d = vdisk_vmdk_create_option(i)) != NULL; i++) {
        if (strcmp(d->name, "size") == 0) {
            fprintf(out, " size=%" PRIu64, s->opts.size);
            continue;
        }
        const char *v = typed_value(s, d->name);
        if (!v)
            v = d->shown_default;
        if (!v)
            continue;
        fprintf(out, " %s=", d->name);
        print_escaped(out, v);
    }
}

void
vv_create_spec_print(const vv_create_spec *s, const char *file, FILE *out)
{
    if (s->opts.format == VDISK_FORMAT_VMDK) {
        fprintf(out, "Formatting '%s', fmt=vmdk", file);
        print_from_table(s, out);
        fputc('\n', out);
        return;
    }
    const vdisk_create_option *fo = vdisk_create_format_options(s->opts.format);
    if (fo) {
        fprintf(out, "Formatting '%s', fmt=%s", file, vdisk_format_name(s->opts.format));
        print_format_options(s, fo, out);
        fputc('\n', out);
        return;
    }
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

static int
by_name(const void *a, const void *b)
{
    return strcmp((*(const vdisk_option_desc *const *)a)->name, (*(const vdisk_option_desc *const *)b)->name);
}

/* -o help from the library's table, sorted by name as qemu-img prints it. */
static void
help_from_table(FILE *out)
{
    const vdisk_option_desc *v[VV_TYPED_MAX];
    size_t n = 0;
    while (n < VV_TYPED_MAX && (v[n] = vdisk_vmdk_create_option(n)) != NULL)
        n++;
    qsort(v, n, sizeof(v[0]), by_name);
    fprintf(out, "Supported vmdk options:\n");
    for (size_t i = 0; i < n; i++) {
        char lhs[64];
        snprintf(lhs, sizeof(lhs), "%s=<%s>", v[i]->name, v[i]->type);
        fprintf(out, "  %-22s - %s\n", lhs, v[i]->help);
    }
}

void
vv_create_spec_help(vdisk_format fmt, FILE *out)
{
    if (fmt == VDISK_FORMAT_VMDK) {
        help_from_table(out);
        return;
    }
    static const char *const kind_names[] = {
        [KIND_SIZE] = "size", [KIND_NUMBER] = "num", [KIND_STRING] = "str",
        [KIND_BOOL] = "bool (on/off)",
    };
    fprintf(out, "Supported %s options:\n", vdisk_format_name(fmt));
    vv_encrypt_opts_help(fmt, out);   /* encrypt-opts.c */
    for (int i = 0; i < VV_KEY_COUNT; i++) {
        if (keys[i].qcow2_only && fmt != VDISK_FORMAT_QCOW2)
            continue;
        char lhs[64];
        snprintf(lhs, sizeof(lhs), "%s=<%s>", keys[i].name, kind_names[keys[i].kind]);
        fprintf(out, "  %-22s - %s\n", lhs, keys[i].help);
    }
    const vdisk_create_option *fo = vdisk_create_format_options(fmt);
    for (int i = 0; fo && fo[i].name; i++) {
        char lhs[64];
        snprintf(lhs, sizeof(lhs), "%s=<%s>", fo[i].name, fo[i].type);
        fprintf(out, "  %-22s - %s\n", lhs, fo[i].help);
    }
}
