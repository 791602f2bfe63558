"""Power-loss crash states of the qcow2 operations beyond snapshot create,
allocating guest writes and resize grow (test_crash_states.py): discard and
write-zeroes, compressed writes, encryption (LUKS in qcow2), extended L2,
snapshot apply and delete, resize shrink, amend (compat, refcount_bits,
LUKS key slots), commit, rebase (safe and -u), bitmaps (add, the store at
close, merge, remove), check -r all, convert and create.

Each test runs the operation on vdisk-record:PATH and checks every crash
state as crashcheck.py describes.  The data each test expects back is
chosen from first principles: what QEMU wrote before the operation (always
durable), and what the operation must have made durable once its last
flush completed (zeros after a discard, the snapshot's data after an apply,
the same guest view at every point of a safe rebase...).
"""
import shutil

import pytest

from crashcheck import Workload, check_states, run


def forget(w, pat):
    """Drop the regions of pattern pat (the operation changes them)."""
    w.regions = [r for r in w.regions if r[0] != pat]


def test_discard_zero(tools, tmp_path):
    w = Workload(tools, tmp_path, "cluster_size=65536")
    w.qemu_write("0x11", 0, "256k")
    w.qemu_write("0x12", "256k", "768k")
    w.qemu_write("0x13", "2M", "512k")
    w.start()
    w.io("discard 0 128k", "write -z 128k 128k", "write -z -u 2M 192k")
    forget(w, "0x11")
    forget(w, "0x13")
    w.expect("0", 0, "256k")
    w.expect("0", "2M", "192k")
    w.regions.append(("0x13", 2 * 2**20 + 192 * 1024, 320 * 1024, 0))
    check_states(w, "discard and write-zeroes")


@pytest.mark.parametrize("cluster", [65536, 4096])
def test_compressed_writes(tools, tmp_path, cluster):
    w = Workload(tools, tmp_path, f"cluster_size={cluster}")
    w.qemu_write("0x11", 0, "128k")
    w.start()
    w.guest_write("0x41", "1M", "128k", "-c")
    w.guest_write("0x42", "2M", "64k", "-c")
    w.guest_write("0x43", 0, "64k", "-c")          # over allocated clusters
    forget(w, "0x11")
    w.regions.append(("0x11", "64k", "64k", 0))
    check_states(w, f"compressed writes (cluster_size={cluster})")


def test_encrypted_writes(tools, tmp_path):
    w = Workload(tools, tmp_path, "cluster_size=65536", passphrase="crash-test")
    w.qemu_write("0x11", 0, "128k")
    w.start()
    w.guest_write("0x51", "512k", "192k")
    w.guest_write("0x52", "3M", "70k")
    check_states(w, "guest writes (LUKS in qcow2)")


def test_extended_l2_writes(tools, tmp_path):
    w = Workload(tools, tmp_path, "cluster_size=65536,extended_l2=on")
    w.qemu_write("0x11", 0, "64k")
    w.start()
    w.guest_write("0x61", "1M", "4k")                 # one subcluster
    w.guest_write("0x62", "1M", "8k")                 # more of the same cluster
    w.guest_write("0x63", "2M", "130k")
    need = w.regions[-1][3]
    w.io("write -z 2M 2k")                            # a zero subcluster
    forget(w, "0x61")
    forget(w, "0x63")
    w.expect("0", "2M", "2k")
    w.regions.append(("0x63", 2 * 2**20 + 2048, 128 * 1024, need))
    check_states(w, "guest writes and zeroes (extended_l2=on)")


# v2 images have no dirty bit: their refcount/COPIED window shows as stale
# COPIED flags (core/qcow2/snapshot-window.c).
@pytest.mark.parametrize("compat", ["1.1", "0.10"])
def test_snapshot_apply(tools, tmp_path, compat):
    w = Workload(tools, tmp_path, f"cluster_size=65536,compat={compat}")
    w.qemu_write("0x11", 0, "1M")
    run([tools["qemu_img"], "snapshot", "-c", "s1", w.img])
    w.qemu_write("0x22", "2M", "512k")
    w.qemu_write("0x23", 0, "64k")                   # copy-on-write
    w.start()
    w.virsh("snapshot", "-a", "s1", w.rec())
    forget(w, "0x11")
    forget(w, "0x22")
    forget(w, "0x23")
    w.regions.append(("0x11", "64k", 960 * 1024, 0))
    w.expect("0x11", 0, "64k")
    w.expect("0", "2M", "512k")
    check_states(w, f"snapshot -a (compat={compat})", copied_ok=compat == "0.10")


