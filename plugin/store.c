/* vdisk plugin — what every store shares (vdisk/store.h): libvirt's
 * vocabulary for the operations of the table. */
#include <stdlib.h>
#include <string.h>

#include <vdisk/store.h>

int
vdisk_store_wipe_alg_index(const char *name)
{
    static const char *const names[] = { "zero", "nnsa", "dod", "bsi", "gutmann", "schneier",
                                         "pfitzner7", "pfitzner33", "random", "trim" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

void
vdisk_store_pool_rows_free(vdisk_store_pool_row *rows, size_t count)
{
    for (size_t i = 0; rows && i < count; i++)
        if (rows[i].pool)
            rows[i].pool->store->ops->pool_free(rows[i].pool);
    free(rows);
}

void
vdisk_store_vol_rows_free(vdisk_store_vol_row *rows, size_t count)
{
    for (size_t i = 0; rows && i < count; i++)
        vdisk_vol_def_clear(&rows[i].def);
    free(rows);
}
