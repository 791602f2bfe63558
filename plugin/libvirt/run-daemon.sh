#!/usr/bin/env bash
# Start or stop the storage and secret daemons of a libvirt built by
# build-libvirt.sh into PREFIX.
#
#   plugin/libvirt/run-daemon.sh PREFIX start|stop|restart|status|clean|env
#
# start    start virtsecretd, then virtstoraged, each daemonized with its pid
#          file in PREFIX/var/run and its log in PREFIX/var/log/libvirt;
#          returns once both sockets answer (PREFIX/var/run/libvirt/
#          virtstoraged-sock and virtsecretd-sock)
# stop     stop both (by their pid files) and remove their sockets
# restart  stop, then start
# status   say which of them run; exit 0 only when both do
# clean    stop, then remove the daemons' state: defined pools and
#          secrets (PREFIX/etc/libvirt/{storage,secrets}), PREFIX/var/lib/libvirt,
#          PREFIX/var/run/libvirt and the logs
# env      print the shell lines that put PREFIX's virsh first on PATH, for
#          eval "$(plugin/libvirt/run-daemon.sh PREFIX env)"
#
# Environment: VDISK_LIBVIRT_LOG_LEVEL (1 debug .. 4 error, default 3) for the
# daemons' log files.  Needs root (the daemons' system mode, storage:///system
# and secret:///system).  Unattended: no stdin.
set -euo pipefail

say() { echo "run-daemon: $*" >&2; }
die() { say "$*"; exit 1; }

[ $# -eq 2 ] || { sed -n '5,19p' "$0" >&2; exit 2; }
[ -d "$1" ] || die "$1: no such prefix; build it with plugin/libvirt/build-libvirt.sh $1"
prefix=$(cd "$1" && pwd)
action=$2

run=$prefix/var/run
sockdir=$run/libvirt
logdir=$prefix/var/log/libvirt
daemons=(virtsecretd virtstoraged)     # start order: storage asks secrets

pid_of() {
    local pid
    pid=$(cat "$run/$1.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# the daemon's own socket answers a client: the real test of "started"
answers() {
    local uri=storage:///system
    [ "$1" = virtsecretd ] && uri=secret:///system
    [ -S "$sockdir/$1-sock" ] &&
        LD_LIBRARY_PATH=$prefix/lib "$prefix/bin/virsh" -q -c "$uri" uri \
            </dev/null >/dev/null 2>&1
}

start_one() {
    local d=$1 bin=$prefix/sbin/$1 i
    [ -x "$bin" ] || die "$bin is missing; run plugin/libvirt/build-libvirt.sh $prefix"
    if pid_of "$d" >/dev/null; then
        say "$d already runs (pid $(pid_of "$d"))"
        return 0
    fi
    rm -f "$sockdir/$d-sock" "$sockdir/$d-sock-ro" "$sockdir/$d-admin-sock"
    mkdir -p "$run" "$logdir"
    LD_LIBRARY_PATH=$prefix/lib LIBVIRT_DEBUG=${VDISK_LIBVIRT_LOG_LEVEL:-3} \
    LIBVIRT_LOG_OUTPUTS="${VDISK_LIBVIRT_LOG_LEVEL:-3}:file:$logdir/$d.log" \
        "$bin" --daemon --pid-file "$run/$d.pid" </dev/null >>"$logdir/$d.out" 2>&1 ||
        die "$d failed to start; see $logdir/$d.log and $logdir/$d.out"
    for i in $(seq 1 100); do
        answers "$d" && { say "$d runs (pid $(pid_of "$d"), socket $sockdir/$d-sock)"; return 0; }
        pid_of "$d" >/dev/null || [ "$i" -lt 10 ] ||
            die "$d exited; see $logdir/$d.log and $logdir/$d.out"
        sleep 0.2
    done
    die "$d does not answer on $sockdir/$d-sock after 20 s; see $logdir/$d.log"
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

need_root() {
    [ "$(id -u)" -eq 0 ] ||
        die "the daemons run in system mode (storage:///system): run as root"
}

case $action in
    start)
        need_root
        for d in "${daemons[@]}"; do start_one "$d"; done ;;
    stop)
        need_root
        for d in virtstoraged virtsecretd; do stop_one "$d"; done ;;
    restart)
        need_root
        for d in virtstoraged virtsecretd; do stop_one "$d"; done
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
        for d in virtstoraged virtsecretd; do stop_one "$d"; done
        rm -rf "$prefix/etc/libvirt/storage" "$prefix/etc/libvirt/secrets" \
               "$prefix/var/lib/libvirt" "$sockdir" "$logdir"
        say "removed the daemons' pools, secrets, state and logs under $prefix" ;;
    env)
        printf 'export PATH=%q:"$PATH"\n' "$prefix/bin"
        printf 'export LD_LIBRARY_PATH=%q${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\n' "$prefix/lib" ;;
    *)
        die "unknown action '$action' (start, stop, restart, status, clean, env)" ;;
esac
