/* vdisk-virsh info — qemu-img's report of a backing chain that loops. */
#ifndef VV_INFO_LOOP_H
#define VV_INFO_LOOP_H

#include <vdisk/vdisk.h>

/* Walk the backing chain below `top` (opened without its backing files) as
 * qemu-img info --backing-chain does: layer by layer, each opened without
 * its own backing file in the format its overlay records, the resolved
 * names remembered.  When a name comes back, print qemu-img's "Backing
 * file '...' creates an infinite loop." and return 1; otherwise (the chain
 * ends, or a layer cannot be opened or names no format: the chain's own
 * open then says why) return 0. */
int vv_info_report_loop(vdisk_image *top);

#endif
