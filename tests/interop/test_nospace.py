"""Operations that run out of space roll back (the file size limit of the
process stands in for a full file system: every write past it fails, as
ENOSPC would).  `snapshot -c` leaves qemu-img check clean -- no leaked
refcount increments --, no snapshot, the COPIED flags as they were (a later
guest write copies nothing) and the dirty bit clear; `resize
--preallocation=full` leaks none of the refcount structures it began
(qemu-img's own resize leaks them)."""
import json
import resource
import signal
import subprocess

import pytest

from conftest import VDISK_VIRSH


def limited(limit):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


# room past the end of the file: none (the L1 copy fails), one cluster (the
# L1 copy fits, the snapshot table does not)
@pytest.mark.parametrize("room", [0, 65536])
@pytest.mark.parametrize("compat", ["1.1", "0.10"])
def test_snapshot_create_out_of_space_rolls_back(vdisk_bin, qemu_img, qemu_io, tmp_path,
                                                 room, compat):
    f = tmp_path / "full.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", f"compat={compat}", f, "64M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x11 0 4M", f)
    end = f.stat().st_size
    p = subprocess.run([str(VDISK_VIRSH), "snapshot", "-c", "s1", str(f)], capture_output=True,
                       text=True, preexec_fn=limited(end + room))
    assert p.returncode != 0, p.stdout + p.stderr
    assert str(f) in p.stderr, p.stderr       # the message names the file
    c = qemu_img("check", "--output", "json", f, check=False)
    assert c.returncode == 0, c.stdout + c.stderr      # 3 would be leaked clusters
    info = json.loads(qemu_img("info", "--output", "json", f).stdout)
    assert not info.get("snapshots")
    assert not info.get("dirty-flag", False)
    # COPIED flags restored: rewriting allocated data allocates nothing new.
    used = json.loads(c.stdout)["image-end-offset"]
    qemu_io("-f", "qcow2", "-c", "write -P 0x22 0 64k", f)
    c = qemu_img("check", "--output", "json", f)
    assert json.loads(c.stdout)["image-end-offset"] == used


def test_resize_full_out_of_space_leaks_nothing(vdisk_bin, qemu_img, qemu_io, tmp_path):
    # 4 KiB clusters: 1 GiB needs some 130 new refcount blocks past the end
    # of the file; room for 64 clusters lets the first ones and the block
    # already there (which takes their refcounts) be written, then fails.
    f = tmp_path / "full.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", f, "64M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x11 0 4M", f)
    p = subprocess.run([str(VDISK_VIRSH), "resize", "--preallocation=full", str(f), "1G"],
                       capture_output=True, text=True, preexec_fn=limited(f.stat().st_size + 64 * 4096))
    assert p.returncode != 0, p.stdout + p.stderr
    assert str(f) in p.stderr, p.stderr
    c = qemu_img("check", f, check=False)
    assert c.returncode == 0, c.stdout + c.stderr      # 3: leaked clusters
    info = json.loads(qemu_img("info", "--output", "json", f).stdout)
    assert info["virtual-size"] == 64 << 20
    qemu_io("-f", "qcow2", "-c", "read -P 0x11 0 4M", f)
