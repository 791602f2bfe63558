/* libvdisk — internal snapshots (qcow2), as `qemu-img snapshot`.
 *
 * A snapshot is named by its ID ("1", "2", ...; unique, chosen by the
 * library) or its name (which QEMU does not require to be unique).  Calls
 * that take `id_or_name` look for an ID first, then a name, as QEMU does.
 *
 * These calls change metadata: do not run them while other calls use the
 * same handle.  Formats without internal snapshots return -ENOTSUP.
 */
#ifndef VDISK_SNAPSHOT_H
#define VDISK_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/image.h>

#ifdef __cplusplus
extern "C" {
#endif

/* No icount recorded (QEMU's -1). */
#define VDISK_SNAPSHOT_NO_ICOUNT UINT64_MAX

typedef struct vdisk_snapshot_info {
    char *id;                  /* unique ID string ("1", "2", ...) */
    char *name;                /* tag */
    uint32_t date_sec;         /* creation time, seconds since the Epoch */
    uint32_t date_nsec;        /* and nanoseconds */
    uint64_t vm_clock_nsec;    /* guest run time when taken */
    uint64_t vm_state_size;    /* bytes of saved VM state (0: disk-only snapshot) */
    uint64_t disk_size;        /* virtual size of the disk when taken */
    uint64_t icount;           /* record/replay instruction count, or VDISK_SNAPSHOT_NO_ICOUNT */
} vdisk_snapshot_info;

/* The snapshots of img in table order.  *list is malloc'ed (NULL when n is
 * 0); free it with vdisk_snapshot_list_free. */
int vdisk_snapshot_list(vdisk_image *img, vdisk_snapshot_info **list, size_t *n,
                        vdisk_error *err);
void vdisk_snapshot_list_free(vdisk_snapshot_info *list, size_t n);

/* Take a disk-only snapshot of the current state named `name`, stamped with
 * the current time, VM clock 0 and icount 0 (as qemu-img snapshot -c).
 * The image must be open for writing. */
int vdisk_snapshot_create(vdisk_image *img, const char *name, vdisk_error *err);
/* As vdisk_snapshot_create with every field given: info->id NULL picks the
 * next free numeric ID; disk_size is ignored (the current size is taken). */
int vdisk_snapshot_create_full(vdisk_image *img, const vdisk_snapshot_info *info,
                               vdisk_error *err);
/* Make the image's content that of the snapshot again (-ENOENT if none). */
int vdisk_snapshot_apply(vdisk_image *img, const char *id_or_name, vdisk_error *err);
/* Delete a snapshot, freeing the clusters only it used (-ENOENT if none). */
int vdisk_snapshot_delete(vdisk_image *img, const char *id_or_name, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
