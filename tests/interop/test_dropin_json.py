"""qemu-img's json:{...} image names (issue 19; iotests 089, 110): vdisk-virsh
reads them with json-c as the same options --image-opts takes, and answers
as qemu-img does on the same names (stdout, stderr, exit status).  A json:
name stored as a backing file in an image header is never parsed: the
guest writes those bytes."""
import json

import pytest

from conftest import run


@pytest.fixture
def chain(qemu_img, tmp_path):
    qemu_img("create", "-q", "-f", "qcow2", "base.qcow2", "1M", cwd=tmp_path)
    run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x42 0 64k", "base.qcow2"], cwd=tmp_path)
    qemu_img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2",
             cwd=tmp_path)
    run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x17 512k 64k", "top.qcow2"], cwd=tmp_path)
    return tmp_path


NAMES = [
    '{"driver":"qcow2","file.filename":"top.qcow2"}',
    "{'driver': 'qcow2', 'file': {'driver': 'file', 'filename': 'top.qcow2'}}",
    '{"file": {"filename": "top.qcow2"}}',
    '{"driver": "raw", "file": {"driver": "file", "filename": "top.qcow2"}}',
    "{'driver': 'qcow2', 'file': {'driver': 'file', 'filename': 'top.qcow2'}, 'backing': null}",
    '{"driver":"qcow2","file.filename":"top.qcow2","l2-cache-size":1048576}',
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("cmd", [["info"], ["info", "--output=json"], ["info", "--backing-chain"],
                                 ["map", "--output=json"], ["check"]])
def test_json_names(as_qemu_img, qemu_img, chain, name, cmd):
    if cmd[0] == "check" and '"raw"' in name:
        pytest.skip("check of a raw image: nothing to check")
    pq = qemu_img(*cmd, "json:" + name, check=False, cwd=chain)
    pv = as_qemu_img(*cmd, "json:" + name, check=False, cwd=chain)
    assert pq.returncode == 0, pq.stderr
    assert (pv.returncode, pv.stdout, pv.stderr) == (pq.returncode, pq.stdout, pq.stderr)


@pytest.mark.parametrize("backing", ["", ", 'backing': null"])
def test_json_convert(as_qemu_img, qemu_img, chain, backing):
    name = f"json:{{'driver': 'qcow2', 'file': {{'filename': 'top.qcow2'}}{backing}}}"
    qemu_img("convert", "-O", "raw", name, "q.raw", cwd=chain)
    as_qemu_img("convert", "-O", "raw", name, "v.raw", cwd=chain)
    assert (chain / "q.raw").read_bytes() == (chain / "v.raw").read_bytes()
    # backing: null shows zeros where the base has 0x42
    assert (chain / "v.raw").read_bytes()[:1] == (b"\0" if backing else b"\x42")


@pytest.mark.parametrize("name", [
    "json:[1]",
    'json:{"driver":"qcow2","file.filename":"top.qcow2"} x',
    'json:{"driver":"qcow2","file.filename":"missing.qcow2"}',
])
def test_json_refusals_as_qemu_img(as_qemu_img, qemu_img, chain, name):
    pq = qemu_img("info", name, check=False, cwd=chain)
    pv = as_qemu_img("info", name, check=False, cwd=chain)
    assert pq.returncode == 1
    assert (pv.returncode, pv.stdout, pv.stderr) == (pq.returncode, pq.stdout, pq.stderr)


@pytest.mark.parametrize("name", [
    "json:{bad",
    '{"driver":"qcow2","file":{"driver":"blkdebug","inject-error":[{"event":"l2_load"}],'
    '"image.filename":"top.qcow2"}}',
    '{"driver":"qcow2","file":{"driver":"ssh","path":"top.qcow2"}}',
    # a debug driver over a real file is not that file under another name
    '{"driver":"qcow2","file":{"driver":"blkdebug","filename":"top.qcow2"}}',
    '{"driver":"qcow2","file":{"driver":"blkdebug","image":{"driver":"file","filename":"top.qcow2"}}}',
    '{"driver":"null-co"}',
])
def test_json_unsupported_is_refused(vdisk, qemu_img, chain, name):
    name = name if name.startswith("json:") else "json:" + name
    if '"blkdebug","image"' in name:
        # qemu-img reads the image through blkdebug; vdisk has no blkdebug
        assert qemu_img("info", name, cwd=chain).returncode == 0
    p = vdisk("info", name, check=False, cwd=chain)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith("vdisk-virsh: ") and len(p.stderr.splitlines()) == 1


def test_json_backing_name_in_header_is_not_parsed(vdisk, qemu_img, tmp_path):
    """qemu-img follows a json: backing name; the bytes are the guest's, so
    vdisk-virsh opens no file and no driver they name."""
    (tmp_path / "hostfile").write_bytes(b"host data\n" * 100)
    evil = 'json:{"driver":"raw","file":{"driver":"file","filename":"hostfile"}}'
    qemu_img("create", "-q", "-f", "qcow2", "-u", "-b", evil, "-F", "raw", "evil.qcow2", "1M",
             cwd=tmp_path)
    # the oracle: qemu-img itself reads the host file through it
    q = run(["qemu-io", "-f", "qcow2", "-c", "read -P 0x68 0 1", "evil.qcow2"], cwd=tmp_path)
    assert "Pattern verification failed" not in q.stdout
    for cmd in (["info", "--backing-chain"], ["convert", "-O", "raw"], ["compare"]):
        extra = {"convert": ["out.raw"], "compare": ["evil.qcow2"]}.get(cmd[0], [])
        p = vdisk(*cmd, "evil.qcow2", *extra, check=False, cwd=tmp_path)
        assert p.returncode != 0
        assert "json:" in p.stderr
    assert not (tmp_path / "out.raw").exists()
    info = json.loads(vdisk("info", "--output=json", "evil.qcow2", cwd=tmp_path).stdout)
    assert info["backing-filename"] == evil
