#!/usr/bin/env bash
# Rebuild Debian's own libvirt source package with vdisk's patch series
# (pool type 'vdisk') and build libvirt-daemon-driver-storage-vdisk (the
# backend module) against that build, as Debian packages.
#
#   scripts/build-libvirt-debs.sh [--work DIR] [--out DIR] [--module-only]
#
# --work DIR     work area (default: build/libvirt-debs): the source package,
#                the patched tree, its build directory, logs
# --out DIR      where the .deb files are collected (default: build/debs);
#                -dbgsym packages go to DIR/dbgsym, libvirt-daemon-system-sysv
#                (conflicts with libvirt-daemon-system-systemd) to
#                DIR/alternatives, so that `apt install DIR/*.deb` works
# --module-only  do not (re)build libvirt; build only the module package
#                against the libvirt tree already built in the work area
#
# Steps:
#   1. Debian's libvirt source package through apt
#      (scripts/fetch-libvirt-source.sh --full: the deb-src entry is derived
#      from the machine's apt sources), its build dependencies installed with
#      apt-get build-dep when missing (root)
#   2. WORK/libvirt-VERSION: that tree with plugin/libvirt/patches/*.patch added
#      to debian/patches/series (as debian/patches/vdisk/*), -Dstorage_vdisk=enabled
#      added to debian/rules, and a changelog entry VERSION+vdisk1
#   3. dpkg-buildpackage -us -uc -b with DEB_BUILD_OPTIONS="nocheck parallel=2"
#      (nice), timed; skipped when the same patches were built already
#   4. the module: this tree with plugin/libvirt/debian/ as its debian/,
#      built by dpkg-buildpackage with VDISK_LIBVIRT_WORK pointing at the
#      libvirt tree (meson -Dlibvirt_build, as plugin/libvirt/meson.build
#      expects: WORK/source, WORK/build)
# The module is a package of its own, built after libvirt, not inside
# libvirt's source package: it rebuilds in a minute when vdisk changes (libvirt
# takes an hour or more), and libvirt's source package stays Debian's plus
# the patch series only.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

work=build/libvirt-debs
out=build/debs
module_only=0
while [ $# -gt 0 ]; do
    case $1 in
        --work) work=${2:?--work needs a directory}; shift 2 ;;
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        --module-only) module_only=1; shift ;;
        -h|--help) sed -n '2,/^set /{/^set /d;p}' "$0"; exit 0 ;;
        *) echo "build-libvirt-debs: unknown argument $1" >&2; exit 2 ;;
    esac
done

say() { echo "build-libvirt-debs: $*" >&2; }
die() { say "$*"; exit 1; }

mkdir -p "$work" "$out/dbgsym" "$out/alternatives"
work=$(cd "$work" && pwd)
out=$(cd "$out" && pwd)

exec 9>"$work/.lock"
if ! flock -n 9; then
    say "another build-libvirt-debs.sh uses $work; waiting for it"
    flock 9
fi

for tool in dpkg-buildpackage dpkg-source dpkg-parsechangelog dh meson flock; do
    command -v "$tool" >/dev/null ||
        die "$tool not found: run scripts/install-deps.sh (as root)"
done

# Bump when the way the tree is changed below changes (forces a rebuild).
recipe=1
suffix=+vdisk1

