"""Power-loss crash states of qcow2 metadata operations: snapshot create,
allocating guest writes (with and without lazy refcounts, a new refcount
block) and resize grow; test_crash_ops.py has the others.

Each operation runs on an image opened as vdisk-record:PATH (the record
protocol of test builds logs every write, zero, discard, truncate and
flush).  crashgen.py turns the log into the images a power loss could
leave, and crashcheck.py checks every one of them: qemu-img check finds no
corruption (leaks allowed; "dirty" and "copied" states counted apart, see
there), vdisk reads back every byte whose write was followed by a
completed flush, and vdisk-virsh check -r all leaves it clean.  snapshot -c
sets the dirty bit (v3) around the refcount/COPIED window no write order
can close (core/qcow2/snapshot-window.c); v2 images keep it as stale
COPIED flags, as with QEMU.

The counts per operation are printed at the end ("crash states:" lines).
CI runs a seeded sample (VDISK_CRASH_STATES states per operation, default
60, seed VDISK_CRASH_SEED); VDISK_CRASH_FULL=1 checks every state
(scripts/crash-states.sh).
"""
import pytest

from crashcheck import Workload, check_states


@pytest.mark.parametrize("compat,cluster", [("1.1", 65536), ("0.10", 65536), ("1.1", 4096)])
def test_snapshot_create(tools, tmp_path, compat, cluster):
    w = Workload(tools, tmp_path, f"cluster_size={cluster},compat={compat}")
    w.qemu_write("0x11", 0, "1M")
    w.qemu_write("0x22", "2M", "512k")
    w.start()
    w.virsh("snapshot", "-c", "s1", w.rec())
    # v2 images have no dirty bit: their window shows as stale COPIED flags.
    check_states(w, f"snapshot -c (compat={compat}, cluster_size={cluster})",
                 copied_ok=compat == "0.10")


@pytest.mark.parametrize("lazy", ["off", "on"])
def test_guest_writes_allocate(tools, tmp_path, lazy):
    w = Workload(tools, tmp_path, f"cluster_size=65536,lazy_refcounts={lazy}")
    w.qemu_write("0x11", 0, "128k")
    w.start()
    w.guest_write("0x31", "256k", "192k")
    w.guest_write("0x32", "1M", "64k")
    w.guest_write("0x33", "3M", "300k")
    check_states(w, f"guest writes (lazy_refcounts={lazy})")


@pytest.mark.parametrize("lazy", ["off", "on"])
def test_guest_writes_new_refblock(tools, tmp_path, lazy):
    """4 KiB clusters: a refcount block covers 8 MiB of the file, so these
    writes need a new refcount block and a second L2 table."""
    w = Workload(tools, tmp_path, f"cluster_size=4096,lazy_refcounts={lazy}", size="64M")
    w.qemu_write("0x11", 0, "7M")
    w.start()
    w.guest_write("0x34", "40M", "2M")
    check_states(w, f"guest writes, new refcount block (lazy_refcounts={lazy})")


@pytest.mark.parametrize("cluster", [65536, 4096])
def test_resize_grow(tools, tmp_path, cluster):
    """4 KiB clusters: the L1 table outgrows its cluster and moves."""
    w = Workload(tools, tmp_path, f"cluster_size={cluster}")
    w.qemu_write("0x11", 0, "1M")
    w.start()
    w.virsh("resize", w.rec(), "2G")
    check_states(w, f"resize 4M -> 2G (cluster_size={cluster})")
