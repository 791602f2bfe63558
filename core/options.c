/* libvdisk — option tables (vdisk/options.h): finding an option of a
 * format, storing create and amend values through the table, and the
 * "-o help" text.  The tables themselves live with their drivers (raw.c,
 * qcow2/options.c, crypto/luks-driver.c, vpc/, vhdx/, vmdk/opts.c), and
 * the value parsers and setters they share below them (option-values.c).
 *
 * Messages follow qemu-img's wording where it has one; create's value
 * errors also quote the value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "options.h"

/* What formats without a table of their own take: the common options, and
 * a backing file (refused by vdisk_create_opts_validate for them). */
static const vdisk_option fallback_options[] = {
    VDISK_OPTIONS_COMMON,
    { "backing_file", VDISK_OPTION_STRING, VDISK_OPTION_CM, VDISK_OPTION_HIDDEN, NULL, NULL,
      vdisk_opt_set_backing_file, NULL },
    { "backing_fmt", VDISK_OPTION_STRING, VDISK_OPTION_CM, VDISK_OPTION_HIDDEN, NULL, NULL,
      vdisk_opt_set_backing_fmt, NULL },
    VDISK_OPTIONS_END,
};

const char *
vdisk_option_type_name(vdisk_option_type t)
{
    switch (t) {
    case VDISK_OPTION_SIZE: return "size";
    case VDISK_OPTION_NUMBER: return "num";
    case VDISK_OPTION_BOOL: return "bool (on/off)";
    default: return "str";
    }
}

const vdisk_option *
vdisk_format_options(vdisk_format fmt)
{
    const struct vdisk_driver *drv = vdisk_driver_for(fmt);
    return drv && drv->options ? drv->options : fallback_options;
}

const vdisk_option *
vdisk_option_find(vdisk_format fmt, const char *name, unsigned ops)
{
    for (const vdisk_option *o = vdisk_format_options(fmt); o->name; o++)
        if ((o->ops & ops) && strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

/* ---- -o help ------------------------------------------------------------ */

/* qsort: options by name. */
static int
by_name(const void *a, const void *b)
{
    return strcmp((*(const vdisk_option *const *)a)->name, (*(const vdisk_option *const *)b)->name);
}

char *
vdisk_options_help(vdisk_format fmt, unsigned op)
{
    const vdisk_option *table = vdisk_format_options(fmt);
    size_t n = 0;
    while (table[n].name)
        n++;
    const vdisk_option **v = calloc(n + 1, sizeof(*v));
    char *text = NULL;
    size_t len = 0;
    FILE *out = v ? open_memstream(&text, &len) : NULL;
    if (!out) {
        free(v);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if ((table[i].ops & op) && !(table[i].flags & VDISK_OPTION_HIDDEN))
            v[k++] = &table[i];
    /* qemu-img amend lists its options in name order; so does create for
     * a driver that asks (its table's order is another one). */
    const struct vdisk_driver *drv = vdisk_driver_for(fmt);
    if ((op & (VDISK_OPTION_AMEND | VDISK_OPTION_KEYSLOT)) || (drv && drv->options_help_by_name))
        qsort(v, k, sizeof(*v), by_name);
    for (size_t i = 0; i < k; i++) {
        char lhs[64];
        snprintf(lhs, sizeof(lhs), "%s=<%s>", v[i]->name, vdisk_option_type_name(v[i]->type));
        fprintf(out, "  %-22s - %s\n", lhs, v[i]->help);
    }
    free(v);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- create ------------------------------------------------------------- */

int
vdisk_create_opts_set(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err)
{
    const vdisk_option *opt = vdisk_option_find(o->format, key, VDISK_OPTION_CREATE);
    if (!opt)
        return vdisk_error_set(err, EINVAL, "Invalid parameter '%s' for format %s", key,
                               vdisk_format_name(o->format));
    return opt->create(o, key, value, err);
}

int
vdisk_create_opts_parse(vdisk_create_opts *opts, const char *list, vdisk_error *err)
{
    char *copy = strdup(list);
    if (!copy)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    int r = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            r = vdisk_error_set(err, EINVAL, "Invalid option '%s': expected key=value", item);
            break;
        }
        *eq = '\0';
        r = vdisk_create_opts_set(opts, item, eq + 1, err);
        if (r < 0)
            break;
    }
    free(copy);
    return r;
}

/* ---- amend -------------------------------------------------------------- */

int
vdisk_amend_opts_set(vdisk_format fmt, vdisk_amend_opts *o, const char *key, const char *value,
                     vdisk_error *err)
{
    const vdisk_option *opt = vdisk_option_find(fmt, key, VDISK_OPTION_AMEND);
    if (opt)
        return opt->amend(o, key, value, err);
    opt = vdisk_option_find(fmt, key, VDISK_OPTION_CREATE);
    if (opt && !(opt->flags & VDISK_OPTION_FILE))
        return vdisk_error_set(err, EINVAL, "Invalid parameter '%s'\nThis option is only "
                               "supported for image creation", key);
    return vdisk_error_set(err, EINVAL, "Invalid parameter '%s'", key);
}
