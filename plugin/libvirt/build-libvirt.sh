#!/usr/bin/env bash
# Build the distribution's libvirt with vdisk's patches (pool type 'vdisk')
# into PREFIX, then build vdisk's storage backend module against it and
# install it into PREFIX's storage-backend directory.
#
#   plugin/libvirt/build-libvirt.sh [--work DIR] [-j N] [--storage-only] PREFIX
#
# PREFIX          where libvirt is installed (sbin/virtqemud, sbin/virtstoraged,
#                 bin/virsh, ...)
# --work DIR      work area: source package, patched tree, build directories
#                 (default: PREFIX's parent directory /libvirt-work, or
#                 $VDISK_LIBVIRT_WORK)
# -j N            parallel jobs for ninja (default: ninja's own)
# --storage-only  no QEMU and no network driver: storage, secrets, the
#                 daemons and virsh only (no guest can run)
#
# Steps, each cached by a stamp file keyed on its inputs:
#   1. Debian's libvirt source package through apt (scripts/fetch-libvirt-source.sh
#      --full; a deb-src entry is derived from apt's own sources when missing,
#      which needs root once)
#   2. WORK/source: that tree plus plugin/libvirt/patches/*.patch (when the
#      series changes, only the files whose content changed are replaced)
#   3. WORK/build: libvirt with the QEMU driver (virtqemud), the network
#      driver (virtnetworkd, NAT networks), storage dir + vdisk, secrets,
#      remote, the modular daemons, virsh -- or, with --storage-only, no
#      hypervisor and no network driver -- configured with --prefix=PREFIX
#      and an RPATH, built and installed
#   4. WORK/vdisk-build: this project with -Dlibvirt_build=WORK, which builds
#      libvirt_storage_backend_vdisk.so; only the module is installed
# A second run redoes only what changed (ninja decides for step 4); switching
# between the full and the storage-only set reconfigures and rebuilds step 3.
# Exits 0 once PREFIX/sbin/virtstoraged, PREFIX/sbin/virtsecretd,
# PREFIX/bin/virsh, the module and (unless --storage-only) PREFIX/sbin/virtqemud
# and PREFIX/sbin/virtnetworkd exist.  Needs the packages listed in
# scripts/install-deps.sh; installs nothing itself.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

work=${VDISK_LIBVIRT_WORK:-}
jobs=()
prefix=
storage_only=0
while [ $# -gt 0 ]; do
    case $1 in
        --work) work=${2:?--work needs a directory}; shift 2 ;;
        -j) jobs=(-j "${2:?-j needs a number}"); shift 2 ;;
        -j*) jobs=("$1"); shift ;;
        --storage-only) storage_only=1; shift ;;
        -h|--help) sed -n '2,35p' "$0"; exit 0 ;;
        -*) echo "build-libvirt: unknown option $1" >&2; exit 2 ;;
        *) [ -z "$prefix" ] || { echo "build-libvirt: one PREFIX only" >&2; exit 2; }
           prefix=$1; shift ;;
    esac
done
[ -n "$prefix" ] || { sed -n '5,16p' "$0" >&2; exit 2; }

say() { echo "build-libvirt: $*" >&2; }
die() { say "$*"; exit 1; }

mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
[ -n "$work" ] || work=$(dirname "$prefix")/libvirt-work
mkdir -p "$work"
work=$(cd "$work" && pwd)

# one run at a time per work area (they share the build directories)
exec 9>"$work/.lock"
if ! flock -n 9; then
    say "another build-libvirt.sh uses $work; waiting for it"
    flock 9
fi

for tool in meson ninja patch sha256sum pkg-config flock; do
    command -v "$tool" >/dev/null ||
        die "$tool not found: run scripts/install-deps.sh (as root)"
done

