#!/usr/bin/env bash
# A copy of the installed virt-manager with vdisk's patch series applied,
# in a prefix: the system's package stays as it is.
#
#   plugin/virt-manager/patched-virt-manager.sh PREFIX install|remove|check
#
# install  copy the installed virt-manager (/usr/share/virt-manager, from
#          Debian's virt-manager package, or $VDISK_VIRT_MANAGER_DIR) to
#          PREFIX/share/virt-manager, apply plugin/virt-manager/patches/*.patch
#          to the copy and write PREFIX/bin/virt-manager, which runs it;
#          done again only when the series or the installed version changed
# remove   undo install: remove PREFIX/share/virt-manager and
#          PREFIX/bin/virt-manager (only what install wrote)
# check    only say whether the series applies to the installed version
#
# The copy reads its UI files and icons from PREFIX/share/virt-manager
# (a build.cfg naming PREFIX) and its translations from the system's.  It
# uses the system's python3 modules (gi, libvirt) and GSettings schema.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
say() { echo "patched-virt-manager: $*" >&2; }
die() { say "$*"; exit 1; }

[ $# -eq 2 ] || { sed -n '5,18p' "$0" >&2; exit 2; }
mkdir -p "$1"
prefix=$(cd "$1" && pwd)
action=$2

system=${VDISK_VIRT_MANAGER_DIR:-/usr/share/virt-manager}
copy=$prefix/share/virt-manager
launcher=$prefix/bin/virt-manager
stamp=$copy/.vdisk-patched
patches=("$here"/patches/*.patch)
[ -f "${patches[0]}" ] || die "$here/patches: no *.patch"

installed_version() {
    sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$system/virtinst/buildconfig.py" 2>/dev/null
}

# A copy of the installed tree, without its byte-compiled files, with the
# series applied; prints nothing, dies naming the patch that fails.
patched_copy() {
    local dest=$1 p
    [ -f "$system/virtManager/virtmanager.py" ] ||
        die "$system: no virt-manager there (install Debian's virt-manager package)"
    rm -rf "$dest"
    mkdir -p "$dest"
    (cd "$system" && tar --exclude=__pycache__ -cf - .) | (cd "$dest" && tar -xf -)
    for p in "${patches[@]}"; do
        patch -d "$dest" -p1 --batch --forward --quiet <"$p" >&2 ||
            { rm -rf "$dest"; die "$(basename "$p") does not apply to virt-manager $(installed_version) in $system"; }
    done
}

case $action in
    install)
        key=$( { installed_version; echo "$system"; cat "${patches[@]}"; } | sha256sum | cut -c1-16)
        if [ "$(cat "$stamp" 2>/dev/null)" = "$key" ] && [ -x "$launcher" ]; then
            say "$copy is up to date (virt-manager $(installed_version), patches $key)"
            exit 0
        fi
        patched_copy "$copy.new"
        printf '[config]\nprefix = %s\n' "$prefix" >"$copy.new/virtinst/build.cfg"
        # UI files and icons are the copy's; translations stay the system's
        mkdir -p "$prefix/share" "$prefix/bin"
        [ -e "$prefix/share/locale" ] || ln -s /usr/share/locale "$prefix/share/locale"
        echo "$key" >"$copy.new/.vdisk-patched"
        rm -rf "$copy"
        mv "$copy.new" "$copy"
        cat >"$launcher.new" <<EOF
#!/usr/bin/python3
# virt-manager $(installed_version) with vdisk's patches (plugin/virt-manager/patches),
# written by patched-virt-manager.sh; remove with: patched-virt-manager.sh PREFIX remove
import sys
sys.path.insert(0, "$copy")
from virtManager import virtmanager

virtmanager.runcli()
EOF
        chmod 755 "$launcher.new"
        mv "$launcher.new" "$launcher"
        say "installed $launcher (virt-manager $(installed_version) + ${#patches[@]} patches)" ;;
    remove)
        if [ -f "$stamp" ]; then
            rm -rf "$copy"
            say "removed $copy"
        fi
        if [ -f "$launcher" ] && grep -q 'written by patched-virt-manager.sh' "$launcher"; then
            rm -f "$launcher"
            say "removed $launcher"
        fi
        [ -L "$prefix/share/locale" ] && rm -f "$prefix/share/locale"
        exit 0 ;;
    check)
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        patched_copy "$tmp/vm"
        say "the ${#patches[@]} patches apply to virt-manager $(installed_version) in $system" ;;
    *)
        die "unknown action '$action' (install, remove, check)" ;;
esac
