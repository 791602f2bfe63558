"""What a SIGKILLed qcow2 writer may leave behind, by qemu-img check's
judgement: leaks, and one kind of 'corruption' that is harmless.

A kill between a snapshot's refcount increments and the OFLAG_COPIED updates
of the same L2 entries (QEMU's own snapshot code has the same window) leaves
entries whose COPIED flag disagrees with their refcount.  qemu-img calls that
a corruption, but it is not one: a flag missing at refcount 1 costs a needless
copy-on-write at worst, and a flag set at a refcount raised by a leak is right
again once the leak is gone."""
import re

COPIED_RE = re.compile(r"^ERROR OFLAG_COPIED (?:data|L2) cluster: "
                       r"(?:l1_index=\d+ l1_entry|l2_entry)=([0-9a-f]+) refcount=(\d+)$")
LEAK_RE = re.compile(r"^Leaked cluster (\d+) refcount=(\d+) reference=(\d+)$")


def unexplained_errors(stderr, cluster_bits):
    """qemu-img check's ERROR lines that are not a stale OFLAG_COPIED flag
    of the harmless kinds above."""
    leaked_to_one = {int(m[1]) for m in map(LEAK_RE.match, stderr.splitlines())
                     if m and m[3] == "1"}
    bad = []
    for line in stderr.splitlines():
        if not line.startswith("ERROR"):
            continue
        m = COPIED_RE.match(line)
        if m and (m[2] == "1" or
                  ((int(m[1], 16) & 0x00fffffffffffe00) >> cluster_bits) in leaked_to_one):
            continue
        bad.append(line)
    return bad
