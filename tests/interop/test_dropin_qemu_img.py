"""vdisk-virsh as a drop-in for qemu-img (issue 19): run by the name
`qemu-img` (a symlink, as scripts/iotests.sh installs it) it speaks as
qemu-img -- message prefix, usage hint, the "Supported formats:" line of
--help -- and takes qemu-img's options with qemu-img's outcome.  Each case
runs the real qemu-img beside it and compares exit status, messages and
the images made (through qemu-img info / compare)."""
import json

import pytest

from conftest import run


def first_line(text):
    return text.splitlines()[0] if text else ""


def test_error_prefix_is_qemu_img(as_qemu_img, qemu_img, tmp_path):
    missing = tmp_path / "missing.qcow2"
    pq = qemu_img("info", missing, check=False)
    pv = as_qemu_img("info", missing, check=False)
    assert pv.returncode == pq.returncode == 1
    assert pq.stderr.startswith("qemu-img: ")
    assert pv.stderr.startswith("qemu-img: ")
    assert "vdisk-virsh" not in pv.stderr


def test_usage_hint_names_qemu_img(as_qemu_img, qemu_img):
    pq = qemu_img("frobnicate", check=False)
    pv = as_qemu_img("frobnicate", check=False)
    assert pv.returncode == pq.returncode == 1
    assert "Try 'qemu-img --help' for more information" in pq.stderr
    assert "Try 'qemu-img --help' for more information" in pv.stderr


def test_own_name_stays_vdisk_virsh(vdisk, tmp_path):
    p = vdisk("info", tmp_path / "missing.qcow2", check=False)
    assert p.returncode == 1 and p.stderr.startswith("vdisk-virsh: ")


def supported_formats(help_text):
    lines = [l for l in help_text.splitlines() if l.startswith("Supported formats:")]
    assert len(lines) == 1, help_text
    return set(lines[0].split(":", 1)[1].split())


def test_help_lists_supported_formats(as_qemu_img, qemu_img):
    theirs = supported_formats(qemu_img("--help").stdout)
    ours = supported_formats(as_qemu_img("--help").stdout)
    # every format vdisk names is one qemu-img knows, by qemu-img's name
    assert {"raw", "qcow2", "luks"} <= ours
    assert ours - {"iso"} <= theirs


# create -u: the backing file is recorded without being opened, so it may
# not exist yet; its format and the size must then be given.
def test_create_unsafe_with_missing_backing(as_qemu_img, qemu_img, tmp_path):
    results = {}
    for name, tool in (("q", qemu_img), ("v", as_qemu_img)):
        img = tmp_path / f"{name}.qcow2"
        p = tool("create", "-q", "-f", "qcow2", "-u", "-b", "missing.qcow2", "-F", "qcow2",
                 img, "1M", check=False)
        assert p.returncode == 0, p.stderr
        info = json.loads(qemu_img("info", "-U", "--output=json", img).stdout)
        results[name] = (info["virtual-size"], info["backing-filename"],
                         info["backing-filename-format"])
        assert not (tmp_path / "missing.qcow2").exists()
    assert results["v"] == results["q"] == (1 << 20, "missing.qcow2", "qcow2")


@pytest.mark.parametrize("args, message", [
    (["-b", "missing.qcow2", "n.qcow2", "1M"], "Backing file specified without backing format"),
    (["-b", "missing.qcow2", "-F", "qcow2", "n.qcow2"], "Image creation needs a size parameter"),
])
def test_create_unsafe_refusals(as_qemu_img, qemu_img, tmp_path, args, message):
    pq = qemu_img("create", "-f", "qcow2", "-u", *args, check=False, cwd=tmp_path)
    pv = as_qemu_img("create", "-f", "qcow2", "-u", *args, check=False, cwd=tmp_path)
    assert pv.returncode == pq.returncode == 1
    assert pq.stderr == f"qemu-img: n.qcow2: {message}\n"
    assert pv.stderr == pq.stderr
    assert not (tmp_path / "n.qcow2").exists()