# 1. Debian's tree (with Debian's own patches applied by dpkg-source -x)
debtree=$(scripts/fetch-libvirt-source.sh --cache "$work/deb-src" --full | tail -n1)
[ -f "$debtree/debian/changelog" ] || die "$debtree: not a Debian source tree"
deb_version=$(dpkg-parsechangelog -l "$debtree/debian/changelog" -S Version)
version=$deb_version$suffix
upstream=${deb_version%-*}
tree=$work/libvirt-$upstream
patches=(plugin/libvirt/patches/*.patch)
[ -f "${patches[0]}" ] || die "plugin/libvirt/patches: no *.patch"
key=$( { echo "recipe $recipe $version"; cat "${patches[@]}"; } | sha256sum | cut -c1-16)

# 2. the patched source package
prepare_tree() {
    say "source: $tree from $(basename "$debtree") plus ${#patches[@]} patches"
    rm -rf "$tree"
    cp -a "$debtree" "$tree"
    rm -f "$tree/.vdisk-extracted"
    mkdir -p "$tree/debian/patches/vdisk"
    local p entries=()
    for p in "${patches[@]}"; do
        cp "$p" "$tree/debian/patches/vdisk/"
        echo "vdisk/$(basename "$p")" >>"$tree/debian/patches/series"
        entries+=("    - vdisk/$(basename "$p")")
    done
    # the feature is 'auto' in the series; say it, as rules does for the others
    grep -q -- '-Dstorage_zfs=enabled' "$tree/debian/rules" ||
        die "$tree/debian/rules: no -Dstorage_zfs=enabled line to add storage_vdisk after"
    sed -i 's/^\( *\)-Dstorage_zfs=enabled \\$/&\n\1-Dstorage_vdisk=enabled \\/' "$tree/debian/rules"
    local dist
    dist=$(dpkg-parsechangelog -l "$debtree/debian/changelog" -S Distribution)
    {
        echo "libvirt ($version) $dist; urgency=medium"
        echo
        echo "  * Storage pool type 'vdisk' (vdisk's plugin/libvirt/patches):"
        printf '%s\n' "${entries[@]}"
        echo "  * debian/rules: -Dstorage_vdisk=enabled."
        echo
        echo " -- ${DEBFULLNAME:-vdisk build-libvirt-debs} <${DEBEMAIL:-vdisk@example.org}>  $(date -R)"
        echo
        cat "$debtree/debian/changelog"
    } >"$tree/debian/changelog.new"
    mv "$tree/debian/changelog.new" "$tree/debian/changelog"
}

# collect_debs DIR: move DIR's .deb files of the last build into $out, so
# that `apt install $out/*.deb` installs a consistent set: debug symbols go
# to $out/dbgsym, and libvirt-daemon-system-sysv (which conflicts with
# libvirt-daemon-system-systemd, the variant for Debian's default init) to
# $out/alternatives
collect_debs() {
    local f
    for f in "$1"/*.deb; do
        [ -e "$f" ] || continue
        case $f in
            *-dbgsym_*) mv -f "$f" "$out/dbgsym/" ;;
            */libvirt-daemon-system-sysv_*) mv -f "$f" "$out/alternatives/" ;;
            *) mv -f "$f" "$out/" ;;
        esac
    done
}

if [ "$module_only" -eq 0 ]; then
    if [ "$(cat "$work/.stamp-libvirt" 2>/dev/null)" = "$key" ]; then
        say "libvirt $version: already built (patches $key)"
    else
        rm -f "$work/.stamp-libvirt"
        prepare_tree
        if ! (cd "$tree" && dpkg-checkbuilddeps) 2>/dev/null; then
            [ "$(id -u)" -eq 0 ] ||
                die "libvirt's build dependencies are missing; as root: apt-get build-dep $debtree"
            say "installing libvirt's build dependencies (apt-get build-dep)"
            DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 build-dep -y \
                --no-install-recommends "$tree" </dev/null >"$work/build-dep.log" 2>&1 ||
                { tail -n 20 "$work/build-dep.log" >&2; die "apt-get build-dep failed"; }
        fi
        rm -f "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes
        say "libvirt $version: dpkg-buildpackage (nocheck, parallel=2); log $work/libvirt-build.log"
        start=$(date +%s)
        if ! (cd "$tree" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
                nice -n 10 dpkg-buildpackage -us -uc -b) >"$work/libvirt-build.log" 2>&1; then
            tail -n 40 "$work/libvirt-build.log" >&2
            die "libvirt: dpkg-buildpackage failed, see $work/libvirt-build.log"
        fi
        end=$(date +%s)
        echo "libvirt $version built in $((end - start)) s" | tee "$work/libvirt-build-time.txt" >&2
        rm -f "$out"/libvirt*.deb "$out"/libnss-libvirt*.deb "$out"/dbgsym/libvirt*.deb \
              "$out"/dbgsym/libnss-libvirt*.deb "$out"/alternatives/libvirt*.deb
        collect_debs "$work"
        echo "$key" >"$work/.stamp-libvirt"
    fi
