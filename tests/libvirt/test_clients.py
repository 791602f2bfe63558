"""The prefix beside the system's libvirt client, as a user meets it:
`eval "$(run-daemon.sh PREFIX env)"` puts the prefix's virsh first and
leaves Debian's own virsh working (no library path exported: the prefix's
programs find their libraries by RPATH); the URIs `run-daemon.sh PREFIX
uri` prints take Debian's virsh and vdisk-virsh (Debian's libvirt0) to the
prefix's daemons, and through virtqemud to the vdisk pools.
"""
import shutil

import pytest

from conftest import BUILD, REPO, run

RUN_DAEMON = REPO / "plugin/libvirt/run-daemon.sh"
SYSTEM_VIRSH = "/usr/bin/virsh"


def system_virsh():
    if not shutil.which(SYSTEM_VIRSH):
        pytest.fail(f"{SYSTEM_VIRSH} is missing (Debian package libvirt-clients)")
    return SYSTEM_VIRSH


def clean_env(daemon):
    """The environment of a user's shell: no library path of the prefix."""
    return {k: v for k, v in daemon.env.items() if k != "LD_LIBRARY_PATH"}


def test_env_keeps_the_system_virsh_working(daemon):
    env_lines = run([RUN_DAEMON, daemon.prefix, "env"]).stdout
    assert "LD_LIBRARY_PATH" not in env_lines
    script = (f'eval "$({RUN_DAEMON} {daemon.prefix} env)"\n'
              'command -v virsh\n'
              'virsh -c storage:///system pool-list --all --name >/dev/null\n'
              f'{system_virsh()} -c test:///default list --all --name\n')
    p = run(["bash", "-ec", script], env=clean_env(daemon))
    lines = p.stdout.splitlines()
    assert lines[0] == str(daemon.prefix / "bin/virsh")
    assert "test" in lines[1:], p.stdout       # the test driver's own domain
    for prog in ("bin/virsh", "sbin/virtqemud", "sbin/virtstoraged"):
        dyn = run(["readelf", "-d", daemon.prefix / prog]).stdout
        assert f"[{daemon.prefix / 'lib'}]" in dyn, f"{prog} has no RPATH to the prefix"


def test_uris_reach_the_daemons(hypervisor, vdisk_pool):
    pool = vdisk_pool()
    env = clean_env(hypervisor.daemon)
    uris = run([RUN_DAEMON, hypervisor.prefix, "uri"]).stdout.split()
    by_scheme = {u.split(":", 1)[0]: u for u in uris}
    assert set(by_scheme) == {"secret", "storage", "network", "qemu"}, uris
    assert by_scheme["qemu"] == hypervisor.client_uri
    for uri in uris:
        assert run([system_virsh(), "-c", uri, "uri"], env=env).stdout.strip() == uri
    # storage calls on the hypervisor's connection reach the vdisk pools
    listing = run([system_virsh(), "-c", by_scheme["qemu"], "pool-list", "--all"], env=env)
    assert pool.name in listing.stdout
    vv = run([BUILD / "tools/vdisk-virsh", "-c", by_scheme["qemu"], "pool-list", "--all",
              "--type", "vdisk"], env=env)
    assert pool.name in vv.stdout
    caps = run([system_virsh(), "-c", by_scheme["qemu"], "pool-capabilities"], env=env).stdout
    assert "<pool type='vdisk' supported='yes'>" in caps