@pytest.mark.parametrize("bitmaps", [[], ["b0"], ["b0", "a-longer-bitmap-name", "x"]])
@pytest.mark.parametrize("target_opts", ["", "cluster_size=4k"])
def test_measure_bitmaps_size(as_qemu_img, qemu_img, tmp_path, bitmaps, target_opts):
    src = tmp_path / "src.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", src, "100M")
    for i, name in enumerate(bitmaps):
        qemu_img("bitmap", "--add", "-g", f"{64 << i}k", src, name)
    args = ["measure", "-O", "qcow2", *(["-o", target_opts] if target_opts else []), src]
    for output in ("human", "json"):
        pq = qemu_img(*args, "--output", output)
        pv = as_qemu_img(*args, "--output", output)
        assert pv.stdout == pq.stdout
    assert "bitmaps size: " in qemu_img(*args).stdout


@pytest.mark.parametrize("operands", [
    [],
    ["bs=64k"],
    ["bs=4k", "count=100"],
    ["bs=4k", "skip=10"],
    ["bs=4k", "count=100", "skip=10"],
    ["bs=1M", "skip=100"],          # past the end: an empty output
])
@pytest.mark.parametrize("out_fmt", ["raw", "qcow2"])
def test_dd(as_qemu_img, qemu_img, tmp_path, operands, out_fmt):
    src = tmp_path / "src.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", src, "1M")
    run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 8k 200k", "-c", "write -P 0x11 900k 64k",
         src])
    outs = {}
    for name, tool in (("q", qemu_img), ("v", as_qemu_img)):
        dst = tmp_path / f"{name}.img"
        p = tool("dd", "-f", "qcow2", "-O", out_fmt, *operands, f"if={src}", f"of={dst}",
                 check=False)
        assert p.returncode == 0, p.stderr
        outs[name] = (p.stdout, p.stderr.replace(str(dst), "OUT"))
        info = json.loads(qemu_img("info", "--output=json", dst).stdout)
        outs[name] += (info["virtual-size"], info["format"])
    assert outs["v"] == outs["q"]
    qemu_img("compare", "-f", out_fmt, "-F", out_fmt, tmp_path / "q.img", tmp_path / "v.img")


@pytest.mark.parametrize("operands, message", [
    (["if=a"], "Must specify both input and output files"),
    (["if=a", "of=b", "frob=1"], "unrecognized operand frob"),
    (["if=a", "of=b", "nonsense"], "unrecognized operand nonsense"),
])
def test_dd_refusals(as_qemu_img, qemu_img, tmp_path, operands, message):
    pq = qemu_img("dd", *operands, check=False, cwd=tmp_path)
    pv = as_qemu_img("dd", *operands, check=False, cwd=tmp_path)
    assert pv.returncode == pq.returncode == 1
    assert pq.stderr == f"qemu-img: {message}\n"
    assert pv.stderr == pq.stderr


def make_chain(qemu_img, d):
    """d/base.qcow2 <- d/mid.qcow2 <- d/top.qcow2, names recorded relative."""
    d.mkdir()
    qemu_img("create", "-q", "-f", "qcow2", d / "base.qcow2", "1M")
    qemu_img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", d / "mid.qcow2",
             cwd=d)
    qemu_img("create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", d / "top.qcow2",
             cwd=d)
    run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x33 0 64k", d / "top.qcow2"])


# commit -b: a name is the one recorded, or a path absolute or relative to
# the directory of the image above it; never relative to the current
# directory (where another image of that name may sit).
@pytest.mark.parametrize("base, found", [
    ("base.qcow2", True),
    ("chain/base.qcow2", False),
    ("ABS", True),
])
def test_commit_base_names(as_qemu_img, qemu_img, tmp_path, base, found):
    results = {}
    for name, tool in (("q", qemu_img), ("v", as_qemu_img)):
        work = tmp_path / name
        work.mkdir()
        make_chain(qemu_img, work / "chain")
        arg = str(work / "chain" / "base.qcow2") if base == "ABS" else base
        p = tool("commit", "-b", arg, "chain/top.qcow2", check=False, cwd=work)
        msg = p.stderr.replace(str(work), "W")
        results[name] = (p.returncode, msg)
        if found:
            out = run(["qemu-io", "-f", "qcow2", "-c", "read -P 0x33 0 64k",
                       work / "chain" / "base.qcow2"]).stdout
            assert "Pattern verification failed" not in out
    assert results["v"][0] == results["q"][0] == (0 if found else 1)
    if not found:
        assert results["q"][1].startswith("qemu-img: Did not find 'chain/base.qcow2' in the "
                                          "backing chain of 'chain/top.qcow2'")
        assert results["v"][1].startswith("qemu-img: Did not find 'chain/base.qcow2' in the "
                                          "backing chain of 'chain/top.qcow2'")


