/* vdisk plugin — the multi-pass wipe patterns (volume-wipe-passes.c),
 * used by vdisk_vol_wipe (volume-wipe.c). */
#ifndef VDISK_VOLUME_WIPE_H
#define VDISK_VOLUME_WIPE_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/volume.h>

/* Is alg one of the multi-pass patterns (nnsa ... pfitzner33)? */
bool vdisk_wipe_is_multipass(vdisk_wipe_alg alg);

/* Overwrite all size bytes of fd with each pass of alg in turn, syncing
 * after each; a pass scrub verifies is read back.  Progress over all
 * passes.  0 or a negative errno (-EIO: a pass read back wrong). */
int vdisk_wipe_passes(int fd, vdisk_wipe_alg alg, uint64_t size, vdisk_progress_fn progress, void *opaque);

#endif
