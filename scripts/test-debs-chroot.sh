#!/usr/bin/env bash
# Install test of the Debian packages in a fresh Debian 12: debootstrap a
# minimal bookworm (from the mirror of this machine's apt sources), install
# every package of DEBS with apt (`apt install ./*.deb`: vdisk's and the
# rebuilt libvirt's, their dependencies from the mirror), start Debian's
# monolithic libvirtd, define a vdisk pool and create a volume with virsh,
# put a 512-byte boot sector in it and boot a guest from it (TCG) until the
# guest prints its marker on the serial console.  Also builds a program with
# `pkg-config --cflags --libs vdisk` against the installed libvdisk-dev.
#
#   scripts/test-debs-chroot.sh [--debs DIR] [--keep]
#
# --debs DIR  the packages (default: build/debs, as scripts/build-debs.sh
#             --libvirt leaves them)
# --keep      leave the chroot in place afterwards (its mounts are undone)
#
# Work area: $VDISK_CHROOT_DIR (default /var/tmp/vdisk-debs-chroot): the
# debootstrapped base as a tarball (made once, reused), the chroot, logs.
# Every daemon started in the chroot is stopped by pid and the chroot's mounts
# are undone, pass or fail.  Needs root and debootstrap.  The last line is
# "install test: PASS" or "install test: FAIL (...)".
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD

debs=build/debs
keep=0
while [ $# -gt 0 ]; do
    case $1 in
        --debs) debs=${2:?--debs needs a directory}; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,/^set /{/^set /d;p}' "$0"; exit 0 ;;
        *) echo "test-debs-chroot: unknown argument $1" >&2; exit 2 ;;
    esac
done

base=${VDISK_CHROOT_DIR:-/var/tmp/vdisk-debs-chroot}
root=$base/root
log=$base/transcript.log
marker=VDISK-GUEST-BOOTED

fail() {
    echo "install test: FAIL ($*)" | tee -a "$log"
    exit 1
}
step() {
    printf '\n==== %s\n' "$*" >>"$log"
    echo "test-debs-chroot: $*"
}

[ "$(id -u)" -eq 0 ] || { echo "test-debs-chroot: needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "test-debs-chroot: install debootstrap" >&2; exit 1; }
debs=$(cd "$debs" && pwd) || exit 1
compgen -G "$debs/*.deb" >/dev/null || { echo "test-debs-chroot: no .deb in $debs" >&2; exit 1; }
for need in 'vdisk-tools_*' 'libvirt-daemon-driver-storage-vdisk_*' 'libvirt-daemon_*'; do
    compgen -G "$debs/$need.deb" >/dev/null ||
        { echo "test-debs-chroot: $debs has no $need.deb (scripts/build-debs.sh --libvirt)" >&2; exit 1; }
done
mkdir -p "$base"
: >"$log"

# The first deb mirror of this machine's apt sources (deb822 or one-line);
# the chroot gets the machine's own deb entries, nothing written here.
mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        # deb822 stanzas: Types has deb, Suites has bookworm -> first URI
        awk 'BEGIN { RS = "" }
             {
                 deb = 0; bw = 0; uri = ""
                 n = split($0, line, "\n")
                 for (i = 1; i <= n; i++) {
                     m = split(line[i], w, /[ \t]+/)
                     if (w[1] == "Types:") for (j = 2; j <= m; j++) if (w[j] == "deb") deb = 1
                     if (w[1] == "Suites:") for (j = 2; j <= m; j++) if (w[j] == "bookworm") bw = 1
                     if (w[1] == "URIs:") uri = w[2]
                 }
                 if (deb && bw && uri != "") { print uri; exit }
             }' "$f"
    done
    sed -nE 's/^[[:space:]]*deb([[:space:]]+\[[^]]*\])?[[:space:]]+([^[:space:]]+)[[:space:]]+bookworm[[:space:]].*/\2/p' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
}
url=$(mirror | head -n1)
[ -n "$url" ] || { echo "test-debs-chroot: no bookworm deb entry in apt's sources" >&2; exit 1; }

