/* vdisk-virsh — virsh's table layout (virsh-args.h): header, dashes, rows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virsh-args.h"

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
