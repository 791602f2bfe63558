"""Backing chains of any depth against qemu-img: raw or qcow2 at each level,
relative names resolved against the directory of the image naming them
(whatever the working directory), missing files and loops as clear errors.

Chains are built by qemu-img/qemu-io (and by vdisk-virsh create, read back
by qemu-img); contents are compared with `qemu-img convert -O raw` of the
same chain, maps and chain listings with qemu-img's JSON.
"""
import json

import pytest

MiB = 1 << 20
SIZE = 4 * MiB


def build_chain(qemu_img, qemu_io, d, fmts, dirs=False):
    """fmts[0] is the base's format; every layer above is qcow2 and writes
    its own pattern at its own offset.  With dirs, each layer lives in its
    own directory and names its backing file by a relative path."""
    paths = []
    for i, fmt in enumerate(fmts):
        sub = d / f"l{i}" if dirs else d
        sub.mkdir(exist_ok=True)
        p = sub / f"layer{i}.{fmt}"
        if i == 0:
            qemu_img("create", "-q", "-f", fmt, p, str(SIZE))
        else:
            prev = paths[-1]
            name = f"../l{i - 1}/{prev.name}" if dirs else prev.name
            qemu_img("create", "-q", "-f", "qcow2", "-b", name, "-F", fmts[i - 1], p)
        off = (i * 192 * 1024) % (SIZE - 256 * 1024)
        qemu_io("-f", fmt, "-c", f"write -P {0x10 + i} {off} 256k", p)
        if i % 3 == 2:
            qemu_io("-f", fmt, "-c", f"write -z {off + 64 * 1024} 64k", p)
        paths.append(p)
    return paths


def same_raw(vdisk, qemu_img, top, tmp_path, cwd=None):
    a, b = tmp_path / "v.raw", tmp_path / "q.raw"
    pv = vdisk("convert", "-O", "raw", top, a, cwd=cwd, check=False)
    assert pv.returncode == 0, pv.stderr
    qemu_img("convert", "-O", "raw", top, b)
    assert open(a, "rb").read() == open(b, "rb").read()


@pytest.mark.parametrize("fmts", [
    ["raw", "qcow2"],
    ["qcow2", "qcow2", "qcow2"],
    ["raw"] + ["qcow2"] * 7,
    ["qcow2"] * 20,
])
def test_chain_content(vdisk, qemu_img, qemu_io, tmp_path, fmts):
    paths = build_chain(qemu_img, qemu_io, tmp_path, fmts)
    same_raw(vdisk, qemu_img, paths[-1], tmp_path)


def test_chain_map_equal(vdisk, qemu_img, qemu_io, tmp_path):
    paths = build_chain(qemu_img, qemu_io, tmp_path, ["raw", "qcow2", "qcow2", "qcow2"])
    v = json.loads(vdisk("map", "--output", "json", paths[-1]).stdout)
    q = json.loads(qemu_img("map", "--output", "json", paths[-1]).stdout)
    assert v == q


def chain_names(listing):
    return [(e["filename"], e.get("backing-filename"), e.get("backing-filename-format"),
             e["format"], e["virtual-size"]) for e in listing]


@pytest.mark.parametrize("dirs", [False, True])
def test_backing_chain_listing(vdisk, qemu_img, qemu_io, tmp_path, dirs):
    paths = build_chain(qemu_img, qemu_io, tmp_path, ["raw", "qcow2", "qcow2"], dirs=dirs)
    v = json.loads(vdisk("info", "--backing-chain", "--output", "json", paths[-1]).stdout)
    q = json.loads(qemu_img("info", "--backing-chain", "--output", "json", paths[-1]).stdout)
    assert chain_names(v) == chain_names(q)


def test_relative_names_from_other_cwd(vdisk, qemu_img, qemu_io, tmp_path):
    """Each layer in its own directory, named ../lN/...; run from a
    directory where none of the relative names would resolve."""
    paths = build_chain(qemu_img, qemu_io, tmp_path, ["raw", "qcow2", "qcow2", "qcow2"], dirs=True)
    elsewhere = tmp_path / "elsewhere" / "deeper"
    elsewhere.mkdir(parents=True)
    rel_top = "../../" + str(paths[-1].relative_to(tmp_path))
    same_raw(vdisk, qemu_img, paths[-1], tmp_path, cwd=elsewhere)
    p = vdisk("info", "--backing-chain", rel_top, cwd=elsewhere, check=False)
    assert p.returncode == 0, p.stderr


