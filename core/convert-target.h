/* libvdisk — the target side of the copy engine (convert.c): option checks,
 * creating or opening the target, and tidying it up afterwards.
 */
#ifndef VDISK_CONVERT_TARGET_H
#define VDISK_CONVERT_TARGET_H

#include <stdbool.h>

#include <vdisk/convert.h>

/* Option checks that need no I/O. */
int convert_check_opts(const char *src, const char *dst, const vdisk_convert_opts *opts,
                       vdisk_error *err);
/* -n: open the existing target, as large as the source at least. */
int convert_open_existing_target(vdisk_image *src, const char *dst, const vdisk_convert_opts *opts,
                                 vdisk_image **out, vdisk_error *err);
/* Create the target with the source's size and open it for writing;
 * *created: there is a file to remove on failure. */
int convert_create_target(vdisk_image *src, const char *dst, const vdisk_convert_opts *opts,
                          vdisk_image **out, bool *created, vdisk_error *err);
/* Round a compressed target's end up to a whole sector. */
int convert_align_compressed_end(vdisk_image *dst, vdisk_error *err);
/* Remove a target that was created (never a device or an export). */
void convert_remove_target(const char *dst);

#endif
