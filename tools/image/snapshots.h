/* vdisk-virsh — printing internal snapshot lists as qemu-img does (shared
 * by `snapshot -l` and `info`). */
#ifndef VV_SNAPSHOTS_H
#define VV_SNAPSHOTS_H

#include <stddef.h>
#include <stdio.h>

#include <vdisk/vdisk.h>

#include "output.h"

/* "Snapshot list:", the column header and one row per snapshot, exactly
 * as qemu-img 7.2 prints them (dates in local time). */
void vv_snapshots_print(FILE *out, const vdisk_snapshot_info *list, size_t n);
/* The "snapshots" array of qemu-img info --output json. */
void vv_snapshots_json(vv_json *j, const vdisk_snapshot_info *list, size_t n);

#endif
