"""One qcow2 image written in turns by vdisk and by qemu-io.

A random sequence (fixed seeds) of data writes at unaligned offsets and zero
writes goes to the image, each operation through vdisk-io or qemu-io chosen at
random, so each tool must understand every table, refcount and subcluster
bitmap the other left behind.  A bytearray model of the guest disk is the
expected content: afterwards `qemu-img check` must be clean and both
`qemu-img convert -O raw` and vdisk's own read must equal the model.
"""
import random

import pytest

from conftest import VDISK_IO, run
SIZE = 16 << 20
OPS = 60


def mixed_session(tmp_path, opts, seed):
    rnd = random.Random(seed)
    img = tmp_path / "mixed.qcow2"
    model = bytearray(SIZE)
    create_opts = opts
    if "backing" in opts:
        base = tmp_path / "base.raw"
        block = bytes(rnd.randrange(1, 256) for _ in range(4096))
        base.write_bytes(block * (SIZE // 4096))
        model[:] = base.read_bytes()
        create_opts = opts.replace("backing", f"backing_file={base},backing_fmt=raw")
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", create_opts, img, str(SIZE)])
    for _ in range(OPS):
        off = rnd.randrange(SIZE)
        length = rnd.randrange(1, min(SIZE - off, 300000) + 1)
        if rnd.random() < 0.7:
            pat = rnd.randrange(1, 256)
            cmd = f"write -P {pat} {off} {length}"
            model[off:off + length] = bytes([pat]) * length
        else:
            cmd = f"write -z {off} {length}"
            model[off:off + length] = bytes(length)
        if rnd.random() < 0.5:
            run([VDISK_IO, "-f", "qcow2", img, "-c", cmd])
        else:
            run(["qemu-io", "-f", "qcow2", "-c", cmd, img])
    return img, bytes(model)


@pytest.mark.parametrize("opts", [
    "cluster_size=65536", "cluster_size=4096", "compat=0.10",
    "extended_l2=on,cluster_size=131072", "refcount_bits=1,cluster_size=512",
    "lazy_refcounts=on", "backing", "extended_l2=on,cluster_size=65536,backing",
])
@pytest.mark.parametrize("seed", [1, 2])
def test_vdisk_and_qemu_io_take_turns(tmp_path, opts, seed):
    img, model = mixed_session(tmp_path, opts, seed)
    run(["qemu-img", "check", img])
    qemu_raw, vdisk_raw = tmp_path / "qemu.raw", tmp_path / "vdisk.raw"
    run(["qemu-img", "convert", "-O", "raw", img, qemu_raw])
    assert qemu_raw.read_bytes() == model
    run([VDISK_IO, "-f", "qcow2", "-r", img, "-c", f"export {vdisk_raw}"])
    assert vdisk_raw.read_bytes() == model
