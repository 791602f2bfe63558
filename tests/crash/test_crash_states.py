"""Power-loss crash states of qcow2 metadata operations.

Each operation runs on an image opened as vdisk-record:PATH (the record
protocol of test builds logs every write, zero, discard, truncate and
flush).  crashgen.py turns the log into the images a power loss could
leave; for every one of them:

  - qemu-img check finds no corruption; leaks are allowed (QEMU's own
    promise).  Two kinds of qemu-img "corruption" are counted apart:
      dirty   the header's dirty bit is set: refcounts may be inconsistent
              by the spec, and any writer (vdisk or QEMU) repairs before use.
              Lazy refcounts set it on purpose; snapshot -c sets it (v3)
              around the refcount/COPIED window no write order can close.
              Checked: QEMU's read-write open leaves it clean (not with
              lazy refcounts: QEMU cannot repair a data cluster past the
              end of the file; vdisk's check -r all can);
      copied  only OFLAG_COPIED flags disagreeing with refcounts a leak
              raised (tests/interop/crash_common.py): harmless, repaired by
              check -r all; allowed only where no dirty bit exists (v2);
  - vdisk opens it and reads back every byte whose write was followed by a
    completed flush before the crash;
  - vdisk-virsh check -r all leaves it clean for qemu-img check.

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
