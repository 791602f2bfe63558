"""Opening qcow2 images: header validation, feature bits and extensions.

Images come from qemu-img and are then damaged or patched at known header
offsets (docs/interop/qcow2.txt); vdisk must refuse with a clear message,
never crash, and accept what the spec allows.
"""
import struct
import subprocess

import pytest

from conftest import vdisk_io

def vio(*args):
    return vdisk_io(*args, check=False)



def patch(path, off, fmt, value):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(struct.pack(fmt, value))


def header_u64(path, off):
    with open(path, "rb") as f:
        f.seek(off)
        return struct.unpack(">Q", f.read(8))[0]


@pytest.fixture
def img(tmp_path, qemu_img, qemu_io):
    p = tmp_path / "disk.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", p, "64M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x5a 0 1M", p)
    return p


def refused(p, *words, rw=False):
    """vdisk-io must exit 1 (not die of a signal) and name the problem."""
    args = ["-f", "qcow2"] + ([] if rw else ["-r"]) + [p, "-c", "read 0 512"]
    r = vio(*args)
    assert r.returncode == 1, (r.returncode, r.stderr)
    for w in words:
        assert w in r.stderr, r.stderr
    return r.stderr


def readable(p, rw=False):
    args = ["-f", "qcow2"] + ([] if rw else ["-r"]) + [p, "-c", "read -P 0x5a 0 1M"]
    r = vio(*args)
    assert r.returncode == 0, r.stderr


def test_good_image_opens(img):
    readable(img)
    readable(img, rw=True)


def test_truncated_header(tmp_path, img):
    short = tmp_path / "short.qcow2"
    short.write_bytes(img.read_bytes()[:60])
    refused(short, "too short")


@pytest.mark.parametrize("bits", [8, 22, 31, 200])
def test_cluster_bits_out_of_range(img, bits):
    patch(img, 20, ">I", bits)
    refused(img, "cluster_bits")


def test_version_1_refused(img):
    patch(img, 4, ">I", 1)
    refused(img, "version 1")


def test_unknown_version(img):
    patch(img, 4, ">I", 4)
    refused(img, "version 4")


def test_encryption_refused(img):
    # crypt_method 2 (LUKS): without a passphrase the open is refused (the
    # LUKS header is then checked: here the header extension is missing).
    patch(img, 32, ">I", 2)
    refused(img, "encrypted", "passphrase is required")


def test_l1_past_eof(img):
    patch(img, 40, ">Q", 1 << 40)
    refused(img, "L1 table at 0x10000000000", "past the end of the file")


def test_l1_unaligned(img):
    patch(img, 40, ">Q", 0x30200)
    refused(img, "disk.qcow2: L1 table at 0x30200 is not cluster aligned")


def test_l1_absurd_size(img):
    patch(img, 36, ">I", 0xFFFFFFFF)
    refused(img, "L1 table", "too large")


def test_l1_too_small_for_size(img):
    patch(img, 24, ">Q", 1 << 50)
    refused(img, "L1 table has")


def test_absurd_virtual_size(img):
    patch(img, 24, ">Q", (1 << 64) - 1)
    refused(img, "too large")


def test_reftable_past_eof(img):
    patch(img, 48, ">Q", 1 << 45)
    refused(img, "refcount table", "past the end of the file")


def test_reftable_absurd_size(img):
    patch(img, 56, ">I", 0x7FFFFFFF)
    refused(img, "refcount table", "too large")


def test_refcount_order_out_of_range(img):
    patch(img, 96, ">I", 7)
    refused(img, "refcount_order")


def test_header_length_out_of_range(img):
    patch(img, 100, ">I", 50)
    refused(img, "header_length")


def test_l2_table_past_eof(img):
    l1 = header_u64(img, 40)
    patch(img, l1, ">Q", (1 << 63) | (1 << 40))
    refused(img, "L2 table at 0x10000000000", "past the end of the file")


def test_backing_name_outside_header(img):
    patch(img, 8, ">Q", 65530)
    patch(img, 16, ">I", 100)
    refused(img, "backing file name")


def test_unknown_incompatible_bit_named(img):
    # Bit 9, named in the feature table by rewriting an entry of it.
    patch(img, 72, ">Q", 1 << 9)
    with open(img, "r+b") as f:
        data = f.read(4096)
        i = data.index(b"raw external data")
        f.seek(i - 2)
        f.write(bytes([0, 9]) + b"quantum flux".ljust(46, b"\0"))
    refused(img, qemu_refusal(img))


