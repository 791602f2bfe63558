"""ISO 9660 benchmark: vdisk-virsh against xorriso, genisoimage and 7-Zip.

    /usr/bin/python3 bench/iso.py [--quick] [--runs N] [--files N] [--size-mib N]
                                  [--seed N] [--workdir DIR]

A source tree of N files (default 10,000) totalling SIZE MiB (default 1024)
is generated with a fixed seed: 100 directories in two levels, file sizes
drawn log-uniformly and scaled to the total, random (incompressible) content.
Then, each case run --runs times (default 3), the tools alternating:

  build    vdisk iso-create  vs  xorriso -as mkisofs -R -J  and  genisoimage -R -J
  list     vdisk iso-ls -R   vs  xorriso -find /  and  isoinfo -f -R  (xorriso's image)
  extract  vdisk iso-extract vs  xorriso -osirrox -extract  and  7z x  (xorriso's image)

Each run is timed from outside (wall clock around the process, outputs
synced) with its peak RSS from /usr/bin/time.  The table shows medians, the ratio vdisk / peer
(below 1: vdisk is faster) and peak RSS.  Outputs are checked once, outside
the timing (the same paths as the source tree, the same bytes extracted):
a fast wrong answer is not a result.  The work directory defaults to
/dev/shm when it has room (CPU comparison, no disk noise), else bench/out
(xorriso is given "stdio:" paths: it refuses plain paths under /dev).
Results: bench/out/iso-results.md and iso-results.json.
"""
import argparse
import hashlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VDISK = Path(os.environ.get("VDISK_BUILD_DIR", REPO / "build")) / "tools" / "vdisk-virsh"
MiB = 1 << 20


def generate_tree(root, n_files, size_mib, seed):
    """n_files files in 100 directories (10 x 10), sizes log-uniform in
    [1 KiB, 16 MiB] scaled so they add up to size_mib."""
    rng = random.Random(seed)
    raw = [math.exp(rng.uniform(math.log(1024), math.log(16 * MiB))) for _ in range(n_files)]
    scale = size_mib * MiB / sum(raw)
    sizes = [max(1, int(s * scale)) for s in raw]
    sizes[-1] += size_mib * MiB - sum(sizes)
    block = rng.randbytes(4 * MiB)
    for i, size in enumerate(sizes):
        d = root / f"dir{i % 10:02d}" / f"sub{(i // 10) % 10:02d}"
        d.mkdir(parents=True, exist_ok=True)
        with open(d / f"file-{i:05d}-{rng.getrandbits(32):08x}.bin", "wb") as f:
            left, off = size, rng.randrange(len(block))
            while left:
                chunk = block[off:off + left] or block[:left]
                f.write(chunk)
                left -= len(chunk)
                off = 0
    return sum(sizes)


def timed(argv, cwd=None, sync_path=None):
    """(seconds, peak RSS KiB) of one run."""
    with tempfile.NamedTemporaryFile("r") as out:
        cmd = ["/usr/bin/time", "-o", out.name, "-f", "%e %M"] + [str(a) for a in argv]
        start = time.perf_counter()
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.exit(f"failed: {' '.join(map(str, argv))}\n{p.stderr[-2000:]}")
        if sync_path:
            subprocess.run(["sync", "-f", str(sync_path)], check=False)
        wall = time.perf_counter() - start
        rss = out.read().split()[-1]
        return wall, int(rss)


