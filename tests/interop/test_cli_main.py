"""vdisk-virsh's dispatcher: help, version, unknown commands and options."""
import pytest

COMMANDS = ["create", "info", "convert", "map", "compare", "measure", "bench"]


def test_help_lists_every_command(vdisk):
    out = vdisk("--help").stdout
    for c in COMMANDS:
        assert f"  {c} " in out


@pytest.mark.parametrize("cmd", COMMANDS)
def test_command_help(vdisk, cmd):
    p = vdisk(cmd, "-h")
    assert p.stdout.startswith(f"usage: vdisk-virsh {cmd} ")


def test_version(vdisk):
    assert vdisk("--version").stdout.startswith("vdisk-virsh version ")


def test_unknown_command(vdisk, qemu_img):
    pq = qemu_img("frobnicate", check=False)
    pv = vdisk("frobnicate", check=False)
    assert pv.returncode == pq.returncode == 1
    assert "frobnicate" in pv.stderr


def test_no_command(vdisk):
    p = vdisk(check=False)
    assert p.returncode == 1 and p.stderr.startswith("vdisk-virsh: ")


@pytest.mark.parametrize("cmd", COMMANDS)
def test_unknown_option(vdisk, qemu_img, cmd):
    pq = qemu_img(cmd, "--frobnicate", "x", check=False)
    pv = vdisk(cmd, "--frobnicate", "x", check=False)
    # qemu-img measure prints its help and exits 0 here; we treat it as the
    # usage error it is, as every other qemu-img command does.
    assert pq.returncode == (0 if cmd == "measure" else 1)
    assert pv.returncode == 1
    assert "'--frobnicate'" in pv.stderr


@pytest.mark.parametrize("cmd,opt", [("create", "-f"), ("info", "-f"), ("map", "--output"),
                                     ("convert", "-O"), ("compare", "-F"), ("bench", "-c")])
def test_missing_option_argument(vdisk, qemu_img, cmd, opt):
    pq = qemu_img(cmd, opt, check=False)
    pv = vdisk(cmd, opt, check=False)
    assert pv.returncode == pq.returncode == 1
    assert "missing argument" in pv.stderr and opt in pv.stderr
