"""Guests of the end-to-end tests: the prefix's virtnetworkd and virtqemud
(on top of conftest's virtsecretd + virtstoraged), run in a private network
namespace so that the `default` NAT network's bridge, dnsmasq and iptables
rules never touch the host; the tiny test guest's domain XML; waiting for
its console marker.

A guest boots bootsector.py's sector and writes its console to a file
(<serial type='file'>); the test polls that file for the marker, with a
generous deadline that only bounds a hung run (no timing is asserted).
"""
import fcntl
import itertools
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from bootsector import DONE_TEXT, ERROR_TEXT
from conftest import run

HV_DAEMONS = ("virtnetworkd", "virtqemud")
QEMU_CONF_MARKER = ("# Written by vdisk's plugin/libvirt/run-daemon.sh; "
                    "delete this line to keep your edits.")
# What run-daemon.sh writes for root in a container (no libvirt-qemu user
# is needed by the tests; the pools live under /tmp directories of mode 0700).
QEMU_CONF = f"""{QEMU_CONF_MARKER}
user = "root"
group = "root"
security_driver = "none"
stdio_handler = "file"
"""
BOOT_DEADLINE = 600       # seconds: bounds a hung guest, not a measurement
KVM_GET_API_VERSION = 0xAE00

_names = itertools.count(1)


def kvm_works():
    """True if /dev/kvm opens and answers KVM_GET_API_VERSION with 12."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return fcntl.ioctl(fd, KVM_GET_API_VERSION) == 12
    except OSError:
        return False
    finally:
        os.close(fd)


@dataclass
class Disk:
    """One <disk type='volume'> of a guest."""
    pool: str
    volume: str
    fmt: str                      # the <driver type>: raw, qcow2
    target: str = "hda"
    device: str = "disk"          # or cdrom
    secret: str = None            # uuid of a LUKS passphrase secret

    def xml(self):
        enc = ""
        if self.secret:
            enc = (f"\n        <encryption format='luks'>\n"
                   f"          <secret type='passphrase' uuid='{self.secret}'/>\n"
                   f"        </encryption>")
        ro = "\n      <readonly/>" if self.device == "cdrom" else ""
        return (f"    <disk type='volume' device='{self.device}'>\n"
                f"      <driver name='qemu' type='{self.fmt}'/>\n"
                f"      <source pool={quoteattr(self.pool)} volume={quoteattr(self.volume)}>{enc}\n"
                f"      </source>\n"
                f"      <target dev='{self.target}' bus='ide'/>{ro}\n"
                f"    </disk>\n")


def domain_xml(name, disks, console, accel="tcg", boot="hd", networks=()):
    """A 32 MiB, one-vCPU PC (SeaBIOS) with IDE disks, its first serial port
    written to the file console, no display."""
    kind = "kvm" if accel == "kvm" else "qemu"
    nics = "".join(f"    <interface type='network'>\n      <source network={quoteattr(n)}/>\n"
                   f"      <model type='e1000'/>\n    </interface>\n" for n in networks)
    return (f"<domain type='{kind}'>\n"
            f"  <name>{name}</name>\n"
            f"  <memory unit='MiB'>32</memory>\n"
            f"  <vcpu>1</vcpu>\n"
            f"  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n"
            f"    <boot dev='{boot}'/>\n  </os>\n"
            f"  <on_reboot>destroy</on_reboot>\n"
            f"  <devices>\n"
            + "".join(d.xml() for d in disks) + nics +
            f"    <serial type='file'>\n      <source path={quoteattr(str(console))}/>\n"
            f"      <target port='0'/>\n    </serial>\n"
            f"    <memballoon model='none'/>\n"
            f"  </devices>\n</domain>\n")


class Guest:
    """A started domain: .name, .console (the serial file), .hv."""

    def __init__(self, hv, name, console):
        self.hv, self.name, self.console = hv, name, Path(console)

    def state(self):
        p = self.hv.virsh("domstate", self.name, check=False)
        return p.stdout.strip() if p.returncode == 0 else "gone"

    def text(self):
        try:
            return self.console.read_bytes().decode("ascii", "replace")
        except FileNotFoundError:
            return ""

    def wait_done(self):
        """Poll the console until the guest prints VDISK-DONE (returned: the
        whole console text); fail on VDISK-ERROR, a guest that stopped, or
        the deadline, with the console and QEMU's log."""
        deadline = time.monotonic() + BOOT_DEADLINE
        while True:
            text = self.text()
            if DONE_TEXT.decode() in text:
                return text
            why = None
            if ERROR_TEXT.decode() in text:
                why = "the guest's int 13h call failed"
            elif self.state() != "running":
                why = f"the guest is {self.state()}"
            elif time.monotonic() > deadline:
                why = f"no marker after {BOOT_DEADLINE} s"
            if why:
                pytest.fail(f"{self.name}: {why}\nconsole:\n{text}\nQEMU log:\n"
                            + self.hv.qemu_log(self.name))
            time.sleep(0.5)

    def destroy(self):
        """Stop QEMU (virsh destroy) and forget the domain."""
        if self.state() == "running":
            self.hv.virsh("destroy", self.name, check=False)
        self.hv.virsh("undefine", self.name, check=False)


