"""Helpers of the ISO interop tests: a generated source tree (fixed seed),
the oracles (xorriso, genisoimage, isoinfo, 7z) and tree comparison.

Every expected value comes from the real tools or from the generated tree,
never from vdisk itself.
"""
import hashlib
import json
import os
import random
import shutil
import stat
from pathlib import Path

import pytest

from conftest import run

ORACLES = ("xorriso", "genisoimage", "isoinfo", "7z")


def need(tool):
    path = shutil.which(tool)
    if not path:
        pytest.fail(f"{tool} is missing (scripts/install-deps.sh installs it)")
    return path


def make_tree(root: Path, seed=5, deep=False):
    """A tree with the cases readers get wrong: long and non-ASCII names,
    names that collide in 8.3 and in 64-char Joliet form, symlinks
    (relative, absolute, dangling), empty files, executables, nested
    directories (deeper than 8 with deep=True: genisoimage relocates those)."""
    rnd = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)

    def data(n):
        return bytes(rnd.getrandbits(8) for _ in range(n))

    (root / "user-data").write_bytes(b"#cloud-config\nhostname: vdisk\n")
    (root / "empty").write_bytes(b"")
    (root / "a.b.c").write_bytes(data(10))
    (root / "README.txt").write_bytes(data(3000))
    (root / "Mixed Case Name.TXT").write_bytes(data(5))
    long_name = "l" * 100 + ".data"
    (root / long_name).write_bytes(data(7))
    (root / ("x" * 70 + "1")).write_bytes(b"one")
    (root / ("x" * 70 + "2")).write_bytes(b"two")
    # The same collision among the first names of a directory.
    (root / ("A" * 70 + "1")).write_bytes(b"A1")
    (root / ("A" * 70 + "2")).write_bytes(b"A2")
    (root / "caf\u00e9-\u65e5\u672c.txt").write_bytes(data(33))
    (root / "very-long-file-name-number-one.txt").write_bytes(b"1")
    (root / "very-long-file-name-number-two.txt").write_bytes(b"2")
    run_sh = root / "run.sh"
    run_sh.write_bytes(b"#!/bin/sh\necho hi\n")
    run_sh.chmod(0o755)
    sub = root / "sub" / "inner"
    sub.mkdir(parents=True)
    (sub / "blob.bin").write_bytes(data(70000))
    (root / "sub" / "two-sectors").write_bytes(data(4096))
    os.symlink("../user-data", root / "sub" / "rel-link")
    os.symlink("/etc/hostname", root / "abs-link")
    os.symlink("no/such/target", root / "dangling")
    if deep:
        d = root
        for i in range(10):
            d = d / f"level{i}"
        d.mkdir(parents=True)
        (d / "deep.txt").write_bytes(b"deep\n")
    return root


def walk_host(root: Path):
    """{relative path: (type, size, sha256|link target, mode & 0o777)}"""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = "/" + str(p.relative_to(root))
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", 0, os.readlink(p), None)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", 0, None, st.st_mode & 0o777)
            else:
                out[rel] = ("f", st.st_size, hashlib.sha256(p.read_bytes()).hexdigest(),
                            st.st_mode & 0o777)
    return out


def without_modes(tree):
    return {k: v[:3] for k, v in tree.items()}


def xorriso_find(iso):
    """Absolute paths below / as `xorriso -indev X -find /` prints them."""
    p = run([need("xorriso"), "-indev", iso, "-find", "/"])
    out = []
    for line in p.stdout.splitlines():
        if line.startswith("'") and line.endswith("'"):
            path = line[1:-1].replace("'\"'\"'", "'")
            if path != "/":
                out.append(path)
    return sorted(out)


def xorriso_extract(iso, dest: Path):
    dest.mkdir(parents=True, exist_ok=True)
    run([need("xorriso"), "-osirrox", "on", "-indev", iso, "-extract", "/", dest])
    # xorriso leaves extracted directories read-only: make them removable.
    for dirpath, dirnames, _ in os.walk(dest):
        for d in dirnames:
            p = Path(dirpath) / d
            if not p.is_symlink():
                p.chmod(0o755)
    return dest


def isoinfo_find(iso, flag):
    """`isoinfo -f` paths with -R or -J (ISO names otherwise).  isoinfo
    prints Joliet names in ISO 8859-1, '_' for what that cannot hold."""
    args = [need("isoinfo"), "-f", "-i", iso] + ([flag] if flag else [])
    p = run(args, text=False)
    enc = "latin-1" if flag == "-J" else "utf-8"
    return sorted(p.stdout.decode(enc, "surrogateescape").splitlines())


def as_latin1(path):
    """A UTF-8 name as isoinfo -J shows it."""
    return "".join(c if ord(c) < 256 else "_" for c in path)


def sevenzip_list(iso):
    """{path: size} from `7z l -slt` (7-Zip reads Joliet when present)."""
    p = run([need("7z"), "l", "-slt", iso])
    out, cur = {}, {}
    for line in p.stdout.splitlines() + [""]:
        if " = " in line:
            k, v = line.split(" = ", 1)
            cur[k] = v
        elif not line.strip() and "Path" in cur and "Folder" in cur:
            out["/" + cur["Path"]] = None if cur["Folder"] == "+" else int(cur.get("Size") or 0)
            cur = {}
        elif not line.strip():
            cur = {}
    return out


def vdisk_find(vdisk, iso, names=None):
    args = ["iso-ls", "-R", iso] if not names else ["iso-ls", "-R", "--names", names, iso]
    return sorted(vdisk(*args).stdout.splitlines())


def vdisk_json(vdisk, iso, names=None):
    args = ["iso-ls", "-R", "--json", iso] + (["--names", names] if names else [])
    return {e["path"]: e for e in json.loads(vdisk(*args).stdout)}
