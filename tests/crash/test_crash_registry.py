"""Power-loss crash states of the embedded registry's writes: pool
definitions and their state (pool-define, pool-build and pool-start,
pool-autostart, pool-undefine, pool-create-as and pool-destroy of a
transient pool), secrets (secret-define, secret-set-value,
secret-undefine) and the volume records of the pool code (vol-create-as,
vol-delete).

These files are written by the plugin with write, fsync, rename and a
directory fsync, outside the protocol layer that vdisk-record: sees: each
operation runs under strace (fsrecord.py), fsmodel.py enumerates what a
power loss could leave of the directory tree by POSIX's promise (a file's
data durable at its fsync, a directory entry at its directory's fsync),
and regcheck.py checks every state: each file old or new and whole, nothing
lost once the command returned, the registry readable, and the operation's
own promise below (what it made is whole or absent, and it can be done
again).

The counts per operation are printed at the end ("crash states: registry:"
lines); VDISK_CRASH_STATES samples them as for the image operations.
"""
import shutil

import pytest

from regcheck import RegistryWorkload

UUID = "5f1d2c3a-7b8e-4c9d-a0b1-c2d3e4f5a6b7"


@pytest.fixture
def w(tools, tmp_path):
    if not shutil.which("strace"):
        pytest.fail("strace is missing (Debian package strace)")
    return RegistryWorkload(tools, tmp_path)


def redo(w, *args, ok_if=()):
    """The operation done again on the crash state succeeds."""
    p = w.virsh(*args, check=False)
    if p.returncode == 0 or any(s in p.stderr for s in ok_if):
        return []
    return [f"{args[0]} again: exit {p.returncode}: {p.stderr.strip()}"]


def pool_xml(w, target, mode=None):
    perms = f"<permissions><mode>{mode}</mode></permissions>" if mode else ""
    f = w.scratch / f"pool-{mode}.xml"
    f.write_text(f"<pool type='dir'><name>p1</name><uuid>{UUID}</uuid>"
                 f"<target><path>{target}</path>{perms}</target></pool>\n")
    return f


def defined(state, name="p1"):
    return f"registry/pools/{name}.xml" in state


def test_pool_define_first_use(w):
    """The first definition creates the registry's directories."""
    target = w.root / "pool1"
    w.record(["pool-define-as", "p1", "dir", "--target", target])
    w.check_states("pool-define-as (first use of the registry)",
                   lambda s: redo(w, "pool-define-as", "p1", "dir", "--target", target))


def test_pool_redefine(w):
    old, new = pool_xml(w, w.root / "pool1"), pool_xml(w, w.root / "pool1", "0750")
    w.virsh("pool-define", old)

    def judge(state):
        xml = w.virsh("pool-dumpxml", "p1", check=False).stdout
        why = [] if "<pool" in xml else ["p1 no longer defined"]
        return why + redo(w, "pool-define", new)
    w.record(["pool-define", new])
    w.check_states("pool-define (a new definition of a defined pool)", judge)


def test_pool_build_start(w):
    w.virsh("pool-define-as", "p1", "dir", "--target", w.root / "pool1")

    def judge(state):
        info = w.virsh("pool-info", "p1", check=False).stdout
        if "running" in info:
            return redo(w, "vol-list", "p1") + redo(w, "pool-autostart", "p1")
        return redo(w, "pool-build", "p1") + redo(w, "pool-start", "p1")
    w.record(["pool-build", "p1"], ["pool-start", "p1"])
    w.check_states("pool-build, pool-start", judge)


def test_pool_autostart(w):
    w.virsh("pool-define-as", "p1", "dir", "--target", w.root / "pool1")
    w.virsh("pool-build", "p1")
    w.virsh("pool-start", "p1")
    w.record(["pool-autostart", "p1"])
    w.check_states("pool-autostart", lambda s: redo(w, "pool-autostart", "p1"))


def test_pool_undefine(w):
    """An undefined pool defined again starts afresh: no autostart left
    over from the old one."""
    w.virsh("pool-define-as", "p1", "dir", "--target", w.root / "pool1")
    w.virsh("pool-autostart", "p1")

    def judge(state):
        why = redo(w, "pool-undefine", "p1") if defined(state) else []
        why += redo(w, "pool-define-as", "p1", "dir", "--target", w.root / "pool2")
        if "Autostart:      yes" in w.virsh("pool-info", "p1", check=False).stdout:
            why.append("the pool defined again inherits the undefined pool's autostart")
        return why
    w.record(["pool-undefine", "p1"])
    w.check_states("pool-undefine (autostart on)", judge)


def test_pool_create_transient(w):
    """pool-create-as makes a transient pool: a power loss must not leave
    a persistent definition nobody asked for."""
    (w.root / "pool1").mkdir()

    def judge(state):
        why = []
        if defined(state):
            info = w.virsh("pool-info", "p1", check=False).stdout
            if "Persistent:     no" not in info:
                why.append(f"an interrupted pool-create-as left a persistent pool:\n{info}")
            if "running" in info:
                why += redo(w, "pool-destroy", "p1")
            else:
                why += redo(w, "pool-undefine", "p1")
        return why + redo(w, "pool-create-as", "p1", "dir", "--target", w.root / "pool1")
    w.record(["pool-create-as", "p1", "dir", "--target", w.root / "pool1"])
    w.check_states("pool-create-as (a transient pool)", judge)


