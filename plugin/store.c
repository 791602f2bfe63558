/* vdisk plugin — what every store shares (vdisk/store.h): libvirt's
 * vocabulary for the operations of the table. */
#include <errno.h>
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

int
vdisk_store_clone_def(vdisk_vol_def *src, const char *newname, vdisk_vol_def *def)
{
    memset(def, 0, sizeof(*def));
    def->name = strdup(newname);
    def->format = src->format;
    def->capacity = src->capacity;
    def->has_capacity = true;
    if (src->allocation >= src->capacity && src->capacity > 0) {
        def->has_allocation = true;
        def->allocation = src->capacity;
    }
    def->compat = src->compat, src->compat = NULL;
    def->cluster_size = src->cluster_size;
    def->lazy_refcounts = src->lazy_refcounts;
    /* As virsh's clone XML (vol-dumpxml): an encrypted volume's copy is encrypted
     * with the same secret. */
    def->encryption = src->encryption;
    memset(&src->encryption, 0, sizeof(src->encryption));
    return def->name ? 0 : -ENOMEM;
}
