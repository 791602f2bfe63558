"""Generate the benchmark input: a raw image with a fixed layout and content.

    python3 bench/gen_input.py FILE SIZE_MIB [SEED]

Every 1 MiB run of the image is, with a seeded generator (so the same seed
gives the same bytes on every machine with this Python): random data (45%),
zeros explicitly written, so allocated on disk (10%), or a hole (45%).  Prints
the counts.  Random data does not compress, so neither tool can cheat on it.
"""
import os
import random
import sys

RUN = 1 << 20
P_DATA = 0.45
P_ZERO = 0.10


def generate(path, size_mib, seed):
    rng = random.Random(seed)
    zeros = bytes(RUN)
    counts = {"data": 0, "zero": 0, "hole": 0}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, size_mib * RUN)
        for i in range(size_mib):
            r = rng.random()
            if r < P_DATA:
                os.pwrite(fd, rng.randbytes(RUN), i * RUN)
                counts["data"] += 1
            elif r < P_DATA + P_ZERO:
                os.pwrite(fd, zeros, i * RUN)
                counts["zero"] += 1
            else:
                counts["hole"] += 1
        os.fsync(fd)
    finally:
        os.close(fd)
    return counts


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit(__doc__)
    seed = int(argv[3]) if len(argv) == 4 else 1
    c = generate(argv[1], int(argv[2]), seed)
    print(f"{argv[1]}: {argv[2]} MiB, seed {seed}: {c['data']} MiB random data, "
          f"{c['zero']} MiB written zeros, {c['hole']} MiB holes")


if __name__ == "__main__":
    main(sys.argv)