@pytest.mark.parametrize("cmd", [["check"], ["compare", "X"]])
@pytest.mark.parametrize("mode", ["none", "writeback", "bogus"])
def test_cache_modes(as_qemu_img, qemu_img, tmp_path, cmd, mode):
    img = tmp_path / "a.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", img, "1M")
    args = [cmd[0], "-T", mode, img] + ([img] if len(cmd) > 1 else [])
    pq = qemu_img(*args, check=False)
    pv = as_qemu_img(*args, check=False)
    assert pv.returncode == pq.returncode
    if mode == "bogus":
        assert pv.returncode != 0 and "bogus" in pv.stderr


def test_check_repair_clears_unknown_autoclear_bits(as_qemu_img, qemu_img, tmp_path):
    import struct
    headers = {}
    for name, tool in (("q", qemu_img), ("v", as_qemu_img)):
        img = tmp_path / f"{name}.qcow2"
        qemu_img("create", "-q", "-f", "qcow2", img, "1M")
        with open(img, "r+b") as f:
            f.seek(88)                      # autoclear_features (qcow2 v3 header)
            f.write(struct.pack(">Q", 1 << 63))
        tool("check", "-q", "-r", "all", img, check=False)
        with open(img, "rb") as f:
            f.seek(88)
            headers[name] = struct.unpack(">Q", f.read(8))[0]
    assert headers["v"] == headers["q"] == 0


@pytest.mark.parametrize("args", [["-b", ""], ["-b", "n.qcow2", "-F", "qcow2"],
                                  ["-o", "size=-1024"], ["-o", "cluster_size=4M"]])
def test_create_refusals_worded_as_qemu_img(as_qemu_img, qemu_img, tmp_path, args):
    pq = qemu_img("create", "-f", "qcow2", *args, "n.qcow2", "1M", check=False, cwd=tmp_path)
    pv = as_qemu_img("create", "-f", "qcow2", *args, "n.qcow2", "1M", check=False, cwd=tmp_path)
    assert pv.returncode == pq.returncode == 1
    # qemu-img prints its "Formatting" line first for some of these
    assert pv.stderr == pq.stderr
    assert not (tmp_path / "n.qcow2").exists()


def test_bad_size_worded_as_qemu_img(as_qemu_img, qemu_img, tmp_path):
    pq = qemu_img("create", "-f", "qcow2", "--", "n.qcow2", "-1024", check=False, cwd=tmp_path)
    pv = as_qemu_img("create", "-f", "qcow2", "--", "n.qcow2", "-1024", check=False, cwd=tmp_path)
    assert pv.returncode == pq.returncode == 1
    assert pv.stderr == pq.stderr


def test_file_prefix_names_a_host_file(as_qemu_img, qemu_img, tmp_path):
    """file:PATH is QEMU's spelling of a host file whose name has a ':'."""
    as_qemu_img("create", "-q", "-f", "qcow2", "file:a:b.qcow2", "1M", cwd=tmp_path)
    info = json.loads(qemu_img("info", "--output=json", "file:a:b.qcow2", cwd=tmp_path).stdout)
    assert info["format"] == "qcow2" and info["virtual-size"] == 1 << 20
    assert (tmp_path / "a:b.qcow2").exists()
    qemu_img("check", "file:a:b.qcow2", cwd=tmp_path)
    p = as_qemu_img("check", "file:a:b.qcow2", cwd=tmp_path)
    assert "No errors were found" in p.stdout


def test_missing_backing_worded_as_qemu_img(as_qemu_img, qemu_img, tmp_path):
    args = ["create", "-f", "qcow2", "-b", "missing", "-F", "qcow2", "n.qcow2"]
    pq = qemu_img(*args, check=False, cwd=tmp_path)
    pv = as_qemu_img(*args, check=False, cwd=tmp_path)
    assert pv.returncode == pq.returncode == 1
    assert pv.stderr == pq.stderr
