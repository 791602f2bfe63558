"""Helpers of the RBD pool tests (no tests here): vdisk-virsh against a
private registry (VDISK_CONFIG_DIR in the test's temporary directory) and
pools of type vdisk whose <source> is an RBD pool of the test cluster.

Expected values come from Ceph's own tools (rbd info/du/snap ls/children,
ceph df), qemu-img with rbd: names, and the bytes written -- never from
vdisk-virsh's own output.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import VDISK_VIRSH

NS = "http://libvirt.org/schemas/storagepool/vdisk/1.0"


class Virsh:
    """vdisk-virsh with its own registry; run(...) -> CompletedProcess."""

    def __init__(self, tmp_path, ceph):
        self.tmp = Path(tmp_path)
        self.ceph = ceph
        self.env = dict(os.environ, VDISK_CONFIG_DIR=str(self.tmp / "registry"))

    def run(self, *args, check=True, timeout=180, **kw):
        p = subprocess.run([str(VDISK_VIRSH), *map(str, args)], capture_output=True, text=True,
                           env=self.env, timeout=timeout, **kw)
        if p.returncode < 0:
            pytest.fail(f"vdisk-virsh died with signal {-p.returncode}\n{p.stderr}")
        if check and p.returncode != 0:
            pytest.fail(f"vdisk-virsh {' '.join(map(str, args))} exited {p.returncode}\n"
                        f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    def fails(self, *args, timeout=180):
        p = self.run(*args, check=False, timeout=timeout)
        assert p.returncode != 0, f"vdisk-virsh {' '.join(map(str, args))} succeeded:\n{p.stdout}"
        return p.stderr

    def pool_xml(self, name, rbd_pool="rbd", host=True, port=None, auth="", extra="", config=False):
        hosts = (f"    <host name='127.0.0.1' port='{port or self.ceph.port}'/>\n" if host else "")
        cfg = f"  <vdisk:config file='{self.ceph.conf}'/>\n" if config else ""
        return (f"<pool type='vdisk' xmlns:vdisk='{NS}'>\n  <name>{name}</name>\n"
                f"  <source>\n{hosts}    <name>{rbd_pool}</name>\n{auth}  </source>\n"
                f"{cfg}{extra}</pool>\n")

    def define(self, name, **kw):
        xml = self.tmp / f"{name}.xml"
        xml.write_text(self.pool_xml(name, **kw))
        self.run("pool-define", xml)
        return xml

    def make_pool(self, name="ceph", **kw):
        self.define(name, **kw)
        self.run("pool-start", name)
        return name


def rbd_json(ceph, *args):
    return json.loads(ceph.rbd(*args, "--format", "json").stdout)


def rbd_du(ceph, image):
    """(provisioned, used) bytes of an image, as `rbd du` counts them."""
    rows = rbd_json(ceph, "du", image)["images"]
    row = next(r for r in rows if r["name"] == image and "snapshot" not in r)
    return row["provisioned_size"], row["used_size"]


def rbd_read(ceph, image, tmp_path):
    """The bytes of an image, through `rbd export` (Ceph's own reader)."""
    out = Path(tmp_path) / f"export-{image.replace('@', '-')}.bin"
    if out.exists():
        out.unlink()
    ceph.rbd("export", "--no-progress", image, out)
    return out.read_bytes()
