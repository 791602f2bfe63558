"""vdisk-virsh run as `qemu-img` does what qemu-img 7.2 does where the two
could differ without either being wrong (issue 19; iotests 024, 190, 214
...): the real qemu-img, on the same input, is the oracle."""
import json

import pytest

from conftest import run

CLUSTER = 65536


def qio(path, *cmds, fmt="qcow2", cwd=None):
    argv = ["qemu-io", "-f", fmt]
    for c in cmds:
        argv += ["-c", c]
    return run(argv + [str(path)], cwd=cwd)


# 024: a safe rebase copies what differs between the old and the new
# backing file as data, zeros included, so `map` shows the same allocation.
@pytest.mark.parametrize("overlay_opts", ["", "compat=0.10"])
def test_rebase_allocation(as_qemu_img, qemu_img, vdisk, tmp_path, overlay_opts):
    maps = {}
    for name, tool in (("q", qemu_img), ("v", as_qemu_img)):
        d = tmp_path / name
        d.mkdir()
        qemu_img("create", "-q", "-f", "qcow2", "old.qcow2", "1M", cwd=d)
        qemu_img("create", "-q", "-f", "qcow2", "new.qcow2", "1M", cwd=d)
        extra = ["-o", overlay_opts] if overlay_opts else []
        qemu_img("create", "-q", "-f", "qcow2", *extra, "-b", "old.qcow2", "-F", "qcow2",
                 "ov.qcow2", "1M", cwd=d)
        # old: 11 11 -- 11   new: -- 22 22 11
        qio("old.qcow2", f"write -P 0x11 0 {2 * CLUSTER}", f"write -P 0x11 {3 * CLUSTER} {CLUSTER}",
            cwd=d)
        qio("new.qcow2", f"write -P 0x22 {CLUSTER} {2 * CLUSTER}",
            f"write -P 0x11 {3 * CLUSTER} {CLUSTER}", cwd=d)
        tool("rebase", "-f", "qcow2", "-b", "new.qcow2", "-F", "qcow2", "ov.qcow2", cwd=d)
        out = qio("ov.qcow2", f"read -P 0x11 0 {CLUSTER}", f"read -P 0x11 {CLUSTER} {CLUSTER}",
                  f"read -P 0 {2 * CLUSTER} {CLUSTER}", f"read -P 0x11 {3 * CLUSTER} {CLUSTER}",
                  cwd=d).stdout
        assert "Pattern verification failed" not in out
        maps[name] = qemu_img("map", "ov.qcow2", cwd=d).stdout
    assert maps["v"] == maps["q"]


# 252: past the old backing file's end (or with none) qemu-img writes zeros
# as zero clusters; an old backing file shorter than the new one.
@pytest.mark.parametrize("old_size", [None, "128k", "192k"])
def test_rebase_allocation_past_old_end(as_qemu_img, qemu_img, tmp_path, old_size):
    maps = {}
    for name, tool in (("q", qemu_img), ("v", as_qemu_img)):
        d = tmp_path / name
        d.mkdir()
        backing = []
        if old_size:
            qemu_img("create", "-q", "-f", "qcow2", "old.qcow2", old_size, cwd=d)
            qio("old.qcow2", f"write -P 0x33 0 {CLUSTER}", cwd=d)
            backing = ["-b", "old.qcow2", "-F", "qcow2"]
        qemu_img("create", "-q", "-f", "qcow2", *backing, "ov.qcow2", str(6 * CLUSTER), cwd=d)
        qemu_img("create", "-q", "-f", "qcow2", "new.qcow2", str(6 * CLUSTER), cwd=d)
        qio("ov.qcow2", f"write -P 0x22 0 {CLUSTER}", cwd=d)
        qio("new.qcow2", f"write -P 0x11 {CLUSTER} {CLUSTER}", f"write -P 0x11 {4 * CLUSTER} {CLUSTER}",
            cwd=d)
        tool("rebase", "-b", "new.qcow2", "-F", "qcow2", "ov.qcow2", cwd=d)
        maps[name] = qemu_img("map", "--output=json", "ov.qcow2", cwd=d).stdout
        maps[name] = [{k: v for k, v in e.items() if k != "offset"} for e in json.loads(maps[name])]
    assert maps["v"] == maps["q"]


def test_rebase_as_vdisk_writes_zero_clusters(vdisk, qemu_img, tmp_path):
    """As vdisk-virsh, a range the old backing file reads as zeros becomes a
    zero cluster (no data allocated), with the same guest view."""
    qemu_img("create", "-q", "-f", "qcow2", "old.qcow2", "1M", cwd=tmp_path)
    qemu_img("create", "-q", "-f", "qcow2", "new.qcow2", "1M", cwd=tmp_path)
    qemu_img("create", "-q", "-f", "qcow2", "-b", "old.qcow2", "-F", "qcow2", "ov.qcow2", cwd=tmp_path)
    qio("new.qcow2", f"write -P 0x22 0 {CLUSTER}", cwd=tmp_path)
    vdisk("rebase", "-b", "new.qcow2", "-F", "qcow2", "ov.qcow2", cwd=tmp_path)
    assert "Pattern verification failed" not in qio("ov.qcow2", f"read -P 0 0 {CLUSTER}",
                                                    cwd=tmp_path).stdout
    m = json.loads(qemu_img("map", "--output=json", "ov.qcow2", cwd=tmp_path).stdout)
    assert m[0]["zero"] and not m[0]["data"] and m[0]["depth"] == 0


