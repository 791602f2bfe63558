/* vdisk-virsh info — the format-specific block of a VMDK image, in
 * qemu-img's member order: cid, parent-cid, create-type, extents (each:
 * compressed when true, virtual-size, filename, cluster-size for sparse
 * extents, format -- the descriptor's type word, "" in a monolithic file).
 */
#include <inttypes.h>
#include <stdio.h>

#include "info-vmdk.h"

void
vv_info_vmdk_json(vv_json *j, const vdisk_vmdk_info *v)
{
    vv_json_object_begin(j, "format-specific");
    vv_json_string(j, "type", "vmdk");
    vv_json_object_begin(j, "data");
    vv_json_uint(j, "cid", v->cid);
    vv_json_uint(j, "parent-cid", v->parent_cid);
    vv_json_string(j, "create-type", v->create_type);
    vv_json_array_begin(j, "extents");
    for (size_t i = 0; i < v->nextents; i++) {
        const vdisk_vmdk_extent_info *x = &v->extents[i];
        vv_json_object_begin(j, NULL);
        if (x->compressed)
            vv_json_bool(j, "compressed", true);
        vv_json_uint(j, "virtual-size", x->virtual_size);
        vv_json_string(j, "filename", x->filename);
        if (x->cluster_size)
            vv_json_uint(j, "cluster-size", x->cluster_size);
        vv_json_string(j, "format", x->format);
        vv_json_object_end(j);
    }
    vv_json_array_end(j);
    vv_json_object_end(j);
    vv_json_object_end(j);
}

void
vv_info_vmdk_human(const vdisk_vmdk_info *v)
{
    printf("Format specific information:\n    cid: %" PRIu32 "\n    parent cid: %" PRIu32
           "\n    create type: %s\n    extents:\n", v->cid, v->parent_cid, v->create_type);
    for (size_t i = 0; i < v->nextents; i++) {
        const vdisk_vmdk_extent_info *x = &v->extents[i];
        printf("        [%zu]:\n", i);
        if (x->compressed)
            printf("            compressed: true\n");
        printf("            virtual size: %" PRIu64 "\n            filename: %s\n", x->virtual_size,
               x->filename);
        if (x->cluster_size)
            printf("            cluster size: %" PRIu32 "\n", x->cluster_size);
        printf("            format: %s\n", x->format);
    }
}
