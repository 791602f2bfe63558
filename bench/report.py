"""bench/bench.py's results: a Markdown table (docs/benchmarks.md is
made from it), JSON with every figure, and a PNG plot of the ratio per case,
quiet and loaded side by side.

A result is {"meta": {...}, "modes": {mode: {"load_start", "load_end",
"rows": [...]}}}; rows are harness.row dicts (plus floor and IOPS fields).
"""
import json
from pathlib import Path


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def mib(kib):
    return "n/a" if kib is None else f"{kib / 1024:.1f}"


def key(r):
    return (r["case"], r.get("where"))


def merged(result):
    """[(case, where, {mode: row})] in the order the cases ran."""
    order, by = [], {}
    for mode, m in result["modes"].items():
        for r in m["rows"]:
            k = key(r)
            if k not in by:
                by[k] = {}
                order.append(k)
            by[k][mode] = r
    return [(c, w, by[(c, w)]) for c, w in order]


def both(rows, field, spec, modes):
    return " / ".join(fmt(rows[m].get(field) if m in rows else None, spec) for m in modes)


def header(result):
    meta, modes = result["meta"], result["modes"]
    lines = [f"Measured {meta['date']} on {meta['cpus']} × {meta['cpu']}, {meta['memory_gib']} GiB, "
             f"Linux {meta['kernel']}; {meta['qemu_img']}; vdisk {meta['vdisk_commit']}.",
             f"Input: {meta['input']}; medians of {meta['runs']} alternating runs per tool; "
             f"disk = {meta['disk_dir_fs']}, tmpfs = {meta['tmpfs_dir']}."]
    for mode, m in modes.items():
        what = ("no load of its own" if mode == "quiet" else
                f"{meta['busy']} busy processes (`python3 -c 'while True: pass'`, own session)")
        lines.append(f"- {mode}: {what}; load average {m['load_start']} at the start, "
                     f"{m['load_end']} at the end.")
    return lines


def markdown(result):
    modes = list(result["modes"])
    ms = " / ".join(modes)
    lines = header(result) + ["",
             f"| case | where | time ratio ({ms}) | CPU ratio ({ms}) | vdisk / floor ({ms}) | "
             f"qemu-img / floor ({ms}) | floor | vdisk RSS MiB | qemu-img RSS MiB | check |",
             "|---|---|---:|---:|---:|---:|---|---:|---:|---|"]
    io = []
    for case, where, rows in merged(result):
        first = next(iter(rows.values()))
        if "iops_ratio" in first:
            io.append((case, where, rows))
            continue
        floor = first.get("floor")
        lines.append(
            f"| {case} | {where or ''} | {both(rows, 'ratio', '.2f', modes)} | "
            f"{both(rows, 'cpu_ratio', '.2f', modes)} | "
            f"{both(rows, 'vs_floor', '.2f', modes) if floor else '-'} | "
            f"{both(rows, 'qemu_vs_floor', '.2f', modes) if floor else '-'} | {floor or '-'} | "
            f"{mib(first.get('vdisk_rss_kib'))} | {mib(first.get('qemu_rss_kib'))} | "
            f"{first.get('check', '-')} |")
    if io:
        lines += ["", f"| bench (4 KiB, depth 32, `-t none`) | IOPS ratio vdisk / qemu-img ({ms}) | "
                  f"vdisk IOPS ({ms}) | qemu-img IOPS ({ms}) | vdisk RSS MiB | qemu-img RSS MiB |",
                  "|---|---:|---:|---:|---:|---:|"]
        for case, where, rows in io:
            first = next(iter(rows.values()))
            lines.append(f"| {case} | {both(rows, 'iops_ratio', '.2f', modes)} | "
                         f"{both(rows, 'vdisk_iops', '.0f', modes)} | "
                         f"{both(rows, 'qemu_iops', '.0f', modes)} | "
                         f"{mib(first.get('vdisk_rss_kib'))} | {mib(first.get('qemu_rss_kib'))} |")
    return "\n".join(lines) + "\n"


def _bars(ax, cases, modes, field, colours):
    """One horizontal bar per mode for each case, from rows[mode][field]."""
    height = 0.8 / max(1, len(modes))
    for i, mode in enumerate(modes):
        ys = [n + i * height for n in range(len(cases))]
        vals = [(rows[mode].get(field) or 0) if mode in rows else 0 for _, _, rows in cases]
        ax.barh(ys, vals, height=height, label=mode, color=colours.get(mode))
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks([n + height * (len(modes) - 1) / 2 for n in range(len(cases))])
    ax.set_yticklabels([f"{c} ({w})" if w else c for c, w, _ in cases], fontsize=7)
    ax.invert_yaxis()
    ax.legend(fontsize=7)


def plot(result, path):
    """Left: the time ratio vdisk / qemu-img of every case, one bar per
    mode, a line at 1 (parity).  Right: the cases that have a floor, vdisk's
    time over it.  Returns False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    cases = merged(result)
    floored = [c for c in cases if next(iter(c[2].values())).get("floor")]
    modes = list(result["modes"])
    colours = {"quiet": "#3a7dc9", "loaded": "#e08a2c"}
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(13, 0.3 * len(cases) + 1.8),
        gridspec_kw={"width_ratios": [3, 2]})
    _bars(left, cases, modes, "ratio", colours)
    left.set_xlabel("time vdisk / qemu-img (below 1: vdisk faster; bench rows: inverse IOPS ratio)",
                    fontsize=8)
    if floored:
        _bars(right, floored, modes, "vs_floor", colours)
        right.set_xlabel("time vdisk / floor (cp, or compression CPU / cores)",
                         fontsize=8)
    else:
        right.axis("off")
    meta = result["meta"]
    fig.suptitle(f"vdisk vs qemu-img, {meta['date']}, {meta['cpus']} CPUs, {meta['qemu_img'].split(' (')[0]}",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write(result, out_dir, name="results"):
    """OUT/NAME.md, OUT/NAME.json and OUT/NAME.png; returns the Markdown."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(result)
    (out / f"{name}.md").write_text(text)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    if not plot(result, out / f"{name}.png"):
        print("bench: no plot: python3-matplotlib is missing (scripts/install-deps.sh)")
    return text


if __name__ == "__main__":
    # Redraw the plot (and table) of a results.json: report.py FILE.json
    import sys
    data = json.loads(Path(sys.argv[1]).read_text())
    print(write(data, Path(sys.argv[1]).parent, Path(sys.argv[1]).stem))
