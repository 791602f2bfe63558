#!/usr/bin/env bash
# Start or stop the daemons of a libvirt built by build-libvirt.sh into PREFIX:
# secrets, storage and, when built, network and QEMU.
#
#   plugin/libvirt/run-daemon.sh PREFIX start|stop|restart|status|clean|env|uri
#
# start    start virtsecretd, virtstoraged, then virtnetworkd and virtqemud
#          when PREFIX has them (a --storage-only build does not), each
#          daemonized with its pid file in PREFIX/var/run and its log in
#          PREFIX/var/log/libvirt; returns once every socket answers
#          (PREFIX/var/run/libvirt/<daemon>-sock).  virtqemud gets a
#          PREFIX/etc/libvirt/qemu.conf written for it (see below)
# stop     stop them (by their pid files) and remove their sockets; running
#          guests and networks keep running, as with libvirt's own daemons
# restart  stop, then start (reloads the module after a rebuild)
# status   say which of them run; exit 0 only when all of them do
# clean    destroy running guests and networks, stop the daemons, then
#          remove their state: defined pools, secrets and guests
#          (PREFIX/etc/libvirt/{storage,secrets,qemu/*.xml}),
#          PREFIX/var/lib/libvirt, PREFIX/var/run/libvirt and the logs
# env      print the shell line that puts PREFIX's virsh first on PATH, for
#          eval "$(plugin/libvirt/run-daemon.sh PREFIX env)"; the prefix's
#          programs find its libraries by their RPATH, so the system's own
#          virsh keeps working in that shell
# uri      print the URIs that other clients (the system's virsh,
#          virt-install, virt-manager, python3-libvirt) use to reach these
#          daemons: qemu:///system?socket=PREFIX/var/run/libvirt/virtqemud-sock ...
#
# qemu.conf: QEMU runs as the 'libvirt-qemu' user where that user exists
# (and its primary group), as root elsewhere (a container); no SELinux or
# AppArmor driver; QEMU's output to log files without virtlogd.  Set
# VDISK_QEMU_USER to choose another user.  A qemu.conf edited by hand (one
# without this script's first line) is kept as it is.
#
# Environment: VDISK_LIBVIRT_LOG_LEVEL (1 debug .. 4 error, default 3) for the
# daemons' log files.  Needs root (the daemons' system mode).  Unattended:
# no stdin.
set -euo pipefail

say() { echo "run-daemon: $*" >&2; }
die() { say "$*"; exit 1; }

[ $# -eq 2 ] || { sed -n '5,29p' "$0" >&2; exit 2; }
[ -d "$1" ] || die "$1: no such prefix; build it with plugin/libvirt/build-libvirt.sh $1"
prefix=$(cd "$1" && pwd)
action=$2

run=$prefix/var/run
sockdir=$run/libvirt
logdir=$prefix/var/log/libvirt
virsh=$prefix/bin/virsh

# Start order: storage asks secrets; QEMU asks storage, secrets, network.
daemons=(virtsecretd virtstoraged)
for d in virtnetworkd virtqemud; do
    [ -x "$prefix/sbin/$d" ] && daemons+=("$d")
done

uri_of() {
    case $1 in
        virtsecretd) echo secret:///system ;;
        virtstoraged) echo storage:///system ;;
        virtnetworkd) echo network:///system ;;
        virtqemud) echo qemu:///system ;;
    esac
}

