"""vdisk-virsh pool-* commands end to end: virsh's grammar, messages and
exit codes; the registry on disk; pool XML valid against the RelaxNG
schema (xmllint)."""
import os
import stat
from concurrent.futures import ThreadPoolExecutor

from pool_common import virsh, xmllint_valid  # noqa: F401


def test_define_build_start_list_info(virsh, tmp_path):
    path = tmp_path / "images"
    xml = tmp_path / "p.xml"
    xml.write_text(virsh.pool_xml("p", path, zeroing="eager", overcommit="1.5"))
    p = virsh.run("pool-define", xml)
    assert p.stdout == f"Pool p defined from {xml}\n\n"
    assert virsh.run("pool-list").stdout.count("\n") == 3          # header, dashes, blank
    lines = virsh.run("pool-list", "--all").stdout.splitlines()
    assert lines[0].split() == ["Name", "State", "Autostart"]
    assert set(lines[1]) == {"-"}
    assert lines[2].split() == ["p", "inactive", "no"]
    assert virsh.run("pool-build", "p").stdout == "Pool p built\n\n"
    st = os.stat(path)
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o711   # libvirt's default
    assert virsh.run("pool-start", "p").stdout == "Pool p started\n\n"
    assert virsh.run("pool-list").stdout.splitlines()[2].split() == ["p", "active", "no"]
    info = dict(line.split(":", 1) for line in virsh.run("pool-info", "p").stdout.splitlines() if line)
    assert info["Name"].strip() == "p"
    assert info["State"].strip() == "running"
    assert info["Persistent"].strip() == "yes"
    sv = os.statvfs(path)
    by = dict(line.split(":", 1) for line in virsh.run("pool-info", "p", "--bytes").stdout.splitlines() if line)
    assert int(by["Capacity"]) == sv.f_frsize * sv.f_blocks
    uuid = info["UUID"].strip()
    assert virsh.run("pool-info", uuid).returncode == 0        # lookup by UUID
    assert virsh.run("pool-list", "--uuid").stdout.strip() == uuid
    assert virsh.run("pool-list", "--name").stdout.strip() == "p"


def test_dumpxml_is_valid_and_round_trips(virsh, tmp_path):
    virsh.make_pool("p", zeroing="eager", overcommit="2")
    dump = virsh.run("pool-dumpxml", "p").stdout
    ok, why = xmllint_valid(dump, "storagepool-vdisk.rng", tmp_path)
    assert ok, why
    assert "<vdisk:zeroing>eager</vdisk:zeroing>" in dump
    # What dumpxml prints defines the same pool again (same uuid).
    (tmp_path / "again.xml").write_text(dump)
    virsh.run("pool-define", tmp_path / "again.xml")
    assert virsh.run("pool-dumpxml", "p", "--inactive").stdout.count("<uuid>") == 1


def test_define_as_and_print_xml(virsh, tmp_path):
    target = tmp_path / "d"
    p = virsh.run("pool-define-as", "q", "vdisk", "--target", target, "--print-xml")
    ok, why = xmllint_valid(p.stdout, "storagepool-vdisk.rng", tmp_path)
    assert ok, why
    assert virsh.run("pool-list", "--all", "--name").stdout.strip() == ""   # --print-xml defines nothing
    assert virsh.run("pool-define-as", "q", "dir", "-", "-", "-", "-", target).stdout == "Pool q defined\n\n"
    assert virsh.run("pool-start", "q", "--build").stdout == "Pool q started\n\n"
    assert target.is_dir()
    bad = virsh.run("pool-define-as", "r", "logical", "--target", target, check=False)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ")