# The options every build shares: storage (dir + vdisk), secrets, remote,
# the modular daemons and virsh; RPATH, so that the prefix's programs find
# the prefix's libvirt.so.0 with no LD_LIBRARY_PATH (which would also send
# the system's virsh to it); none of libvirt's other hypervisors.
libvirt_options=(
    --buildtype=debugoptimized
    -Drpath=enabled
    -Ddriver_remote=enabled -Ddriver_libvirtd=enabled
    -Ddriver_secrets=enabled -Ddriver_test=enabled
    -Dstorage_dir=enabled -Dstorage_vdisk=enabled
    -Dstorage_fs=disabled -Dstorage_disk=disabled -Dstorage_gluster=disabled
    -Dstorage_iscsi=disabled -Dstorage_iscsi_direct=disabled
    -Dstorage_lvm=disabled -Dstorage_mpath=disabled -Dstorage_rbd=disabled
    -Dstorage_scsi=disabled -Dstorage_vstorage=disabled -Dstorage_zfs=disabled
    -Ddriver_libxl=disabled -Ddriver_lxc=disabled
    -Ddriver_vbox=disabled -Ddriver_esx=disabled -Ddriver_hyperv=disabled
    -Ddriver_openvz=disabled -Ddriver_vmware=disabled -Ddriver_vz=disabled
    -Ddriver_ch=disabled -Ddriver_bhyve=disabled
    -Ddriver_interface=disabled
    -Ddocs=disabled -Dtests=disabled -Dnls=disabled
    -Dselinux=disabled -Dapparmor=disabled -Dsecdriver_selinux=disabled
    -Dsecdriver_apparmor=disabled -Dapparmor_profiles=disabled
    -Dnss=disabled -Dpolkit=disabled -Dudev=disabled
    -Dlibssh=disabled -Dlibssh2=disabled -Dsasl=disabled -Dnumactl=disabled
    -Dfirewalld=disabled -Dfirewalld_zone=disabled
    -Dwireshark_dissector=disabled -Dbash_completion=disabled
    -Dsanlock=disabled -Dhost_validate=disabled
)
if [ $storage_only = 1 ]; then
    libvirt_options+=(-Ddriver_qemu=disabled -Ddriver_network=disabled -Dyajl=disabled)
    daemons=(virtstoraged virtsecretd)
else
    # QEMU needs YAJL (QMP); the network driver runs dnsmasq and iptables
    # at run time and uses libnl for its bridges.  QEMU's default user is
    # root: virtqemud resolves it at start-up, before qemu.conf, and the
    # libvirt-qemu user exists only where Debian's libvirt is installed
    # (run-daemon.sh's qemu.conf names it there).  Features that would be
    # picked up only because a -dev package happens to be installed are
    # off, so that every machine builds the same thing.
    libvirt_options+=(-Ddriver_qemu=enabled -Dyajl=enabled
                      -Dqemu_user=root -Dqemu_group=root
                      -Ddriver_network=enabled -Dlibnl=enabled
                      -Dcapng=disabled -Dpciaccess=disabled -Dlibpcap=disabled
                      -Daudit=disabled -Dattr=disabled -Dblkid=disabled
                      -Dfuse=disabled -Dcurl=disabled -Dglusterfs=disabled
                      -Ddtrace=disabled -Dnumad=disabled -Dpm_utils=disabled
                      -Dlogin_shell=disabled)
    daemons=(virtstoraged virtsecretd virtqemud virtnetworkd)
fi
started=$SECONDS

# 1. Debian's source tree with Debian's patches applied
say "source: Debian's libvirt source package (cached in $work/deb-src)"
debtree=$("$top/scripts/fetch-libvirt-source.sh" --cache "$work/deb-src" --full | tail -n1)
[ -f "$debtree/meson.build" ] || die "$debtree: not a libvirt source tree"

