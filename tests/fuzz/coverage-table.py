#!/usr/bin/env python3
"""Line coverage of each parser from an llvm-cov lcov export.

    coverage-table.py LCOV EXCLUDES GOAL PARSER=FILE,FILE... ...

Reads the DA (line) and FN (function start) records of the lcov file
`llvm-cov export -format=lcov` wrote, drops the excluded lines, and prints
one row per parser and one per source file: lines counted, lines missed,
lines excluded, coverage, and PASS/FAIL against GOAL percent.  Exit status
1 when a parser is below the goal.

Two kinds of lines are excluded, each counted in the "excl" column, never
silently:
  - the lines of the functions EXCLUDES lists ("FILE FUNCTION REASON",
    `#` comments): code a file's bytes cannot reach, such as the writers of
    `create` that share a source file with a parser;
  - lines reporting an allocation failure (their text names ENOMEM): no
    input can make malloc fail.
"""
import os
import sys


def load_lcov(path):
    """{source path: (DA {line: count}, FN [(line, name)])}"""
    files = {}
    cur = None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("SF:"):
                cur = ({}, [])
                files[os.path.normpath(line[3:])] = cur
            elif cur is None:
                continue
            elif line.startswith("DA:"):
                no, count = line[3:].split(",")[:2]
                cur[0][int(no)] = cur[0].get(int(no), 0) + int(count)
            elif line.startswith("FN:"):
                no, name = line[3:].split(",", 1)
                cur[1].append((int(no), name.split(":")[-1]))
            elif line == "end_of_record":
                cur = None
    return files


def load_excludes(path):
    """{file: {function: reason}}"""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 2)
            if len(parts) < 3:
                sys.exit(f"{path}: '{line}': expected FILE FUNCTION REASON")
            out.setdefault(parts[0], {})[parts[1]] = parts[2]
    return out


def find(files, src):
    for path, rec in files.items():
        if path == src or path.endswith("/" + src):
            return rec
    return None


def file_counts(rec, src, excluded_fns):
    """(lines, missed, excluded) of one file; unknown excluded names fail."""
    da, fns = rec
    fns = sorted(set(fns))
    names = {n for _, n in fns}
    for name in excluded_fns:
        if name not in names:
            sys.exit(f"coverage-table: {src}: no function {name} (stale exclusion)")
    ranges = []
    for i, (start, name) in enumerate(fns):
        end = fns[i + 1][0] - 1 if i + 1 < len(fns) else 1 << 30
        if name in excluded_fns:
            ranges.append((start, end))
    text = open(src, errors="replace").read().split("\n") if os.path.exists(src) else []
    lines = missed = excl = 0
    for no, count in da.items():
        in_fn = any(a <= no <= b for a, b in ranges)
        enomem = no <= len(text) and "ENOMEM" in text[no - 1]
        if in_fn or enomem:
            excl += 1
            continue
        lines += 1
        missed += count == 0
    return lines, missed, excl


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    files = load_lcov(sys.argv[1])
    excludes = load_excludes(sys.argv[2])
    goal = float(sys.argv[3])
    fail = 0
    print(f"{'parser / file':<36} {'lines':>7} {'missed':>7} {'excl':>6} {'cover':>7}")
    rows = []
    for arg in sys.argv[4:]:
        parser, srcs = arg.split("=", 1)
        total = missed = excl = 0
        sub = []
        for src in srcs.split(","):
            rec = find(files, src)
            if rec is None:
                sys.exit(f"coverage-table: {src}: not in the coverage data")
            l, m, e = file_counts(rec, src, excludes.get(src, {}))
            total, missed, excl = total + l, missed + m, excl + e
            sub.append(f"  {src:<34} {l:>7} {m:>7} {e:>6} {pct(l, m):>6.1f}%")
        cover = pct(total, missed)
        verdict = "PASS" if cover >= goal else "FAIL"
        fail += verdict == "FAIL"
        rows.append((parser, total, missed, excl, cover, verdict))
        print(f"{parser:<36} {total:>7} {missed:>7} {excl:>6} {cover:>6.1f}%  {verdict}")
        print("\n".join(sub))
    print()
    print(f"{'parser':<12} {'lines':>7} {'cover':>7}  goal {goal:g}%")
    for parser, total, missed, excl, cover, verdict in rows:
        print(f"{parser:<12} {total:>7} {cover:>6.1f}%  {verdict}")
    print(f"{len(rows) - fail} of {len(rows)} parsers reach {goal:g}%")
    return 1 if fail else 0


def pct(lines, missed):
    return 100.0 * (lines - missed) / lines if lines else 0.0


if __name__ == "__main__":
    sys.exit(main())
