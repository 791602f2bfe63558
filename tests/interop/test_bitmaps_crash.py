"""A libvdisk writer killed while it writes an image with persistent dirty
bitmaps: the bitmaps it loaded are left in_use (inconsistent), never a
clean bitmap that misses a write.

The image starts empty with its bitmaps, so every allocated or zeroed
range `qemu-img map` shows afterwards was written by the killed process:
a bitmap that is not in_use must have all of it dirty.
"""
import json
import random
import signal
import subprocess
import time

import pytest

from bitmap_common import bitmap_info, dirty_ranges, make_image, need_tools
from conftest import VDISK_IO, run
from crash_common import unexplained_errors

BITMAPS = (("b0", None, False), ("b1", 4096, False), ("off", None, True))


def written_ranges(path):
    m = json.loads(run(["qemu-img", "map", "--output=json", "-U", path]).stdout)
    return [(e["start"], e["length"]) for e in m if e["present"]]


def covered(ranges, dirty):
    for s, n in ranges:
        if not any(d <= s and s + n <= d + dn for d, dn in dirty):
            return False
    return True


def rounded(dirty, gran):
    """Dirty ranges widened to multiples of gran (and merged)."""
    out = []
    for s, n in dirty:
        a, b = s // gran * gran, -(-(s + n) // gran) * gran
        if out and out[-1][1] >= a:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return [(a, b - a) for a, b in out]


@pytest.mark.parametrize("seed", range(6))
def test_kill_during_writes(tmp_path, seed):
    need_tools()
    rnd = random.Random(seed)
    img = tmp_path / "c.qcow2"
    make_image(lambda *a: run(["qemu-img", *a]), img, "32M", "", BITMAPS)
    count = "0" if seed % 2 == 0 else "60"   # odd seeds may finish and close
    p = subprocess.Popen([VDISK_IO, "-f", "qcow2", img, "-c", f"stress {seed} {count}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(rnd.uniform(0.05, 0.6))
    p.send_signal(signal.SIGKILL)
    p.wait()
    c = run(["qemu-img", "check", img], check=False)
    assert c.returncode in (0, 3), c.stdout + c.stderr
    assert not unexplained_errors(c.stdout + c.stderr, 16)
    assert "bitmap support" not in c.stderr
    info = bitmap_info(img)
    assert [n for n, _, _ in info] == ["b0", "b1", "off"]
    assert p.returncode == -signal.SIGKILL or p.returncode == 0, p.stderr.read()
    flags = {n: fl for n, _, fl in info}
    assert ("in-use" in flags["b0"]) == ("in-use" in flags["b1"]) == ("in-use" in flags["off"])
    if "in-use" in flags["b0"]:
        return
    # Closed cleanly: every cluster written is dirty in the 64 KiB bitmap,
    # and the 4 KiB one agrees with it cluster by cluster.
    b0 = dirty_ranges(img, "b0")
    assert covered(written_ranges(img), b0)
    assert rounded(dirty_ranges(img, "b1"), 65536) == b0
    assert dirty_ranges(img, "off") == []
