#!/usr/bin/env bash
# The main job for now: replay the raw-vs-qcow2 experiment of every KVM
# tutorial with vdisk-virsh.  Thin vs thick provisioning, raw vs qcow2 size,
# convert both ways, content identical, info; then the same through an
# embedded storage pool defined from libvirt-dialect XML: thin, lazy- and
# eager-zeroed volumes, pool-info with overcommit, a volume snapshot taken
# and reverted, a clone with conversion, an encrypted volume whose passphrase
# is an embedded secret.  Installs what it needs and
# builds first; works in a temporary directory it removes afterwards.
# Exits non-zero if any step or check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

work=$(mktemp -d "${TMPDIR:-/var/tmp}/vdisk-demo.XXXXXX")
trap 'rc=$?; rm -rf "$work"; [ $rc -eq 0 ] || echo "demo: FAILED (exit status $rc)" >&2' EXIT

echo "== Set-up: dependencies and build"
scripts/install-deps.sh
if ! scripts/build.sh >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log"
    echo "demo: the build failed" >&2
    exit 1
fi
tail -n 1 "$work/build.log"
builddir=${VDISK_BUILD_DIR:-build}
[[ $builddir == /* ]] || builddir=$repo/$builddir
VDISK_VIRSH=$builddir/tools/vdisk-virsh
[ -x "$VDISK_VIRSH" ] || { echo "demo: $VDISK_VIRSH was not built" >&2; exit 1; }
cd "$work"

GiB=$((1024 * 1024 * 1024))
failures=0

vdisk-virsh() { "$VDISK_VIRSH" "$@"; }

heading() { printf '\n== %s\n' "$*"; }

# run CMD...: show the command as a person would type it, run it, show how
# long it took, and return its exit status: a failing command ends the
# demo (set -e) unless the caller expects the failure.
run() {
    local arg shown=() t0 t1 rc=0
    for arg in "$@"; do
        [[ $arg == *[[:space:]]* ]] && arg="'$arg'"
        shown+=("$arg")
    done
    printf '$ %s\n' "${shown[*]}"
    t0=$(date +%s%N)
    "$@" || rc=$?
    t1=$(date +%s%N)
    if [ $rc -eq 0 ]; then
        printf '  (%d ms)\n' $(((t1 - t0) / 1000000))
    else
        printf '  (exit status %d)\n' $rc
    fi
    return $rc
}

# check DESCRIPTION COMMAND...: a claim of the experiment, verified.
check() {
    local what=$1
    shift
    if "$@"; then
        echo "  ok: $what"
    else
        echo "  FAILED: $what"
        failures=$((failures + 1))
    fi
}

apparent() { stat -c %s "$1"; }
allocated() { echo $(($(stat -c %b "$1") * $(stat -c %B "$1"))); }
usage() {
    printf '  %-12s apparent size %12d bytes, allocated on disk %12d bytes\n' \
        "$1" "$(apparent "$1")" "$(allocated "$1")"
}

echo
echo "vdisk demo: thin vs thick provisioning, raw vs qcow2, with vdisk-virsh"
echo "working in $work"

heading "1. Thin provisioning: a 2 GiB raw and a 2 GiB qcow2"
run vdisk-virsh create -f raw f.raw 2G
run vdisk-virsh create -f qcow2 f.qcow2 2G
run ls -ls f.raw f.qcow2
run du -h --apparent-size f.raw f.qcow2
run du -h f.raw f.qcow2
usage f.raw
usage f.qcow2
check "raw reports 2 GiB apparent size" test "$(apparent f.raw)" -eq $((2 * GiB))
check "raw is sparse: nothing allocated yet" test "$(allocated f.raw)" -lt $((1024 * 1024))
check "qcow2 occupies under 256 KiB on disk" test "$(allocated f.qcow2)" -lt $((256 * 1024))

heading "2. Thick provisioning of raw: lazy-zeroed (falloc) and eager-zeroed (full)"
echo "falloc reserves every block without writing it (reads of it cost no I/O);"
echo "full writes zeros to every block, so later first writes pay nothing extra."
run vdisk-virsh create -f raw -o preallocation=falloc lazy.raw 2G
usage lazy.raw
check "preallocation=falloc allocates all 2 GiB" test "$(allocated lazy.raw)" -ge $((2 * GiB))
rm -f lazy.raw
run vdisk-virsh create -f raw -o preallocation=full eager.raw 2G
usage eager.raw
check "preallocation=full allocates all 2 GiB" test "$(allocated eager.raw)" -ge $((2 * GiB))
rm -f eager.raw

heading "3. The same for qcow2: preallocation off / metadata / falloc / full"
for mode in off metadata falloc full; do
    run vdisk-virsh create -f qcow2 -o preallocation=$mode p-$mode.qcow2 2G
    usage p-$mode.qcow2
    case $mode in
    off | metadata)
        check "qcow2 preallocation=$mode stays thin (under 8 MiB)" test "$(allocated p-$mode.qcow2)" -lt $((8 * 1024 * 1024)) ;;
    *)
        check "qcow2 preallocation=$mode allocates at least 2 GiB" test "$(allocated p-$mode.qcow2)" -ge $((2 * GiB)) ;;
    esac
    rm -f p-$mode.qcow2
done

heading "4. A guest writes some data into the raw image (qemu-io)"
run qemu-io -f raw \
    -c 'write -P 0xab 0 1M' \
    -c 'write -P 0x5a 1000000 12345' \
    -c 'write -P 0xcd 512M 4M' \
    -c 'write -z 1G 1M' \
    -c 'write -P 0xef 2047M 1M' f.raw
usage f.raw
check "raw grew only by what was written (under 16 MiB)" test "$(allocated f.raw)" -lt $((16 * 1024 * 1024))

heading "5. Convert raw -> qcow2 -> raw"
run vdisk-virsh convert -f raw -O qcow2 f.raw data.qcow2
run vdisk-virsh convert -f qcow2 -O raw data.qcow2 back.raw
run ls -ls f.raw data.qcow2 back.raw
usage data.qcow2
usage back.raw
check "the qcow2 holds only the written data (under 16 MiB)" test "$(allocated data.qcow2)" -lt $((16 * 1024 * 1024))
check "the raw made back is sparse again (under 16 MiB)" test "$(allocated back.raw)" -lt $((16 * 1024 * 1024))
check "the raw made back has the original's size" test "$(apparent back.raw)" -eq "$(apparent f.raw)"

heading "6. Content identical"
run vdisk-virsh compare f.raw data.qcow2
run vdisk-virsh compare f.raw back.raw
echo "The same verdicts from qemu-img, an independent witness:"
run qemu-img compare -f raw -F qcow2 f.raw data.qcow2
run qemu-img check -f qcow2 data.qcow2
echo "And compare does notice a single changed sector:"
run qemu-io -f raw -c 'write -P 0x01 1536M 512' back.raw
rc=0
run vdisk-virsh compare f.raw back.raw || rc=$?
check "compare reports the difference (exit 1)" test "$rc" -eq 1

heading "7. Image information"
run vdisk-virsh info f.raw
run vdisk-virsh info data.qcow2
run vdisk-virsh info --output json data.qcow2
run vdisk-virsh map data.qcow2

heading "8. An embedded storage pool defined from XML (no libvirt daemon)"
export VDISK_CONFIG_DIR=$work/registry
cat >lazy-pool.xml <<XML
<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>
  <name>demo</name>
  <target><path>$work/pool</path></target>
  <vdisk:provisioning>
    <vdisk:zeroing>lazy</vdisk:zeroing>
    <vdisk:overcommit>1000</vdisk:overcommit>
  </vdisk:provisioning>
</pool>
XML
sed -e 's/<name>demo</<name>demo-eager</' -e "s|$work/pool|$work/pool-eager|" \
    -e 's/>lazy</>eager</' lazy-pool.xml >eager-pool.xml
run cat lazy-pool.xml
run vdisk-virsh pool-define lazy-pool.xml
run vdisk-virsh pool-define eager-pool.xml
run vdisk-virsh pool-build demo
run vdisk-virsh pool-start demo
run vdisk-virsh pool-start demo-eager --build
run vdisk-virsh pool-list --all --details

heading "9. Thin, lazy-zeroed and eager-zeroed volumes, raw and qcow2"
echo "allocation 0 = thin; allocation = capacity = thick, zeroed as the pool says."
for fmt in raw qcow2; do
    run vdisk-virsh vol-create-as demo thin.$fmt 1G --format $fmt
    run vdisk-virsh vol-create-as demo lazy.$fmt 256M --allocation 256M --format $fmt
    run vdisk-virsh vol-create-as demo-eager eager.$fmt 256M --allocation 256M --format $fmt
done
run vdisk-virsh vol-list demo --details
run vdisk-virsh vol-list demo-eager --details
for fmt in raw qcow2; do
    usage pool/thin.$fmt
    usage pool/lazy.$fmt
    usage pool-eager/eager.$fmt
    check "thin $fmt volume allocates under 1 MiB" test "$(allocated pool/thin.$fmt)" -lt $((1024 * 1024))
    check "lazy-zeroed $fmt volume reserves 256 MiB" test "$(allocated pool/lazy.$fmt)" -ge $((256 * 1024 * 1024))
    check "eager-zeroed $fmt volume allocates 256 MiB" test "$(allocated pool-eager/eager.$fmt)" -ge $((256 * 1024 * 1024))
done
echo "qemu-img map shows every cluster of the eager-zeroed qcow2 as written data:"
run qemu-img map --output=json pool-eager/eager.qcow2
run qemu-img check pool/lazy.qcow2

heading "10. pool-info with overcommit (sum of capacities / pool capacity)"
run vdisk-virsh pool-info demo
run vdisk-virsh pool-info demo --json
rc=0
run vdisk-virsh vol-create-as demo too-thick 100T --allocation 100T || rc=$?
check "a thick volume larger than the free space is refused" test "$rc" -eq 1
check "and nothing was written" test ! -e pool/too-thick

heading "11. Volume snapshot: take, change, revert"
run qemu-io -f qcow2 -c 'write -P 0x11 0 1M' pool/thin.qcow2
run vdisk-virsh vol-snapshot-create thin.qcow2 before --pool demo
run qemu-io -f qcow2 -c 'write -P 0x22 0 1M' pool/thin.qcow2
run vdisk-virsh vol-snapshot-list thin.qcow2 --pool demo
run vdisk-virsh vol-snapshot-revert thin.qcow2 before --pool demo
check "the volume reads as before the change" qemu-io -f qcow2 -c 'read -P 0x11 0 1M' pool/thin.qcow2
run qemu-img snapshot -l pool/thin.qcow2

heading "12. Clone a volume with conversion (qcow2 -> raw)"
run vdisk-virsh vol-convert thin.qcow2 thin-copy.raw --format raw --pool demo
run vdisk-virsh vol-info thin-copy.raw --pool demo
check "the converted clone has the same content (qemu-img compare)" \
    qemu-img compare -f qcow2 -F raw pool/thin.qcow2 pool/thin-copy.raw
check "and stays sparse (under 16 MiB)" test "$(allocated pool/thin-copy.raw)" -lt $((16 * 1024 * 1024))

heading "13. An encrypted volume, its passphrase in an embedded secret"
cat >secret.xml <<XML
<secret ephemeral='no' private='yes'>
  <uuid>6b4c5e0a-2f2d-4d7e-9b8a-3c1f0e5d7a90</uuid>
  <usage type='volume'><volume>$work/pool/secure.qcow2</volume></usage>
</secret>
XML
cat >secure.xml <<XML
<volume>
  <name>secure.qcow2</name>
  <capacity unit='M'>64</capacity>
  <target>
    <format type='qcow2'/>
    <encryption format='luks'>
      <secret type='passphrase' uuid='6b4c5e0a-2f2d-4d7e-9b8a-3c1f0e5d7a90'/>
    </encryption>
  </target>
</volume>
XML
printf '%s' 'demo pass phrase' >pw
run vdisk-virsh secret-define secret.xml
run vdisk-virsh secret-set-value 6b4c5e0a-2f2d-4d7e-9b8a-3c1f0e5d7a90 --file pw --plain
run vdisk-virsh vol-create demo secure.xml
run vdisk-virsh vol-dumpxml secure.qcow2 --pool demo
check "qemu-io writes and reads it with the same passphrase" \
    qemu-io --object secret,id=s0,file=pw --image-opts \
    "driver=qcow2,file.filename=pool/secure.qcow2,encrypt.key-secret=s0" -c 'write -P 0x5a 0 1M' -c 'read -P 0x5a 0 1M'
check "qemu-img check accepts it" qemu-img check --object secret,id=s0,file=pw --image-opts \
    "driver=qcow2,file.filename=pool/secure.qcow2,encrypt.key-secret=s0"
check "the data on disk is not the plain text (0x5a = Z)" \
    bash -c '! grep -qa "$(head -c 64 /dev/zero | tr "\\0" Z)" pool/secure.qcow2'

heading "Result"
if [ "$failures" -ne 0 ]; then
    echo "demo: $failures check(s) failed"
    exit 1
fi
echo "demo: every step and check passed"
