"""Compressed convert alone: bench/bench.py's compress section.

    /usr/bin/python3 bench/compress.py [--quick] [--runs N] [--size MIB]
                                       [--types zlib,zstd] [--modes quiet,loaded]

vdisk-virsh convert -c against qemu-img convert -c (zlib, then zstd), each
as it is and with -W -m 8 (both tools the same flags), on tmpfs, beside the
compression floor (floors.py: the CPU time to compress every cluster on its
own, over the cores).  vdisk's output is checked outside the timing
(qemu-img check and compare) and, in order, compared byte for byte with
qemu-img's.  Default: quiet only; results in bench/out/compress.md, .json
and .png.  In qemu-img, -c compresses one cluster at a time inside its
in-order write; vdisk compresses in its copy workers and only the stores are
ordered (or not, with -W).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402


def main(argv):
    args = list(argv)
    if not any(a.startswith("--modes") for a in args):
        args += ["--modes", "quiet"]
    return bench.main(args + ["--only", "compress", "--name", "compress"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
