#!/usr/bin/env bash
# Build vdisk's Debian packages (libvdisk0, libvdisk-plugin0, libvdisk-dev,
# vdisk-tools, nbdkit-plugin-vdisk) from this tree, check them with lintian and with a program
# built against them through pkg-config; with --libvirt, also Debian 12's
# libvirt rebuilt with pool type 'vdisk' and libvirt-daemon-driver-storage-vdisk
# (scripts/build-libvirt-debs.sh: an hour or more on two cores).
#
#   scripts/build-debs.sh [--out DIR] [--libvirt]
#
# --out DIR   where the .deb files go (default: build/debs; -dbgsym packages
#             in DIR/dbgsym); the build itself runs in build/debs-work on a
#             copy of the tree (scripts/export-tree.sh), never in the tree
# --libvirt   also build the libvirt packages and the module package
#
# Missing build dependencies are installed with apt-get build-dep when run
# as root.  Exits non-zero when a build fails, lintian reports an error, or
# the pkg-config check fails; lintian's warnings are printed, not fatal.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/debs
libvirt=0
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        --libvirt) libvirt=1; shift ;;
        -h|--help) sed -n '2,/^set /{/^set /d;p}' "$0"; exit 0 ;;
        *) echo "build-debs: unknown argument $1" >&2; exit 2 ;;
    esac
done

say() { echo "build-debs: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in dpkg-buildpackage dpkg-parsechangelog dh lintian; do
    command -v "$tool" >/dev/null ||
        die "$tool not found: run scripts/install-deps.sh (as root)"
done

# the Debian version is meson's project version plus a Debian revision
meson_version=$(sed -nE "s/^ *version *: *'([^']+)'.*/\1/p" meson.build | head -n1)
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
[ "${deb_version%-*}" = "$meson_version" ] ||
    die "debian/changelog has $deb_version but meson.build says $meson_version: add a changelog entry"

mkdir -p "$out/dbgsym"
out=$(cd "$out" && pwd)
work=$PWD/build/debs-work
src=$work/vdisk-$meson_version
rm -rf "$work"
mkdir -p "$work"
scripts/export-tree.sh "$src"

if ! (cd "$src" && dpkg-checkbuilddeps) 2>/dev/null; then
    [ "$(id -u)" -eq 0 ] ||
        die "build dependencies missing (dpkg-checkbuilddeps in $src); as root: apt-get build-dep $src"
    say "installing build dependencies (apt-get build-dep)"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 build-dep -y \
        --no-install-recommends "$src" </dev/null >"$work/build-dep.log" 2>&1 ||
        { tail -n 20 "$work/build-dep.log" >&2; die "apt-get build-dep failed"; }
fi

say "vdisk $deb_version: dpkg-buildpackage; log $work/build.log"
start=$(date +%s)
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" \
        nice -n 10 dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    die "dpkg-buildpackage failed, see $work/build.log"
fi
end=$(date +%s)
echo "vdisk $deb_version built in $((end - start)) s" | tee "$work/build-time.txt" >&2

changes=$(ls "$work"/vdisk_*.changes)
say "lintian $(basename "$changes")"
lintian --display-info --tag-display-limit 0 "$changes" >"$work/lintian.log" 2>&1 || true
sed 's/^/  /' "$work/lintian.log" >&2
errors=$(grep -c '^E: ' "$work/lintian.log" || true)
warnings=$(grep -c '^W: ' "$work/lintian.log" || true)
infos=$(grep -c '^I: ' "$work/lintian.log" || true)
echo "lintian: $errors errors, $warnings warnings, $infos info" | tee "$work/lintian-summary.txt" >&2

rm -f "$out"/libvdisk*.deb "$out"/vdisk-tools_*.deb "$out"/nbdkit-plugin-vdisk_*.deb \
    "$out"/dbgsym/libvdisk*.deb "$out"/dbgsym/vdisk-tools-*.deb "$out"/dbgsym/nbdkit-plugin-vdisk-*.deb
for f in "$work"/*.deb; do
    case $f in
        *-dbgsym_*) mv -f "$f" "$out/dbgsym/" ;;
        *) mv -f "$f" "$out/" ;;
    esac
done

# the packages as a user gets them: unpacked, then used through pkg-config
root=$work/unpacked
mkdir -p "$root"
for p in libvdisk0 libvdisk-plugin0 libvdisk-dev; do
    dpkg-deb -x "$out/${p}_${deb_version}_"*.deb "$root"
done
tests/packaging/pkgconfig-consumer.sh "$root" >&2 || die "the pkg-config check on the packages failed"

[ "$errors" -eq 0 ] || die "lintian reported $errors errors (see $work/lintian.log)"

if [ "$libvirt" -eq 1 ]; then
    scripts/build-libvirt-debs.sh --out "$out"
fi
say "done: $(ls "$out"/*.deb | wc -l) packages in $out"
