#!/usr/bin/env bash
# The installed vdisk-virsh runs an image command without its module and
# a pool command through it: the module (vdisk-virsh-stores.so) is found
# where it is installed, relative to the executable, not in the build tree.
#
#   installed-tool.sh ROOT
#
# ROOT is where vdisk is installed: / for a real installation, or a
# staging directory (meson install --destdir ROOT), whose libraries are
# then found through LD_LIBRARY_PATH.  The image is qemu-img's.
set -euo pipefail

root=${1:?usage: installed-tool.sh ROOT}
root=$(cd "$root" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

exe=$(find "$root" -path '*/bin/vdisk-virsh' -type f | head -n1)
[ -n "$exe" ] || { echo "installed-tool: no bin/vdisk-virsh under $root" >&2; exit 1; }
module=$(find "$root" -name vdisk-virsh-stores.so -path '*/vdisk/*' | head -n1)
[ -n "$module" ] || { echo "installed-tool: no vdisk/vdisk-virsh-stores.so under $root" >&2; exit 1; }
if [ "$root" != / ]; then
    lib=$(find "$root" -name 'libvdisk.so.0' | head -n1)
    export LD_LIBRARY_PATH=$(dirname "$lib")
fi
export VDISK_CONFIG_DIR=$tmp/registry LIBVIRT_DEFAULT_URI= VIRSH_DEFAULT_CONNECT_URI=

qemu-img create -q -f qcow2 "$tmp/disk.qcow2" 64M
out=$(LD_DEBUG=files "$exe" info "$tmp/disk.qcow2" 2>"$tmp/ld.log")
grep -q '^virtual size: 64 MiB' <<<"$out" || { echo "installed-tool: info: $out" >&2; exit 1; }
if grep -E 'file=[^ ]*(vdisk-virsh-stores|libvdisk-plugin|libxml2|libnbd)' "$tmp/ld.log"; then
    echo "installed-tool: info mapped the libraries above" >&2
    exit 1
fi

mkdir "$tmp/pool"
"$exe" pool-define-as p dir --target "$tmp/pool" >/dev/null
LD_DEBUG=files "$exe" pool-list --all 2>"$tmp/ld.log" >"$tmp/list"
grep -qE '^ p +inactive' "$tmp/list" || { echo "installed-tool: pool-list:" >&2; cat "$tmp/list" >&2; exit 1; }
grep -q "file=$module " "$tmp/ld.log" || {
    echo "installed-tool: pool-list did not load $module:" >&2
    grep 'vdisk-virsh-stores' "$tmp/ld.log" >&2
    exit 1
}
echo "installed-tool: ok ($module)"
