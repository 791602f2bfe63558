"""bench/bench.py's results: a Markdown table (README's benchmark section is
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


def plot(result, path):
    """Horizontal bars: the time ratio vdisk / qemu-img of every case, one
    bar per mode; a line at 1 (parity).  Returns False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    cases = merged(result)
    modes = list(result["modes"])
    labels = [f"{c} ({w})" if w else c for c, w, _ in cases]
    height = 0.8 / max(1, len(modes))
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(cases) + 1.6))
    colours = {"quiet": "#3a7dc9", "loaded": "#e08a2c"}
    for i, mode in enumerate(modes):
        ys = [n + i * height for n in range(len(cases))]
        vals = [rows[mode]["ratio"] if mode in rows and rows[mode].get("ratio") else 0
                for _, _, rows in cases]
        ax.barh(ys, vals, height=height, label=mode, color=colours.get(mode))
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks([n + height * (len(modes) - 1) / 2 for n in range(len(cases))])
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("time vdisk / qemu-img (below 1: vdisk faster; bench rows: inverse IOPS ratio)")
    meta = result["meta"]
    ax.set_title(f"vdisk vs qemu-img, {meta['date']}, {meta['cpus']} CPUs", fontsize=9)
    ax.legend(fontsize=8)
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
