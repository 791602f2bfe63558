#!/usr/bin/env bash
# Install everything vdisk needs to build, test, fuzz and benchmark on
# Debian 12, from Debian's own packages.  Idempotent: when every package is
# already installed (as dpkg records it, not whatever happens to be on PATH)
# apt is not touched at all.  Runs unattended (no stdin needed); installing
# needs root.
set -euo pipefail

packages=(
    # build
    gcc libc6-dev meson ninja-build pkg-config
    zlib1g-dev libzstd-dev libgnutls28-dev libxml2-dev
    # vdisk-virsh map --picture writes PNG
    libpng-dev
    # encryption: Nettle (GnuTLS's backend) for serpent/twofish/cast5
    nettle-dev
    # unit tests
    libcmocka-dev
    # interop tests: the oracles and their runner
    qemu-utils python3 python3-pytest libxml2-utils cryptsetup-bin
    # tests/crash: the registry's system calls recorded (test_crash_registry.py)
    strace
    # VMDK oracles: another streamOptimized writer (VMDKstream) and another
    # reader (libyal's libvmdk: pyvmdk, vmdkinfo)
    python3-vmdkstream python3-libvmdk libvmdk-utils
    # ISO oracles: xorriso, genisoimage (isoinfo), 7-Zip
    xorriso genisoimage p7zip-full
    # a real VM: image locking tests (a paused guest holding a disk), ISO boot test
    qemu-system-x86
    # libvirt's XML test data (scripts/fetch-libvirt-source.sh unpacks a .tar.xz)
    xz-utils
    # fuzzing: clang + the libFuzzer / sanitizer runtimes; llvm-profdata and
    # llvm-cov for scripts/fuzz-coverage.sh
    clang clang-14 libclang-rt-14-dev llvm llvm-14
    # plugin/libvirt/build-libvirt.sh: Debian's libvirt source package
    # (dpkg-source -x) and what a minimal libvirt build needs beyond the above
    dpkg-dev patch rpcsvc-proto libglib2.0-dev libtirpc-dev xsltproc python3-docutils
    libjson-c-dev
    # build-libvirt.sh's QEMU and network drivers (YAJL for QMP, libnl for
    # bridges), and what they run: dnsmasq and iptables for NAT networks
    libyajl-dev libnl-3-dev libnl-route-3-dev dnsmasq-base iptables
    # tests/libvirt: Debian's own virsh beside the prefix's; virt-manager
    # (patched in a prefix by plugin/virt-manager) under Xvfb, driven through
    # AT-SPI by dogtail on a private D-Bus session bus
    libvirt-clients virt-manager xvfb python3-dogtail at-spi2-core dbus-daemon dbus-bin
    # vdisk-virsh -c URI: libvirt's public API (optional: meson -Dlibvirt_client);
    # tests/libvirt and tests/interop/test_virsh_connect.py: python3-libvirt and
    # virtinst (virt-manager's volume code) against the built daemon
    libvirt-dev python3-libvirt virtinst
    # many hosts: rbd: images (librbd/librados, meson -Drbd), nbd:// images
    # (libnbd, -Dnbd), nbdkit-vdisk-plugin (nbdkit-plugin-dev); tests/cluster
    # and bench/rbd_nbd.py: a single-node Ceph, nbdkit and its filters,
    # nbdinfo/nbdcopy/nbdsh, qemu-img's rbd driver (qemu-block-extra)
    librbd-dev librados-dev libnbd-dev nbdkit nbdkit-plugin-dev libnbd-bin python3-libnbd
    qemu-block-extra ceph-mon ceph-osd ceph-mgr ceph-common
    # pools on shared filesystems: tests/cluster/test_netfs_pool.py serves a
    # GlusterFS volume from a private network namespace and mounts it twice
    # (FUSE, mount.glusterfs); iproute2 and util-linux's nsenter for the namespace
    glusterfs-server glusterfs-client iproute2
    # Debian packages (scripts/build-debs.sh: debhelper, lintian; the bash
    # completion's directory; scripts/test-debs-chroot.sh: debootstrap).
    # The rebuilt libvirt's build dependencies are installed by
    # scripts/build-libvirt-debs.sh itself (apt-get build-dep), only when used.
    debhelper lintian bash-completion debootstrap
    # scripts and benchmarks: /usr/bin/time for peak RSS, ps, git; the
    # benchmark's plot of ratios (bench/report.py)
    ca-certificates procps time git coreutils util-linux python3-matplotlib
    # the oracle of vol-wipe's multi-pass algorithms (libvirt's dir pools
    # run scrub for them): tests/interop/test_vol_wipe.py, tests/libvirt
    scrub
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ $status == ii* ]] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages already installed"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages and not root; run as root: $0" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update </dev/null
apt-get install -y --no-install-recommends "${packages[@]}" </dev/null
echo "install-deps: done"
