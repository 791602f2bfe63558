#!/usr/bin/env bash
# A program outside the tree builds with `pkg-config --cflags --libs vdisk`
# against installed libvdisk and opens an image that qemu-img made.
#
#   pkgconfig-consumer.sh ROOT
#
# ROOT is where vdisk is installed: / for a real installation (the Debian
# packages), or a staging directory (meson install --destdir ROOT, dpkg -x),
# whose vdisk.pc is then read with ROOT as pkg-config's sysroot.  The
# expected size and byte come from qemu-img and qemu-io, not from vdisk.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=${1:?usage: pkgconfig-consumer.sh ROOT}
root=$(cd "$root" && pwd)
cc=${CC:-cc}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$here/open-image.c" "$tmp/"

if [ "$root" != / ]; then
    pc=$(find "$root" -name vdisk.pc -path '*/pkgconfig/*' | head -n1)
    [ -n "$pc" ] || { echo "pkgconfig-consumer: no vdisk.pc under $root" >&2; exit 1; }
    export PKG_CONFIG_PATH=$(dirname "$pc")
    export PKG_CONFIG_SYSROOT_DIR=$root
    lib=$(find "$root" -name 'libvdisk.so.0' | head -n1)
    [ -n "$lib" ] || { echo "pkgconfig-consumer: no libvdisk.so.0 under $root" >&2; exit 1; }
    export LD_LIBRARY_PATH=$(dirname "$lib")
fi
flags=$(pkg-config --cflags --libs vdisk)
echo "pkg-config --cflags --libs vdisk: $flags"
(cd "$tmp" && $cc -o open-image open-image.c $flags)

# the oracle: a qcow2 image by qemu-img with 0x5a written at 1 MiB by qemu-io
qemu-img create -q -f qcow2 "$tmp/disk.qcow2" 3M
qemu-io -f qcow2 -c 'write -P 0x5a 1M 64k' "$tmp/disk.qcow2" >/dev/null
size=$(qemu-img info --output=json "$tmp/disk.qcow2" | sed -nE 's/.*"virtual-size": ([0-9]+).*/\1/p')
want="format qcow2 size $size byte-at-1048576 0x5a"
got=$("$tmp/open-image" "$tmp/disk.qcow2" 1048576)
echo "open-image: $got"
if [ "$got" != "$want" ]; then
    echo "pkgconfig-consumer: expected: $want" >&2
    exit 1
fi
echo "pkgconfig-consumer: ok"