# 2. the patched tree, redone when the series or the Debian tree changes
patches=("$here"/patches/*.patch)
[ -f "${patches[0]}" ] || die "$here/patches: no *.patch"
patch_key=$( { echo "$debtree"; cat "${patches[@]}"; } | sha256sum | cut -c1-16)
src=$work/source
if [ "$(cat "$src/.vdisk-patched" 2>/dev/null)" != "$patch_key" ]; then
    say "source: applying ${#patches[@]} patches to a copy of $(basename "$debtree")"
    rm -rf "$src.new"
    cp -a "$debtree" "$src.new"
    for p in "${patches[@]}"; do
        patch -d "$src.new" -p1 --batch --forward --quiet <"$p" ||
            die "$(basename "$p") does not apply to $(basename "$debtree")"
    done
    echo "$patch_key" >"$src.new/.vdisk-patched"
    echo "$debtree" >"$src.new/.vdisk-debtree"
    sed -n 's|^+++ b/||p' "${patches[@]}" | sort -u >"$src.new/.vdisk-files"
    if [ -f "$src/.vdisk-files" ] &&
       [ "$(cat "$src/.vdisk-debtree" 2>/dev/null)" = "$debtree" ]; then
        # Same Debian tree, another series: replace only the files whose
        # content changed (with a new mtime), so that ninja rebuilds only
        # what depends on them.
        say "source: updating the files the series changed in $src"
        sort -u "$src/.vdisk-files" "$src.new/.vdisk-files" | while read -r f; do
            if [ -e "$src.new/$f" ]; then
                cmp -s "$src.new/$f" "$src/$f" && continue
                mkdir -p "$(dirname "$src/$f")"
                cp "$src.new/$f" "$src/$f"
            else
                rm -f "$src/$f"
            fi
        done
        cp "$src.new/.vdisk-files" "$src.new/.vdisk-debtree" "$src.new/.vdisk-patched" "$src/"
        rm -rf "$src.new"
    else
        rm -rf "$src" "$work/build" "$work/.stamp-"*
        mv "$src.new" "$src"
    fi
else
    say "source: $src is up to date (patches $patch_key)"
fi

# 3. configure (when the options or the prefix changed), build, install
build=$work/build
conf_key=$( { echo "$prefix $debtree"; printf '%s\n' "${libvirt_options[@]}"; } |
            sha256sum | cut -c1-16)
if [ "$(cat "$work/.stamp-configure" 2>/dev/null)" != "$conf_key" ]; then
    say "libvirt: configuring $build (prefix $prefix)"
    rm -rf "$build" "$work/.stamp-install"
    meson setup "$build" "$src" --prefix="$prefix" --libdir=lib \
        "${libvirt_options[@]}" >"$work/configure.log" 2>&1 ||
        { tail -n 30 "$work/configure.log" >&2; die "libvirt: configure failed, see $work/configure.log"; }
    echo "$conf_key" >"$work/.stamp-configure"
fi
say "libvirt: building in $build"
ninja -C "$build" "${jobs[@]}" >"$work/build.log" 2>&1 ||
    { tail -n 30 "$work/build.log" >&2; die "libvirt: build failed, see $work/build.log"; }
if [ "$(cat "$work/.stamp-install" 2>/dev/null)" != "$conf_key" ] ||
   ! grep -q 'no work to do' "$work/build.log"; then
    say "libvirt: installing into $prefix"
    meson install -C "$build" --no-rebuild --only-changed >"$work/install.log" 2>&1 ||
        { tail -n 30 "$work/install.log" >&2; die "libvirt: install failed, see $work/install.log"; }
    echo "$conf_key" >"$work/.stamp-install"
else
    say "libvirt: $prefix is up to date"
fi

# 4. the vdisk backend module, against this build, installed alone
vbuild=$work/vdisk-build
# one vdisk build directory, configured from the tree this script is in
if [ "$(cat "$vbuild/.vdisk-source" 2>/dev/null)" != "$top" ]; then
    rm -rf "$vbuild"
fi
if [ ! -f "$vbuild/build.ninja" ]; then
    say "module: configuring $vbuild"
    meson setup "$vbuild" "$top" --prefix="$prefix" --libdir=lib \
        --buildtype=debugoptimized -Dtests=false -Dlibvirt_build="$work" \
        >"$work/vdisk-configure.log" 2>&1 ||
        { tail -n 30 "$work/vdisk-configure.log" >&2
          rm -rf "$vbuild"; die "module: configure failed, see $work/vdisk-configure.log"; }
    echo "$top" >"$vbuild/.vdisk-source"
else
    meson configure "$vbuild" --prefix="$prefix" -Dlibvirt_build="$work" >/dev/null
fi
say "module: building libvirt_storage_backend_vdisk.so"
ninja -C "$vbuild" "${jobs[@]}" plugin/libvirt/libvirt_storage_backend_vdisk.so \
    >"$work/vdisk-build.log" 2>&1 ||
    { tail -n 30 "$work/vdisk-build.log" >&2; die "module: build failed, see $work/vdisk-build.log"; }
meson install -C "$vbuild" --no-rebuild --only-changed --tags libvirt-module \
    >"$work/vdisk-install.log" 2>&1 ||
    { tail -n 30 "$work/vdisk-install.log" >&2; die "module: install failed, see $work/vdisk-install.log"; }

module=$prefix/lib/libvirt/storage-backend/libvirt_storage_backend_vdisk.so
for f in "${daemons[@]/#/$prefix/sbin/}" "$prefix/bin/virsh" "$module"; do
    [ -e "$f" ] || die "$f is missing after the build"
done
say "done in $((SECONDS - started)) s: $prefix (${daemons[*]}; module $module)"
