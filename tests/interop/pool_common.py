"""Helpers shared by the test_pool_*.py and test_vol_*.py modules (no tests
here): vdisk-virsh run against a private registry (VDISK_CONFIG_DIR in the
test's temporary directory) and an active pool of type vdisk.

Expected values come from qemu-img, xmllint, stat(2) and the files
themselves -- never from vdisk-virsh's own output.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, VDISK_VIRSH

SCHEMAS = REPO / "xml-schemas"
NS = "http://libvirt.org/schemas/storagepool/vdisk/1.0"


class Virsh:
    """vdisk-virsh with its own registry; run(...) -> CompletedProcess."""

    def __init__(self, tmp_path):
        self.tmp = Path(tmp_path)
        self.registry = self.tmp / "registry"
        self.env = dict(os.environ, VDISK_CONFIG_DIR=str(self.registry))

    def run(self, *args, check=True, **kw):
        p = subprocess.run([str(VDISK_VIRSH), *map(str, args)], capture_output=True, text=True,
                           env=self.env, **kw)
        if p.returncode < 0:
            pytest.fail(f"vdisk-virsh died with signal {-p.returncode}\n{p.stderr}")
        if check and p.returncode != 0:
            pytest.fail(f"vdisk-virsh {' '.join(map(str, args))} exited {p.returncode}\n"
                        f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    def json(self, *args):
        return json.loads(self.run(*args).stdout)

    def pool_xml(self, name, path, zeroing=None, overcommit=None):
        prov = ""
        if zeroing or overcommit:
            prov = "  <vdisk:provisioning>\n"
            if zeroing:
                prov += f"    <vdisk:zeroing>{zeroing}</vdisk:zeroing>\n"
            if overcommit:
                prov += f"    <vdisk:overcommit>{overcommit}</vdisk:overcommit>\n"
            prov += "  </vdisk:provisioning>\n"
        return (f"<pool type='vdisk' xmlns:vdisk='{NS}'>\n  <name>{name}</name>\n"
                f"  <target>\n    <path>{path}</path>\n  </target>\n{prov}</pool>\n")

    def make_pool(self, name="pool", zeroing=None, overcommit=None):
        """Define (from XML), build and start a pool; returns its directory."""
        path = self.tmp / name
        xml = self.tmp / f"{name}.xml"
        xml.write_text(self.pool_xml(name, path, zeroing, overcommit))
        self.run("pool-define", xml)
        self.run("pool-build", name)
        self.run("pool-start", name)
        return path


@pytest.fixture
def virsh(tmp_path, vdisk_bin):
    return Virsh(tmp_path)


def allocated(path):
    return os.stat(path).st_blocks * 512


def qemu_info(qemu_img, path):
    return json.loads(qemu_img("info", "--output=json", "-U", path).stdout)


def qemu_map(qemu_img, path):
    return json.loads(qemu_img("map", "--output=json", "-U", path).stdout)


def xmllint_valid(xml_text, schema, tmp_path):
    """Validate with xmllint against one of the project's RelaxNG schemas."""
    f = Path(tmp_path) / "check.xml"
    f.write_text(xml_text)
    p = subprocess.run(["xmllint", "--noout", "--relaxng", str(SCHEMAS / schema), str(f)],
                       capture_output=True, text=True)
    return p.returncode == 0, p.stderr


def run_on_pty(virsh, *args):
    """Run vdisk-virsh with a pseudo-terminal as stdout (through util-linux
    script(1)); returns what it printed."""
    import shlex
    cmd = " ".join(shlex.quote(str(a)) for a in (VDISK_VIRSH, *args))
    p = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True,
                       env=virsh.env)
    if p.returncode != 0 and "openpty" in p.stderr:
        pytest.skip(f"no pseudo-terminal available: {p.stderr.strip()}")
    assert p.returncode == 0, p.stderr
    return p.stdout