def test_unknown_incompatible_bit_without_name(img):
    patch(img, 72, ">Q", 1 << 40)
    refused(img, qemu_refusal(img))


def qemu_refusal(p):
    """What qemu-img says of an image it refuses to open, after "Could not
    open 'FILE': " (QEMU names a feature from the table, else the mask)."""
    q = subprocess.run(["qemu-img", "info", "-f", "qcow2", str(p)], capture_output=True, text=True)
    assert q.returncode == 1, q.stdout
    reason = q.stderr.strip().split("': ", 1)[1]
    assert reason.startswith("Unsupported qcow2 feature(s): "), q.stderr
    return reason


def test_external_data_file_refused(img):
    patch(img, 72, ">Q", 1 << 2)
    refused(img, "external data file")


def test_dirty_image(img, qemu_img):
    """A dirty image is read as it is, and repaired (then marked clean) by
    a read-write open, as QEMU does."""
    patch(img, 72, ">Q", 1)
    readable(img)
    assert header_u64(img, 72) & 1
    r = vio("-f", "qcow2", img, "-c", "write -P 0x5b 1M 4k")
    assert r.returncode == 0, r.stderr
    assert header_u64(img, 72) & 1 == 0
    assert qemu_img("check", img, check=False).returncode == 0


def test_corrupt_image_read_only(img):
    patch(img, 72, ">Q", 2)
    readable(img)
    refused(img, "corrupt", rw=True)


def test_compression_bit_mismatch(img):
    patch(img, 72, ">Q", 1 << 3)
    refused(img, "compression type")


def test_extended_l2_small_cluster(tmp_path, qemu_img):
    p = tmp_path / "e.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", p, "1M")
    patch(p, 72, ">Q", 1 << 4)
    refused(p, "extended L2")


def test_autoclear_cleared_on_write_open(img, qemu_img):
    patch(img, 88, ">Q", (1 << 0) | (1 << 7))
    vio("-f", "qcow2", "-r", img, "-c", "read 0 512")
    assert header_u64(img, 88) != 0, "read-only open must not touch the header"
    r = vio("-f", "qcow2", img, "-c", "write -P 1 0 512")
    assert r.returncode == 0, r.stderr
    assert header_u64(img, 88) == 0
    p = qemu_img("check", img, check=False)
    assert p.returncode == 0, p.stdout


def test_unknown_extension_preserved(tmp_path, qemu_img, qemu_io):
    """An unknown header extension is kept, and the image stays writable."""
    p = tmp_path / "x.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", "compat=0.10", p, "16M")
    with open(p, "r+b") as f:
        f.seek(72)
        f.write(struct.pack(">II", 0x12345678, 5) + b"hello\0\0\0" + struct.pack(">II", 0, 0))
    r = vio("-f", "qcow2", p, "-c", "write -P 7 100 5000", "-c", "read -P 7 100 5000")
    assert r.returncode == 0, r.stderr
    assert b"hello" in p.read_bytes()[:200]
    qemu_io("-f", "qcow2", "-c", "read -P 7 100 5000", p)


def test_missing_backing_file(tmp_path, qemu_img):
    base = tmp_path / "base.qcow2"
    top = tmp_path / "top.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", base, "1M")
    qemu_img("create", "-q", "-f", "qcow2", "-b", base.name, "-F", "qcow2", top)
    base.unlink()
    r = vio("-f", "qcow2", "-r", top, "-c", "read 0 512")
    assert r.returncode == 1 and "base.qcow2" in r.stderr, r.stderr
    # Without the backing file (-n): reads as zeros.
    r = vio("-f", "qcow2", "-r", "-n", top, "-c", "read -P 0 0 512")
    assert r.returncode == 0, r.stderr


def test_random_header_garbage_never_crashes(tmp_path, img):
    """Byte flips all over the header cluster and the first tables: every
    outcome is a clean open or a clean refusal, never a signal."""
    import random
    rng = random.Random(1234)
    data = bytearray(img.read_bytes())
    for i in range(60):
        d = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            pos = rng.choice([rng.randrange(0, 128), rng.randrange(0, 0x40000)])
            d[pos] = rng.randrange(256)
        p = tmp_path / f"g{i}.qcow2"
        p.write_bytes(bytes(d))
        r = vio("-f", "qcow2", "-r", p, "-c", "read 0 1M", "-c", "map")
        assert r.returncode in (0, 1), (i, r.returncode, r.stderr)
        r = vio("-f", "qcow2", p, "-c", "write -P 3 4096 70000", "-c", "discard 0 64k")
        assert r.returncode in (0, 1), (i, r.returncode, r.stderr)