# ---- the chroot and its teardown ------------------------------------------
mounts=()
# chroot_pids: processes whose root is the chroot (all started by this test)
chroot_pids() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && echo "${p#/proc/}"
    done
}
teardown() {
    local pid i
    # the guest, then libvirtd, by the pids they wrote; then anything else
    # still running inside the chroot (by pid), TERM then KILL
    for f in "$root"/run/libvirt/qemu/vdisk-boot.pid "$root"/run/vdisk-test-libvirtd.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && echo "stopped pid $pid ($(basename "$f"))" >>"$log"
    done
    for i in 1 2 3 4 5 6 7 8 9 10; do
        [ -z "$(chroot_pids)" ] && break
        sleep 1
    done
    for pid in $(chroot_pids); do
        echo "killing leftover pid $pid ($(cat /proc/$pid/comm 2>/dev/null))" >>"$log"
        kill -9 "$pid" 2>/dev/null
    done
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null ||
            echo "could not unmount ${mounts[i]}" >>"$log"
    done
    if grep -q " $root/" /proc/mounts; then
        echo "test-debs-chroot: mounts left under $root:" >&2
        grep " $root/" /proc/mounts >&2
    elif [ "$keep" -eq 0 ]; then
        rm -rf "$root"
    fi
}
trap teardown EXIT

step "debootstrap bookworm (minbase) from $url"
if [ ! -f "$base/bookworm-minbase.tar" ]; then
    rm -rf "$base/mk"
    debootstrap --variant=minbase bookworm "$base/mk" "$url" >>"$log" 2>&1 ||
        fail "debootstrap failed, see $log"
    tar -C "$base/mk" -cf "$base/bookworm-minbase.tar" . && rm -rf "$base/mk"
fi
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xf "$base/bookworm-minbase.tar" || fail "unpacking the base failed"

# this machine's apt sources (deb entries only; the mirror's keyring is in
# the base), DNS, no service started by package scripts
rm -f "$root/etc/apt/sources.list"
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
    [ -f "$f" ] || continue
    case $f in
        *.sources) grep -qE '^Types:(.*[[:space:]])?deb([[:space:]]|$)' "$f" && cp "$f" "$root/etc/apt/sources.list.d/" ;;
        *) grep -E '^[[:space:]]*deb[[:space:]]' "$f" >"$root/etc/apt/sources.list.d/host-$(basename "$f" .list).list" ;;
    esac
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"

mount -t proc proc "$root/proc" && mounts+=("$root/proc")
mount -t sysfs sys "$root/sys" && mounts+=("$root/sys")
mount --bind /dev "$root/dev" && mounts+=("$root/dev")
mount -t tmpfs tmpfs "$root/run" && mounts+=("$root/run")

# in_chroot CMD: run CMD in the chroot with a clean environment, output to the log
in_chroot() {
    echo "# $*" >>"$log"
    chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LC_ALL=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive /bin/bash -c "$*" </dev/null >>"$log" 2>&1
}

