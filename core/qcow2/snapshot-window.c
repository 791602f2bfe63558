/* qcow2 internal snapshots: the window in which refcounts and the COPIED
 * flags that follow them disagree on disk.
 *
 * Refcounts live in refcount blocks, COPIED flags in L1 and L2 tables: no
 * write order keeps them agreeing at every instant, and qemu-img check
 * counts either disagreement (the flag set at refcount 2, or clear at
 * refcount 1) as corruption.  Clearing the flags first only trades one
 * disagreement for the other.  Every snapshot operation has such a window:
 * create raises refcounts to 2 under set flags, delete lowers them to 1
 * under clear flags, apply does both.
 *
 * On version 3 images the header's dirty bit covers the window: by the
 * specification refcounts may then be inconsistent, and the next writer
 * (vdisk or QEMU) repairs them before any use.  Version 2 images
 * (compat=0.10) have no dirty bit: there a power loss inside the window
 * leaves stale COPIED flags.  Harmless (a flag clear at refcount 1 costs a
 * needless copy-on-write; a flag set at a refcount a leak raised is right
 * once `check -r` frees the leak) and repaired by `check -r all`; QEMU's
 * own snapshot code has the same window on both versions (it sets no dirty
 * bit around it).  tests/crash counts those states apart ("copied").
 */
#include "ordering.h"
#include "snapshot-int.h"

int
qcow2_snap_window_open(qcow2_state *s, bool *opened, vdisk_error *err)
{
    *opened = false;
    if (s->version < 3 || (s->incompat & QCOW2_INCOMPAT_DIRTY))
        return 0;
    int r = qcow2_header_write_u64(s, QCOW2_HDR_INCOMPAT, s->incompat | QCOW2_INCOMPAT_DIRTY, err);
    if (r == 0) {
        s->incompat |= QCOW2_INCOMPAT_DIRTY;
        *opened = true;
    }
    return r;
}

int
qcow2_snap_window_close(qcow2_state *s, vdisk_error *err)
{
    int r = qcow2_flush_metadata(s, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r == 0)
        r = qcow2_header_write_u64(s, QCOW2_HDR_INCOMPAT, s->incompat & ~QCOW2_INCOMPAT_DIRTY,
                                   err);
    if (r == 0)
        s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
    return r;
}
