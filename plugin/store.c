/* vdisk plugin — what every store shares (vdisk/store.h): libvirt's
 * vocabulary for the operations of the table. */
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