def test_pool_destroy_transient(w):
    """pool-destroy forgets a transient pool: what a power loss leaves of
    it can be destroyed (or started and destroyed) and created again."""
    (w.root / "pool1").mkdir()
    w.virsh("pool-create-as", "p1", "dir", "--target", w.root / "pool1")

    def judge(state):
        why = []
        if defined(state):
            if "running" not in w.virsh("pool-info", "p1", check=False).stdout:
                why += redo(w, "pool-start", "p1")
            why += redo(w, "pool-destroy", "p1")
            if "p1" in w.virsh("pool-list", "--all", check=False).stdout:
                why.append("the transient pool is still defined after pool-destroy")
        return why + redo(w, "pool-create-as", "p1", "dir", "--target", w.root / "pool1")
    w.record(["pool-destroy", "p1"])
    w.check_states("pool-destroy (a transient pool)", judge)


def secret_xml(w, desc):
    f = w.scratch / f"secret-{desc}.xml"
    f.write_text(f"<secret ephemeral='no' private='yes'><uuid>{UUID}</uuid>"
                 f"<description>{desc}</description>"
                 f"<usage type='volume'><volume>/srv/v1</volume></usage></secret>\n")
    return f


def value_file(w, value):
    f = w.scratch / f"value-{value}"
    f.write_text(value)
    return f


def test_secret_define(w):
    w.virsh("secret-define", secret_xml(w, "old"))
    w.record(["secret-define", secret_xml(w, "new")])
    w.check_states("secret-define (a new definition of a defined secret)",
                   lambda s: redo(w, "secret-define", secret_xml(w, "new")))


@pytest.mark.parametrize("first", [True, False], ids=["first value", "replaced value"])
def test_secret_set_value(w, first):
    w.virsh("secret-define", secret_xml(w, "s"))
    if not first:
        w.virsh("secret-set-value", UUID, "--file", value_file(w, "old-passphrase"), "--plain")
    new = value_file(w, "new-passphrase-of-another-length")

    def judge(state):
        why = redo(w, "secret-set-value", UUID, "--file", new, "--plain")
        got = w.virsh("secret-get-value", UUID, "--plain", check=False).stdout
        return why + ([] if got == new.read_text() + "\n" else [f"value read back: {got!r}"])
    w.record(["secret-set-value", UUID, "--file", new, "--plain"])
    w.check_states(f"secret-set-value ({'first' if first else 'replacing a'} value)", judge)


def test_secret_undefine(w):
    """A secret defined again after an undefine has no value."""
    w.virsh("secret-define", secret_xml(w, "s"))
    w.virsh("secret-set-value", UUID, "--file", value_file(w, "passphrase"), "--plain")

    def judge(state):
        why = redo(w, "secret-undefine", UUID) if f"registry/secrets/{UUID}.xml" in state else []
        why += redo(w, "secret-define", secret_xml(w, "s"))
        if w.virsh("secret-get-value", UUID, "--plain", check=False).returncode == 0:
            why.append("the secret defined again has the undefined secret's value")
        return why
    w.record(["secret-undefine", UUID])
    w.check_states("secret-undefine (with a value)", judge)


def active_pool(w, volumes=()):
    w.virsh("pool-define-as", "p1", "dir", "--target", w.root / "pool1")
    w.virsh("pool-build", "p1")
    w.virsh("pool-start", "p1")
    for v in volumes:
        w.virsh("vol-create-as", "p1", v, "4M", "--format", "qcow2")


def volume_whole_or_absent(w, state, name):
    """A volume is recorded (volume-record.c: its format as created, by
    inode) and listed with a clean image, or absent and creatable again; no
    temporary file survives a refresh."""
    why = []
    listed = name in w.virsh("vol-list", "p1", check=False).stdout
    if f"pool1/{name}" in state:
        if not w.recorded(state, "pool1", name):
            why.append(f"{name}: its file is there without its record (its format would be probed)")
        if not listed:
            why.append(f"{name}: its file is there but vol-list does not show it")
        xml = w.virsh("vol-dumpxml", name, "--pool", "p1", check=False).stdout
        if "<format type='qcow2'/>" not in xml:
            why.append(f"{name}: not recorded as qcow2:\n{xml}")
        p = w.virsh("check", "-q", "-f", "qcow2", w.root / "pool1" / name, check=False)
        if p.returncode:
            why.append(f"{name}: check exit {p.returncode}: {p.stdout}{p.stderr}")
    else:
        why += ["vol-list shows a volume with no file"] if listed else []
        why += redo(w, "vol-create-as", "p1", name, "4M", "--format", "qcow2")
    left = [f for f in w.leftovers() if f.startswith("pool1/")]
    return why + ([f"temporary files left after a refresh: {left}"] if left else [])


@pytest.mark.parametrize("first", [True, False], ids=["first volume", "second volume"])
def test_vol_create(w, first):
    """The first volume of a pool creates its records file."""
    active_pool(w, [] if first else ["v1"])
    w.record(["vol-create-as", "p1", "v2", "4M", "--format", "qcow2"])
    w.check_states(f"vol-create-as (qcow2, the {'first' if first else 'second'} volume's record)",
                   lambda s: volume_whole_or_absent(w, s, "v2") +
                   ([] if first else volume_whole_or_absent(w, s, "v1")))


def test_vol_delete(w):
    active_pool(w, ["v1", "v2"])
    w.record(["vol-delete", "v1", "--pool", "p1"])
    w.check_states("vol-delete (the volume record)",
                   lambda s: volume_whole_or_absent(w, s, "v1") +
                   volume_whole_or_absent(w, s, "v2"))
