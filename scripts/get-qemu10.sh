#!/usr/bin/env bash
# Unpacks QEMU 10.0 (Debian bookworm-backports) into a folder for `make conformance-qemu10`, without
# touching the system's apt sources or installing anything: apt downloads into a private state
# folder, dpkg -x unpacks. The binary is DEST/usr/bin/qemu-system-x86_64.
#   scripts/get-qemu10.sh DEST
set -euo pipefail
dest=${1:?usage: scripts/get-qemu10.sh DEST}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT

# The Debian mirror this machine already uses (deb822 .sources first, then sources.list).
mirror=$(awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

mkdir -p "$state/lists/partial" "$state/cache/partial"
echo "deb $mirror bookworm-backports main" > "$state/sources.list"
apt=(apt-get -qq -o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists="$state/lists" -o Dir::Cache::Archives="$state/cache" -o APT::Sandbox::User=root)
"${apt[@]}" update
cd "$state/cache"
"${apt[@]}" download qemu-system-x86/bookworm-backports qemu-system-common/bookworm-backports \
    qemu-system-data/bookworm-backports
for package in ./*.deb; do dpkg -x "$package" "$dest"; done
# bookworm-backports moves on: fail here, not in the suite, when it no longer carries 10.0 (and
# remove the binary, so that `make conformance-qemu10` does not take it next time).
qemu="$dest/usr/bin/qemu-system-x86_64"
banner=$("$qemu" --version 2>&1 | head -n 1 || true)
if [[ ! "$banner" =~ version\ 10\.0\. ]]; then
    echo "get-qemu10: $qemu is not QEMU 10.0 (it says: ${banner:-nothing}); removed it" >&2
    rm -f "$qemu"
    exit 1
fi
echo "$banner"