@pytest.mark.parametrize("compat", ["1.1", "0.10"])
def test_snapshot_delete(tools, tmp_path, compat):
    w = Workload(tools, tmp_path, f"cluster_size=65536,compat={compat}")
    w.qemu_write("0x11", 0, "1M")
    w.qemu_write("0x12", "2M", "256k")
    run([tools["qemu_img"], "snapshot", "-c", "s1", w.img])
    w.qemu_write("0x13", "2M", "128k")               # copy-on-write
    forget(w, "0x12")
    w.regions.append(("0x12", 2 * 2**20 + 128 * 1024, 128 * 1024, 0))
    w.start()
    w.virsh("snapshot", "-d", "s1", w.rec())
    check_states(w, f"snapshot -d (compat={compat})", copied_ok=compat == "0.10")


def test_resize_shrink(tools, tmp_path):
    w = Workload(tools, tmp_path, "cluster_size=65536", size="16M")
    w.qemu_write("0x11", 0, "1M")
    w.qemu_write("0x12", "12M", "1M")
    forget(w, "0x12")
    w.start()
    w.virsh("resize", "--shrink", w.rec(), "2M")
    check_states(w, "resize 16M -> 2M (--shrink)")


@pytest.mark.parametrize("before,after", [("1.1", "0.10"), ("0.10", "1.1")])
def test_amend_compat(tools, tmp_path, before, after):
    w = Workload(tools, tmp_path, f"cluster_size=65536,compat={before}")
    w.qemu_write("0x11", 0, "1M")
    if before == "1.1":
        w.qemu_write("0", "2M", "256k", "-z")     # zero clusters: v2 must allocate them
    w.start()
    w.virsh("amend", "-o", f"compat={after}", w.rec())
    check_states(w, f"amend compat {before} -> {after}", copied_ok=after == "0.10")


@pytest.mark.parametrize("bits", [4, 64])
def test_amend_refcount_bits(tools, tmp_path, bits):
    w = Workload(tools, tmp_path, "cluster_size=65536")
    w.qemu_write("0x11", 0, "1M")
    w.start()
    w.virsh("amend", "-o", f"refcount_bits={bits}", w.rec())
    check_states(w, f"amend refcount_bits 16 -> {bits}")


def test_amend_luks_keyslot(tools, tmp_path):
    w = Workload(tools, tmp_path, "cluster_size=65536", passphrase="crash-test")
    w.qemu_write("0x11", 0, "256k")
    new = tmp_path / "new-passphrase"
    new.write_text("crash-test-2")
    w.start()
    w.virsh("amend", *w.secret_object(), "--object", f"secret,id=new,file={new}",
            "-o", "encrypt.state=active,encrypt.new-secret=new,encrypt.keyslot=3,"
            "encrypt.iter-time=10",
            "--image-opts", f"driver=qcow2,file.filename={w.rec()},encrypt.key-secret=sec0")
    check_states(w, "amend LUKS key slot add")


def test_commit(tools, tmp_path):
    """The backing file is recorded: the overlay names it vdisk-record:."""
    w = Workload(tools, tmp_path, "cluster_size=65536", name="base.qcow2")
    w.qemu_write("0x11", 0, "1M")
    ov = tmp_path / "ov.qcow2"
    run([tools["qemu_img"], "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
         ov])
    run([tools["qemu_io"], "-f", "qcow2", "-c", "write -P 0x71 2M 320k", "-c",
         "write -P 0x72 0 64k", ov])
    w.virsh("rebase", "-u", "-b", w.rec(), "-F", "qcow2", ov)
    w.start()
    w.virsh("commit", "-d", ov)
    forget(w, "0x11")
    w.regions.append(("0x11", "64k", 960 * 1024, 0))
    w.expect("0x71", "2M", "320k")
    w.expect("0x72", 0, "64k")
    check_states(w, "commit -d (the backing file)")


def rebase_chain(tools, tmp_path):
    """oldbase and newbase differ; the overlay over oldbase has its own data."""
    for name, writes in (("oldbase", ["write -P 0x11 0 1M"]),
                         ("newbase", ["write -P 0x11 0 512k", "write -P 0x55 2M 512k"])):
        f = tmp_path / f"{name}.qcow2"
        run([tools["qemu_img"], "create", "-q", "-f", "qcow2", f, "4M"])
        run([tools["qemu_io"], "-f", "qcow2", *[a for c in writes for a in ("-c", c)], f])
    w = Workload(tools, tmp_path, "cluster_size=65536", name="ov.qcow2", backing="oldbase.qcow2")
    w.qemu_write("0x22", "3M", "256k")
    return w


