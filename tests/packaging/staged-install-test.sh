#!/usr/bin/env bash
# Install a meson build directory into a scratch DESTDIR and run a test
# script on that root; the scratch directory is removed afterwards.
#
#   staged-install-test.sh BUILD_DIR TEST_SCRIPT
set -euo pipefail
build=${1:?usage: staged-install-test.sh BUILD_DIR TEST_SCRIPT}
script=${2:?usage: staged-install-test.sh BUILD_DIR TEST_SCRIPT}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
meson install -C "$build" --no-rebuild --quiet --destdir "$stage"
"$script" "$stage"
