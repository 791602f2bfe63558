"""A headless desktop for driving GTK programs through their accessibility
tree, as virt-manager's own UI tests do: Xvfb (unix socket only, no TCP),
a D-Bus session bus, and AT-SPI's bus launcher on it.

Every process is started here and stopped here by pid (TERM, then KILL);
the bus's process group, in which the launcher and the processes the
buses activate (the accessibility bus, its registry) also run, is swept
by its id at the end.
"""
import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

AT_SPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher"


def _stop(proc, timeout=10):
    """TERM, then KILL, one process we started."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Desktop:
    """Xvfb + session bus + AT-SPI.  .env is the environment programs on
    this desktop run with (DISPLAY, DBUS_SESSION_BUS_ADDRESS, a private
    HOME and XDG_RUNTIME_DIR, GSettings in memory)."""

    def __init__(self, tmpdir):
        self.tmpdir = Path(tmpdir)
        self.xvfb = self.bus = self.atspi = None
        self.apps = []
        self.env = None

    def start(self):
        for prog in ("Xvfb", "dbus-daemon", AT_SPI_LAUNCHER):
            if not (os.access(prog, os.X_OK) or subprocess.run(
                    ["sh", "-c", f"command -v {prog}"], capture_output=True).returncode == 0):
                pytest.fail(f"{prog} is missing (Debian packages xvfb dbus at-spi2-core: "
                            "scripts/install-deps.sh)")
        home = self.tmpdir / "home"
        runtime = self.tmpdir / "runtime"
        home.mkdir(exist_ok=True)
        runtime.mkdir(mode=0o700, exist_ok=True)
        self._start_xvfb()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LIBVIRT_", "VIRSH_", "LD_LIBRARY_PATH", "DBUS_",
                                    "XDG_", "WAYLAND_", "DISPLAY", "GSETTINGS_"))}
        env.update(DISPLAY=self.display, HOME=str(home), XDG_RUNTIME_DIR=str(runtime),
                   GSETTINGS_BACKEND="memory", GTK_THEME="Adwaita",
                   LANG="C.UTF-8", LC_ALL="C.UTF-8")
        # its own process group (in this session, so that others can join it)
        self.bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    env=env, process_group=0, text=True)
        address = self._read_line(self.bus.stdout, "dbus-daemon's address")
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        self.env = env
        # The accessibility bus: the launcher registers org.a11y.Bus on the
        # session bus and starts the bus GTK's bridge and dogtail talk on.
        self.atspi = self.spawn([AT_SPI_LAUNCHER, "--launch-immediately"])
        deadline = time.monotonic() + 60
        while not self._has_name("org.a11y.Bus"):
            if self.atspi.poll() is not None or time.monotonic() > deadline:
                pytest.fail("at-spi-bus-launcher did not register org.a11y.Bus")
            time.sleep(0.1)

    def _start_xvfb(self):
        """Xvfb on the first free display, reported through -displayfd."""
        r, w = os.pipe()
        try:
            self.xvfb = subprocess.Popen(
                ["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x1024x24",
                 "-nolisten", "tcp", "-noreset"],
                pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=open(self.tmpdir / "xvfb.log", "w"), start_new_session=True)
        finally:
            os.close(w)
        with os.fdopen(r) as f:
            self.display = ":" + self._read_line(f, "Xvfb's display number")

    def _read_line(self, f, what, timeout=60):
        ready, _, _ = select.select([f], [], [], timeout)
        line = f.readline().strip() if ready else ""
        if not line:
            pytest.fail(f"no {what} within {timeout} s")
        return line

    def _has_name(self, name):
        p = subprocess.run(["dbus-send", "--session", "--print-reply",
                            "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                            "org.freedesktop.DBus.NameHasOwner", f"string:{name}"],
                           env=self.env, capture_output=True, text=True)
        return p.returncode == 0 and "boolean true" in p.stdout

    def spawn(self, argv, log=None, env=None):
        """Start a program on this desktop, in the bus's process group."""
        out = open(log, "w") if log else subprocess.DEVNULL
        proc = subprocess.Popen([str(a) for a in argv], env=env or self.env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                process_group=self.bus.pid)
        self.apps.append(proc)
        return proc

    def stop(self):
        """Stop everything, by pid; idempotent (fixture and atexit)."""
        for proc in reversed(self.apps):
            _stop(proc)
        self.apps = []
        if self.bus is not None:
            _stop(self.bus)
            # what the buses activated (accessibility bus, registry)
            try:
                os.killpg(self.bus.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.bus = None
        _stop(self.xvfb)
        self.xvfb = None
