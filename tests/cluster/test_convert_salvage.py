"""convert --salvage against qemu-img's on one faulty NBD export (issue 19;
iotest 251 does the same with QEMU's blkdebug driver, which vdisk has not).

nbdkit's sh plugin serves a 4 MiB file and answers EIO to reads that touch
chosen sectors and to block status at one offset.  qemu-img convert --salvage
is the oracle: the same warnings (one per sector it gave up on), the same exit
status and the same bytes in the target (unreadable sectors as zeros).
Without --salvage the copy fails, names the source, and leaves no target.
nbdkit listens on a unix socket and is stopped by pid."""
import os
import random

import pytest

from conftest import run

MiB = 1 << 20
BAD_READS = [(MiB + 2560, 512), (2 * MiB, 4096)]     # (offset, length)
BAD_STATUS = 3 * MiB                                 # block status fails here

PLUGIN = """#!/bin/bash
touches() {{ [ $1 -lt $(($3 + $4)) ] && [ $(($1 + $2)) -gt $3 ]; }}
case "$1" in
  get_size) echo {size} ;;
  can_extents) exit 0 ;;
  pread)
    for r in {bad}; do
      if touches $4 $3 ${{r%:*}} ${{r#*:}}; then echo "EIO injected" >&2; exit 1; fi
    done
    dd if="{data}" skip=$4 count=$3 iflag=skip_bytes,count_bytes status=none ;;
  extents)
    if touches $4 $3 {status} 512; then echo "EIO injected" >&2; exit 1; fi
    echo "$4 $3 0" ;;
  *) exit 2 ;;
esac
"""


@pytest.fixture
def faulty_export(nbd_server, tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(random.Random(251).randbytes(4 * MiB))
    script = tmp_path / "faulty.sh"
    script.write_text(PLUGIN.format(size=4 * MiB, data=data, status=BAD_STATUS,
                                    bad=" ".join(f"{o}:{n}" for o, n in BAD_READS)))
    os.chmod(script, 0o755)
    server = nbd_server(["sh", script])
    return server.uri, data.read_bytes()


def warnings(stderr, prog):
    lines = [line.removeprefix(prog + ": ") for line in stderr.splitlines()]
    return sorted(line for line in lines if line.startswith("warning:"))


def test_salvage_as_qemu_img(vdisk, qemu_img, faulty_export, tmp_path):
    uri, data = faulty_export
    q = qemu_img("convert", "--salvage", "-f", "raw", "-O", "raw", uri, tmp_path / "q.raw")
    v = vdisk("convert", "--salvage", "-f", "raw", "-O", "raw", uri, tmp_path / "v.raw")
    assert warnings(v.stderr, "vdisk-virsh") == warnings(q.stderr, "qemu-img")
    got = (tmp_path / "v.raw").read_bytes()
    assert got == (tmp_path / "q.raw").read_bytes()
    # what was read is the source's, what was not is zeros
    expect = bytearray(data)
    for off, n in BAD_READS:
        expect[off:off + n] = bytes(n)
    assert got == bytes(expect)
    read_warnings = [w for w in warnings(v.stderr, "vdisk-virsh") if "block status" not in w]
    assert len(read_warnings) == sum(n // 512 for _, n in BAD_READS)


def test_salvage_quiet(vdisk, faulty_export, tmp_path):
    uri, _ = faulty_export
    v = vdisk("convert", "-q", "--salvage", "-f", "raw", "-O", "qcow2", uri, tmp_path / "v.qcow2")
    assert v.stderr == ""
    run(["qemu-img", "check", tmp_path / "v.qcow2"])


def test_without_salvage_the_copy_fails(vdisk, faulty_export, tmp_path):
    uri, _ = faulty_export
    p = vdisk("convert", "-f", "raw", "-O", "qcow2", uri, tmp_path / "v.qcow2", check=False)
    assert p.returncode == 1 and "socket=" in p.stderr
    assert not (tmp_path / "v.qcow2").exists()
