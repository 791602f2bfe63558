/* vdisk-virsh — finding the registry, pools and volumes named on the
 * command line, and virsh's table layout (virsh-args.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virsh-args.h"

int
vv_open_registry(vdisk_registry **reg)
{
    vdisk_error err = { 0 };
    int r = vdisk_registry_open(NULL, reg, &err);
    if (r < 0)
        vv_virsh_report(&err);
    return r;
}

int
vv_lookup_pool(vdisk_registry *reg, const char *name, vdisk_pool **pool)
{
    vdisk_error err = { 0 };
    int r = vdisk_pool_lookup(reg, name, pool, &err);
    if (r < 0) {
        vv_virsh_error("failed to get pool '%s'", name);
        vv_virsh_report(&err);
    }
    return r;
}

int
vv_lookup_vol(vdisk_registry *reg, const char *pool_name, const char *vol,
              vdisk_pool **pool, char **name)
{
    vdisk_error err = { 0 };
    int r;
    if (pool_name && !strchr(vol, '/')) {
        if ((r = vv_lookup_pool(reg, pool_name, pool)) < 0)
            return r;
        vdisk_vol_def def;
        if ((r = vdisk_vol_lookup(*pool, vol, &def, &err)) == 0) {
            vdisk_vol_def_clear(&def);
            if (!(*name = strdup(vol)))
                r = vdisk_error_set(&err, ENOMEM, "out of memory");
        }
        if (r < 0) {
            vdisk_pool_free(*pool);
            *pool = NULL;
        }
    } else {
        r = vdisk_vol_find_by_path(reg, vol, pool, name, &err);
        if (r == 0 && pool_name && strcmp(vdisk_pool_name(*pool), pool_name) != 0) {
            r = vdisk_error_set(&err, ENOENT, "Requested volume '%s' is not in pool '%s'",
                                vol, pool_name);
            vdisk_pool_free(*pool);
            free(*name);
            *pool = NULL;
            *name = NULL;
        }
    }
    if (r < 0) {
        if (pool_name)
            vv_virsh_error("failed to get vol '%s'", vol);
        else
            vv_virsh_error("failed to get vol '%s', specifying --pool might help", vol);
        vv_virsh_report(&err);
    }
    return r;
}

int
vv_begin(int argc, char **argv, vv_arg *args, size_t n, vv_ctx *c)
{
    memset(c, 0, sizeof(*c));
    int r = vv_virsh_parse(argc, argv, args, n);
    if (r)
        return r == VV_PARSE_HELP ? 0 : r;
    return vv_open_registry(&c->reg) < 0 ? 1 : VV_GO;
}

int
vv_begin_pool(int argc, char **argv, vv_arg *args, size_t n, vv_ctx *c)
{
    int r = vv_begin(argc, argv, args, n, c);
    if (r == VV_GO && vv_lookup_pool(c->reg, vv_arg_get(args, n, "pool")->value, &c->pool) < 0) {
        vv_end(c);
        r = 1;
    }
    return r;
}

int
vv_begin_vol(int argc, char **argv, vv_arg *args, size_t n, vv_ctx *c)
{
    int r = vv_begin(argc, argv, args, n, c);
    vv_arg *p = vv_arg_get(args, n, "pool");
    if (r == VV_GO && vv_lookup_vol(c->reg, p && p->set ? p->value : NULL, vv_arg_get(args, n, "vol")->value,
                                    &c->pool, &c->name) < 0) {
        vv_end(c);
        r = 1;
    }
    return r;
}

void
vv_end(vv_ctx *c)
{
    free(c->name);
    vdisk_pool_free(c->pool);
    vdisk_registry_close(c->reg);
    memset(c, 0, sizeof(*c));
}

void
vv_table_init(vv_table *t, size_t ncols, const char *const *headers)
{
    t->ncols = ncols;
    t->nrows = 0;
    t->cells = NULL;
    vv_table_add(t, headers);
}

void
vv_table_add(vv_table *t, const char *const *cells)
{
    char **nc = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*nc));
    if (!nc)
        return;
    t->cells = nc;
    for (size_t c = 0; c < t->ncols; c++)
        nc[t->nrows * t->ncols + c] = strdup(cells[c] ? cells[c] : "");
    t->nrows++;
}

/* virsh's vshTable: every cell after one space, columns padded to their
 * widest cell plus two spaces, a line of dashes under the header. */
void
vv_table_print(const vv_table *t, FILE *out)
{
    size_t width[16] = { 0 }, total = 0;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols && c < 16; c++) {
            const char *s = t->cells[r * t->ncols + c];
            size_t w = s ? strlen(s) : 0;
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c] ? t->cells[r * t->ncols + c] : "";
            if (c + 1 < t->ncols)
                fprintf(out, " %-*s  ", (int)width[c], s);
            else
                fprintf(out, " %s\n", s);
        }
        if (r == 0) {
            for (size_t c = 0; c < t->ncols; c++)
                total += width[c] + 3;
            for (size_t i = 0; i < total; i++)
                fputc('-', out);
            fputc('\n', out);
        }
    }
}

void
vv_table_clear(vv_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = 0;
}
