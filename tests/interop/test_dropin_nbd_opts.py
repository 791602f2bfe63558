"""--image-opts with the NBD protocol at the top (driver=nbd, server.type=
unix|inet, server.path / server.host / server.port, export), as qemu-img
takes it (issue 19; iotest nbd-qemu-allocation): the same map, compare and
convert results as qemu-img's against one qemu-nbd export, also with
QEMU's x-dirty-bitmap=CONTEXT (block status read from another metadata
context, as nbd-qemu-allocation does with qemu:allocation-depth).  qemu-nbd
listens on a unix socket or on loopback and is stopped by pid."""
import json
import socket
import subprocess
import time

import pytest

from conftest import run


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["unix", "inet"])
def export(request, qemu_img, tmp_path):
    qemu_img("create", "-q", "-f", "qcow2", tmp_path / "base.qcow2", "4M")
    run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 2M", tmp_path / "base.qcow2"])
    qemu_img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
             tmp_path / "t.qcow2", "4M", cwd=tmp_path)
    run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x22 1M 2M", tmp_path / "t.qcow2"])
    if request.param == "unix":
        sock = tmp_path / "nbd.sock"
        where = ["-k", str(sock)]
        opts = f"driver=nbd,server.type=unix,server.path={sock},export=e"
    else:
        port = free_port()
        where = ["-b", "127.0.0.1", "-p", str(port)]
        opts = f"driver=nbd,server.type=inet,server.host=127.0.0.1,server.port={port},export=e"
    # -A: qemu:allocation-depth offered beside base:allocation
    nbd = subprocess.Popen(["qemu-nbd", "-t", "-r", "-A", "-f", "qcow2", "-x", "e", *where,
                            str(tmp_path / "t.qcow2")], stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            if run(["qemu-img", "info", "--image-opts", opts], check=False).returncode == 0:
                break
            if nbd.poll() is not None:
                pytest.fail(f"qemu-nbd failed: {nbd.stderr.read().decode()}")
            time.sleep(0.05)
        yield opts, tmp_path
    finally:
        nbd.terminate()
        nbd.wait()


def test_map(as_qemu_img, qemu_img, export):
    opts, _ = export
    pq = qemu_img("map", "--output=json", "--image-opts", opts)
    pv = as_qemu_img("map", "--output=json", "--image-opts", opts)
    assert json.loads(pv.stdout) == json.loads(pq.stdout)


def test_compare_and_convert(as_qemu_img, qemu_img, export):
    opts, d = export
    second = f"driver=qcow2,file.filename={d / 't.qcow2'}"
    pq = qemu_img("compare", "--image-opts", opts, second, check=False)
    pv = as_qemu_img("compare", "--image-opts", opts, second, check=False)
    assert pq.returncode == 0
    assert (pv.returncode, pv.stdout, pv.stderr) == (pq.returncode, pq.stdout, pq.stderr)
    as_qemu_img("convert", "-O", "raw", "--image-opts", opts, str(d / "v.raw"))
    qemu_img("convert", "-O", "raw", "--image-opts", opts, str(d / "q.raw"))
    assert (d / "v.raw").read_bytes() == (d / "q.raw").read_bytes()


@pytest.mark.parametrize("bad", ["server.type=vsock", "server.bogus=1"])
def test_unknown_server_options_refused(vdisk, export, bad):
    opts, _ = export
    p = vdisk("info", "--image-opts", f"{opts},{bad}", check=False)
    assert p.returncode == 1 and p.stdout == ""
    assert bad.split("=")[0].split(".")[-1] in p.stderr or bad.split("=")[1] in p.stderr


DEPTH = "x-dirty-bitmap=qemu:allocation-depth"


def test_map_from_allocation_depth(as_qemu_img, qemu_img, export):
    # depth 0 reads as data, 1 (this image) as a hole without zeros (not
    # present), 2 (the backing file) as zeros with data: QEMU's reading
    opts, _ = export
    pq = qemu_img("map", "--output=json", "--image-opts", f"{opts},{DEPTH}")
    pv = as_qemu_img("map", "--output=json", "--image-opts", f"{opts},{DEPTH}")
    assert json.loads(pv.stdout) == json.loads(pq.stdout)
    assert [e["present"] for e in json.loads(pv.stdout)] == [True, False, True]


def test_unknown_contents_are_read(as_qemu_img, qemu_img, export):
    # a hole without the zero bit is copied, not skipped
    opts, d = export
    as_qemu_img("convert", "-O", "raw", "--image-opts", f"{opts},{DEPTH}", str(d / "v.raw"))
    qemu_img("convert", "-O", "raw", "--image-opts", f"{opts},{DEPTH}", str(d / "q.raw"))
    v = (d / "v.raw").read_bytes()
    assert v == (d / "q.raw").read_bytes()
    assert v[1 << 20:3 << 20] == b"\x22" * (2 << 20)


def test_uri_spelling(vdisk, export):
    opts, d = export
    kv = dict(o.split("=", 1) for o in opts.split(",")[1:])
    if kv["server.type"] == "unix":
        uri = f"nbd+unix:///e?socket={kv['server.path']}&x-dirty-bitmap=qemu%3Aallocation-depth"
    else:
        uri = (f"nbd://{kv['server.host']}:{kv['server.port']}/e"
               "?x-dirty-bitmap=qemu%3Aallocation-depth")
    a = vdisk("map", "--output=json", uri).stdout
    b = vdisk("map", "--output=json", "--image-opts", f"{opts},{DEPTH}").stdout
    assert json.loads(a) == json.loads(b)
    assert len(json.loads(a)) == 3


def test_context_the_server_lacks(vdisk, qemu_img, export):
    opts, _ = export
    bad = f"{opts},x-dirty-bitmap=qemu:dirty-bitmap:nothing"
    assert qemu_img("map", "--image-opts", bad, check=False).returncode == 1
    p = vdisk("map", "--image-opts", bad, check=False)
    assert p.returncode == 1 and p.stdout == ""
    assert "qemu:dirty-bitmap:nothing" in p.stderr
