#!/usr/bin/env bash
# Installs what building and testing qmp-mock needs, and nothing that is already there.
# Idempotent and quiet when everything is present; uses sudo only when not root.
#   scripts/bootstrap.sh          Debian packages for building (libsystemd-dev: the sd-daemon header;
#                                 libyaml-dev: libyaml, the configuration file's YAML parser, its .a
#                                 linked statically into release builds; libstdc++-12-dev: libstdc++.a,
#                                 linked statically into release builds too)
#   scripts/bootstrap.sh test     also the test tools: socat, python3-venv, systemd, util-linux, and .venv with qemu.qmp, pytest and PyYAML (Tests/integration/requirements.txt)
#   scripts/bootstrap.sh qemu     also qemu-system-x86 (the real-QEMU oracle)
#   scripts/bootstrap.sh govmm    also golang-go and golang-github-kata-containers-govmm-dev: Kata's
#                                 govmm (Go sources in /usr/share/gocode), whose hot-plug flows
#                                 Tests/integration/test_govmm.py runs against qmp-mockd and QEMU
#   scripts/bootstrap.sh libvirt  also libvirt 9.0's QEMU driver, daemon and virsh, without the packages
#                                 they recommend (no system daemon, no real QEMU pulled in): what
#                                 Tests/integration/test_libvirt.py runs a private session libvirtd with
#   scripts/bootstrap.sh ganeti   also python3-bitarray, python3-simplejson, python3-openssl, and Debian's
#                                 ganeti-3.0 unpacked (not installed: it would pull in openssh-server
#                                 and lvm2) into .build-ganeti, for the same test's Ganeti flows
set -euo pipefail
cd "$(dirname "$0")/.."

want=(libsystemd-dev libyaml-dev libstdc++-12-dev)
lean=()  # installed without their recommended packages
for arg in "$@"; do
    case "$arg" in
        # systemd: systemd-analyze, systemd-socket-activate, systemd-run and the user manager the
        # systemd tests start; util-linux: unshare and nsenter for its private namespaces.
        test) want+=(socat python3-venv systemd util-linux) ;;
        qemu) want+=(qemu-system-x86) ;;
        govmm) want+=(golang-go golang-github-kata-containers-govmm-dev) ;;
        ganeti) want+=(python3-bitarray python3-simplejson python3-openssl) ;;
        libvirt) lean+=(libvirt-daemon-driver-qemu libvirt-clients libvirt-daemon) ;;
        *) echo "bootstrap: unknown set '$arg'" >&2; exit 64 ;;
    esac
done

not_installed() {
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}
missing=($(not_installed "${want[@]}"))
missing_lean=($(not_installed "${lean[@]}"))
if [ $((${#missing[@]} + ${#missing_lean[@]})) -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "bootstrap: installing ${missing[*]} ${missing_lean[*]}" >&2
    $sudo apt-get update -qq
    if [ ${#missing[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if [ ${#missing_lean[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing_lean[@]}" >/dev/null
    fi
fi

if [[ " $* " == *" test "* ]]; then
    # The venv uses Debian's python3 so that it works the same on every machine.
    py=/usr/bin/python3
    [ -x "$py" ] || py=$(command -v python3)
    if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import qemu.qmp, pytest, yaml' 2>/dev/null; then
        echo "bootstrap: creating .venv with qemu.qmp, pytest and PyYAML" >&2
        "$py" -m venv .venv
        .venv/bin/pip install -q --disable-pip-version-check -r Tests/integration/requirements.txt
    fi
fi

if [[ " $* " == *" ganeti "* ]] && [ ! -f .build-ganeti/usr/share/ganeti/3.0/ganeti/hypervisor/hv_kvm/monitor.py ]; then
    # apt-get download needs no root; the package lists are the system's (updated above when
    # something was missing, else now).
    echo "bootstrap: unpacking Debian's ganeti-3.0 into .build-ganeti" >&2
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && apt-get download -qq -o APT::Sandbox::User=root ganeti-3.0 2>/dev/null) || {
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        (cd "$work" && apt-get download -qq -o APT::Sandbox::User=root ganeti-3.0)
    }
    rm -rf .build-ganeti
    dpkg -x "$work"/ganeti-3.0_*.deb .build-ganeti
fi