fi
[ -f "$work/.stamp-libvirt" ] || die "libvirt is not built in $work yet (run without --module-only)"
for f in "$out"/libvirt-daemon-system-sysv_*.deb; do
    [ -e "$f" ] && mv -f "$f" "$out/alternatives/"
done
built_version=$(dpkg-parsechangelog -l "$tree/debian/changelog" -S Version)

# 3. the module package, against that build tree.  dpkg-buildpackage took
# the series off again after the build (dpkg-source --after-build); the module
# needs the headers as libvirt was built, so the series goes back on.
(cd "$tree" && dpkg-source --before-build .) >"$work/module-build.log" 2>&1 ||
    { tail -n 20 "$work/module-build.log" >&2; die "dpkg-source --before-build $tree failed"; }
grep -q '^vdisk/' "$tree/.pc/applied-patches" ||
    die "$tree: the vdisk patches are not applied"
lvwork=$work/module-libvirt
mkdir -p "$lvwork"
ln -sfn "$tree" "$lvwork/source"
ln -sfn "$tree/debian/build" "$lvwork/build"
msrc=$work/module-src/vdisk
say "module: libvirt-daemon-driver-storage-vdisk against libvirt $built_version; log $work/module-build.log"
rm -rf "$work/module-src"
mkdir -p "$msrc"
scripts/export-tree.sh "$msrc"
rm -rf "$msrc/debian"
cp -a plugin/libvirt/debian "$msrc/debian"
meson_version=$(sed -nE "s/^ *version *: *'([^']+)'.*/\1/p" meson.build | head -n1)
{
    echo "libvirt-storage-vdisk ($meson_version-1) $(dpkg-parsechangelog -l "$tree/debian/changelog" -S Distribution); urgency=medium"
    echo
    echo "  * vdisk $meson_version's storage backend module, built against"
    echo "    libvirt $built_version."
    echo
    echo " -- ${DEBFULLNAME:-vdisk maintainers} <${DEBEMAIL:-vdisk@example.org}>  $(date -R)"
} >"$msrc/debian/changelog"
start=$(date +%s)
if ! (cd "$msrc" && VDISK_LIBVIRT_WORK=$lvwork VDISK_LIBVIRT_VERSION=$built_version \
        DEB_BUILD_OPTIONS="nocheck parallel=2" nice -n 10 dpkg-buildpackage -us -uc -b) \
        >>"$work/module-build.log" 2>&1; then
    tail -n 40 "$work/module-build.log" >&2
    die "module: dpkg-buildpackage failed, see $work/module-build.log"
fi
end=$(date +%s)
echo "libvirt-daemon-driver-storage-vdisk built in $((end - start)) s" | tee "$work/module-build-time.txt" >&2
lintian --display-info --tag-display-limit 0 "$work"/module-src/*.changes >"$work/module-lintian.log" 2>&1 || true
sed 's/^/  /' "$work/module-lintian.log" >&2
errors=$(grep -c '^E: ' "$work/module-lintian.log" || true)
echo "lintian (module): $errors errors, $(grep -c '^W: ' "$work/module-lintian.log" || true) warnings," \
     "$(grep -c '^I: ' "$work/module-lintian.log" || true) info" | tee "$work/module-lintian-summary.txt" >&2
rm -f "$out"/libvirt-daemon-driver-storage-vdisk_*.deb "$out"/dbgsym/libvirt-daemon-driver-storage-vdisk-*.deb
collect_debs "$work/module-src"
[ "$errors" -eq 0 ] || die "lintian reported $errors errors on the module package (see $work/module-lintian.log)"
say "done: $(ls "$out"/*.deb | wc -l) packages in $out"
