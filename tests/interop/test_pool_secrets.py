"""secret-define / secret-set-value / secret-list / secret-undefine of the
embedded registry: virsh's grammar, values only from files, files 0600."""
import base64
import os
import stat

from pool_common import virsh  # noqa: F401

UUID = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"


def define(virsh, tmp_path, usage="/var/lib/images/a.qcow2"):
    xml = tmp_path / "s.xml"
    xml.write_text(f"<secret ephemeral='no' private='yes'><uuid>{UUID}</uuid>"
                   f"<usage type='volume'><volume>{usage}</volume></usage></secret>")
    return virsh.run("secret-define", xml)


def test_define_set_list_undefine(virsh, tmp_path):
    assert define(virsh, tmp_path).stdout == f"Secret {UUID} created\n\n"
    lines = virsh.run("secret-list").stdout.splitlines()
    assert lines[0].split() == ["UUID", "Usage"]
    assert lines[2].split() == [UUID, "volume", "/var/lib/images/a.qcow2"]
    val = tmp_path / "val"
    val.write_text(base64.b64encode(b"correct horse").decode() + "\n")
    assert virsh.run("secret-set-value", UUID, "--file", val).stdout == "Secret value set\n\n"
    stored = virsh.registry / "secrets" / f"{UUID}.value"
    assert stored.read_bytes() == b"correct horse"
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(virsh.registry / "secrets").st_mode) == 0o700
    plain = tmp_path / "plain"
    plain.write_bytes(b"raw value")
    virsh.run("secret-set-value", "/var/lib/images/a.qcow2", "--file", plain, "--plain")   # by usage
    assert stored.read_bytes() == b"raw value"
    assert "raw value" not in virsh.run("secret-list", "--json").stdout
    assert virsh.run("secret-undefine", UUID).stdout == f"Secret {UUID} deleted\n\n"
    assert not stored.exists()
    assert virsh.json("secret-list", "--json") == []


def test_value_on_command_line_refused(virsh, tmp_path):
    define(virsh, tmp_path)
    p = virsh.run("secret-set-value", UUID, base64.b64encode(b"x").decode(), check=False)
    assert p.returncode == 1 and "--file" in p.stderr
    assert not (virsh.registry / "secrets" / f"{UUID}.value").exists()


def test_bad_xml_and_unknown_secret(virsh, tmp_path):
    xml = tmp_path / "bad.xml"
    xml.write_text("<?xml version='1.0'?><!DOCTYPE secret [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
                   "<secret><description>&x;</description></secret>")
    p = virsh.run("secret-define", xml, check=False)
    assert p.returncode == 1 and p.stderr.startswith("error: ")
    p = virsh.run("secret-undefine", UUID, check=False)
    assert p.returncode == 1 and "failed to get secret" in p.stderr
