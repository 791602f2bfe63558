/* libvdisk — VMware VMDK: creation options and what `info` reports (the
 * -o table itself is the driver's: vdisk/options.h).
 *
 * Written from VMware's "Virtual Disk Format 5.0" technical note.  The
 * option names, values and defaults are qemu-img 7.2's (-f vmdk -o ...), so
 * that a command line written for one works with the other.
 */
#ifndef VDISK_VMDK_H
#define VDISK_VMDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* -o subformat=: how the disk is laid out in files. */
typedef enum vdisk_vmdk_subformat {
    VDISK_VMDK_MONOLITHIC_SPARSE = 0,  /* one growable file (default) */
    VDISK_VMDK_MONOLITHIC_FLAT,        /* descriptor + NAME-flat.vmdk holding the disk as is */
    VDISK_VMDK_TWOGB_SPARSE,           /* descriptor + growable NAME-s001.vmdk ... of <= 2 GiB */
    VDISK_VMDK_TWOGB_FLAT,             /* descriptor + NAME-f001.vmdk ... of <= 2 GiB */
    VDISK_VMDK_STREAM_OPTIMIZED,       /* one file of deflated grains (OVA, vSphere import) */
} vdisk_vmdk_subformat;

/* -o adapter_type=: the guest controller recorded in the descriptor. */
typedef enum vdisk_vmdk_adapter {
    VDISK_VMDK_ADAPTER_IDE = 0,
    VDISK_VMDK_ADAPTER_LSILOGIC,
    VDISK_VMDK_ADAPTER_BUSLOGIC,
    VDISK_VMDK_ADAPTER_LEGACYESX,
} vdisk_vmdk_adapter;

typedef struct vdisk_vmdk_create_opts {
    vdisk_vmdk_subformat subformat;
    vdisk_vmdk_adapter adapter_type;
    char hwversion[16];        /* ddb.virtualHWVersion; "" (qemu-img's "undefined"): 4, or 6 with compat6 */
    char toolsversion[32];     /* ddb.toolsVersion; "": 2147483647 */
    bool compat6;              /* hardware version 6 (not together with hwversion) */
    bool zeroed_grain;         /* sparse extents of version 2 with zeroed-grain entries */
} vdisk_vmdk_create_opts;

/* "monolithicSparse", ... as qemu-img spells them; NULL for a bad value. */
const char *vdisk_vmdk_subformat_name(vdisk_vmdk_subformat s);
/* "ide", "lsilogic", "buslogic", "legacyESX"; NULL for a bad value. */
const char *vdisk_vmdk_adapter_name(vdisk_vmdk_adapter a);

/* One extent of an open image, as `qemu-img info` lists it. */
typedef struct vdisk_vmdk_extent_info {
    char *filename;            /* resolved against the descriptor's directory */
    char *format;              /* descriptor type word (FLAT, SPARSE, VMFS...); "" in a monolithic file */
    uint64_t virtual_size;     /* bytes of the disk it holds */
    uint32_t cluster_size;     /* grain size in bytes; 0 for flat and zero extents */
    bool compressed;           /* deflated grains (streamOptimized) */
} vdisk_vmdk_extent_info;

typedef struct vdisk_vmdk_info {
    uint32_t cid;              /* content ID of this link */
    uint32_t parent_cid;       /* 0xffffffff: no parent */
    char *create_type;
    vdisk_vmdk_extent_info *extents;
    size_t nextents;
} vdisk_vmdk_info;

void vdisk_vmdk_info_free(vdisk_vmdk_info *info);

#ifdef __cplusplus
}
#endif
#endif
