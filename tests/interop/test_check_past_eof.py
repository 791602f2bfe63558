"""A power-loss state the crash-state suite (tests/crash) found: with lazy
refcounts nothing orders an L2 entry before the write that grows the file
for its data, so a power loss can keep the entry and lose the growth (the
dirty bit set: the writer never closed).  qemu-img check calls the cluster
a corruption ("exceeding the end of the file") and its own -r all cannot
repair it; vdisk's check -r all grows the file over it (it reads as zeros
either way), after which qemu-img check finds the image clean and the data
before it reads back.  On a clean image (no dirty bit) the same damage
cannot come from a power loss and gets QEMU's verdict (test_check.py)."""
from conftest import VDISK_VIRSH, run


def test_repair_grows_file_over_data_cluster_past_end(vdisk_bin, qemu_img, qemu_io, tmp_path):
    f = tmp_path / "cut.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", "cluster_size=65536,lazy_refcounts=on", f, "4M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x11 0 64k", "-c", "write -P 0x22 1M 192k", f)
    # The last three data clusters are the file's last three clusters: the
    # writes that grew the file for them are lost, their L2 entries kept.
    size = f.stat().st_size
    with open(f, "r+b") as fh:
        fh.truncate(size - 3 * 65536)
        fh.seek(72)                      # incompatible features: dirty
        fh.write((1).to_bytes(8, "big"))
    p = qemu_img("check", f, check=False)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "exceeding the end of the file" in p.stderr
    r = run([VDISK_VIRSH, "check", "-r", "all", f], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    p = qemu_img("check", f, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    qemu_io("-f", "qcow2", "-c", "read -P 0x11 0 64k", "-c", "read -P 0 1M 192k", f)
