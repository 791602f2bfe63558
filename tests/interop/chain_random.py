"""Random backing chains for the commit and rebase tests (no tests here).

A chain is built by qemu-img / qemu-io from a seeded random.Random: a raw or
qcow2 base, qcow2 layers of random sizes (or the backing file's size) with
the same random qcow2 options, each with random pattern writes and zero
writes.  Everything happens in directory d with relative backing names.
"""
import json

OPTS = ["cluster_size=512", "cluster_size=4096", "", "compat=0.10",
        "cluster_size=16384,extended_l2=on", "refcount_bits=2"]


def _vsize(qemu_img, path, fmt):
    return json.loads(qemu_img("info", "-f", fmt, "--output", "json", path).stdout)["virtual-size"]


def random_image(rnd, qemu_img, qemu_io, d, name, fmt, opts, backing=None):
    """One image; backing is (name, fmt) of its backing file or None."""
    args = ["create", "-q", "-f", fmt]
    if fmt == "qcow2" and opts:
        args += ["-o", opts]
    if backing:
        args += ["-b", backing[0], "-F", backing[1]]
    args.append(d / name)
    if not backing or rnd.random() < 0.5:
        args.append(str(rnd.randrange(1, 16) * 256 * 1024))
    qemu_img(*args)
    size = _vsize(qemu_img, d / name, fmt)
    for _ in range(rnd.randrange(0, 5)):
        off = rnd.randrange(0, size // 512) * 512
        n = min(size - off, rnd.randrange(1, 512) * 512)
        op = rnd.choice([f"write -P {rnd.randrange(1, 4)}", "write -z"])
        qemu_io("-f", fmt, "-c", f"{op} {off} {n}", d / name)
    return name, fmt


def random_chain(rnd, qemu_img, qemu_io, d, depth):
    """[(name, fmt)] from the base up; returns it and the qcow2 options."""
    opts = rnd.choice(OPTS)
    chain = []
    for i in range(depth):
        fmt = "raw" if i == 0 and rnd.random() < 0.3 else "qcow2"
        chain.append(random_image(rnd, qemu_img, qemu_io, d, f"l{i}.{fmt}", fmt, opts,
                                  chain[-1] if chain else None))
    return chain, opts
