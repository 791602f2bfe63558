#!/usr/bin/env bash
# Fetch the distribution's libvirt source package and extract the parts the
# tests use as an oracle: libvirt's own storage XML test data and its RelaxNG
# schemas.  Nothing is downloaded but Debian's source package, through apt.
#
#   scripts/fetch-libvirt-source.sh [--cache DIR] [PATH-PATTERN...]
#
# --cache DIR   where the source package is downloaded and extracted
#               (default: build/libvirt-src, or $VDISK_BUILD_DIR/libvirt-src)
# PATH-PATTERN  tar wildcards inside the source tree; default:
#               tests/storagepoolxml2xml* tests/storagevolxml2xml*
#               tests/storagevolxml2argv* tests/secretxml2xmlin src/conf/schemas/*.rng
#
# --print-deb-src  only print the deb-src entries that would be derived from
#                  apt's deb entries (deb822), and exit
# --full           extract the whole source package with Debian's own
#                  patches applied (dpkg-source -x, from dpkg-dev) into
#                  DIR/libvirt-<version>-deb instead of the test data;
#                  PATH-PATTERNs are not used
#
# Prints the extracted tree (DIR/libvirt-<version>[-deb]) as its last line.
# Needs a deb-src entry in apt's sources: when there is none, one is derived
# from the machine's own deb entries (same mirrors, suites and components),
# which takes root.  Re-running reuses what is already downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${VDISK_BUILD_DIR:-build}/libvirt-src
patterns=()
print_only=0
full=0
while [ $# -gt 0 ]; do
    case $1 in
        --cache) cache=${2:?--cache needs a directory}; shift 2 ;;
        --print-deb-src) print_only=1; shift ;;
        --full) full=1; shift ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) patterns+=("$1"); shift ;;
    esac
done
if [ ${#patterns[@]} -eq 0 ]; then
    patterns=('tests/storagepoolxml2xml*' 'tests/storagevolxml2xml*'
              'tests/storagevolxml2argv*' 'tests/secretxml2xmlin' 'src/conf/schemas/*.rng')
fi

say() { echo "fetch-libvirt-source: $*" >&2; }

sources_files() {
    ls /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
       /etc/apt/sources.list.d/*.sources 2>/dev/null || true
}

have_deb_src() {
    local f
    for f in $(sources_files); do
        case $f in
            *.sources) grep -Eq '^Types:.*\bdeb-src\b' "$f" && return 0 ;;
            *) grep -Eq '^[[:space:]]*deb-src[[:space:]]' "$f" && return 0 ;;
        esac
    done
    return 1
}

# The deb-src twins of the existing deb entries (deb822 and one-line formats
# alike): the same mirrors, suites and components, nothing of our own.
derive_deb_src() {
    local f
    for f in $(sources_files); do
        case $f in
            *.sources)
                # each stanza that has Types: deb, with deb-src instead
                awk 'BEGIN { RS = ""; ORS = "\n\n" }
                     {
                         n = split($0, line, "\n"); deb = 0
                         for (i = 1; i <= n; i++)
                             if (line[i] ~ /^Types:/) {
                                 m = split(line[i], t, /[ \t]+/)
                                 for (j = 2; j <= m; j++) if (t[j] == "deb") deb = 1
                                 line[i] = "Types: deb-src"
                             }
                         if (!deb) next
                         out = line[1]
                         for (i = 2; i <= n; i++) out = out "\n" line[i]
                         print out
                     }' "$f" ;;
            *)
                sed -nE 's/^[[:space:]]*deb([[:space:]]+\[[^]]*\])?[[:space:]]+([^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]+(.*)$/Types: deb-src\nURIs: \2\nSuites: \3\nComponents: \4\n/p' "$f" ;;
        esac
    done
}

# Write them into one file of our own, then refresh apt's lists.
add_deb_src() {
    local out=/etc/apt/sources.list.d/vdisk-deb-src.sources
    if [ "$(id -u)" -ne 0 ]; then
        say "apt has no deb-src entry and adding one needs root; run as root once: $0"
        exit 1
    fi
    derive_deb_src > "$out.tmp"
    if ! grep -q '^URIs:' "$out.tmp"; then
        rm -f "$out.tmp"
        say "no deb entry in apt's sources to derive a deb-src entry from"
        exit 1
    fi
    mv "$out.tmp" "$out"
    say "added $out (deb-src twins of the configured deb entries)"
    apt-get update -qq </dev/null
}

if [ "$print_only" -eq 1 ]; then
    derive_deb_src
    exit 0
fi

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

orig=$(ls "$cache"/libvirt_*.orig.tar.* 2>/dev/null | head -n1 || true)
if [ -z "$orig" ]; then
    have_deb_src || add_deb_src
    say "downloading Debian's libvirt source package into $cache"
    if ! (cd "$cache" && apt-get source --download-only libvirt </dev/null >&2); then
        # the lists may predate the deb-src entry
        [ "$(id -u)" -eq 0 ] && apt-get update -qq </dev/null
        (cd "$cache" && apt-get source --download-only libvirt </dev/null >&2)
    fi
    orig=$(ls "$cache"/libvirt_*.orig.tar.* 2>/dev/null | head -n1 || true)
    [ -n "$orig" ] || { say "apt-get source gave no libvirt orig tarball"; exit 1; }
fi

# libvirt_9.0.0.orig.tar.xz unpacks into libvirt-9.0.0/
name=$(basename "$orig")
if [ "$full" -eq 1 ]; then
    dsc=$(ls "$cache"/libvirt_*.dsc 2>/dev/null | head -n1 || true)
    [ -n "$dsc" ] || { say "no libvirt .dsc in $cache (apt-get source was interrupted?)"; exit 1; }
    command -v dpkg-source >/dev/null ||
        { say "dpkg-source not found: install dpkg-dev (scripts/install-deps.sh)"; exit 1; }
    version=${name#libvirt_}
    version=${version%%.orig.tar.*}
    tree=$cache/libvirt-$version-deb
    if [ ! -f "$tree/.vdisk-extracted" ]; then
        rm -rf "$tree"
        say "extracting $(basename "$dsc") with Debian's patches into $tree"
        # apt-get source already checked the files against the signed
        # Release data; a missing keyring only makes dpkg-source warn
        (cd "$cache" && dpkg-source -x "$dsc" "$tree" </dev/null >&2)
        touch "$tree/.vdisk-extracted"
    fi
    echo "$tree"
    exit 0
fi
version=${name#libvirt_}
version=${version%%.orig.tar.*}
top=libvirt-$version
wildcards=()
for p in "${patterns[@]}"; do wildcards+=("$top/$p"); done
tar -xf "$orig" -C "$cache" --wildcards "${wildcards[@]}"
echo "$cache/$top"