def test_destroy_delete_undefine_autostart(virsh, tmp_path):
    path = virsh.make_pool("p")
    assert virsh.run("pool-autostart", "p").stdout == "Pool p marked as autostarted\n\n"
    assert virsh.run("pool-list", "--autostart", "--name").stdout.strip() == "p"
    assert virsh.run("pool-autostart", "p", "--disable").stdout == "Pool p unmarked as autostarted\n\n"
    busy = virsh.run("pool-delete", "p", check=False)
    assert busy.returncode == 1 and "still active" in busy.stderr
    assert virsh.run("pool-destroy", "p").stdout == "Pool p destroyed\n\n"
    again = virsh.run("pool-destroy", "p", check=False)
    assert again.returncode == 1 and "not active" in again.stderr
    assert virsh.run("pool-delete", "p").stdout == "Pool p deleted\n\n"
    assert not path.exists()
    assert virsh.run("pool-undefine", "p").stdout == "Pool p has been undefined\n\n"
    gone = virsh.run("pool-info", "p", check=False)
    assert gone.returncode == 1
    assert gone.stderr == ("error: failed to get pool 'p'\n"
                           "error: Storage pool not found: no storage pool with matching name 'p'\n")


def test_grammar_errors(virsh):
    p = virsh.run("pool-info", check=False)
    assert p.returncode == 1 and "requires <pool> option" in p.stderr
    assert p.stdout == ""          # virsh prints its empty line only after commands it ran
    p = virsh.run("pool-list", "--bogus", check=False)
    assert p.returncode == 1 and "doesn't support option --bogus" in p.stderr
    p = virsh.run("pool-info", "a", "b", check=False)
    assert p.returncode == 1 and "unexpected data 'b'" in p.stderr
    assert virsh.run("pool-list", "--help").returncode == 0


def test_registry_files_and_concurrent_defines(virsh, tmp_path):
    def define(i):
        xml = tmp_path / f"c{i}.xml"
        xml.write_text(virsh.pool_xml(f"c{i}", tmp_path / f"c{i}"))
        return virsh.run("pool-define", xml, check=False)
    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(define, range(16)))
    assert all(r.returncode == 0 for r in results)
    names = virsh.run("pool-list", "--all", "--name").stdout.split()
    assert sorted(names) == sorted(f"c{i}" for i in range(16))
    pools = virsh.registry / "pools"
    assert not [f for f in os.listdir(pools) if f.startswith(".")]     # no temporary leftovers
    uuids = set(virsh.run("pool-list", "--all", "--uuid").stdout.split())
    assert len(uuids) == 16


def test_build_applies_permissions(virsh, tmp_path):
    import pytest
    if os.geteuid() != 0:
        pytest.skip("changing a directory's owner needs root")
    path = tmp_path / "owned"
    xml = tmp_path / "p.xml"
    xml.write_text("<pool type='vdisk'><name>o</name><target><path>%s</path>"
                   "<permissions><mode>0750</mode><owner>65534</owner><group>65533</group></permissions>"
                   "</target></pool>" % path)
    virsh.run("pool-define", xml)
    virsh.run("pool-build", "o")
    st = os.stat(path)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (65534, 65533, 0o750)
    p = virsh.run("pool-build", "o", "--no-overwrite", check=False)
    assert p.returncode == 1 and "already exists" in p.stderr


def test_concurrent_state_changes_do_not_undo_each_other(virsh):
    virsh.make_pool("p")
    for _ in range(10):
        virsh.run("pool-destroy", "p")
        virsh.run("pool-autostart", "p", "--disable")
        with ThreadPoolExecutor(2) as ex:
            a = ex.submit(virsh.run, "pool-start", "p")
            b = ex.submit(virsh.run, "pool-autostart", "p")
            a.result(), b.result()
        j = virsh.json("pool-list", "--all", "--json")[0]
        assert (j["state"], j["autostart"]) == ("running", True)


def test_target_path_may_be_a_symlink(virsh, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "link")
    xml = tmp_path / "p.xml"
    xml.write_text(virsh.pool_xml("s", tmp_path / "link"))
    virsh.run("pool-define", xml)
    virsh.run("pool-start", "s")
    virsh.run("vol-create-as", "s", "v", "1M")
    assert (real / "v").is_file()
    assert virsh.run("vol-name", tmp_path / "link" / "v").stdout == "v\n\n"