pid_of() {
    local pid
    pid=$(cat "$run/$1.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# the daemon's own socket answers a client: the real test of "started"
answers() {
    [ -S "$sockdir/$1-sock" ] &&
        "$virsh" -q -c "$(uri_of "$1")" uri </dev/null >/dev/null 2>&1
}

qemu_conf_marker="# Written by vdisk's plugin/libvirt/run-daemon.sh; delete this line to keep your edits."

# PREFIX/etc/libvirt/qemu.conf for virtqemud, unless someone edited it.
write_qemu_conf() {
    local conf=$prefix/etc/libvirt/qemu.conf user group
    if [ -e "$conf" ] && ! grep -qxF "$qemu_conf_marker" "$conf" &&
       grep -qEv '^[[:space:]]*(#|$)' "$conf"; then
        say "keeping $conf (edited by hand)"
        return 0
    fi
    user=${VDISK_QEMU_USER:-}
    if [ -z "$user" ]; then
        user=root
        getent passwd libvirt-qemu >/dev/null && user=libvirt-qemu
    fi
    group=$(id -gn "$user") || die "VDISK_QEMU_USER=$user: no such user"
    mkdir -p "$(dirname "$conf")"
    cat >"$conf.new" <<EOF
$qemu_conf_marker
# QEMU's user: libvirt-qemu where it exists, root in a container.
user = "$user"
group = "$group"
# No SELinux or AppArmor driver in this build (DAC ownership still applies).
security_driver = "none"
# Guests' stdout and stderr go to PREFIX/var/log/libvirt/qemu/ without virtlogd.
stdio_handler = "file"
EOF
    mv "$conf.new" "$conf"
}

start_one() {
    local d=$1 bin=$prefix/sbin/$1 i
    [ -x "$bin" ] || die "$bin is missing; run plugin/libvirt/build-libvirt.sh $prefix"
    if pid_of "$d" >/dev/null; then
        say "$d already runs (pid $(pid_of "$d"))"
        return 0
    fi
    [ "$d" = virtqemud ] && write_qemu_conf
    rm -f "$sockdir/$d-sock" "$sockdir/$d-sock-ro" "$sockdir/$d-admin-sock"
    mkdir -p "$run" "$logdir"
    LIBVIRT_DEBUG=${VDISK_LIBVIRT_LOG_LEVEL:-3} \
    LIBVIRT_LOG_OUTPUTS="${VDISK_LIBVIRT_LOG_LEVEL:-3}:file:$logdir/$d.log" \
        "$bin" --daemon --pid-file "$run/$d.pid" </dev/null >>"$logdir/$d.out" 2>&1 9>&- ||
        die "$d failed to start; see $logdir/$d.log and $logdir/$d.out"
    # virtqemud probes QEMU's capabilities before it answers: a minute on a
    # busy machine the first time
    for i in $(seq 1 600); do
        answers "$d" && { say "$d runs (pid $(pid_of "$d"), socket $sockdir/$d-sock)"; return 0; }
        pid_of "$d" >/dev/null || [ "$i" -lt 10 ] ||
            die "$d exited; see $logdir/$d.log and $logdir/$d.out"
        sleep 0.2
    done
    die "$d does not answer on $sockdir/$d-sock after 120 s; see $logdir/$d.log"
}

stop_one() {
    local d=$1 pid i
    if pid=$(pid_of "$d"); then
        kill -TERM "$pid"
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$d (pid $pid) ignores SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        say "$d stopped (pid $pid)"
    fi
    rm -f "$run/$d.pid" "$sockdir/$d-sock" "$sockdir/$d-sock-ro" "$sockdir/$d-admin-sock"
}

stop_all() {
    local i
    for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do stop_one "${daemons[i]}"; done
}

# What still runs without its daemon: guests (virsh list) and networks.
say_leftovers() {
    local n
    if pid_of virtqemud >/dev/null; then
        n=$("$virsh" -q -c qemu:///system list --name </dev/null 2>/dev/null | grep -c . || true)
        [ "$n" -eq 0 ] || say "$n guest(s) keep running; 'clean' destroys them"
    fi
}

# Destroy running guests, then active networks (before 'clean' removes
# the state that names their processes).
destroy_running() {
    local name
    if pid_of virtqemud >/dev/null; then
        "$virsh" -q -c qemu:///system list --name </dev/null 2>/dev/null | while read -r name; do
            [ -n "$name" ] && "$virsh" -q -c qemu:///system destroy "$name" </dev/null >&2
        done
    fi
    if pid_of virtnetworkd >/dev/null; then
        "$virsh" -q -c network:///system net-list --name </dev/null 2>/dev/null | while read -r name; do
            [ -n "$name" ] && "$virsh" -q -c network:///system net-destroy "$name" </dev/null >&2
        done
    fi
    return 0
}

# root, and one start/stop/clean at a time per prefix (the lock's fd 9 is
# closed for the daemons, which would otherwise hold it for their lifetime)
need_root() {
    [ "$(id -u)" -eq 0 ] ||
        die "the daemons run in system mode (qemu:///system): run as root"
    mkdir -p "$run"
    exec 9>"$run/run-daemon.lock"
    flock 9
}

case $action in
    start)
        need_root
        for d in "${daemons[@]}"; do start_one "$d"; done ;;
    stop)
        need_root
        say_leftovers
        stop_all ;;
    restart)
        need_root
        stop_all
        for d in "${daemons[@]}"; do start_one "$d"; done ;;
    status)
        rc=0
        for d in "${daemons[@]}"; do
            if pid=$(pid_of "$d"); then echo "$d: running (pid $pid)"
            else echo "$d: stopped"; rc=3; fi
        done
        exit $rc ;;
    clean)
        need_root
        destroy_running
        stop_all
        rm -rf "$prefix/etc/libvirt/storage" "$prefix/etc/libvirt/secrets" \
               "$prefix/var/lib/libvirt" "$sockdir" "$logdir"
        rm -f "$prefix"/etc/libvirt/qemu/*.xml "$prefix"/etc/libvirt/qemu/autostart/*.xml
        say "removed the daemons' pools, secrets, guests, state and logs under $prefix" ;;
    env)
        printf 'export PATH=%q:"$PATH"\n' "$prefix/bin" ;;
    uri)
        for d in "${daemons[@]}"; do
            printf '%s?socket=%s\n' "$(uri_of "$d")" "$sockdir/$d-sock"
        done ;;
    *)
        die "unknown action '$action' (start, stop, restart, status, clean, env, uri)" ;;
esac
