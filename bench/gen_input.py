"""Generate the benchmark input: a raw image with a fixed layout and content.

    python3 bench/gen_input.py FILE SIZE_MIB [SEED]

Every 1 MiB run of the image is, with a seeded generator (so the same seed
gives the same bytes on every machine with this Python): random data (40%),
text-like data (30%: words from a fixed vocabulary, which qcow2's deflate
shrinks to about half), zeros explicitly written, so allocated on disk (10%), or a
hole (20%).  Prints the counts.  Random data does not compress, so neither
tool can cheat on it; the text gives compression real work.
"""
import os
import random
import sys

RUN = 1 << 20
P_DATA = 0.40
P_TEXT = 0.30
P_ZERO = 0.10


def text_pool(rng, size):
    """size bytes of space-separated words (1,000-word vocabulary, lines of
    about 80 characters): the source the text runs are cut from."""
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    vocab = ["".join(rng.choices(letters, weights=range(26, 0, -1), k=rng.randint(2, 10)))
             for _ in range(1000)]
    out, line = [], 0
    total = 0
    while total < size:
        w = rng.choice(vocab)
        sep = "\n" if line + len(w) > 80 else " "
        line = 0 if sep == "\n" else line + len(w) + 1
        out.append(w + sep)
        total += len(w) + 1
    return "".join(out).encode()[:size]


def generate(path, size_mib, seed):
    rng = random.Random(seed)
    pool = text_pool(rng, 4 * RUN)
    zeros = bytes(RUN)
    counts = {"data": 0, "text": 0, "zero": 0, "hole": 0}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, size_mib * RUN)
        for i in range(size_mib):
            r = rng.random()
            if r < P_DATA:
                os.pwrite(fd, rng.randbytes(RUN), i * RUN)
                counts["data"] += 1
            elif r < P_DATA + P_TEXT:
                start = rng.randrange(len(pool) - RUN)
                os.pwrite(fd, pool[start:start + RUN], i * RUN)
                counts["text"] += 1
            elif r < P_DATA + P_TEXT + P_ZERO:
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
    print(f"{argv[1]}: {argv[2]} MiB, seed {seed}: {c['data']} MiB random data, {c['text']} MiB "
          f"text, {c['zero']} MiB written zeros, {c['hole']} MiB holes")


if __name__ == "__main__":
    main(sys.argv)
