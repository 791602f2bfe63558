#!/usr/bin/env bash
# Configure (or reconfigure) and build vdisk with meson + ninja.
#   scripts/build.sh [MESON_OPTION...]      e.g. scripts/build.sh -Dtests=false
# Build directory: ./build, or $VDISK_BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

builddir=${VDISK_BUILD_DIR:-build}

if [ -f "$builddir/meson-private/coredata.dat" ]; then
    # A tree configured by another meson version cannot always be
    # reconfigured in place; start it over then.
    meson setup --reconfigure "$builddir" "$@" || meson setup --wipe "$builddir" "$@"
else
    meson setup "$builddir" "$@"
fi
ninja -C "$builddir"