def tree_digest(root):
    """{relative path: sha256} of the regular files below root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(MiB), b""):
                    h.update(chunk)
            out[str(p.relative_to(root))] = h.hexdigest()
    return out


def fresh(path):
    if path.is_dir():
        for dirpath, dirnames, _ in os.walk(path):
            for d in dirnames:
                os.chmod(Path(dirpath) / d, 0o755)
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    return path


def cases(work, tree, ref_iso):
    """{case: {tool: (argv builder, output path)}}"""
    out = work / "out"
    return {
        "build": {
            "vdisk": (lambda: [VDISK, "iso-create", "--date", "1700000000", "-o", out / "v.iso", tree], out / "v.iso"),
            "xorriso": (lambda: ["xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-joliet-long",
                                 "-o", f"stdio:{out / 'x.iso'}", tree], out / "x.iso"),
            "genisoimage": (lambda: ["genisoimage", "-quiet", "-R", "-J", "-joliet-long",
                                     "-o", out / "g.iso", tree], out / "g.iso"),
        },
        "list": {
            "vdisk": (lambda: [VDISK, "iso-ls", "-R", ref_iso], None),
            "xorriso": (lambda: ["xorriso", "-indev", f"stdio:{ref_iso}", "-find", "/"], None),
            "isoinfo": (lambda: ["isoinfo", "-f", "-R", "-i", ref_iso], None),
        },
        "extract": {
            "vdisk": (lambda: [VDISK, "iso-extract", ref_iso, "-C", out / "vx"], out / "vx"),
            "xorriso": (lambda: ["xorriso", "-osirrox", "on", "-indev", f"stdio:{ref_iso}", "-extract", "/",
                                 out / "xx"], out / "xx"),
            "7z": (lambda: ["7z", "x", "-y", f"-o{out / 'zx'}", ref_iso], out / "zx"),
        },
    }


def check(work, tree, ref_iso, want):
    """vdisk's image and extraction hold exactly the source tree."""
    out = work / "check"
    fresh(out)
    out.mkdir(parents=True)
    iso = out / "v.iso"
    subprocess.run([VDISK, "iso-create", "-o", iso, tree], check=True)
    p = subprocess.run(["xorriso", "-indev", f"stdio:{iso}", "-find", "/", "-type", "f"], capture_output=True,
                       text=True)
    if p.returncode != 0:
        sys.exit(f"check: xorriso cannot read vdisk's image:\n{p.stderr[-3000:]}")
    listed = p.stdout.count("'/")
    if listed != len(want):
        sys.exit(f"check: xorriso lists {listed} files in vdisk's image, the tree has {len(want)}")
    (out / "x").mkdir()
    subprocess.run([VDISK, "iso-extract", ref_iso, "-C", out / "x"], check=True)
    if tree_digest(out / "x") != want:
        sys.exit("check: vdisk iso-extract of xorriso's image differs from the tree")
    fresh(out)


def run_case(name, tools, runs):
    results = {t: [] for t in tools}
    for _ in range(runs):
        for tool, (argv, output) in tools.items():
            if output is not None:
                fresh(output)
                if name == "extract":
                    output.mkdir(parents=True)
            results[tool].append(timed(argv(), sync_path=output if output and output.exists() else None))
        for tool, (_, output) in tools.items():
            if output is not None:
                fresh(output)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,000 files / 64 MiB, one run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--workdir")
    a = ap.parse_args()
    if a.quick:
        a.files, a.size_mib, a.runs = 1000, 64, 1
    for tool in ("xorriso", "genisoimage", "isoinfo", "7z"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing (scripts/install-deps.sh installs it)")
    if not VDISK.exists():
        sys.exit(f"{VDISK} is missing: build first")
    need = 3.5 * a.size_mib * MiB
    shm = Path("/dev/shm")
    base = Path(a.workdir) if a.workdir else (
        shm if shm.is_dir() and shutil.disk_usage(shm).free > need else REPO / "bench" / "out")
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="vdisk-iso-bench-", dir=base))
    try:
        tree = work / "tree"
        total = generate_tree(tree, a.files, a.size_mib, a.seed)
        (work / "out").mkdir()
        ref_iso = work / "ref.iso"
        subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-joliet-long", "-o", f"stdio:{ref_iso}",
                        tree], check=True, capture_output=True)
        check(work, tree, ref_iso, tree_digest(tree))
        report(a, total, base, {name: run_case(name, tools, a.runs)
                                for name, tools in cases(work, tree, ref_iso).items()})
    finally:
        fresh(work)


def report(a, total, base, res):
    lines = [f"# ISO benchmark: {a.files} files, {total / MiB:.0f} MiB, seed {a.seed}, "
             f"{a.runs} run(s), work dir on {base}", "",
             "| case | tool | median s | vdisk / tool | peak RSS MiB |", "|---|---|---|---|---|"]
    data = {}
    for case, tools in res.items():
        med = {t: statistics.median(r[0] for r in runs) for t, runs in tools.items()}
        rss = {t: max(r[1] for r in runs) / 1024 for t, runs in tools.items()}
        for t in tools:
            ratio = "" if t == "vdisk" else f"{med['vdisk'] / med[t]:.2f}" if med[t] else "n/a"
            lines.append(f"| {case} | {t} | {med[t]:.3f} | {ratio} | {rss[t]:.1f} |")
        data[case] = {t: {"median_s": med[t], "peak_rss_mib": rss[t],
                          "runs": [r[0] for r in tools[t]]} for t in tools}
    text = "\n".join(lines)
    print(text)
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "iso-results.md").write_text(text + "\n")
    (out / "iso-results.json").write_text(json.dumps({"files": a.files, "bytes": total, "seed": a.seed,
                                                      "runs": a.runs, "results": data}, indent=2) + "\n")


if __name__ == "__main__":
    main()
