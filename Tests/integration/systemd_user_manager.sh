#!/usr/bin/env bash
# Runs a private systemd user manager (`systemd --user`) for the tests in test_systemd.py, on a
# machine whose PID 1 is not systemd.
#
#   systemd_user_manager.sh RUNTIME_DIR
#
# `systemd --user` refuses to start unless /run/systemd/system exists (the "booted with systemd"
# check), so the manager runs in private mount and PID namespaces: a tmpfs on /run/systemd with
# system/ in it, visible only inside. XDG_RUNTIME_DIR=RUNTIME_DIR (an existing 0700 directory):
# from outside, `XDG_RUNTIME_DIR=RUNTIME_DIR systemctl --user ...` and `systemd-run --user ...`
# talk to the manager through RUNTIME_DIR/systemd/private, and %t in units is RUNTIME_DIR.
# Units may be placed in RUNTIME_DIR/systemd/user before the start.
#
# Self-cleaning: this script is PID 1 of the new PID namespace. When it ends (the manager exited
# after `systemctl --user exit`, or this script was killed), the kernel kills every process left
# in the namespace, and the tmpfs goes with the mount namespace. `unshare --kill-child` kills the
# namespace when unshare itself is killed (the test kills unshare if the manager does not exit).
#
# Exit status 77 with a reason on stderr: namespaces are not permitted here (the caller skips).
set -euo pipefail

if [ "${1:-}" != "--inside" ]; then
    [ $# -eq 1 ] || { echo "usage: $0 RUNTIME_DIR" >&2; exit 64; }
    [ -d "$1" ] || { echo "$0: $1 is not a directory" >&2; exit 64; }
    if ! err=$(unshare --mount --propagation private --pid --fork --mount-proc true 2>&1); then
        echo "namespaces not permitted (unshare --mount --pid: ${err:-failed})" >&2
        exit 77
    fi
    exec unshare --mount --propagation private --pid --fork --kill-child --mount-proc "$0" --inside "$1"
fi

runtime=$2
# On a systemd host /run is a tmpfs mount. Where it is a plain directory, services with a private
# mount namespace (ProtectProc=, ProtectControlGroups=, ...) would get an empty tmpfs mounted over
# it and lose RUNTIME_DIR: make it a mount point here (the same directory, still shared with the
# host, so sockets in RUNTIME_DIR stay reachable from outside).
mountpoint -q /run || mount --bind /run /run
[ -d /run/systemd ] || mkdir -m 0755 /run/systemd   # (only on a host that never ran systemd)
mount -t tmpfs -o mode=0755 qmp-mock-test /run/systemd
mkdir /run/systemd/system
# What PID 1 creates at boot and the sandboxing options (ProtectHome=, ProtectKernelTunables=, ...)
# mount over the paths they hide.
mkdir -m 0755 /run/systemd/inaccessible
(
    cd /run/systemd/inaccessible
    mkdir -m 0000 dir
    touch reg && chmod 0000 reg
    mkfifo -m 0000 fifo
    mknod -m 0000 chr c 0 0
    mknod -m 0000 blk b 0 0
    python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")' 2>/dev/null && chmod 0000 sock || true
)
export XDG_RUNTIME_DIR=$runtime
unset NOTIFY_SOCKET LISTEN_FDS LISTEN_PID LISTEN_FDNAMES WATCHDOG_USEC WATCHDOG_PID
/lib/systemd/systemd --user &
manager=$!
trap 'kill -TERM "$manager" 2>/dev/null || true' TERM INT HUP
# `wait` returns early when a trapped signal arrives: wait until the manager has really gone.
status=0
while kill -0 "$manager" 2>/dev/null; do
    wait "$manager" && status=0 || status=$?
done
exit "$status"
