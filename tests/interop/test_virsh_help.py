"""Every command's -h lists every option the command accepts, one line each.

The options a command accepts are found by asking the command itself: each
option spelled in the source file of its handler or in tools/common/ (long
names, getopt letters: a superset of its parser's table) is given to the
command alone; what is not refused as unknown is accepted and must be on a
line of the -h's
"Options:" section (or, for pool, volume and secret commands, which take
their positional arguments as --NAME too, be a <NAME> of the synopsis).
The options the man page's entry for a command names are listed too, so
-h, the parsers and docs/vdisk-virsh.1.rst cannot drift apart."""
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNKNOWN = (re.compile(r"unrecognized option '--?(\S+)'"),
           re.compile(r"invalid option -- '(\S)'"),
           re.compile(r"doesn't support option --(\S+)"))
VIRSH_PREFIXES = ("pool-", "vol-", "secret-")


def commands(vdisk):
    out = vdisk("--help").stdout
    part = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return sorted({m.group(1) for m in re.finditer(r"^  ([a-z][a-z0-9-]*)\b", part, re.M)})


LONG_RES = (r'\{\s*"([a-z][-a-z0-9]*)",\s*(?:no|required|optional)_argument',
            r'VV_(?:FLAG|VAL|REQ|POS|VAL_REQ)\("([a-z][-a-z0-9]*)"\)',
            r'\{\s*"([a-z][-a-z0-9]*)",\s*VDISK_\w+\s*\}',
            r'"(source-[a-z]+)"')


def names_in(text):
    """Long option names and short option letters a source text spells:
    longopts rows, virsh argument tables, getopt option strings."""
    longs = set()
    for r in LONG_RES:
        longs.update(re.findall(r, text))
    shorts = set()
    for optstring in re.findall(r'getopt_long\(argc, argv, "([^"]*)"', text):
        shorts.update(c for c in optstring if c.isalnum())
    return longs, shorts


def candidates():
    """{command: (long names, short letters)} it might take: those spelled in
    the file of its handler and in tools/common/ (shared options).  Each is
    then asked of the command itself."""
    table = (ROOT / "tools" / "vdisk-virsh.c").read_text()
    # an image command's handler, or a store command's symbol in the module
    handlers = dict(re.findall(r'\{ "([a-z][a-z0-9-]*)", (?:NULL, "?)?(cmd_\w+)', table))
    sources = {f: f.read_text() for f in (ROOT / "tools").rglob("*.[ch]")}
    common = [t for f, t in sources.items() if f.parent.name == "common"]
    shared = set()
    for t in common:
        shared |= names_in(t)[0]
    out = {}
    for cmd, fn in handlers.items():
        files = [t for t in sources.values() if re.search(rf"^(?:int )?{fn}\(", t, re.M)]
        assert files, f"no source defines {fn}"
        longs, shorts = set(shared), set()
        for t in files:
            lo, sh = names_in(t)
            longs |= lo
            shorts |= sh
        out[cmd] = (sorted(longs), sorted(shorts))
    return out


def help_sections(text):
    """(synopsis and summary, the option lines) of a -h."""
    head, _, opts = text.partition("\nOptions:\n")
    return head, [line for line in opts.splitlines() if line.strip()]


def listed(option, head, lines):
    """Is option ("-f", "--format") the subject of one of the option lines?"""
    for line in lines:
        left = line.strip().split("  ")[0]
        if option in re.findall(r"--?[A-Za-z][-A-Za-z0-9]*", left):
            return True
    return False


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A registry of its own: a probe that is accepted may run the command."""
    d = tmp_path_factory.mktemp("help-registry")
    return dict(os.environ, VDISK_CONFIG_DIR=str(d), LIBVIRT_DEFAULT_URI="",
                VIRSH_DEFAULT_CONNECT_URI="")


def refused_as_unknown(vdisk_bin, cmd, option, env, cwd):
    p = subprocess.run([str(vdisk_bin), cmd, option], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, env=env, cwd=cwd, timeout=60)
    return any(r.search(p.stderr) for r in UNKNOWN)


def test_every_accepted_option_is_listed(vdisk, vdisk_bin, env, tmp_path):
    cands = candidates()
    cmds = commands(vdisk)
    assert set(cmds) <= set(cands), sorted(set(cmds) - set(cands))

    def probe(job):
        cmd, opt = job
        return None if refused_as_unknown(vdisk_bin, cmd, opt, env, tmp_path) else job

    jobs, helps = [], {}
    for cmd in cmds:
        helps[cmd] = help_sections(vdisk(cmd, "-h", env=env).stdout)
        assert helps[cmd][1], f"{cmd} -h lists no option"
        longs, shorts = cands[cmd]
        jobs += [(cmd, f"--{n}") for n in longs if n != "help"]
        jobs += [(cmd, f"-{c}") for c in shorts if c != "h"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        accepted = [j for j in pool.map(probe, jobs) if j]
    assert len(accepted) > 200, len(accepted)     # the probes reached the parsers
    missing = []
    for cmd, opt in accepted:
        head, lines = helps[cmd]
        if listed(opt, head, lines) or (cmd.startswith(VIRSH_PREFIXES) and f"<{opt[2:]}>" in head):
            continue
        missing.append(f"{cmd} {opt}")
    assert not missing, "accepted but not in -h: " + ", ".join(missing)


def test_one_line_per_option_with_its_meaning(vdisk, env):
    for cmd in commands(vdisk):
        _, lines = help_sections(vdisk(cmd, "-h", env=env).stdout)
        seen = set()
        for line in lines:
            left, sep, text = line.strip().partition("  ")
            assert sep and text.strip(), f"{cmd}: option line without a meaning: {line!r}"
            for o in re.findall(r"--?[A-Za-z][-A-Za-z0-9]*", left):
                assert o not in seen, f"{cmd}: {o} listed twice"
                seen.add(o)


def man_entries():
    """{command: the options its entry in docs/vdisk-virsh.1.rst names}."""
    entries = {}
    for line in (ROOT / "docs" / "vdisk-virsh.1.rst").read_text().splitlines():
        if not line.startswith("**"):
            continue
        for part in re.split(r"; | and (?=\*\*)", line):
            m = re.match(r"\*\*([a-z][a-z0-9-]*)\*\*", part)
            if m:
                opts = set(re.findall(r"\*\*(--?[A-Za-z][-A-Za-z0-9]*)\*\*", part))
                entries.setdefault(m.group(1), set()).update(opts)
    return entries


def test_man_page_options_are_in_help(vdisk, env):
    entries = man_entries()
    cmds = commands(vdisk)
    assert len(set(entries) & set(cmds)) > 40, sorted(entries)
    missing = []
    for cmd in cmds:
        if cmd not in entries:
            continue
        head, lines = help_sections(vdisk(cmd, "-h", env=env).stdout)
        for o in sorted(entries[cmd]):
            if not listed(o, head, lines):
                missing.append(f"{cmd} {o}")
    assert not missing, "in the man page but not in -h: " + ", ".join(missing)