def test_vdisk_created_chain_read_by_qemu(vdisk, qemu_img, qemu_io, tmp_path):
    base = tmp_path / "base.raw"
    qemu_img("create", "-q", "-f", "raw", base, str(SIZE))
    qemu_io("-f", "raw", "-c", "write -P 0x61 0 1M", base)
    prev, prev_fmt = base.name, "raw"
    for i in range(5):
        f = tmp_path / f"o{i}.qcow2"
        vdisk("create", "-q", "-f", "qcow2", "-b", prev, "-F", prev_fmt, f)
        qemu_io("-c", f"write -P {0x70 + i} {i * 512 * 1024} 64k", f)
        prev, prev_fmt = f.name, "qcow2"
    p = qemu_img("check", tmp_path / "o4.qcow2", check=False)
    assert p.returncode == 0, p.stdout
    same_raw(vdisk, qemu_img, tmp_path / "o4.qcow2", tmp_path)


def test_backing_shorter_than_overlay(vdisk, qemu_img, qemu_io, tmp_path):
    base = tmp_path / "base.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", base, "1M")
    qemu_io("-c", "write -P 0x42 0 1M", base)
    top = tmp_path / "top.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top, str(SIZE))
    same_raw(vdisk, qemu_img, top, tmp_path)
    v = json.loads(vdisk("map", "--output", "json", top).stdout)
    q = json.loads(qemu_img("map", "--output", "json", top).stdout)
    assert v == q


# ---- errors ------------------------------------------------------------------

def test_missing_backing_file(vdisk, qemu_img, qemu_io, tmp_path):
    paths = build_chain(qemu_img, qemu_io, tmp_path, ["qcow2", "qcow2", "qcow2"])
    paths[0].unlink()
    for args in (["info", "--backing-chain"], ["map"], ["convert", "-O", "raw"]):
        extra = [tmp_path / "out.raw"] if args[0] == "convert" else []
        pv = vdisk(*args, paths[-1], *extra, check=False)
        pq = qemu_img(*args, paths[-1], *extra, check=False)
        assert pv.returncode == pq.returncode == 1, (args, pv.stderr)
        # the message names the missing file and says what is wrong
        assert paths[0].name in pv.stderr and "No such file" in pv.stderr
    # without the chain the overlay still opens
    p = vdisk("info", paths[-1], check=False)
    assert p.returncode == 0, p.stderr


def test_loop_is_an_error(vdisk, qemu_img, tmp_path):
    """a -> b -> a.  (qemu-img itself spins on such a chain, so it is no
    oracle here: vdisk must stop with a message naming the loop.)"""
    a, b = tmp_path / "a.qcow2", tmp_path / "b.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", a, "1M")
    qemu_img("create", "-q", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", b)
    qemu_img("rebase", "-u", "-b", "b.qcow2", "-F", "qcow2", a)
    for args in (["info", "--backing-chain"], ["map"], ["convert", "-O", "raw"]):
        extra = [tmp_path / "out.raw"] if args[0] == "convert" else []
        pv = vdisk(*args, b, *extra, check=False, timeout=60)
        assert pv.returncode == 1, pv.stderr
        assert "loop" in pv.stderr and "b.qcow2" in pv.stderr


def test_self_loop_is_an_error(vdisk, qemu_img, tmp_path):
    a = tmp_path / "a.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", a, "1M")
    qemu_img("rebase", "-u", "-b", "a.qcow2", "-F", "qcow2", a)
    pv = vdisk("convert", "-O", "raw", a, tmp_path / "o.raw", check=False, timeout=60)
    assert pv.returncode == 1
    assert "loop" in pv.stderr and "a.qcow2" in pv.stderr
    assert not (tmp_path / "o.raw").exists()