# 190: bitmap tables and the directory are written to their own length, not
# padded to whole clusters, so the file is as long as qemu-img's (a script
# that measures the file -- `measure -f raw` -- sees the same number).
@pytest.mark.parametrize("cluster", ["64k", "2M"])
@pytest.mark.parametrize("grans", [["512"], ["512", "2M"], ["64k", "1M", "4M"]])
def test_bitmap_add_file_length(as_qemu_img, qemu_img, tmp_path, cluster, grans):
    sizes = {}
    for name, tool in (("q", qemu_img), ("v", as_qemu_img)):
        img = tmp_path / f"{name}.qcow2"
        qemu_img("create", "-q", "-f", "qcow2", "-o", f"cluster_size={cluster}", img, "2T")
        for i, g in enumerate(grans):
            tool("bitmap", "--add", "-g", g, "-f", "qcow2", img, f"b{i}")
        assert "No errors were found" in qemu_img("check", img).stdout
        sizes[name] = (img.stat().st_size,
                       qemu_img("measure", "-O", "qcow2", "-f", "raw", img).stdout.splitlines()[1])
    assert sizes["v"] == sizes["q"]


def poke(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


# 214: compressed clusters whose size field was raised to reach into the
# data clusters after them.  qemu-img check reports (and repairs) the
# refcounts; vdisk-virsh also says which structures overlap, run as
# qemu-img it says what qemu-img says.
@pytest.mark.parametrize("repair", [[], ["-r", "all"]])
def test_check_overlaps_reported_as_qemu_img(as_qemu_img, qemu_img, vdisk, tmp_path, repair):
    outs = {}
    for name, tool in (("q", qemu_img), ("v", as_qemu_img), ("own", vdisk)):
        img = tmp_path / f"{name}.qcow2"
        qemu_img("create", "-q", "-f", "qcow2", "-o", "cluster_size=2M,compression_type=zlib",
                 img, "8M")
        qio(img, "write -c -P 0x11 0 2M", "write -c -P 0x11 2M 2M")
        poke(img, 0x800000, b"\x7f\xfe")
        poke(img, 0x800008, b"\x7f\xfe")
        qio(img, "write -P 0x22 4M 4M")
        p = tool("check", *repair, img, check=False)
        outs[name] = (p.returncode, p.stdout.replace(str(img), "IMG"),
                      p.stderr.replace(str(img), "IMG"))
    assert outs["q"][0] != 0 or repair
    assert outs["v"] == outs["q"]
    assert "overlaps" not in outs["v"][2]
    assert "overlaps" in outs["own"][2]


# bitmap --object / --image-opts: an encrypted image, its passphrase from a
# secret object, and --merge from a source named with options as well.
def test_bitmap_image_opts_and_object(as_qemu_img, qemu_img, tmp_path):
    pw = tmp_path / "pw"
    pw.write_bytes(b"hunter2")
    sec = ["--object", f"secret,id=s,file={pw}"]
    out = {}
    for name, tool in (("q", qemu_img), ("v", as_qemu_img)):
        d = tmp_path / name
        d.mkdir()
        img = d / "e.qcow2"
        qemu_img("create", "-q", "-f", "qcow2", *sec, "-o",
                 "encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=100", img, "1M")
        opts = f"driver=qcow2,file.filename={img},encrypt.key-secret=s"
        src = d / "s.qcow2"
        qemu_img("create", "-q", "-f", "qcow2", src, "1M")
        qemu_img("bitmap", "--add", src, "m")
        results = []
        for args in (["--add", "-g", "128k", *sec, "--image-opts", opts, "b0"],
                     ["--add", str(img), "b1"],                         # no passphrase
                     ["--add", "-f", "qcow2", "--image-opts", opts, "b1"],
                     ["--disable", *sec, "--image-opts", opts, "b0"],
                     # the source stays a file name (qemu-img 7.2)
                     ["--merge", "m", "-b", f"driver=qcow2,file.filename={src}", *sec,
                      "--image-opts", opts, "b0"],
                     ["--merge", "m", "-b", str(src), "-F", "qcow2", *sec, "--image-opts", opts,
                      "b0"]):
            p = tool("bitmap", *args, check=False)
            # vdisk's own hint after qemu-img's words for a missing passphrase
            err = p.stderr.replace(str(img), "IMG").replace(str(d), "D")
            err = err.split(": the image is encrypted")[0].rstrip("\n")
            results.append((p.returncode, p.stdout, err))
        info = json.loads(qemu_img("info", "--output=json", *sec, "--image-opts", opts).stdout)
        out[name] = (results, info["format-specific"]["data"].get("bitmaps"))
    assert out["v"] == out["q"]
    assert out["q"][1][0]["name"] == "b0" and out["q"][1][0]["granularity"] == 131072


def test_bitmap_object_refuses_data_as_vdisk(vdisk, qemu_img, tmp_path):
    img = tmp_path / "a.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", img, "1M")
    p = vdisk("bitmap", "--add", "--object", "secret,id=s,data=x", img, "b0", check=False)
    assert p.returncode == 1 and "data=" in p.stderr
