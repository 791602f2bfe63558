/* vdisk-virsh pool-info --details: every volume of a pool, provisioned
 * (capacity) against used (host allocation), its provisioning kind from
 * its allocation map, and what the guests may still claim from the pool
 * (vdisk/volume-provisioning.h). */
#include <stdio.h>

#include "output.h"
#include "pool-usage.h"

static void
print_table(const vdisk_pool_usage *u, bool bytes)
{
    static const char *const head[] = { "Volume", "Format", "Kind", "Capacity", "Allocation",
                                         "Unbacked" };
    vv_table t;
    vv_table_init(&t, 6, head);
    for (size_t i = 0; i < u->n; i++) {
        const vdisk_vol_usage *v = &u->vols[i];
        char cap[32], alloc[32], unb[32];
        uint64_t unbacked = v->bytes[VDISK_ALLOC_UNALLOCATED] + v->bytes[VDISK_ALLOC_ZERO];
        if (bytes) {
            snprintf(cap, sizeof(cap), "%llu", (unsigned long long)v->capacity);
            snprintf(alloc, sizeof(alloc), "%llu", (unsigned long long)v->allocation);
            snprintf(unb, sizeof(unb), "%llu", (unsigned long long)unbacked);
        } else {
            vv_pretty_capacity(v->capacity, cap, sizeof(cap));
            vv_pretty_capacity(v->allocation, alloc, sizeof(alloc));
            vv_pretty_capacity(unbacked, unb, sizeof(unb));
        }
        const char *cells[] = { v->name, vdisk_format_name(v->format), v->kind, cap, alloc, unb };
        vv_table_add(&t, cells);
    }
    putchar('\n');
    vv_table_print(&t, stdout);
    vv_table_clear(&t);
    vv_print_size("Unbacked:", u->unbacked, bytes, "");
}

/* The "details" member of pool-info --json. */
static void
print_json(vv_json *j, const vdisk_pool_usage *u)
{
    vv_json_uint(j, "unbacked", u->unbacked);
    vv_json_array_begin(j, "details");
    for (size_t i = 0; i < u->n; i++) {
        const vdisk_vol_usage *v = &u->vols[i];
        vv_json_object_begin(j, NULL);
        vv_json_string(j, "name", v->name);
        vv_json_string(j, "format", vdisk_format_name(v->format));
        vv_json_string(j, "kind", v->kind);
        vv_json_uint(j, "capacity", v->capacity);
        vv_json_uint(j, "allocation", v->allocation);
        vv_json_object_begin(j, "bytes");
        for (int k = 0; k < VDISK_ALLOC_KINDS; k++)
            vv_json_uint(j, vdisk_alloc_kind_name((vdisk_alloc_kind)k), v->bytes[k]);
        vv_json_object_end(j);
        vv_json_object_end(j);
    }
    vv_json_array_end(j);
}

void
vv_print_pool_usage(vv_json *j, const vdisk_pool_usage *u, bool bytes)
{
    if (j)
        print_json(j, u);
    else
        print_table(u, bytes);
}