step "apt install ./*.deb ($(ls "$debs"/*.deb | wc -l) packages) and qemu-system-x86, gcc, pkgconf, qemu-utils"
mkdir -p "$root/root/debs"
cp "$debs"/*.deb "$root/root/debs/"
in_chroot "apt-get update -q" || fail "apt-get update failed, see $log"
start=$(date +%s)
in_chroot "cd /root/debs && apt-get install -y -q --no-install-recommends ./*.deb \
    qemu-system-x86 gcc libc6-dev pkgconf qemu-utils" || fail "apt install failed, see $log"
echo "installed in $(( $(date +%s) - start )) s" >>"$log"
in_chroot "dpkg-query -W libvirt-daemon libvirt-daemon-driver-storage-vdisk vdisk-tools libvdisk0 qemu-system-x86" ||
    fail "packages missing after install"
grep -E '^(libvirt-daemon|libvirt-daemon-driver-storage-vdisk|vdisk-tools|libvdisk0|qemu-system-x86)\s' "$log" | tail -n 5

step "installed files: module, man pages, bash completion, pkg-config"
in_chroot "ls /usr/lib/x86_64-linux-gnu/libvirt/storage-backend/libvirt_storage_backend_vdisk.so \
    /usr/share/man/man1/vdisk-virsh.1.gz /usr/share/man/man5/vdisk-pool-xml.5.gz \
    /usr/share/bash-completion/completions/vdisk-virsh && pkg-config --modversion vdisk" ||
    fail "an installed file is missing"

step "pkg-config consumer against the installed libvdisk-dev"
mkdir -p "$root/root/pc-test"
cp tests/packaging/pkgconfig-consumer.sh tests/packaging/open-image.c "$root/root/pc-test/"
in_chroot "/root/pc-test/pkgconfig-consumer.sh /" || fail "pkg-config consumer failed"

step "libvirtd (Debian's monolithic daemon); qemu.conf for root in a container, root-only socket"
cat >>"$root/etc/libvirt/qemu.conf" <<'EOF'
# test-debs-chroot.sh: root in a chroot, no virtlogd, no private /dev
user = "root"
group = "root"
security_driver = "none"
stdio_handler = "file"
namespaces = []
EOF
# root only, through the socket's mode: no polkit (no dbus in a chroot)
cat >>"$root/etc/libvirt/libvirtd.conf" <<'EOF'
# test-debs-chroot.sh
auth_unix_rw = "none"
unix_sock_rw_perms = "0700"
EOF
in_chroot "/usr/sbin/libvirtd --daemon --pid-file /run/vdisk-test-libvirtd.pid" ||
    fail "libvirtd did not start"
for i in $(seq 1 30); do
    in_chroot "virsh -c qemu:///system version" && break
    sleep 1
done
in_chroot "virsh -c qemu:///system version" || fail "libvirtd does not answer"
echo "libvirtd pid $(cat "$root/run/vdisk-test-libvirtd.pid")" >>"$log"

step "the daemon's storage driver has pool type vdisk (the module loaded)"
in_chroot "virsh -c qemu:///system pool-capabilities | grep \"<pool type='vdisk' supported='yes'>\"" ||
    fail "libvirtd does not support pool type vdisk"

step "vdisk pool and volume with virsh"
in_chroot "virsh -c qemu:///system pool-define-as vd vdisk --target /var/lib/vdisk-test/pool &&
    virsh -c qemu:///system pool-build vd && virsh -c qemu:///system pool-start vd &&
    virsh -c qemu:///system vol-create-as vd boot.raw 1M --format raw &&
    virsh -c qemu:///system vol-list vd --details &&
    virsh -c qemu:///system pool-dumpxml vd" || fail "vdisk pool or volume failed"

# a boot sector: print the marker on COM1 (0x3f8) and halt
#   cli; cld; xor ax,ax; mov ds,ax; mov si,msg; mov dx,0x3f8
#   l: lodsb; test al,al; jz h; out dx,al; jmp l
#   h: hlt; jmp h
#   msg: db MARKER, 13, 10, 0
python3 - "$root/root/boot.img" "$marker" <<'PY'
import sys
code = bytes([0xFA, 0xFC, 0x31, 0xC0, 0x8E, 0xD8, 0xBE, 0x17, 0x7C, 0xBA, 0xF8, 0x03,
              0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8, 0xF4, 0xEB, 0xFD])
assert len(code) == 0x17
sector = code + sys.argv[2].encode() + b"\r\n\0"
sector += bytes(510 - len(sector)) + b"\x55\xaa"
open(sys.argv[1], "wb").write(sector)
PY
step "boot sector uploaded with virsh vol-upload; guest with <disk type='volume'> (TCG)"
in_chroot "virsh -c qemu:///system vol-upload --pool vd boot.raw /root/boot.img" || fail "vol-upload failed"
cat >"$root/root/guest.xml" <<EOF
<domain type='qemu'>
  <name>vdisk-boot</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='raw'/>
      <source pool='vd' volume='boot.raw'/>
      <target dev='hda' bus='ide'/>
    </disk>
    <serial type='file'><source path='/var/lib/vdisk-test/serial.log'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
in_chroot "virsh -c qemu:///system define /root/guest.xml && virsh -c qemu:///system start vdisk-boot" ||
    fail "the guest did not start"
booted=0
for i in $(seq 1 120); do
    if grep -q "$marker" "$root/var/lib/vdisk-test/serial.log" 2>/dev/null; then
        booted=1
        break
    fi
    sleep 1
done
echo "serial console: $(tr -d '\r' <"$root/var/lib/vdisk-test/serial.log" 2>/dev/null | head -c 200)" | tee -a "$log"
[ "$booted" -eq 1 ] || fail "no $marker on the guest's serial console"
in_chroot "virsh -c qemu:///system domblklist vdisk-boot --details" || true
in_chroot "vdisk-virsh info -U /var/lib/vdisk-test/pool/boot.raw && vdisk-virsh -c qemu:///system vol-list vd" ||
    fail "vdisk-virsh in the chroot failed"
in_chroot "virsh -c qemu:///system destroy vdisk-boot && virsh -c qemu:///system undefine vdisk-boot"

echo "install test: PASS" | tee -a "$log"