class Hypervisor:
    """virtnetworkd + virtqemud of the prefix, in a network namespace of
    their own, started on top of a running conftest.Daemon."""

    def __init__(self, daemon, tmpdir):
        self.daemon = daemon
        self.prefix = daemon.prefix
        self.tmpdir = Path(tmpdir)
        self.socket = daemon.rundir / "virtqemud-sock"
        self.uri = "qemu:///system"
        self.client_uri = f"qemu:///system?socket={self.socket}"
        self.network_uri = "network:///system"
        self.netns_holder = None
        self.qemu_conf = self.prefix / "etc/libvirt/qemu.conf"
        self.saved_conf = None
        self.guests = []

    # -- set-up ---------------------------------------------------------
    def start(self):
        missing = [n for n in HV_DAEMONS if not os.access(self.prefix / "sbin" / n, os.X_OK)]
        if missing:
            pytest.fail(f"{self.prefix} has no {', '.join(missing)}: it was built with "
                        "--storage-only; run plugin/libvirt/build-libvirt.sh PREFIX")
        for name in HV_DAEMONS:
            sock = self.daemon.rundir / f"{name}-sock"
            if self.daemon._busy(sock):
                pytest.fail(f"{sock}: a {name} already runs on this prefix; stop it first "
                            "(plugin/libvirt/run-daemon.sh PREFIX stop)")
        self._forget_domains()
        self.saved_conf = self.qemu_conf.read_text() if self.qemu_conf.exists() else None
        self.qemu_conf.parent.mkdir(parents=True, exist_ok=True)
        self.qemu_conf.write_text(QEMU_CONF)
        # `unshare --net sleep` execs sleep in a new network namespace: its
        # pid names the namespace, and stopping it (last) lets it go.
        self.netns_holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"],
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        ns = f"/proc/{self.netns_holder.pid}/ns/net"
        deadline = time.monotonic() + 30
        while os.readlink(ns) == os.readlink("/proc/self/ns/net"):
            if self.netns_holder.poll() is not None or time.monotonic() > deadline:
                pytest.fail("unshare --net failed: no private network namespace for the daemons")
            time.sleep(0.05)
        self.nsenter = ("nsenter", f"--net={ns}", "--")
        run([*self.nsenter, "ip", "link", "set", "lo", "up"])
        for name in HV_DAEMONS:
            self.daemon._start_one(name, wrap=self.nsenter)

    def _forget_domains(self):
        """Remove domain definitions a killed session may have left."""
        qdir = self.prefix / "etc/libvirt/qemu"
        for xml in list(qdir.glob("*.xml")) + list(qdir.glob("autostart/*.xml")):
            xml.unlink()

    # -- use ------------------------------------------------------------
    def virsh(self, *args, check=True, uri=None, input=None, timeout=600):
        return self.daemon.virsh(*args, check=check, uri=uri or self.uri, input=input,
                                 timeout=timeout)

    def in_netns(self, *argv, check=True):
        """Run a command inside the daemons' network namespace."""
        return run([*self.nsenter, *argv], check=check)

    def accels(self):
        """The accelerators guests can use here: TCG always, KVM where
        /dev/kvm works."""
        return ["tcg"] + (["kvm"] if kvm_works() else [])

    def qemu_log(self, name, lines=30):
        try:
            text = (self.prefix / f"var/log/libvirt/qemu/{name}.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def start_guest(self, disks, accel="tcg", boot="hd", networks=(), check=True):
        """Define and start a guest; returns the Guest (or, with
        check=False, the failed virsh's CompletedProcess)."""
        name = f"vdisk-guest-{next(_names)}"
        console = self.tmpdir / f"{name}.console"
        xml = self.tmpdir / f"{name}.xml"
        xml.write_text(domain_xml(name, disks, console, accel, boot, networks))
        self.virsh("define", xml)
        guest = Guest(self, name, console)
        self.guests.append(guest)
        p = self.virsh("start", name, check=False)
        if p.returncode != 0:
            if check:
                pytest.fail(f"virsh start {name} failed:\n{p.stderr}\nQEMU log:\n"
                            + self.qemu_log(name))
            return p
        return guest

    # -- tear-down ------------------------------------------------------
    def _kill_by_pidfile(self, pidfile):
        """Last resort for a process a daemon started and did not stop."""
        try:
            pid = int(Path(pidfile).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self):
        """Destroy guests and networks, stop the daemons by pid, drop the
        namespace; restore qemu.conf.  Idempotent (fixture and atexit)."""
        if "virtqemud" in self.daemon.procs:
            for g in self.guests:
                g.destroy()
            listing = self.virsh("list", "--all", "--name", check=False).stdout
            for name in filter(None, (l.strip() for l in listing.splitlines())):
                self.virsh("destroy", name, check=False)
                self.virsh("undefine", name, check=False)
        self.guests = []
        if "virtnetworkd" in self.daemon.procs:
            listing = self.virsh("net-list", "--name", uri=self.network_uri, check=False).stdout
            for name in filter(None, (l.strip() for l in listing.splitlines())):
                self.virsh("net-destroy", name, uri=self.network_uri, check=False)
        for name in reversed(HV_DAEMONS):
            self.daemon.stop_one(name)
        # QEMU and dnsmasq outlive their daemons by design: by pid file.
        run_dir = self.daemon.rundir
        for pidfile in list(run_dir.glob("qemu/*.pid")) + list(run_dir.glob("network/*.pid")):
            self._kill_by_pidfile(pidfile)
        if self.netns_holder is not None and self.netns_holder.poll() is None:
            self.netns_holder.kill()
            self.netns_holder.wait()
        self.netns_holder = None
        self._forget_domains()
        if self.saved_conf is not None:
            self.qemu_conf.write_text(self.saved_conf)
            self.saved_conf = None
        shutil.rmtree(self.prefix / "var/log/libvirt/qemu", ignore_errors=True)