def test_rebase_safe(tools, tmp_path):
    """At every point the guest sees the same bytes: the old chain or the
    new one with the differences copied in."""
    w = rebase_chain(tools, tmp_path)
    w.regions += [("0x11", 0, "1M", 0), ("0", "2M", "512k", 0)]
    w.start()
    w.virsh("rebase", "-b", "newbase.qcow2", "-F", "qcow2", w.rec())
    check_states(w, "rebase (safe)")


def test_rebase_unsafe(tools, tmp_path):
    w = rebase_chain(tools, tmp_path)
    shutil.copy(tmp_path / "oldbase.qcow2", tmp_path / "samebase.qcow2")
    w.regions.append(("0x11", 0, "1M", 0))
    w.start()
    w.virsh("rebase", "-u", "-b", "samebase.qcow2", "-F", "qcow2", w.rec())
    check_states(w, "rebase -u")


def test_bitmaps(tools, tmp_path):
    """add, guest writes (the bitmap stored at close), add, merge, remove."""
    w = Workload(tools, tmp_path, "cluster_size=65536")
    w.qemu_write("0x11", 0, "1M")
    w.start()
    w.virsh("bitmap", "--add", w.rec(), "b1")
    w.guest_write("0x81", "2M", "128k")
    w.virsh("bitmap", "--add", w.rec(), "b2")
    w.virsh("bitmap", "--merge", "b1", w.rec(), "b2")
    w.virsh("bitmap", "--remove", w.rec(), "b1")
    check_states(w, "bitmap add, store at close, merge, remove")


def leak_clusters(f, count):
    """Grow f by count clusters whose refcounts say 1: leaked clusters, as a
    crash leaves them (the first refcount block covers them here)."""
    data = bytearray(f.read_bytes())
    cluster = 1 << int.from_bytes(data[20:24], "big")
    assert int.from_bytes(data[96:100], "big") == 4, "refcount_bits=16 expected"
    rt = int.from_bytes(data[48:56], "big")
    rb = int.from_bytes(data[rt:rt + 8], "big")
    first = (len(data) + cluster - 1) // cluster
    data.extend(bytes(first * cluster + count * cluster - len(data)))
    for i in range(first, first + count):
        data[rb + 2 * i:rb + 2 * i + 2] = (1).to_bytes(2, "big")
    f.write_bytes(data)


def test_check_repair(tools, tmp_path):
    w = Workload(tools, tmp_path, "cluster_size=65536")
    w.qemu_write("0x11", 0, "1M")
    leak_clusters(w.img, 3)
    assert run([tools["qemu_img"], "check", w.img], check=False).returncode == 3
    w.start()
    run([tools["virsh"], "check", "-q", "-r", "all", w.rec()], check=False)
    check_states(w, "check -r all (3 leaked clusters)")


@pytest.mark.parametrize("opts", [[], ["-c"]])
def test_convert(tools, tmp_path, opts):
    src = tmp_path / "src.qcow2"
    run([tools["qemu_img"], "create", "-q", "-f", "qcow2", src, "4M"])
    run([tools["qemu_io"], "-f", "qcow2", "-c", "write -P 0x91 0 320k", "-c",
         "write -P 0x92 3M 128k", src])
    w = Workload(tools, tmp_path, None, name="out.qcow2")
    w.start()
    # -t writeback: qemu-img's default (unsafe) promises nothing durable.
    w.virsh("convert", "-t", "writeback", *opts, "-O", "qcow2", src, w.rec())
    w.expect("0x91", 0, "320k")
    w.expect("0x92", "3M", "128k")
    w.expect("0", "1M", "1M")
    check_states(w, f"convert -O qcow2 {' '.join(opts)}".strip())


@pytest.mark.parametrize("prealloc", ["off", "metadata", "falloc", "full"])
def test_create(tools, tmp_path, prealloc):
    w = Workload(tools, tmp_path, None)
    w.start()
    w.virsh("create", "-q", "-f", "qcow2", "-o", f"preallocation={prealloc}", w.rec(), "4M")
    w.expect("0", 0, "4M")
    check_states(w, f"create (preallocation={prealloc})")
